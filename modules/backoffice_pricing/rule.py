# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime

from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.modules.product import price_digits
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction

from .engine import LEVELS, SCOPES, RuleSpec
from .rule_text import format_value, to_decimal

LEVEL_SELECTION = [
    ('product', "Fixed Product Price"),
    ('category', "Category"),
    ('global', "Global"),
    ]
SCOPE_SELECTION = [
    ('client', "Client"),
    ('tag', "Client Tag"),
    ('group', "Price Group"),
    ]
# The field holding the owner of a rule, for each scope
OWNER_FIELDS = {
    'client': 'party',
    'tag': 'price_tag',
    'group': 'price_group',
    }
# The field holding the target (and the value) of a rule, for each level
TARGET_FIELDS = {
    'product': 'product',
    'category': 'category',
    'global': None,
    }
VALUE_FIELDS = {
    'product': 'fixed_price',
    'category': 'percentage',
    'global': 'percentage',
    }
# The fields a RuleSpec is made of (engine.py)
SPEC_FIELDS = [
    'company', 'scope', 'party', 'price_tag', 'price_group', 'level',
    'product', 'category', 'percentage', 'fixed_price', 'unit',
    'min_quantity', 'start_date', 'end_date']


def to_date(value):
    # SQLite hands DATE columns back as text when read without the ORM
    if isinstance(value, str):
        return datetime.date.fromisoformat(value)
    return value


