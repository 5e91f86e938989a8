# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from sql.aggregate import Count

from trytond import backend
from trytond.i18n import gettext
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import PriceGroupCompanyError


class PriceGroup(ValueCheckMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'backoffice.price.group'
    __string__ = "Price Group"

    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={
            # The rules of a group are bound to its company
            'readonly': Bool(Eval('rules', [0])),
            },
        help="The company whose clients the group prices.")
    name = fields.Char(
        "Name", required=True, translate=True,
        help="The name of the group, e.g. \"Restaurants\" or "
        "\"Wholesale A\".")
    code = fields.Char(
        "Code", strip=True,
        help="An optional short code, unique in the company.")
    description = fields.Text(
        "Description",
        help="Who belongs to the group and what was agreed.")
    rules = fields.One2Many(
        'backoffice.price.rule', 'price_group', "Rules",
        filter=[('scope', '=', 'group')],
        help="The price rules of the group: global and category "
        "percentages, fixed product prices. A client's own rules and its "
        "tags' rules beat them at the same level.")
    clients = fields.One2Many(
        'party.party.price_group', 'price_group', "Clients", readonly=True,
        help="The clients in the group; a client's price group is set on "
        "the client, per company.")
    client_count = fields.Function(fields.Integer(
            "Clients", help="How many clients belong to the group."),
        'get_counts')
    rule_count = fields.Function(fields.Integer(
            "Rules", help="How many rules the group has."),
        'get_counts')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('company_code_unique', Unique(t, t.company, t.code),
                'backoffice_pricing.msg_price_group_code_unique'),
            ]
        cls._order.insert(0, ('name', 'ASC'))
        cls.active.help = (
            "Uncheck to stop pricing with the group: its rules no longer "
            "apply to its clients.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def get_counts(cls, groups, names):
        "Count clients and rules of all groups in two queries"
        pool = Pool()
        PartyGroup = pool.get('party.party.price_group')
        Rule = pool.get('backoffice.price.rule')
        cursor = Transaction().connection.cursor()
        result = {n: {g.id: 0 for g in groups} for n in names}
        for name, Model_ in [
                ('client_count', PartyGroup), ('rule_count', Rule)]:
            if name not in names:
                continue
            table = Model_.__table__()
            for sub_ids in grouped_slice(
                    [g.id for g in groups], backend.MAX_QUERY_PARAMS):
                cursor.execute(*table.select(
                        table.price_group, Count(table.id),
                        where=fields.SQL_OPERATORS['in'](
                            table.price_group, sub_ids),
                        group_by=[table.price_group]))
                result[name].update(cursor)
        return result

    @classmethod
    def check_modification(cls, mode, groups, values=None, external=False):
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        super().check_modification(
            mode, groups, values=values, external=external)
        if mode == 'write' and 'company' in values:
            # Checked before the write: the rules would belong to another
            # company than their group.
            for sub_groups in grouped_slice(groups, backend.MAX_QUERY_PARAMS):
                rules = Rule.search([
                        ('price_group', 'in', [g.id for g in sub_groups]),
                        ('company', '!=', values['company']),
                        ], limit=1)
                if rules:
                    rule, = rules
                    raise PriceGroupCompanyError(gettext(
                            'backoffice_pricing.msg_price_group_company',
                            group=rule.price_group.rec_name,
                            rule=rule.rec_name,
                            company=rule.company.rec_name))

    @classmethod
    def copy(cls, groups, default=None):
        default = default.copy() if default is not None else {}
        # A copy starts without clients: they belong to the original
        default.setdefault('clients', None)
        default.setdefault('code', None)
        return super().copy(groups, default=default)
