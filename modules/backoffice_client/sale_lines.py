# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The sale lines the insights of clients count, as one SQL query"""
from sql import Literal, Null, Union, With
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import DateTrunc

from trytond.model import fields
from trytond.pool import Pool


def sale_states():
    "The states of the sales that count: the orders the client confirmed"
    return ['confirmed', 'processing', 'done']


class SaleLines:
    """The sale lines that count, grouped as little as the conversions
    allow, then converted

    The lines are first summed per client and, for a product, per product
    and unit; the lines of the sales in another currency than the company's
    also per currency and date, as their rate changes with the date. The
    units and rates are then joined on these few sums instead of on every
    line. The two kinds of sales are summed apart (UNION ALL): the database
    then knows that the sums in the company's currency are few and sums
    them in memory.

    month=True also groups by month (the sales without line count too);
    products=False leaves the products out; orders=True (with month only)
    sums the lines per sale first to count the sales and give the first sale
    id, the others give the last date and the number of lines.

    The query is from_ (lines joined to the rates and units) with withs;
    revenue and quantity are the converted columns."""

    def __init__(self, company_id, currency_id, party_ids=None,
            products=True, month=False, orders=False):
        self.company_id = company_id if company_id is not None else -1
        self.currency_id = currency_id
        self.party_ids = party_ids
        self.products = products
        self.month = month
        self.orders = orders
        self.lines = Union(
            self._branch(True), self._branch(False), all_=True)
        self.from_ = self._converted()
        if products:
            self.from_ = self._in_product_unit(self.from_)

    def _sales_where(self, sale, foreign):
        where = (sale.state.in_(sale_states())
            & (sale.company == self.company_id))
        if foreign:
            where &= sale.currency != self.currency_id
        else:
            where &= sale.currency == self.currency_id
        if self.party_ids is not None:
            where &= fields.SQL_OPERATORS['in'](
                sale.party, list(self.party_ids))
        return where

    def _line_sums(self, line):
        Line = Pool().get('sale.line')
        quantity = Coalesce(line.actual_quantity, line.quantity)
        return [
            Sum(quantity).as_('quantity'),
            # in numeric, not float: the sum of many lines is exact
            Sum(Line.unit_price.sql_cast(quantity) * line.unit_price
                ).as_('amount'),
            Min(line.id).as_('line_id'),
            ]

    def _per_order(self, sale, foreign):
        """The lines summed per sale first: a sale is then one row and
        counting the sales needs no COUNT(DISTINCT), which the database
        sorts for. Returns the from clause, its product keys and sums"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        line = Line.__table__()
        filtered = Sale.__table__()
        line_keys = [line.product, line.unit] if self.products else []
        lines = line.select(
            line.sale.as_('sale'), *line_keys, *self._line_sums(line),
            where=(line.type == 'line')
            & line.sale.in_(filtered.select(
                    filtered.id,
                    where=self._sales_where(filtered, foreign))),
            group_by=[line.sale, *line_keys])
        from_ = sale.join(lines, 'LEFT' if self.month else 'INNER',
            condition=lines.sale == sale.id)
        keys = [lines.product, lines.unit] if self.products else []
        sums = [
            Sum(lines.quantity).as_('quantity'),
            Sum(lines.amount).as_('amount'),
            Min(lines.line_id).as_('line_id'),
            Min(sale.id).as_('sale_id'),
            Max(sale.sale_date).as_('last_date'),
            Count(sale.id).as_('orders'),
            ]
        return from_, keys, sums

    def _per_line(self, sale):
        "The from clause, its product keys and sums of the lines"
        Line = Pool().get('sale.line')
        line = Line.__table__()
        from_ = sale.join(line,
            condition=(line.sale == sale.id) & (line.type == 'line'))
        keys = [line.product, line.unit] if self.products else []
        sums = self._line_sums(line) + [
            Max(sale.sale_date).as_('last_date'),
            Count(line.id).as_('line_count'),
            ]
        return from_, keys, sums

    def _branch(self, foreign):
        "The sums of the sales in another currency (foreign) or not"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Monthly = pool.get('backoffice.client.monthly')
        sale = Sale.__table__()
        if self.orders:
            from_, line_keys, sums = self._per_order(sale, foreign)
        else:
            from_, line_keys, sums = self._per_line(sale)
        if foreign:
            rate_date = sale.sale_date
        else:
            rate_date = Sale.sale_date.sql_cast(Literal(None))
        # the same columns in the same order in both branches
        columns = [
            sale.party, sale.company, sale.currency,
            rate_date.as_('rate_date'), *line_keys]
        group_by = [sale.party, sale.company, sale.currency, *line_keys]
        if foreign:
            group_by.append(sale.sale_date)
        if self.month:
            month = Monthly.month.sql_cast(
                DateTrunc('month', sale.sale_date)).as_('month')
            columns.append(month)
            # by its alias: PostgreSQL takes two expressions with their
            # own parameters for different ones
            group_by.append(month)
        return from_.select(*columns, *sums,
            where=self._sales_where(sale, foreign), group_by=group_by)

    def _converted(self):
        """The lines joined to the rates of their sale date; sets revenue in
        the company's currency"""
        Currency = Pool().get('currency.currency')
        lines = self.lines
        self.sale_rate = sale_rate = With(query=Currency.currency_rate_sql())
        self.company_rate = company_rate = With(
            query=Currency.currency_rate_sql())
        self.withs = [sale_rate, company_rate]

        def rate_of(rate, currency):
            return ((lines.rate_date != Null)
                & (rate.currency == currency)
                & (rate.start_date <= lines.rate_date)
                & ((rate.end_date == Null)
                    | (rate.end_date > lines.rate_date)))
        from_ = (lines
            .join(sale_rate, 'LEFT',
                condition=rate_of(sale_rate, lines.currency))
            .join(company_rate, 'LEFT',
                condition=rate_of(company_rate, self.currency_id)))
        self.revenue = Case(
            (lines.rate_date == Null, lines.amount),
            else_=lines.amount * company_rate.rate / sale_rate.rate)
        return from_

    def _in_product_unit(self, from_):
        """from_ joined to the products and units; sets quantity in the
        default unit of the product"""
        pool = Pool()
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        lines = self.lines
        self.product = product = Product.__table__()
        self.template = template = Template.__table__()
        line_unit = Uom.__table__()
        product_unit = Uom.__table__()
        from_ = (from_
            .join(product, 'LEFT', condition=lines.product == product.id)
            .join(template, 'LEFT',
                condition=product.template == template.id)
            .join(line_unit, 'LEFT', condition=lines.unit == line_unit.id)
            .join(product_unit, 'LEFT',
                condition=template.default_uom == product_unit.id))
        # Both units are of the category of the product: their factors
        # to the base unit convert (what Uom.compute_qty does).
        self.quantity = lines.quantity * Coalesce(
            line_unit.factor / product_unit.factor, 1)
        return from_
