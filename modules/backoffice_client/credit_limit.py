# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The client's credit limit (upstream's account_credit_limit, per company):
never negative, left out of a copy by who may not set it, and what an
amount would exceed it by, for one order (upstream's check) or for a batch
of orders (the order module's stage moves and manual review)"""
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.modules.account_credit_limit.exceptions import (
    CreditLimitError as UpstreamCreditLimitError, CreditLimitWarning)
from trytond.modules.backoffice_zone.company import CompanyContextMixin
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.pool import Pool, PoolMeta
from trytond.transaction import (
    Transaction, inactive_records, without_check_access)

from .exceptions import (
    CreditLimitError, CreditLimitExceededError, CreditLimitExceededWarning)


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    @classmethod
    def copy(cls, parties, default=None):
        pool = Pool()
        FieldAccess = pool.get('ir.model.field.access')
        default = default.copy() if default is not None else {}
        # Who may not set a credit limit may still copy a client.
        if not FieldAccess.check(
                cls.__name__, ['credit_limit_amount'], 'write',
                raise_exception=False):
            default.setdefault('credit_limit_amounts', None)
            default.setdefault('credit_limit_amount', None)
        return super().copy(parties, default=default)

    @classmethod
    def credit_limit_excess(cls, demands, company):
        """The demands, [(party, amount)] in the order they are accepted,
        that would take their party over its credit limit in company:
        {index: (limit, used, amount, excess)} in the company's currency,
        where used is the party's credit amount plus its demands accepted
        before in the list"""
        with Transaction().set_context(company=company.id):
            parties = cls.browse(list({p.id for p, _ in demands}))
            credit = {p.id: p.credit_amount for p in parties}
            limits = {p.id: p.get_multivalue(
                    'credit_limit_amount', company=company.id)
                for p in parties}
        accepted = defaultdict(Decimal)
        excess = {}
        for index, (party, amount) in enumerate(demands):
            limit = limits[party.id]
            if limit is None or amount <= 0:
                continue
            used = credit[party.id] + accepted[party.id]
            if used + amount > limit:
                excess[index] = (limit, used, amount, used + amount - limit)
            else:
                accepted[party.id] += amount
        return excess

    def check_credit_limit(self, amount, company, origin=None):
        """Upstream's check, whose message tells the limit and the amount
        of the order only: say by how much the limit would be exceeded"""
        try:
            super().check_credit_limit(amount, company, origin=origin)
        except (UpstreamCreditLimitError, CreditLimitWarning) as exception:
            excess = self.credit_limit_excess([(self, amount)], company)
            if not excess:
                # Not the amount: the dunning level, keep upstream's text
                raise
            message = gettext('backoffice_client.msg_credit_limit_exceeded',
                party=self.rec_name,
                origin=self._credit_limit_origin(origin),
                **self.credit_limit_figures(company, *excess[0]))
            if isinstance(exception, CreditLimitWarning):
                raise CreditLimitExceededWarning(
                    exception.name, message) from exception
            raise CreditLimitExceededError(message) from exception

    @classmethod
    def credit_limit_figures(cls, company, limit, used, amount, excess):
        "The figures of credit_limit_excess as the messages show them"
        lang = Pool().get('ir.lang').get()
        return {
            name: lang.currency(value, company.currency)
            for name, value in [
                ('limit', limit), ('used', used), ('amount', amount),
                ('excess', excess)]}

    @classmethod
    def _credit_limit_origin(cls, origin):
        "The origin as the message names it: an order by number and client"
        if origin is None:
            return gettext('backoffice_client.msg_credit_limit_no_origin')
        if origin.__name__ == 'sale.sale':
            return gettext('backoffice_client.msg_credit_limit_origin_sale',
                number=origin.number or origin.rec_name,
                client=origin.party.rec_name)
        return gettext('backoffice_client.msg_credit_limit_origin',
            origin=origin.rec_name)


class PartyCreditLimitAmount(
        CompanyContextMixin, ValueCheckMixin, metaclass=PoolMeta):
    __name__ = 'party.party.credit_limit_amount'
    _value_checked = {'party', 'company', 'credit_limit_amount'}

    # The amounts written through the party are stored here too: one check
    # for both ways.
    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        if 'credit_limit_amount' in field_names:
            cls.check_amount(records)

    @classmethod
    def check_amount(cls, records):
        pool = Pool()
        Party = pool.get('party.party')
        Lang = pool.get('ir.lang')
        for record in records:
            amount = record.credit_limit_amount
            if amount is not None and amount < 0:
                party_name = ''
                if record.party:
                    with without_check_access(), inactive_records():
                        party_name = Party(record.party.id).rec_name
                raise CreditLimitError(gettext(
                        'backoffice_client.msg_credit_limit_negative',
                        party=party_name,
                        amount=Lang.get().format_number(amount),
                        field=Party.fields_get(['credit_limit_amount'])[
                            'credit_limit_amount']['string']))
