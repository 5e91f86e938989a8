# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime
from decimal import Decimal

from sql import Cast, Literal, Select
from sql.aggregate import Count
from sql.functions import CurrentTimestamp, Function

from trytond import backend
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.product import price_digits
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .rule import LEVEL_SELECTION

SHEET_LEVEL_SELECTION = [(None, "")] + LEVEL_SELECTION


class Unnest(Function):
    "PostgreSQL's UNNEST of arrays into rows"
    __slots__ = ()
    _function = 'UNNEST'


class PriceSheet(ModelSQL, ModelView):
    """Every salable product with a client's price and the rule behind it.

    Computed in one batch by the engine and stored, so that the list can be
    searched, sorted and exported like any Tryton list (reading the prices
    with the products' list instead is a hundred times slower, PRICING.md);
    compute again to follow changed rules or list prices.
    """
    __name__ = 'backoffice.price.sheet'
    __string__ = "Client Price Sheet"

    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={
            'readonly': Bool(Eval('lines', [0])),
            },
        help="The rules and list prices of this company price the sheet.")
    party = fields.Many2One(
        'party.party', "Client", required=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    date = fields.Date(
        "Date", required=True,
        help="The day priced: rules valid that day apply.")
    quantity = fields.Float(
        "Quantity", required=True,
        help="The quantity priced, in the sale unit of each product: it "
        "decides the quantity breaks of fixed prices.")
    category = fields.Many2One(
        'product.category', "Category",
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="List only the products of this category and its "
        "sub-categories; empty: every salable product.")
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"),
        'on_change_with_currency')
    lines = fields.One2Many(
        'backoffice.price.sheet.line', 'sheet', "Prices", readonly=True,
        help="Each product with its list price, the client's price and the "
        "rule that gives it, as last computed: compute again to follow "
        "changed rules or list prices.")
    line_count = fields.Function(fields.Integer(
            "Products", help="How many products the sheet lists."),
        'get_line_count')
    computed_at = fields.Timestamp(
        "Computed At", readonly=True,
        help="When the prices were last computed; empty: the export "
        "computes them first.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('date', 'DESC'))
        cls._buttons.update({
                'compute': {
                    'icon': 'tryton-refresh',
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_date(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        return Date.today()

    @classmethod
    def default_quantity(cls):
        return 1.0

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_rec_name(self, name):
        pool = Pool()
        Lang = pool.get('ir.lang')
        return '%s @ %s' % (
            self.party.rec_name, Lang.get().strftime(self.date))

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('party.rec_name', *clause[1:])]

    @classmethod
    def get_line_count(cls, sheets, name):
        pool = Pool()
        Line = pool.get('backoffice.price.sheet.line')
        line = Line.table_query()
        cursor = Transaction().connection.cursor()
        counts = {s.id: 0 for s in sheets}
        for sub_ids in grouped_slice(
                [s.id for s in sheets], backend.MAX_QUERY_PARAMS):
            cursor.execute(*line.select(line.sheet, Count(Literal(1)),
                    where=fields.SQL_OPERATORS['in'](line.sheet, sub_ids),
                    group_by=[line.sheet]))
            counts.update(cursor)
        return counts

    @classmethod
    def copy(cls, sheets, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('lines', None)
        default.setdefault('computed_at', None)
        return super().copy(sheets, default=default)

    @classmethod
    @ModelView.button
    def compute(cls, sheets):
        for sheet in sheets:
            sheet._compute()
        cls.write(sheets, {'computed_at': datetime.datetime.now()})

    def _product_ids(self):
        "The salable products of the sheet, by name, in one query"
        pool = Pool()
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        TemplateCategory = pool.get('product.template-product.category')
        Category = pool.get('product.category')
        product = Product.__table__()
        template = Template.__table__()
        template_category = TemplateCategory.__table__()
        cursor = Transaction().connection.cursor()
        where = ((template.salable == Literal(True))
            & (template.active == Literal(True))
            & (product.active == Literal(True)))
        if self.category:
            categories = [c.id for c in Category.search([
                        ('parent', 'child_of', [self.category.id]),
                        ])]
            where &= product.template.in_(template_category.select(
                    template_category.template,
                    where=fields.SQL_OPERATORS['in'](
                        template_category.category, categories)))
        cursor.execute(*product.join(template,
                condition=product.template == template.id
                ).select(product.id, where=where,
                order_by=[template.name, product.code, product.id]))
        return [r for r, in cursor]

    def _compute(self):
        """Price every product in one engine batch and store the rows in one
        statement (the ORM would create them one by one)"""
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        Row = pool.get('backoffice.price.sheet.row')
        row = Row.__table__()
        transaction = Transaction()
        cursor = transaction.connection.cursor()

        product_ids = self._product_ids()
        engine = Rule.get_engine(
            self.company, [self.party.id], product_ids, date=self.date,
            list_prices=True)
        party, quantity = self.party.id, self.quantity
        prices = engine.prices(
            [(party, p, quantity, None) for p in product_ids])
        products, base_price = engine.products, engine.base_price
        cent = Decimal('0.01')
        rows = []
        for product_id, (price, match) in zip(product_ids, prices):
            if match is not None and match.category is not None:
                category = match.category
            else:
                category = products[product_id].categories
                category = category[0] if category else None
            base = base_price(product_id)
            difference = None
            if base and price is not None:
                difference = ((price - base) * 100 / base).quantize(cent)
            rows.append((product_id, category, base, price, difference,
                    match.rule.id if match is not None else None))
        cursor.execute(*row.delete(where=row.sheet == self.id))
        columns = [(row.product, 'INTEGER'), (row.category, 'INTEGER'),
            (row.list_price, 'NUMERIC'), (row.unit_price, 'NUMERIC'),
            (row.difference, 'NUMERIC'), (row.rule, 'INTEGER')]
        if not rows:
            return
        if backend.name == 'postgresql':
            # One statement with one array per column (set-returning
            # functions of one SELECT run in lockstep): a multi-row VALUES
            # of 20,000 rows has 100,000 parameters for the driver to parse
            arrays = [Unnest(Cast(Literal(list(values)), f'{type_}[]'))
                for values, (_, type_) in zip(zip(*rows), columns)]
            cursor.execute(*row.insert(
                    [row.create_uid, row.create_date, row.sheet]
                    + [c for c, _ in columns],
                    Select([Literal(transaction.user), CurrentTimestamp(),
                            Literal(self.id)] + arrays)))
        else:
            # SQLite runs in the process: one prepared statement per row
            now = datetime.datetime.now()
            query = row.insert(
                [row.create_uid, row.create_date, row.sheet]
                + [c for c, _ in columns],
                [[None] * (len(columns) + 3)])
            cursor.executemany(str(query), [
                    (transaction.user, now, self.id) + r for r in rows])

    @classmethod
    def on_modification(cls, mode, sheets, field_names=None):
        pool = Pool()
        Row = pool.get('backoffice.price.sheet.row')
        super().on_modification(mode, sheets, field_names=field_names)
        if mode == 'delete':
            row = Row.__table__()
            cursor = Transaction().connection.cursor()
            for sub_ids in grouped_slice(
                    [s.id for s in sheets], backend.MAX_QUERY_PARAMS):
                cursor.execute(*row.delete(
                        where=fields.SQL_OPERATORS['in'](row.sheet, sub_ids)))


class PriceSheetRow(ModelSQL):
    """The stored rows of the price sheets, written in bulk by compute.

    Ids, not Many2One fields: a foreign key check per row and column costs
    more than computing the prices. PriceSheetLine shows them, dropping the
    rows of deleted products and the rules deleted since."""
    __name__ = 'backoffice.price.sheet.row'
    __string__ = "Client Price Sheet Row"

    sheet = fields.Integer("Sheet", required=True)
    product = fields.Integer("Product", required=True)
    category = fields.Integer("Category")
    list_price = fields.Numeric("List Price", digits=price_digits)
    unit_price = fields.Numeric("Client Price", digits=price_digits)
    difference = fields.Numeric("Difference (%)", digits=(16, 2))
    rule = fields.Integer("Rule")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.sheet, Index.Equality())))


class PriceSheetLine(ModelSQL, ModelView):
    "A product of a price sheet, as stored by compute"
    __name__ = 'backoffice.price.sheet.line'
    __string__ = "Client Price Sheet Line"

    sheet = fields.Many2One(
        'backoffice.price.sheet', "Sheet", readonly=True, required=True)
    product = fields.Many2One(
        'product.product', "Product", readonly=True)
    category = fields.Many2One(
        'product.category', "Category", readonly=True,
        help="The category of the rule that prices the product, else the "
        "product's category.")
    unit = fields.Many2One(
        'product.uom', "Unit", readonly=True,
        help="The sale unit of the product, in which prices are given.")
    list_price = fields.Numeric(
        "List Price", digits=price_digits, readonly=True,
        help="The price before the client's rules.")
    unit_price = fields.Numeric(
        "Client Price", digits=price_digits, readonly=True,
        help="The price a sale line of the client gets on the date and for "
        "the quantity of the sheet.")
    difference = fields.Numeric(
        "Difference (%)", digits=(16, 2), readonly=True,
        help="The client's price against the list price, in percent: -10 "
        "is 10% below it.")
    level = fields.Selection(
        SHEET_LEVEL_SELECTION, "Level", readonly=True,
        help="The level of the rule that gives the price; empty: the list "
        "price applies.")
    rule = fields.Many2One(
        'backoffice.price.rule', "Rule", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('sheet')
        cls._order = [('sheet', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Row = pool.get('backoffice.price.sheet.row')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Category = pool.get('product.category')
        Rule = pool.get('backoffice.price.rule')
        row = Row.__table__()
        product = Product.__table__()
        template = Template.__table__()
        category = Category.__table__()
        rule = Rule.__table__()
        return (row
            .join(product, condition=row.product == product.id)
            .join(template, condition=product.template == template.id)
            .join(category, 'LEFT', condition=row.category == category.id)
            .join(rule, 'LEFT', condition=row.rule == rule.id)
            .select(
                row.id.as_('id'),
                row.create_uid.as_('create_uid'),
                row.create_date.as_('create_date'),
                row.write_uid.as_('write_uid'),
                row.write_date.as_('write_date'),
                row.sheet.as_('sheet'),
                row.product.as_('product'),
                category.id.as_('category'),
                template.sale_uom.as_('unit'),
                row.list_price.as_('list_price'),
                row.unit_price.as_('unit_price'),
                row.difference.as_('difference'),
                rule.level.as_('level'),
                rule.id.as_('rule'),
                ))
