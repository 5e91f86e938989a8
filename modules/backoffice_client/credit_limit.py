# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The client's credit limit (upstream's account_credit_limit, per company):
never negative, and left out of a copy by who may not set it"""
from trytond.i18n import gettext
from trytond.modules.backoffice_zone.company import CompanyContextMixin
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.pool import Pool, PoolMeta
from trytond.transaction import inactive_records, without_check_access

from .exceptions import CreditLimitError


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
