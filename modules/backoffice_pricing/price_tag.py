# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields, sequence_ordered)
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction


class PriceTag(
        ValueCheckMixin, DeactivableMixin, sequence_ordered(), ModelSQL,
        ModelView):
    """The pricing of a client tag (party category) in a company.

    The tag scope owns rules like a price group does; its sequence decides
    between two tags of one client whose rules compete at the same level.
    """
    __name__ = 'backoffice.price.tag'
    __string__ = "Tag Pricing"

    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={
            'readonly': Bool(Eval('rules', [0])),
            },
        help="The company whose clients the tag pricing applies to.")
    tag = fields.Many2One(
        'party.category', "Tag", required=True, ondelete='CASCADE',
        help="The client tag (party category) the rules apply to, "
        "e.g. \"HoReCa\" or \"Premium\".")
    rules = fields.One2Many(
        'backoffice.price.rule', 'price_tag', "Rules",
        filter=[('scope', '=', 'tag')],
        help="The price rules for the clients with the tag. They beat the "
        "price group's rules and lose to the client's own rules at the "
        "same level.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('company_tag_unique', Unique(t, t.company, t.tag),
                'backoffice_pricing.msg_price_tag_unique'),
            ]
        cls.sequence.help = (
            "When two tags of one client both have a rule at the same "
            "level, the tag pricing listed first wins: the lower sequence "
            "(an empty sequence first), then the one created first.")
        cls.active.help = "Uncheck to stop applying the tag's rules."

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_rec_name(self, name):
        return self.tag.rec_name if self.tag else str(self.id)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('tag.rec_name', *clause[1:])]
