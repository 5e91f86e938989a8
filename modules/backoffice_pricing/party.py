# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.company.model import (
    CompanyMultiValueMixin, CompanyValueMixin)
from trytond.modules.backoffice_zone.company import CompanyContextMixin
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval


class Party(CompanyMultiValueMixin, metaclass=PoolMeta):
    __name__ = 'party.party'

    # Per company, like upstream's sale price list and credit limit: price
    # groups belong to one company, a party may be a client of several.
    price_group = fields.MultiValue(fields.Many2One(
            'backoffice.price.group', "Price Group",
            domain=[
                ('company', '=', Eval('context', {}).get('company', -1)),
                ],
            states={
                'invisible': ~Eval('context', {}).get('company'),
                },
            help="The price group of the client in the current company: "
            "its rules apply unless the client's own rules or its tags' "
            "rules are more specific."))
    price_groups = fields.One2Many(
        'party.party.price_group', 'party', "Price Groups",
        help="The price group of the client in each company.")
    pricing_rules = fields.One2Many(
        'backoffice.price.rule', 'party', "Client Rules",
        filter=[('scope', '=', 'client')],
        context={
            'default_scope': 'client',
            },
        help="The client's own price rules: at the same level they beat "
        "the rules of its tags and of its price group.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # The client's fields checked before writing (backoffice_zone's
        # values.py)
        cls._value_checked.add('price_group')

    @classmethod
    def copy(cls, parties, default=None):
        pool = Pool()
        ModelFieldAccess = pool.get('ir.model.field.access')
        default = default.copy() if default is not None else {}
        # Who may create clients but not set price groups (a Sales user)
        # still copies a client: without them, where the field access would
        # refuse the whole copy. (The client's own rules are not copied:
        # Tryton skips a One2Many with a filter.)
        if not ModelFieldAccess.check(cls.__name__,
                ['price_group', 'price_groups'], 'write',
                raise_exception=False):
            default.setdefault('price_groups', None)
            default.setdefault('price_group', None)
        return super().copy(parties, default=default)


class PartyPriceGroup(
        CompanyContextMixin, ValueCheckMixin, ModelSQL, ModelView,
        CompanyValueMixin):
    __name__ = 'party.party.price_group'
    __string__ = "Party Price Group"

    party = fields.Many2One(
        'party.party', "Party", ondelete='CASCADE', required=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    price_group = fields.Many2One(
        'backoffice.price.group', "Price Group", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ])