class PriceRule(ValueCheckMixin, ModelSQL, ModelView):
    """A price rule of a price group, a client tag or a client.

    One model for the three price levels (fixed product price, category
    percentage, global percentage): the engine compares them with one key,
    and a client's rules are edited in one list whatever their level.
    """
    __name__ = 'backoffice.price.rule'
    __string__ = "Price Rule"

    company = fields.Many2One(
        'company.company', "Company", required=True,
        help="The rule prices only the sales of this company.")
    scope = fields.Selection(
        SCOPE_SELECTION, "Scope", required=True,
        help="Whom the rule applies to: one client, the clients with a tag, "
        "or the clients of a price group. At the same level a client's "
        "rule beats a tag's rule, which beats the price group's rule.")
    party = fields.Many2One(
        'party.party', "Client", ondelete='CASCADE',
        context={
            'company': Eval('company', -1),
            },
        states={
            'invisible': Eval('scope') != 'client',
            'required': Eval('scope') == 'client',
            },
        depends={'company'})
    price_tag = fields.Many2One(
        'backoffice.price.tag', "Tag Pricing", ondelete='CASCADE',
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        states={
            'invisible': Eval('scope') != 'tag',
            'required': Eval('scope') == 'tag',
            },
        help="The rule applies to every client with this tag.")
    price_group = fields.Many2One(
        'backoffice.price.group', "Price Group", ondelete='CASCADE',
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        states={
            'invisible': Eval('scope') != 'group',
            'required': Eval('scope') == 'group',
            },
        help="The rule applies to every client in this price group.")
    level = fields.Selection(
        LEVEL_SELECTION, "Level", required=True,
        help="What the rule prices: one product at a fixed price, a "
        "category (and its sub-categories) or every product by a "
        "percentage. A fixed product price beats a category rule, which "
        "beats a global rule.")
    product = fields.Many2One(
        'product.product', "Product", ondelete='CASCADE',
        context={
            'company': Eval('company', -1),
            },
        states={
            'invisible': Eval('level') != 'product',
            'required': Eval('level') == 'product',
            },
        depends={'company'})
    category = fields.Many2One(
        'product.category', "Category", ondelete='CASCADE',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        states={
            'invisible': Eval('level') != 'category',
            'required': Eval('level') == 'category',
            },
        help="The product category the percentage applies to, with its "
        "sub-categories; the category nearest to a product wins.")
    percentage = fields.Numeric(
        "Percentage", digits=(16, 2),
        states={
            'invisible': Eval('level') == 'product',
            'required': Eval('level') != 'product',
            },
        help="The change of the list price in percent: -10 for a 10% "
        "discount, 5 for a 5% surcharge (from -100 to +1000).")
    fixed_price = fields.Numeric(
        "Fixed Price", digits=price_digits,
        states={
            'invisible': Eval('level') != 'product',
            'required': Eval('level') == 'product',
            },
        help="The client's unit price in the currency of the company "
        "(converted for sales in another currency), per the unit of the "
        "rule or else per the sale unit of the product.")
    unit = fields.Many2One(
        'product.uom', "Unit",
        domain=[
            If(Bool(Eval('product_unit_category')),
                ('category', '=', Eval('product_unit_category', -1)),
                ()),
            ],
        states={
            'invisible': Eval('level') != 'product',
            },
        help="Apply the fixed price only to lines in this unit, where it "
        "beats a price without unit; empty: the price is per sale unit of "
        "the product and converted for lines in other units.")
    product_unit_category = fields.Function(fields.Many2One(
            'product.uom.category', "Product Unit Category"),
        'on_change_with_product_unit_category')
    min_quantity = fields.Float(
        "Minimum Quantity",
        states={
            'invisible': Eval('level') != 'product',
            },
        help="Apply the fixed price from this quantity on (in the unit of "
        "the rule, or the sale unit): the highest minimum quantity not "
        "above the quantity of the line wins.")
    start_date = fields.Date(
        "Start Date",
        help="The first day the rule applies; empty: since always.")
    end_date = fields.Date(
        "End Date",
        help="The last day the rule applies; empty: for ever.")
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"),
        'on_change_with_currency')
    owner_name = fields.Function(fields.Char(
            "Applies To",
            help="The client, tag or price group of the rule."),
        'get_owner_name', searcher='search_owner_name')
    target_name = fields.Function(fields.Char(
            "Priced",
            help="The product, category or \"all products\" of the rule."),
        'get_target_name')
    summary = fields.Function(fields.Char(
            "Value",
            help="The percentage or the fixed price, with unit and minimum "
            "quantity."),
        'get_summary')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The engine loads the rules of a company's scopes and targets: the
        # owners (party, tag pricing, price group) are indexed by Tryton as
        # Many2One fields; the targets are searched by level.
        cls._sql_indexes.update({
                Index(t, (t.product, Index.Range()),
                    where=t.level == 'product'),
                Index(t, (t.category, Index.Range()),
                    where=t.level == 'category'),
                })
        cls._order = [
            ('company', 'ASC'),
            ('scope', 'ASC'),
            ('level', 'ASC'),
            ('start_date', 'ASC NULLS FIRST'),
            ('id', 'ASC'),
            ]

    @classmethod
    def __register__(cls, module_name):
        table_h = cls.__table_handler__(module_name)

        # Migration from uom, the old name of Tryton 8's unit; the foreign
        # key named after uom would stay beside the one added for unit
        if (table_h.column_exist('uom')
                and not table_h.column_exist('unit')):
            table_h.drop_fk('uom')
            table_h.column_rename('uom', 'unit')

        super().__register__(module_name)

    @staticmethod
    def order_scope(tables):
        "In precedence order: client, tag, price group"
        table, _ = tables[None]
        return [Case(
                (table.scope == 'client', 0), (table.scope == 'tag', 1),
                else_=2)]

    @staticmethod
    def order_level(tables):
        "In precedence order: fixed product price, category, global"
        table, _ = tables[None]
        return [Case(
                (table.level == 'product', 0), (table.level == 'category', 1),
                else_=2)]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_scope(cls):
        return Transaction().context.get('default_scope', 'group')

    @classmethod
    def default_level(cls):
        return 'global'

    @classmethod
    def default_min_quantity(cls):
        return 0.0

    @fields.depends('product')
    def on_change_with_product_unit_category(self, name=None):
        return self.product.default_uom_category if self.product else None

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @fields.depends('product', 'unit')
    def on_change_product(self):
        if (self.product and self.unit
                and self.unit.category != self.product.default_uom_category):
            self.unit = None

    @fields.depends('level', 'product', 'category', 'percentage',
        'fixed_price', 'unit', 'min_quantity')
    def on_change_level(self):
        # Keep only the fields of the level, as the validation requires
        if self.level != 'product':
            self.product = self.fixed_price = self.unit = None
            self.min_quantity = 0.0
        if self.level != 'category':
            self.category = None
        if self.level == 'product':
            self.percentage = None

    # --- texts

    def get_owner_name(self, name):
        owner = getattr(self, OWNER_FIELDS.get(self.scope, 'party'), None)
        return owner.rec_name if owner else ''

    @classmethod
    def search_owner_name(cls, name, clause):
        _, operator, *values = clause
        bool_op = 'AND' if operator.startswith('!') or operator.startswith(
            'not ') else 'OR'
        return [bool_op,
            ('party.rec_name', operator, *values),
            ('price_tag.rec_name', operator, *values),
            ('price_group.rec_name', operator, *values),
            ]

    def get_target_name(self, name):
        if self.level == 'product':
            return self.product.rec_name if self.product else ''
        elif self.level == 'category':
            return self.category.rec_name if self.category else ''
        return gettext('backoffice_pricing.msg_target_all')

    def get_summary(self, name):
        return format_value(
            self.level, self.percentage, self.fixed_price,
            self.unit or (self.product.sale_uom if self.product else None),
            self.min_quantity, self.company.currency if self.company else None)

    def get_rec_name(self, name):
        return gettext('backoffice_pricing.msg_rule_rec_name',
            owner=self.owner_name, target=self.target_name,
            value=self.summary)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, *values = clause
        bool_op = 'AND' if operator.startswith('!') or operator.startswith(
            'not ') else 'OR'
        return [bool_op,
            ('owner_name', operator, *values),
            ('product.rec_name', operator, *values),
            ('category.rec_name', operator, *values),
            ]

    # --- values

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        return cls._complete_values(values, mode)

    @classmethod
    def _complete_values(cls, values, mode):
        """Infer what the rule's parent tells: the scope from the owner set
        (rules created from a price group, a tag or a client form), the
        company from the price group or tag; a new scope forgets the owner
        of the old one (its field is hidden)"""
        pool = Pool()
        PriceGroup = pool.get('backoffice.price.group')
        PriceTag = pool.get('backoffice.price.tag')
        owners = [s for s, f in OWNER_FIELDS.items() if values.get(f)]
        scope = values.get('scope')
        # A scope without its owner but one other owner given is the
        # default of a form the rule was added from (a client's rules).
        if mode == 'create' and len(owners) == 1 and (
                not scope or not values.get(OWNER_FIELDS.get(scope))):
            values['scope'] = owners[0]
        if values.get('scope') in OWNER_FIELDS:
            for scope_, field in OWNER_FIELDS.items():
                if scope_ != values['scope']:
                    values.setdefault(field, None)
        if mode != 'create':
            return values
        if not values.get('company'):
            if values.get('price_group'):
                values['company'] = PriceGroup(
                    values['price_group']).company.id
            elif values.get('price_tag'):
                values['company'] = PriceTag(values['price_tag']).company.id
        return values

    @classmethod
    def _spec(cls, row, id_=None):
        "The RuleSpec of a row (rows of new rules get a negative id)"
        scope, level = row['scope'], row['level']
        target_field = TARGET_FIELDS[level]
        value = row[VALUE_FIELDS[level]]
        return RuleSpec(
            id=row['id'] if row.get('id') is not None else id_,
            level=LEVELS[level], scope=SCOPES[scope],
            owner=row[OWNER_FIELDS[scope]],
            target=row[target_field] if target_field else None,
            value=to_decimal(value),
            unit=row.get('unit') if level == 'product' else None,
            min_quantity=float(row.get('min_quantity') or 0)
            if level == 'product' else 0.0,
            start_date=to_date(row.get('start_date')),
            end_date=to_date(row.get('end_date')))

    @classmethod
    def _row(cls, rule):
        "The SPEC_FIELDS of a rule as the values of a new one"
        row = {}
        for field in SPEC_FIELDS:
            value = getattr(rule, field)
            row[field] = value.id if isinstance(value, ModelSQL) else value
        row['id'] = rule.id
        return row
