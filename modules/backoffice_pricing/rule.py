# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime
from collections import defaultdict
from decimal import Decimal

from sql import Literal, Null
from sql.conditionals import Case
from sql.operators import Or

from trytond import backend
from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.modules.product import price_digits
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .engine import (
    LEVEL_CATEGORY, LEVEL_GLOBAL, LEVEL_PRODUCT, LEVELS, PERCENTAGE_MAX,
    PERCENTAGE_MIN, SCOPE_CLIENT, SCOPE_GROUP, SCOPE_TAG, SCOPES, ClientSpec,
    PricingEngine, ProductSpec, RuleSpec, TagSpec, UomSpec, bulk_adjust,
    find_overlaps)
from .exceptions import (
    BulkUpdateError, CopyRulesWarning, RuleOverlapError, RuleValidationError)

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
# What the validation of a rule reads
SPEC_FIELDS = [
    'company', 'scope', 'party', 'price_tag', 'price_group', 'level',
    'product', 'category', 'percentage', 'fixed_price', 'uom',
    'min_quantity', 'start_date', 'end_date']
# Above this many products (or categories) the rules of the clients' scopes
# are loaded whole and filtered in Python: a list of thousands of ids in the
# query costs more than the rows it saves.
TARGET_FILTER_MAX = 500


def _to_decimal(value):
    # SQLite may hand NUMERIC columns back as float or int
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def format_percentage(value):
    "-10 → '-10%', 5.5 → '+5.5%', in the language of the user"
    pool = Pool()
    Lang = pool.get('ir.lang')
    lang = Lang.get()
    value = Decimal(value)
    digits = max(0, -value.normalize().as_tuple().exponent)
    text = lang.format_number(value, digits)
    if value > 0:
        text = '+' + text
    return text + '%'


def format_price(value, currency=None):
    "A price with the digits it has, at least those of the currency"
    pool = Pool()
    Lang = pool.get('ir.lang')
    lang = Lang.get()
    if value is None:
        return ''
    value = Decimal(value)
    digits = max(currency.digits if currency else 2,
        -value.normalize().as_tuple().exponent)
    if currency:
        return lang.currency(value, currency, digits=digits)
    return lang.format_number(value, digits)


