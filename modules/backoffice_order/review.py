# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The manual review of an order: the server flags the orders someone must
look at before they go on (credit limit exceeded, a unit price set by hand,
a delivery address without zone) whenever the order or its lines change"""
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.product import round_price
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    manual_review = fields.Boolean(
        "Manual Review", readonly=True,
        help="Someone must look at the order before it goes on: see the "
        "review reasons. Computed when the order or its lines change.")
    review_reasons = fields.Char(
        "Review Reasons", readonly=True,
        help="Why the order needs a manual review: the credit limit of the "
        "client is exceeded, a unit price was set by hand, or the delivery "
        "address has no zone.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._value_checked |= {'review_reasons'}

    @classmethod
    def default_manual_review(cls):
        return False

    @classmethod
    def _review_reasons(cls, sales):
        "{sale: [reason message]} of the sales that need a manual review"
        reasons = defaultdict(list)
        for sale in cls._credit_exceeded(sales):
            reasons[sale].append(gettext(
                    'backoffice_order.msg_review_credit_limit'))
        for sale in sales:
            if sale.state not in {'draft', 'quotation'}:
                continue
            for line in sale.line_lines:
                if line.unit_price_overridden:
                    reasons[sale].append(gettext(
                            'backoffice_order.msg_review_unit_price',
                            line=line.rec_name))
                    break
            if sale.shipment_address and not sale.shipment_address.zone:
                reasons[sale].append(gettext(
                        'backoffice_order.msg_review_no_zone'))
        return reasons

    @classmethod
    def update_review(cls, sales):
        """Compute the manual review flag and reasons of sales again

        Stored (not a function field) so the list filters on it in SQL;
        written by the server (clients may not write it), in one write of
        the sales whose review changed, one action per distinct value."""
        if not sales:
            return
        with without_check_access():
            sales = cls.browse([s.id for s in sales])
            reasons = cls._review_reasons(sales)
        by_value = defaultdict(list)
        for sale in sales:
            text = '; '.join(reasons.get(sale, [])) or None
            if (bool(text), text) != (
                    bool(sale.manual_review), sale.review_reasons):
                by_value[bool(text), text].append(sale)
        args = []
        for (flag, text), v_sales in by_value.items():
            args.extend((v_sales, {
                        'manual_review': flag,
                        'review_reasons': text,
                        }))
        if args:
            # the server's own write: clients may not write these fields
            # (ServerFieldsMixin), a write without access checks may
            with without_check_access():
                cls.write(*args)

    @classmethod
    def _review_fields(cls):
        "The fields whose change may change the manual review"
        return {'party', 'invoice_party', 'shipment_address', 'lines',
            'state', 'company', 'currency'}

    @classmethod
    def on_modification(cls, mode, sales, field_names=None):
        super().on_modification(mode, sales, field_names=field_names)
        if mode == 'create' or (
                mode == 'write' and field_names & cls._review_fields()):
            cls.update_review(sales)

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        # computed again for the copy
        default.setdefault('manual_review', False)
        default.setdefault('review_reasons', None)
        return super().copy(sales, default=default)


class Line(metaclass=PoolMeta):
    __name__ = 'sale.line'

    unit_price_overridden = fields.Function(fields.Boolean(
            "Unit Price Set by Hand",
            help="The unit price differs from the price the sale computes "
            "for the product, client and quantity."),
        'get_unit_price_overridden')

    def get_unit_price_overridden(self, name):
        if self.type != 'line' or not self.product or (
                self.unit_price is None):
            return False
        with Transaction().set_context(self._get_context_sale_price()):
            computed = self.compute_unit_price()
        if computed is None:
            return False
        return round_price(computed) != self.unit_price

    @classmethod
    def on_modification(cls, mode, lines, field_names=None):
        pool = Pool()
        Sale = pool.get('sale.sale')
        super().on_modification(mode, lines, field_names=field_names)
        if mode != 'delete' and (mode == 'create' or field_names & {
                    'unit_price', 'quantity', 'product', 'unit'}):
            Sale.update_review(list({l.sale for l in lines}))

    @classmethod
    def on_delete(cls, lines):
        pool = Pool()
        Sale = pool.get('sale.sale')
        callbacks = super().on_delete(lines)
        sale_ids = list({l.sale.id for l in lines})
        return callbacks + [
            lambda: Sale.update_review(Sale.browse(sale_ids))]
