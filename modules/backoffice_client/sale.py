# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import Index, ModelView, Workflow
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.pool import PoolMeta

from .exceptions import ClientBlockedError


class Sale(ValueCheckMixin, metaclass=PoolMeta):
    __name__ = 'sale.sale'
    # The values the back office writes or the client forms show, checked
    # before writing (backoffice_zone's values.py)
    _value_checked = {
        'party', 'shipment_address', 'invoice_address', 'reference',
        'description', 'comment', 'company', 'currency', 'shipment_party'}

    def check_for_quotation(self):
        super().check_for_quotation()
        self.check_client_blocked()

    def check_client_blocked(self):
        "A blocked client gets no new quotation nor confirmation"
        if self.party and self.party.client_status == 'blocked':
            raise ClientBlockedError(gettext(
                    'backoffice_client.msg_client_blocked',
                    party=self.party.rec_name, sale=self.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('confirmed')
    def confirm(cls, sales):
        # A client blocked after its quotation is stopped here too.
        for sale in sales:
            sale.check_client_blocked()
        super().confirm(sales)


class SaleLine(ValueCheckMixin, metaclass=PoolMeta):
    __name__ = 'sale.line'
    # A quantity of -1e308 once broke the amounts of the order
    _value_checked = {
        'sale', 'product', 'unit', 'quantity', 'unit_price', 'base_price',
        'description', 'note'}

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The insights of a client read the lines of its sales: found by
        # sale (upstream indexes them by product first) and, with the
        # values they sum in the index, without reading the table.
        cls._sql_indexes.add(
            Index(t, (t.sale, Index.Range()),
                include=[
                    t.product, t.unit, t.quantity, t.actual_quantity,
                    t.unit_price],
                where=t.type == 'line'))