def format_quantity(value):
    pool = Pool()
    Lang = pool.get('ir.lang')
    lang = Lang.get()
    value = Decimal(str(value or 0)).normalize()
    return lang.format_number(
        value, max(0, -value.as_tuple().exponent))


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
        help="The company whose sales the rule prices.")
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
        depends={'company'},
        help="The client the rule applies to.")
    price_tag = fields.Many2One(
        'backoffice.price.tag', "Tag Pricing", ondelete='CASCADE',
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        states={
            'invisible': Eval('scope') != 'tag',
            'required': Eval('scope') == 'tag',
            },
        help="The client tag whose clients the rule applies to.")
    price_group = fields.Many2One(
        'backoffice.price.group', "Price Group", ondelete='CASCADE',
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        states={
            'invisible': Eval('scope') != 'group',
            'required': Eval('scope') == 'group',
            },
        help="The price group whose clients the rule applies to.")
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
        depends={'company'},
        help="The product sold at the fixed price.")
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
        help="The unit price, in the currency of the company, per the unit "
        "of the rule or else per the sale unit of the product.")
    uom = fields.Many2One(
        'product.uom', "Unit",
        domain=[
            If(Bool(Eval('product_uom_category')),
                ('category', '=', Eval('product_uom_category', -1)),
                ()),
            ],
        states={
            'invisible': Eval('level') != 'product',
            },
        help="Apply the fixed price only to lines in this unit; empty: the "
        "price is per sale unit of the product and converted for lines in "
        "other units.")
    product_uom_category = fields.Function(fields.Many2One(
            'product.uom.category', "Product Unit Category",
            help="The category of the units of the product."),
        'on_change_with_product_uom_category')
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
            'currency.currency', "Currency",
            help="The currency of the company."),
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

    # The units and the category tree change seldom and every engine needs
    # them: kept between transactions, cleared when a unit or category is
    # modified (see product.py).
    _uoms_cache = Cache('backoffice.price.rule.uoms', context=False)
    _categories_cache = Cache(
        'backoffice.price.rule.categories', context=False)

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
    def on_change_with_product_uom_category(self, name=None):
        return self.product.default_uom_category if self.product else None

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @fields.depends('product', 'uom')
    def on_change_product(self):
        if (self.product and self.uom
                and self.uom.category != self.product.default_uom_category):
            self.uom = None

    @fields.depends('level', 'product', 'category', 'percentage',
        'fixed_price', 'uom', 'min_quantity')
    def on_change_level(self):
        # Keep only the fields of the level, as the validation requires
        if self.level != 'product':
            self.product = self.fixed_price = self.uom = None
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
        return self.format_value(
            self.level, self.percentage, self.fixed_price,
            self.uom or (self.product.sale_uom if self.product else None),
            self.min_quantity, self.company.currency if self.company else None)

    @classmethod
    def format_value(cls, level, percentage, fixed_price, uom, min_quantity,
            currency):
        "The value of a rule in words: '-10%' or 'CHF 7.50 per kg from 10'"
        if level == 'product':
            if fixed_price is None:
                return ''
            text = gettext('backoffice_pricing.msg_summary_fixed',
                price=format_price(fixed_price, currency),
                uom=uom.symbol if uom else '')
            if min_quantity:
                text = gettext('backoffice_pricing.msg_summary_min_quantity',
                    value=text, quantity=format_quantity(min_quantity))
            return text
        if percentage is None:
            return ''
        return format_percentage(percentage)

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

    # --- validation, before anything is written

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        return cls._complete_values(values, mode)

    @classmethod
    def _complete_values(cls, values, mode='create'):
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
    def create(cls, vlist):
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        # Access first: a user who may not create rules learns that, not
        # what is wrong with the values.
        ModelAccess.check(cls.__name__, 'create')
        # Then the types, bounds and links of the values, which the checks
        # below read (a percentage 'abc', a category that does not exist).
        cls.check_values(vlist)
        defaults = cls.default_get(SPEC_FIELDS, with_rec_name=False)
        rows = []
        for values in vlist:
            row = dict(defaults)
            row.update(values)
            row['id'] = None
            rows.append(cls._complete_values(row))
        with without_check_access():
            cls.check_rows(rows)
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        ModelAccess.check(cls.__name__, 'write')
        cls.check_values(args[1::2])
        changes = {}
        args = list(args)
        for i in range(1, len(args), 2):
            args[i] = cls._complete_values(dict(args[i]), 'write')
        actions = iter(args)
        for records, values in zip(actions, actions):
            if values.keys() & set(SPEC_FIELDS):
                for record in records:
                    changes.setdefault(record.id, {}).update(values)
        if changes:
            with without_check_access():
                rows = cls.read(list(changes), SPEC_FIELDS)
                for row in rows:
                    row.update(changes[row['id']])
                cls.check_rows(rows)
        super().write(*args)

    @classmethod
    def check_rows(cls, rows):
        """Check the rules as they will be stored: rows are dicts of
        SPEC_FIELDS and id (None for a new rule). Raises before any row is
        written, so that nothing stored changes on bad input."""
        for row in rows:
            cls._check_row(row)
        cls._check_companies(rows)
        cls._check_units(rows)
        cls._check_overlaps(rows)

    @classmethod
    def _describe(cls, row):
        "The name of a rule for messages, saved or not, as the row says"
        pool = Pool()
        Company = pool.get('company.company')
        Uom = pool.get('product.uom')
        Product = pool.get('product.product')
        models = {
            'party': 'party.party', 'price_tag': 'backoffice.price.tag',
            'price_group': 'backoffice.price.group',
            'product': 'product.product', 'category': 'product.category',
            }

        def name(field):
            value = row.get(field) if field else None
            if value is None:
                return '?'
            return pool.get(models[field])(value).rec_name

        level = row.get('level')
        if TARGET_FIELDS.get(level):
            target = name(TARGET_FIELDS[level])
        else:
            target = gettext('backoffice_pricing.msg_target_all')
        uom = Uom(row['uom']) if row.get('uom') else None
        if uom is None and level == 'product' and row.get('product'):
            uom = Product(row['product']).sale_uom
        company = Company(row['company']) if row.get('company') else None
        value = cls.format_value(
            level, _to_decimal(row.get('percentage')),
            _to_decimal(row.get('fixed_price')), uom,
            row.get('min_quantity'), company.currency if company else None)
        return gettext('backoffice_pricing.msg_rule_rec_name',
            owner=name(OWNER_FIELDS.get(row.get('scope'))), target=target,
            value=value)

    @classmethod
    def _field_name(cls, field):
        return cls.__names__(field)['field']

    @classmethod
    def _check_row(cls, row):
        def error(message, field, **kwargs):
            raise RuleValidationError(gettext(
                    'backoffice_pricing.' + message,
                    rule=cls._describe(row), field=cls._field_name(field),
                    **kwargs))

        scope, level = row.get('scope'), row.get('level')
        # What the states make required, checked before writing too: the
        # engine relies on it.
        required = ['company', 'scope', 'level']
        if scope in OWNER_FIELDS:
            required.append(OWNER_FIELDS[scope])
        if level in TARGET_FIELDS:
            if TARGET_FIELDS[level]:
                required.append(TARGET_FIELDS[level])
            required.append(VALUE_FIELDS[level])
        for field in required:
            if row.get(field) is None or row.get(field) == '':
                error('msg_rule_required', field)
        for scope_, field in OWNER_FIELDS.items():
            if scope_ != scope and row.get(field) is not None:
                error('msg_rule_other_scope', field)
        fixed_price = _to_decimal(row.get('fixed_price'))
        percentage = _to_decimal(row.get('percentage'))
        if level == 'product':
            if fixed_price < 0:
                error('msg_rule_fixed_price_negative', 'fixed_price',
                    value=format_price(fixed_price))
            if (row.get('min_quantity') or 0) < 0:
                error('msg_rule_min_quantity_negative', 'min_quantity',
                    value=format_quantity(row['min_quantity']))
        else:
            if not (PERCENTAGE_MIN <= percentage <= PERCENTAGE_MAX):
                error('msg_rule_percentage_range', 'percentage',
                    value=format_percentage(percentage),
                    min=format_percentage(PERCENTAGE_MIN),
                    max=format_percentage(PERCENTAGE_MAX))
        start, end = row.get('start_date'), row.get('end_date')
        if start and end and end < start:
            pool = Pool()
            Lang = pool.get('ir.lang')
            lang = Lang.get()
            error('msg_rule_dates', 'end_date',
                start=lang.strftime(start), end=lang.strftime(end))

    @classmethod
    def _check_companies(cls, rows):
        """Products, categories and parties are not bound to a company in
        Tryton 8.0; price groups and tag pricings are: a rule must belong to
        the company of its group or tag."""
        pool = Pool()
        PriceGroup = pool.get('backoffice.price.group')
        PriceTag = pool.get('backoffice.price.tag')
        Company = pool.get('company.company')
        for field, Owner in [
                ('price_group', PriceGroup), ('price_tag', PriceTag)]:
            ids = {r[field] for r in rows if r.get(field) is not None}
            if not ids:
                continue
            owners = {o.id: o for o in Owner.browse(list(ids))}
            for row in rows:
                if row.get(field) is None:
                    continue
                owner = owners[row[field]]
                if owner.company.id != row['company']:
                    raise RuleValidationError(gettext(
                            'backoffice_pricing.msg_rule_company',
                            rule=cls._describe(row),
                            field=cls._field_name(field),
                            owner=owner.rec_name,
                            owner_company=owner.company.rec_name,
                            company=Company(row['company']).rec_name))

    @classmethod
    def _check_units(cls, rows):
        pool = Pool()
        Product = pool.get('product.product')
        Uom = pool.get('product.uom')
        rows = [r for r in rows
            if r.get('level') == 'product' and r.get('uom') is not None]
        if not rows:
            return
        products = {p.id: p for p in Product.browse(
                list({r['product'] for r in rows}))}
        uoms = {u.id: u for u in Uom.browse(list({r['uom'] for r in rows}))}
        for row in rows:
            product, uom = products[row['product']], uoms[row['uom']]
            if uom.category != product.default_uom.category:
                raise RuleValidationError(gettext(
                        'backoffice_pricing.msg_rule_uom_category',
                        rule=cls._describe(row),
                        field=cls._field_name('uom'),
                        uom=uom.rec_name, product=product.rec_name,
                        category=product.default_uom.category.rec_name))

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
            value=_to_decimal(value),
            uom=row.get('uom') if level == 'product' else None,
            min_quantity=float(row.get('min_quantity') or 0)
            if level == 'product' else 0.0,
            start_date=_to_date(row.get('start_date')),
            end_date=_to_date(row.get('end_date')))

    @classmethod
    def _check_overlaps(cls, rows):
        """Two rules of the same level, scope and target whose periods meet
        would compete at some date: refused, naming both"""
        pool = Pool()
        Company = pool.get('company.company')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        ids = {r['id'] for r in rows if r.get('id') is not None}
        by_company = defaultdict(list)
        for i, row in enumerate(rows, 1):
            by_company[row['company']].append(cls._spec(row, -i))
        names = {-i: row for i, row in enumerate(rows, 1)}
        names.update({r['id']: r for r in rows if r.get('id') is not None})
        for company, specs in by_company.items():
            existing = []
            for scope, owner_field in OWNER_FIELDS.items():
                owners = {s.owner for s in specs if s.scope == SCOPES[scope]}
                column = getattr(table, owner_field)
                for sub_ids in grouped_slice(
                        list(owners), backend.MAX_QUERY_PARAMS // 2):
                    where = ((table.company == company)
                        & (table.scope == scope)
                        & fields.SQL_OPERATORS['in'](column, list(sub_ids)))
                    cursor.execute(*table.select(
                            *[getattr(table, f) for f in SPEC_FIELDS],
                            table.id, where=where))
                    for values in cursor:
                        row = dict(zip(SPEC_FIELDS + ['id'], values))
                        if row['id'] in ids:
                            continue
                        existing.append(cls._spec(row))
            for spec, other in find_overlaps(specs, existing):
                rule = cls._describe(names[spec.id])
                if other.id in names:
                    other_name = cls._describe(names[other.id])
                else:
                    other_name = cls(other.id).rec_name
                raise RuleOverlapError(gettext(
                        'backoffice_pricing.msg_rule_overlap',
                        rule=rule, other=other_name,
                        company=Company(company).rec_name))

    # --- the engine

    @classmethod
    def get_engine(cls, company, parties, products, date=None,
            all_dates=False, list_prices=False, convert=None):
        """A PricingEngine for the parties and products (ids) of a company.

        Loads in a few queries the parties' price group and tags, the
        products' categories and units, the category tree, the units and the
        rules of the parties' scopes that can apply to the products (valid
        at `date` unless all_dates, for explanations). list_prices: load the
        products' list prices too (price sheets, benchmarks); the sale price
        hook adjusts the prices upstream computed instead.
        """
        pool = Pool()
        Date = pool.get('ir.date')
        Company = pool.get('company.company')
        if isinstance(company, int):
            company = Company(company)
        if date is None:
            with Transaction().set_context(company=company.id):
                date = Date.today()
        parties = list(set(parties))
        products = list(set(products))
        clients, tags = cls._load_clients(company.id, parties)
        product_specs, parents = cls._load_products(
            company.id, products, list_prices)
        uoms = cls._load_uoms()
        rules = cls._load_rules(
            company.id, clients, tags, product_specs, parents,
            date=None if all_dates else date)
        return PricingEngine(
            rules, clients=clients, tags=tags, products=product_specs,
            parents=parents, uoms=uoms, date=date,
            # the quantum of product.round_price
            rounding=Decimal(1).scaleb(-price_digits[1]),
            convert=convert)

    @classmethod
    def _load_clients(cls, company_id, party_ids):
        "ClientSpecs and TagSpecs of the parties, in two queries"
        pool = Pool()
        PartyPriceGroup = pool.get('party.party.price_group')
        PriceGroup = pool.get('backoffice.price.group')
        PartyCategory = pool.get('party.party-party.category')
        PriceTag = pool.get('backoffice.price.tag')
        cursor = Transaction().connection.cursor()
        party_group = PartyPriceGroup.__table__()
        group = PriceGroup.__table__()
        party_category = PartyCategory.__table__()
        tag = PriceTag.__table__()
        in_ = fields.SQL_OPERATORS['in']

        groups, party_tags, tags = {}, defaultdict(list), {}
        for sub_ids in grouped_slice(party_ids, backend.MAX_QUERY_PARAMS):
            sub_ids = list(sub_ids)
            cursor.execute(*party_group.join(group,
                    condition=party_group.price_group == group.id
                    ).select(party_group.party, party_group.price_group,
                    where=(party_group.company == company_id)
                    & (group.company == company_id)
                    & (group.active == Literal(True))
                    & in_(party_group.party, sub_ids)))
            groups.update(cursor)
            cursor.execute(*party_category.join(tag,
                    condition=party_category.category == tag.tag
                    ).select(party_category.party, tag.id, tag.sequence,
                    where=(tag.company == company_id)
                    & (tag.active == Literal(True))
                    & in_(party_category.party, sub_ids)))
            for party, tag_id, sequence in cursor:
                party_tags[party].append(tag_id)
                tags[tag_id] = TagSpec(tag_id, sequence)
        clients = [
            ClientSpec(p, groups.get(p), tuple(party_tags.get(p, ())))
            for p in party_ids]
        return clients, list(tags.values())

    @classmethod
    def _load_products(cls, company_id, product_ids, list_prices=False):
        """ProductSpecs of the products and the category tree ({id:
        parent}), in three or four queries"""
        pool = Pool()
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        TemplateCategory = pool.get('product.template-product.category')
        Category = pool.get('product.category')
        ListPrice = pool.get('product.list_price')
        cursor = Transaction().connection.cursor()
        product = Product.__table__()
        template = Template.__table__()
        template_category = TemplateCategory.__table__()
        category = Category.__table__()
        list_price = ListPrice.__table__()
        in_ = fields.SQL_OPERATORS['in']

        rows = {}
        categories = defaultdict(list)
        prices = {}
        query = product.join(template,
            condition=product.template == template.id
            ).join(template_category, 'LEFT',
            condition=template_category.template == template.id)
        columns = [product.id, product.template, template.default_uom,
            template.sale_uom, template_category.category]
        if list_prices:
            # As product.product.list_price_used: the product's own list
            # price, else its template's
            product_price = list_price.select(
                list_price.product, list_price.list_price,
                where=(list_price.company == company_id)
                & (list_price.product != Null))
            template_price = list_price.select(
                list_price.template, list_price.list_price,
                where=(list_price.company == company_id)
                & (list_price.product == Null))
            query = query.join(product_price, 'LEFT',
                condition=product_price.product == product.id
                ).join(template_price, 'LEFT',
                condition=template_price.template == template.id)
            columns += [product_price.list_price, template_price.list_price]
        for sub_ids in grouped_slice(product_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*query.select(*columns,
                    where=in_(product.id, list(sub_ids))))
            for row in cursor.fetchall():
                product_id = row[0]
                rows[product_id] = row[1:4]
                if row[4] is not None:
                    categories[product_id].append(row[4])
                if list_prices:
                    price = row[5] if row[5] is not None else row[6]
                    if price is not None:
                        prices[product_id] = _to_decimal(price)
        specs = []
        for product_id, (template_id, default_uom, sale_uom) in rows.items():
            price = prices.get(product_id)
            specs.append(ProductSpec(
                    product_id, tuple(sorted(categories[product_id])),
                    default_uom, sale_uom or default_uom, price))
        parents = cls._categories_cache.get(None)
        if parents is None:
            cursor.execute(*category.select(category.id, category.parent))
            parents = dict(cursor)
            cls._categories_cache.set(None, parents)
        return specs, parents

    @classmethod
    def _load_uoms(cls):
        from trytond.modules.product.uom import (
            _accurate_operator, uom_conversion_digits)
        pool = Pool()
        Uom = pool.get('product.uom')
        specs = cls._uoms_cache.get(None)
        if specs is not None:
            return specs
        cursor = Transaction().connection.cursor()
        uom = Uom.__table__()
        cursor.execute(*uom.select(
                uom.id, uom.category, uom.factor, uom.rate))
        format_ = '%%.%df' % uom_conversion_digits[1]
        specs = []
        for id_, category, factor, rate in cursor:
            accurate = _accurate_operator(factor, rate)
            value = Decimal(format_ % (factor if accurate == 'factor'
                    else rate))
            specs.append(UomSpec(id_, category, factor, rate, accurate, value))
        cls._uoms_cache.set(None, specs)
        return specs

    @classmethod
    def _load_rules(cls, company_id, clients, tags, products, parents,
            date=None):
        "RuleSpecs of the clients' scopes that can apply to the products"
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        in_ = fields.SQL_OPERATORS['in']

        product_ids = {p.id for p in products}
        category_ids = set()
        for product in products:
            for category in product.categories:
                seen = set()
                while category is not None and category not in seen:
                    seen.add(category)
                    category = parents.get(category)
                category_ids |= seen

        where = table.company == company_id
        if date is not None:
            where &= ((table.start_date == Null)
                | (table.start_date <= date))
            where &= ((table.end_date == Null) | (table.end_date >= date))
        targets = []
        filter_targets = (len(product_ids) <= TARGET_FILTER_MAX
            and len(category_ids) <= TARGET_FILTER_MAX)
        if filter_targets:
            targets.append(table.level == 'global')
            if category_ids:
                targets.append((table.level == 'category')
                    & in_(table.category, list(category_ids)))
            if product_ids:
                targets.append((table.level == 'product')
                    & in_(table.product, list(product_ids)))
            where &= Or(targets)

        owners = {
            'client': [c.id for c in clients],
            'tag': [t.id for t in tags],
            'group': list({c.price_group for c in clients
                    if c.price_group is not None}),
            }
        columns = [table.id, table.level, table.scope, table.party,
            table.price_tag, table.price_group, table.product, table.category,
            table.percentage, table.fixed_price, table.uom,
            table.min_quantity, table.start_date, table.end_date]
        # One query for the few owners of a sale line, batches by scope for
        # thousands of clients
        conditions = []
        size = backend.MAX_QUERY_PARAMS // 4
        if not any(owners.values()):
            return []
        if sum(len(i) for i in owners.values()) <= size:
            conditions.append(Or([
                        (table.scope == scope)
                        & in_(getattr(table, OWNER_FIELDS[scope]), ids)
                        for scope, ids in owners.items() if ids]))
        else:
            for scope, ids in owners.items():
                column = getattr(table, OWNER_FIELDS[scope])
                for sub_ids in grouped_slice(ids, size):
                    conditions.append(
                        (table.scope == scope) & in_(column, list(sub_ids)))
        specs = []
        for condition in conditions:
            cursor.execute(*table.select(*columns, where=where & condition))
            for (id_, level, scope_, party, price_tag, price_group,
                    product, category, percentage, fixed_price, uom,
                    min_quantity, start_date, end_date) in cursor:
                if level == 'product':
                    if not filter_targets and product not in product_ids:
                        continue
                    target, value = product, fixed_price
                elif level == 'category':
                    if (not filter_targets
                            and category not in category_ids):
                        continue
                    target, value = category, percentage
                else:
                    target, value = None, percentage
                owner = {'client': party, 'tag': price_tag,
                    'group': price_group}[scope_]
                specs.append(RuleSpec(
                        id_, LEVELS[level], SCOPES[scope_], owner, target,
                        _to_decimal(value),
                        uom if level == 'product' else None,
                        float(min_quantity or 0)
                        if level == 'product' else 0.0,
                        _to_date(start_date), _to_date(end_date)))
        return specs

    @classmethod
    def describe(cls, rule_ids):
        """{id: name} of many rules, as rec_name says them, in four queries
        (names in the language of the database): for exports, where reading
        the rec_name of thousands of rules record by record is too slow"""
        pool = Pool()
        Party = pool.get('party.party')
        PriceGroup = pool.get('backoffice.price.group')
        PriceTag = pool.get('backoffice.price.tag')
        PartyCategory = pool.get('party.category')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Category = pool.get('product.category')
        Uom = pool.get('product.uom')
        Company = pool.get('company.company')
        cursor = Transaction().connection.cursor()
        rule = cls.__table__()
        party = Party.__table__()
        group = PriceGroup.__table__()
        tag = PriceTag.__table__()
        party_category = PartyCategory.__table__()
        product = Product.__table__()
        template = Template.__table__()
        category = Category.__table__()
        uom = Uom.__table__()
        sale_uom = Uom.__table__()

        categories = None

        def path(category_id):
            names, seen = [], set()
            while category_id is not None and category_id not in seen:
                seen.add(category_id)
                name, category_id = categories.get(category_id, ('?', None))
                names.append(name)
            return ' / '.join(reversed(names))

        rows = []
        currencies = {}

        class Unit:
            def __init__(self, symbol):
                self.symbol = symbol or ''

        for sub_ids in grouped_slice(rule_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*rule
                .join(party, 'LEFT', condition=rule.party == party.id)
                .join(group, 'LEFT', condition=rule.price_group == group.id)
                .join(tag, 'LEFT', condition=rule.price_tag == tag.id)
                .join(party_category, 'LEFT',
                    condition=tag.tag == party_category.id)
                .join(product, 'LEFT', condition=rule.product == product.id)
                .join(template, 'LEFT',
                    condition=product.template == template.id)
                .join(uom, 'LEFT', condition=rule.uom == uom.id)
                .join(sale_uom, 'LEFT',
                    condition=template.sale_uom == sale_uom.id)
                .select(rule.id, rule.company, rule.scope, party.name,
                    group.name, party_category.name, rule.level,
                    product.code, template.name, rule.category,
                    rule.percentage, rule.fixed_price, uom.symbol,
                    sale_uom.symbol, rule.min_quantity,
                    where=fields.SQL_OPERATORS['in'](rule.id, list(sub_ids))))
            rows.extend(cursor)
        if any(r[6] == 'category' for r in rows):
            cursor.execute(*category.select(
                    category.id, category.name, category.parent))
            categories = {i: (n, p) for i, n, p in cursor}
        result = {}
        for (id_, company, scope, party_name, group_name, tag_name,
                level, code, product_name, category_id, percentage,
                fixed_price, symbol, sale_symbol, min_quantity
                ) in rows:
            if company not in currencies:
                currencies[company] = Company(company).currency
            owner = {'client': party_name, 'group': group_name,
                'tag': tag_name}.get(scope) or '?'
            if level == 'product':
                target = f'[{code}] {product_name}' if code \
                    else product_name
            elif level == 'category':
                target = path(category_id)
            else:
                target = gettext('backoffice_pricing.msg_target_all')
            value = cls.format_value(
                level, _to_decimal(percentage), _to_decimal(fixed_price),
                Unit(symbol or sale_symbol), min_quantity,
                currencies[company])
            result[id_] = gettext('backoffice_pricing.msg_rule_rec_name',
                owner=owner, target=target, value=value)
        return result

    # --- explanations

    @classmethod
    def format_origin(cls, match, currency=None):
        "The short origin of a price shown on a sale line"
        if match is None:
            return gettext('backoffice_pricing.msg_origin_list_price')
        return gettext('backoffice_pricing.msg_origin_rule',
            level=cls.level_name(match.rule.level),
            rule=cls.describe([match.rule.id])[match.rule.id])

    @classmethod
    def level_name(cls, level):
        return {
            LEVEL_PRODUCT: gettext('backoffice_pricing.msg_level_product'),
            LEVEL_CATEGORY: gettext('backoffice_pricing.msg_level_category'),
            LEVEL_GLOBAL: gettext('backoffice_pricing.msg_level_global'),
            }[level]

    @classmethod
    def scope_name(cls, scope):
        return {
            SCOPE_CLIENT: gettext('backoffice_pricing.msg_scope_client'),
            SCOPE_TAG: gettext('backoffice_pricing.msg_scope_tag'),
            SCOPE_GROUP: gettext('backoffice_pricing.msg_scope_group'),
            }[scope]

    @classmethod
    def owner_label(cls, scope, owner):
        "'client \"Le Bistro\"', 'tag \"HoReCa\"', 'price group \"...\"'"
        pool = Pool()
        model = {
            SCOPE_CLIENT: 'party.party',
            SCOPE_TAG: 'backoffice.price.tag',
            SCOPE_GROUP: 'backoffice.price.group',
            }[scope]
        name = pool.get(model)(owner).rec_name
        return gettext('backoffice_pricing.msg_owner_label',
            scope=cls.scope_name(scope), name=name)

    @classmethod
    def format_reason(cls, candidate, winner, engine, uom=None, quantity=0):
        "Why the winner beats the candidate, or why it does not apply"
        pool = Pool()
        Category = pool.get('product.category')
        Uom = pool.get('product.uom')
        Lang = pool.get('ir.lang')
        PriceTag = pool.get('backoffice.price.tag')
        rule, reason = candidate.rule, candidate.reason
        if candidate.status == 'winner':
            return gettext('backoffice_pricing.msg_reason_winner')
        if candidate.status == 'inapplicable':
            if reason == 'date':
                lang = Lang.get()
                return gettext('backoffice_pricing.msg_reason_date',
                    date=lang.strftime(engine.date),
                    start=lang.strftime(rule.start_date)
                    if rule.start_date else '…',
                    end=lang.strftime(rule.end_date)
                    if rule.end_date else '…')
            elif reason == 'min_quantity':
                return gettext('backoffice_pricing.msg_reason_not_reached',
                    min=format_quantity(rule.min_quantity),
                    quantity=format_quantity(quantity))
            else:
                return gettext('backoffice_pricing.msg_reason_other_uom',
                    uom=Uom(rule.uom).rec_name,
                    line_uom=Uom(uom).rec_name if uom else '')
        win = winner.rule
        if reason == 'level':
            return gettext('backoffice_pricing.msg_reason_level',
                winner=cls.level_name(win.level),
                other=cls.level_name(rule.level))
        elif reason == 'scope':
            return gettext('backoffice_pricing.msg_reason_scope',
                winner=cls.owner_label(win.scope, win.owner),
                other=cls.owner_label(rule.scope, rule.owner))
        elif reason == 'tag':
            win_tag, other_tag = PriceTag(win.owner), PriceTag(rule.owner)
            if win_tag.sequence == other_tag.sequence:
                return gettext(
                    'backoffice_pricing.msg_reason_tag_same_sequence',
                    winner=win_tag.rec_name, other=other_tag.rec_name,
                    sequence=win_tag.sequence
                    if win_tag.sequence is not None else '-')
            return gettext('backoffice_pricing.msg_reason_tag',
                winner=win_tag.rec_name, other=other_tag.rec_name,
                winner_sequence=win_tag.sequence
                if win_tag.sequence is not None else '-',
                other_sequence=other_tag.sequence
                if other_tag.sequence is not None else '-')
        elif reason == 'distance':
            return gettext('backoffice_pricing.msg_reason_distance',
                winner=Category(winner.category).rec_name,
                other=Category(candidate.category).rec_name,
                winner_distance=winner.distance,
                other_distance=candidate.distance)
        elif reason == 'depth':
            return gettext('backoffice_pricing.msg_reason_depth',
                winner=Category(winner.category).rec_name,
                other=Category(candidate.category).rec_name)
        elif reason == 'category':
            return gettext('backoffice_pricing.msg_reason_category',
                winner=Category(winner.category).rec_name,
                other=Category(candidate.category).rec_name)
        elif reason == 'uom':
            return gettext('backoffice_pricing.msg_reason_uom',
                uom=Uom(win.uom).rec_name if win.uom else '')
        elif reason == 'min_quantity':
            return gettext('backoffice_pricing.msg_reason_min_quantity',
                winner=format_quantity(win.min_quantity),
                other=format_quantity(rule.min_quantity))
        return gettext('backoffice_pricing.msg_reason_id')

    @classmethod
    def format_chain(cls, explanation):
        return ' > '.join(
            cls.owner_label(s, o) for s, o in explanation.chain)

    # --- bulk operations

    @classmethod
    def copy_group_rules(cls, group, parties, conflict='skip',
            start_date=None, end_date=None):
        """Copy the rules of a price group to clients as their own rules.

        conflict: 'skip' keeps a client's rule that would overlap a copied
        one, 'replace' deletes it (after a warning). start_date, end_date:
        the validity of the copies (None: the group rule's). Returns
        (created, skipped, replaced) counts."""
        pool = Pool()
        Warning = pool.get('res.user.warning')
        group_rules = cls.search([
                ('scope', '=', 'group'),
                ('price_group', '=', group.id),
                ], order=[('id', 'ASC')])
        party_ids = [p.id for p in parties]
        existing = defaultdict(list)
        for rule in cls.search([
                    ('scope', '=', 'client'),
                    ('party', 'in', party_ids),
                    ('company', '=', group.company.id),
                    ]):
            existing[rule.party.id].append(
                cls._spec(cls._row(rule)))
        to_create, to_delete, skipped = [], set(), 0
        for party in parties:
            for rule in group_rules:
                values = cls._row(rule)
                values.update({
                        'scope': 'client',
                        'party': party.id,
                        'price_group': None,
                        'id': None,
                        })
                if start_date or end_date:
                    values['start_date'] = start_date
                    values['end_date'] = end_date
                spec = cls._spec(values, -1)
                clashes = [other for _, other in find_overlaps(
                        [spec], existing[party.id])]
                if clashes and conflict == 'skip':
                    skipped += 1
                    continue
                to_delete.update(c.id for c in clashes)
                del values['id']
                to_create.append(values)
        if to_delete:
            names = ', '.join(sorted({p.rec_name for p in parties}))
            key = Warning.format(
                'backoffice_pricing.copy_replace',
                cls.browse(sorted(to_delete)))
            if Warning.check(key):
                raise CopyRulesWarning(key, gettext(
                        'backoffice_pricing.msg_copy_replace',
                        count=len(to_delete), parties=names,
                        group=group.rec_name))
            cls.delete(cls.browse(sorted(to_delete)))
        if to_create:
            cls.create(to_create)
        return len(to_create), skipped, len(to_delete)

    @classmethod
    def _row(cls, rule):
        "The SPEC_FIELDS of a rule as the values of a new one"
        row = {}
        for field in SPEC_FIELDS:
            value = getattr(rule, field)
            row[field] = value.id if isinstance(value, ModelSQL) else value
        row['id'] = rule.id
        return row

    @classmethod
    def bulk_preview(cls, rules, percentage):
        """[(rule, field, old value, new value)] of moving every price the
        rules give by `percentage`; raises BulkUpdateError, naming the rule,
        if one would get a value that cannot be saved"""
        if percentage is None or percentage <= -100:
            raise BulkUpdateError(gettext(
                    'backoffice_pricing.msg_bulk_percentage',
                    percentage=format_percentage(percentage or 0)))
        rounding = Decimal(1).scaleb(-price_digits[1])
        changes = []
        for rule in rules:
            spec = cls._spec(cls._row(rule))
            new = bulk_adjust(spec, Decimal(percentage), rounding)
            field = VALUE_FIELDS[rule.level]
            if (field == 'percentage'
                    and not (PERCENTAGE_MIN <= new <= PERCENTAGE_MAX)):
                raise BulkUpdateError(gettext(
                        'backoffice_pricing.msg_bulk_percentage_range',
                        rule=rule.rec_name, value=format_percentage(new),
                        percentage=format_percentage(percentage),
                        min=format_percentage(PERCENTAGE_MIN),
                        max=format_percentage(PERCENTAGE_MAX)))
            changes.append((rule, field, getattr(rule, field), new))
        return changes

    @classmethod
    def bulk_apply(cls, rules, percentage):
        "Apply bulk_preview(): one write per distinct new value"
        by_value = defaultdict(list)
        for rule, field, _, new in cls.bulk_preview(rules, percentage):
            by_value[(field, new)].append(rule)
        args = []
        for (field, new), rules_ in by_value.items():
            args.extend((rules_, {field: new}))
        if args:
            cls.write(*args)
        return sum(len(r) for r in by_value.values())


class CopyRulesStart(ModelView):
    __name__ = 'backoffice.price.rule.copy.start'
    __string__ = "Copy Rules from Price Group"

    company = fields.Many2One(
        'company.company', "Company", readonly=True,
        help="The company of the price group and of the copied rules.")
    price_group = fields.Many2One(
        'backoffice.price.group', "Price Group", required=True,
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        help="The price group whose rules are copied.")
    parties = fields.Many2Many(
        'party.party', None, None, "Clients", required=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="The clients who get a copy of each rule as their own rule.")
    conflict = fields.Selection([
            ('skip', "Keep the Client's Rule"),
            ('replace', "Replace the Client's Rule"),
            ], "When the Client Has a Rule", required=True,
        help="What to do when a client already has a rule of the same "
        "level and target whose validity overlaps the copied rule.")
    start_date = fields.Date(
        "Start Date",
        help="The first day of validity of the copies; leave both dates "
        "empty to keep the dates of the group's rules.")
    end_date = fields.Date(
        "End Date",
        domain=[
            If(Eval('start_date') & Eval('end_date'),
                ('end_date', '>=', Eval('start_date')),
                ()),
            ],
        help="The last day of validity of the copies.")


class CopyRulesResult(ModelView):
    __name__ = 'backoffice.price.rule.copy.result'
    __string__ = "Copy Rules from Price Group Result"

    created = fields.Integer(
        "Created", readonly=True, help="The client rules created.")
    skipped = fields.Integer(
        "Skipped", readonly=True,
        help="The group rules not copied because the client has its own.")
    replaced = fields.Integer(
        "Replaced", readonly=True,
        help="The client rules deleted because a copy replaces them.")


class CopyRules(Wizard):
    "Copy the rules of a price group to clients"
    __name__ = 'backoffice.price.rule.copy'

    start = StateView(
        'backoffice.price.rule.copy.start',
        'backoffice_pricing.rule_copy_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Copy", 'copy_', 'tryton-ok', default=True),
            ])
    copy_ = StateTransition()
    result = StateView(
        'backoffice.price.rule.copy.result',
        'backoffice_pricing.rule_copy_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        context = Transaction().context
        values = {
            'company': context.get('company'),
            'conflict': 'skip',
            }
        if self.model and self.model.__name__ == 'party.party':
            values['parties'] = [p.id for p in self.records]
            groups = {p.price_group for p in self.records}
            if len(groups) == 1:
                group, = groups
                if group:
                    values['price_group'] = group.id
        elif (self.model
                and self.model.__name__ == 'backoffice.price.group'
                and len(self.records) == 1):
            values['price_group'] = self.record.id
        return values

    def transition_copy_(self):
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        created, skipped, replaced = Rule.copy_group_rules(
            self.start.price_group, self.start.parties,
            conflict=self.start.conflict,
            start_date=self.start.start_date, end_date=self.start.end_date)
        self.result.created = created
        self.result.skipped = skipped
        self.result.replaced = replaced
        return 'result'

    def default_result(self, fields):
        return self.result._default_values


class BulkUpdateStart(ValueCheckMixin, ModelView):
    __name__ = 'backoffice.price.rule.bulk_update.start'
    __string__ = "Bulk Update Price Rules"

    percentage = fields.Numeric(
        "Change", digits=(16, 2), required=True,
        help="Move every price the selected rules give by this percentage: "
        "3 makes them 3% dearer, -2 2% cheaper. Fixed prices are "
        "multiplied, percentages compounded (-10% then +3% gives -7.3%).")
    rule_count = fields.Integer(
        "Rules", readonly=True, help="How many rules are selected.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Beyond, a price of 1E+40 overflows the rules' digits
        cls._value_bounds['percentage'] = (PERCENTAGE_MIN, PERCENTAGE_MAX)


class BulkUpdatePreview(ModelView):
    __name__ = 'backoffice.price.rule.bulk_update.preview'
    __string__ = "Bulk Update Price Rules Preview"

    percentage = fields.Numeric(
        "Change", digits=(16, 2), readonly=True,
        help="The change applied to the prices of the rules.")
    lines = fields.One2Many(
        'backoffice.price.rule.bulk_update.line', None, "Rules",
        readonly=True,
        help="Each rule with its value now and after the update.")


class BulkUpdateLine(ModelView):
    __name__ = 'backoffice.price.rule.bulk_update.line'
    __string__ = "Bulk Update Price Rules Line"

    rule = fields.Many2One(
        'backoffice.price.rule', "Rule", readonly=True,
        help="The rule updated.")
    old_value = fields.Char(
        "Now", readonly=True, help="The value of the rule now.")
    new_value = fields.Char(
        "After", readonly=True, help="The value of the rule after update.")


class BulkUpdate(Wizard):
    "Change the prices of selected rules by a percentage, with a preview"
    __name__ = 'backoffice.price.rule.bulk_update'

    start = StateView(
        'backoffice.price.rule.bulk_update.start',
        'backoffice_pricing.rule_bulk_update_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Preview", 'preview', 'tryton-forward', default=True),
            ])
    preview = StateView(
        'backoffice.price.rule.bulk_update.preview',
        'backoffice_pricing.rule_bulk_update_preview_view_form', [
            Button("Back", 'start', 'tryton-back'),
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Apply", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()

    def default_start(self, fields):
        values = {'rule_count': len(self.records)}
        if getattr(self.start, 'percentage', None) is not None:
            values['percentage'] = self.start.percentage
        return values

    def default_preview(self, fields):
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        self.start.check_form(['percentage'], required=['percentage'])
        lines = []
        for rule, field, old, new in Rule.bulk_preview(
                self.records, self.start.percentage):
            if field == 'percentage':
                old_text, new_text = (
                    format_percentage(old), format_percentage(new))
            else:
                currency = rule.company.currency
                old_text, new_text = (
                    format_price(old, currency), format_price(new, currency))
            lines.append({
                    'rule': rule.id,
                    'old_value': old_text,
                    'new_value': new_text,
                    })
        return {
            'percentage': self.start.percentage,
            'lines': lines,
            }

    def transition_apply(self):
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        self.start.check_form(['percentage'], required=['percentage'])
        Rule.bulk_apply(self.records, self.start.percentage)
        return 'end'


def _to_date(value):
    # SQLite hands DATE columns back as text when read without the ORM
    if isinstance(value, str):
        return datetime.date.fromisoformat(value)
    return value
