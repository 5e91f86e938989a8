# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Figures about the orders of clients, computed in SQL

A batch of clients costs the same two queries whatever the number of their
sales: one over the sales (count, first and last date) and one over the sale
lines grouped by product (quantities, revenue, ranks with window functions).
The revenue is what the sale lines are worth without taxes, shipped quantity
first like the sale reporting of Tryton, converted into the currency of the
company at the rate of the sale date."""
import datetime as dt
from decimal import Decimal

from sql import Literal, Null, Window
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Coalesce
from sql.functions import RowNumber

from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .sale_lines import SaleLines, sale_states

# How many products the top lists of a client show
TOP = 10


def _context_company():
    "The company of the context and its currency (ids, or None)"
    pool = Pool()
    Company = pool.get('company.company')
    company_id = Transaction().context.get('company')
    if company_id is None or company_id < 0:
        return None, None
    return company_id, Company(company_id).currency.id


def _to_date(value):
    # SQLite gives aggregated dates as text
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _to_decimal(value):
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    insight_currency = fields.Function(fields.Many2One(
            'currency.currency', "Insight Currency",
            help="The currency of the figures: the company's."),
        'get_insight_currency')
    lifetime_revenue = fields.Function(Monetary(
            "Lifetime Revenue", currency='insight_currency',
            digits='insight_currency',
            help="What all the confirmed orders of the client are worth "
            "without taxes, in the currency of the company."),
        'get_insights')
    order_count = fields.Function(fields.Integer(
            "Orders",
            help="The number of confirmed, processing and done orders."),
        'get_insights')
    average_order_value = fields.Function(Monetary(
            "Average Order Value", currency='insight_currency',
            digits='insight_currency',
            help="The lifetime revenue divided by the number of orders."),
        'get_insights')
    orders_per_month = fields.Function(fields.Float(
            "Orders per Month", digits=(16, 2),
            help="The average number of orders per month, from the month "
            "of the first order to the month of the last one."),
        'get_insights')
    order_frequency = fields.Function(fields.Float(
            "Days between Orders", digits=(16, 1),
            help="The mean number of days between two orders."),
        'get_insights')
    first_order_date = fields.Function(fields.Date(
            "First Order"),
        'get_insights')
    last_order_date = fields.Function(fields.Date(
            "Last Order"),
        'get_insights')
    top_products_quantity = fields.Function(fields.Many2Many(
            'backoffice.client.product', None, None,
            "Most Ordered Products (Quantity)",
            context={
                'backoffice_client': Eval('id', -1),
                },
            depends={'id'},
            help="The %d products the client ordered the most of, in the "
            "default unit of each product." % TOP),
        'get_insights')
    top_products_revenue = fields.Function(fields.Many2Many(
            'backoffice.client.product', None, None,
            "Most Ordered Products (Revenue)",
            context={
                'backoffice_client': Eval('id', -1),
                },
            depends={'id'},
            help="The %d products that brought the most revenue." % TOP),
        'get_insights')

    @classmethod
    def get_insight_currency(cls, parties, name):
        _, currency_id = _context_company()
        return {p.id: currency_id for p in parties}

    @classmethod
    def get_insights(cls, parties, names):
        pool = Pool()
        Company = pool.get('company.company')
        company_id, _ = _context_company()
        company = Company(company_id) if company_id is not None else None
        figures = cls.compute_insights([p.id for p in parties], company)
        return {name: {p.id: figures[p.id][name] for p in parties}
            for name in names}

    @classmethod
    def compute_insights(cls, party_ids, company):
        """The insight figures of party_ids in company: {party id: {field
        name: value}}; two queries per batch of parties"""
        result = {}
        for party_id in party_ids:
            result[party_id] = {
                'lifetime_revenue': Decimal(0),
                'order_count': 0,
                'average_order_value': None,
                'orders_per_month': None,
                'order_frequency': None,
                'first_order_date': None,
                'last_order_date': None,
                'top_products_quantity': [],
                'top_products_revenue': [],
                }
        if company is None:
            return result

        for sub_ids in grouped_slice(party_ids, backend.MAX_QUERY_PARAMS // 2):
            sub_ids = list(sub_ids)
            cls._add_order_figures(result, company, sub_ids)
            cls._add_product_figures(result, company, sub_ids)

        for figures in result.values():
            for name in ['top_products_quantity', 'top_products_revenue']:
                figures[name] = [i for _, i in sorted(figures[name])][:TOP]
            if figures['order_count']:
                figures['average_order_value'] = company.currency.round(
                    figures['lifetime_revenue'] / figures['order_count'])
        return result

    @classmethod
    def _add_order_figures(cls, result, company, party_ids):
        "Set in result the counts and dates of the orders of party_ids"
        pool = Pool()
        Sale = pool.get('sale.sale')
        cursor = Transaction().connection.cursor()
        # from the sales alone
        sale = Sale.__table__()
        cursor.execute(*sale.select(
                sale.party, Count(sale.id),
                Min(sale.sale_date), Max(sale.sale_date),
                where=sale.state.in_(sale_states())
                & (sale.company == company.id)
                & fields.SQL_OPERATORS['in'](sale.party, party_ids),
                group_by=[sale.party]))
        for party_id, count, first, last in cursor:
            first, last = _to_date(first), _to_date(last)
            figures = result[party_id]
            figures['order_count'] = count
            figures['first_order_date'] = first
            figures['last_order_date'] = last
            if first and last:
                months = ((last.year - first.year) * 12
                    + last.month - first.month + 1)
                figures['orders_per_month'] = round(count / months, 2)
                if count > 1:
                    # the mean of the gaps between consecutive orders
                    figures['order_frequency'] = round(
                        (last - first).days / (count - 1), 1)

    @classmethod
    def _add_product_figures(cls, result, company, party_ids):
        """Set in result the revenue of party_ids and their top products
        (ranked, not yet cut to TOP)"""
        cursor = Transaction().connection.cursor()
        # quantities, revenue and ranks per client
        cursor.execute(*cls._insight_products_query(company, party_ids))
        for (party_id, product, id_, quantity, revenue, rank_quantity,
                rank_revenue, total) in cursor:
            figures = result[party_id]
            figures['lifetime_revenue'] = company.currency.round(
                _to_decimal(total) or Decimal(0))
            if product is None:
                continue
            if rank_quantity <= TOP + 1:
                figures['top_products_quantity'].append(
                    (rank_quantity, id_))
            if rank_revenue <= TOP + 1:
                figures['top_products_revenue'].append(
                    (rank_revenue, id_))

    @classmethod
    def _insight_products_query(cls, company, party_ids):
        """One row per client and product (with a row for the lines without
        product) within the first TOP + 1 by quantity or revenue, with the
        ranks and the revenue of the client; the id is the one of
        backoffice.client.product"""
        tables = SaleLines(company.id, company.currency.id, party_ids)
        lines = tables.lines
        quantity = Sum(tables.quantity)
        revenue = Sum(tables.revenue)
        by_party = [lines.party]
        products = tables.from_.select(
            lines.party.as_('party'),
            lines.product.as_('product'),
            Min(lines.line_id).as_('id'),
            quantity.as_('quantity'),
            revenue.as_('revenue'),
            RowNumber(window=Window(by_party,
                    order_by=[quantity.desc, lines.product.asc])
                ).as_('rank_quantity'),
            RowNumber(window=Window(by_party,
                    order_by=[revenue.desc, lines.product.asc])
                ).as_('rank_revenue'),
            Sum(revenue, window=Window(by_party)).as_('total'),
            group_by=[lines.party, lines.product])
        return products.select(
            products.party, products.product, products.id,
            products.quantity, products.revenue,
            products.rank_quantity, products.rank_revenue, products.total,
            where=(products.rank_quantity <= TOP + 1)
            | (products.rank_revenue <= TOP + 1)
            | (products.product == Null),
            with_=tables.withs)


class ClientMonthly(ModelSQL, ModelView):
    "The orders of a client in a month"
    __name__ = 'backoffice.client.monthly'

    party = fields.Many2One(
        'party.party', "Client", readonly=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    company = fields.Many2One(
        'company.company', "Company", readonly=True)
    month = fields.Date(
        "Month", readonly=True,
        help="The first day of the month.")
    order_count = fields.Integer(
        "Orders", readonly=True,
        help="The number of confirmed orders of the month.")
    revenue = Monetary(
        "Revenue", currency='currency', digits='currency', readonly=True,
        help="What the orders of the month are worth without taxes.")
    currency = fields.Many2One(
        'currency.currency', "Currency", readonly=True,
        help="The currency of the company.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('month', 'DESC'),
            ('party', 'ASC'),
            ('id', 'ASC'),
            ]

    @classmethod
    def table_query(cls):
        company_id, currency_id = _context_company()
        client = Transaction().context.get('backoffice_client')
        # from the form of a client: only its sales are aggregated
        tables = SaleLines(company_id, currency_id,
            party_ids=[client] if client is not None else None,
            products=False, month=True, orders=True)
        lines = tables.lines
        return tables.from_.select(
            Min(lines.sale_id).as_('id'),
            lines.party.as_('party'),
            lines.company.as_('company'),
            lines.month.as_('month'),
            # a sale is in one group of lines only: the sum is exact (and
            # a numeric on PostgreSQL, hence the cast)
            cls.order_count.sql_cast(Sum(lines.orders)).as_('order_count'),
            cls.revenue.sql_cast(
                Coalesce(Sum(tables.revenue), 0)).as_('revenue'),
            cls.currency.sql_cast(Literal(currency_id)).as_('currency'),
            group_by=[lines.party, lines.company, lines.month],
            with_=tables.withs)


class ClientProduct(ModelSQL, ModelView):
    "What a client ordered of a product"
    __name__ = 'backoffice.client.product'

    party = fields.Many2One(
        'party.party', "Client", readonly=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    company = fields.Many2One(
        'company.company', "Company", readonly=True)
    product = fields.Many2One(
        'product.product', "Product", readonly=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    quantity = fields.Float(
        "Quantity", digits='unit', readonly=True,
        help="The quantity ordered, in the default unit of the product.")
    unit = fields.Many2One(
        'product.uom', "Unit", readonly=True,
        help="The default unit of the product.")
    revenue = Monetary(
        "Revenue", currency='currency', digits='currency', readonly=True,
        help="What the client's order lines of the product are worth "
        "without taxes.")
    line_count = fields.Integer(
        "Order Lines", readonly=True,
        help="The number of order lines with the product.")
    last_order_date = fields.Date(
        "Last Order", readonly=True,
        help="The date of the latest order with the product.")
    currency = fields.Many2One(
        'currency.currency', "Currency", readonly=True,
        help="The currency of the company.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('quantity', 'DESC'),
            ('id', 'ASC'),
            ]

    @classmethod
    def table_query(cls):
        company_id, currency_id = _context_company()
        client = Transaction().context.get('backoffice_client')
        tables = SaleLines(company_id, currency_id,
            party_ids=[client] if client is not None else None)
        lines, template = tables.lines, tables.template
        return tables.from_.select(
            Min(lines.line_id).as_('id'),
            lines.party.as_('party'),
            lines.company.as_('company'),
            lines.product.as_('product'),
            cls.quantity.sql_cast(Sum(tables.quantity)).as_('quantity'),
            template.default_uom.as_('unit'),
            cls.revenue.sql_cast(Sum(tables.revenue)).as_('revenue'),
            cls.line_count.sql_cast(
                Sum(lines.line_count)).as_('line_count'),
            cls.last_order_date.sql_cast(
                Max(lines.last_date)).as_('last_order_date'),
            cls.currency.sql_cast(Literal(currency_id)).as_('currency'),
            where=lines.product != Null,
            group_by=[
                lines.party, lines.company, lines.product,
                template.default_uom],
            with_=tables.withs)
