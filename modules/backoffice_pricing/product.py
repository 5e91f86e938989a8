# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    @classmethod
    def get_sale_price(cls, products, quantity=0):
        """Adjust the prices upstream computes with the client's rules.

        Plugged in where sale_price_list is, so that a sale line priced
        from the web client, proteus or any RPC gets the same price: the
        context says the customer, company, unit, date and currency (as
        sale.line._get_context_sale_price gives them).
        """
        prices, _ = cls.get_sale_price_and_rules(products, quantity=quantity)
        return prices

    @classmethod
    def get_sale_price_and_rules(cls, products, quantity=0):
        """({product id: price}, {product id: Match or None}): the prices of
        get_sale_price and the rules behind them (None: no rule, the
        upstream price), from one engine loaded for the whole batch"""
        prices = super().get_sale_price(products, quantity=quantity)
        rules = dict.fromkeys(prices)
        engine, customer = cls._pricing_engine(products)
        if engine is None:
            return prices, rules
        # 'uom' is the key of upstream's context (sale.line)
        unit = Transaction().context.get('uom')
        for product in products:
            match = engine.resolve(customer, product.id, quantity, unit)
            if match is not None:
                prices[product.id] = engine.unit_price(
                    match, product.id, unit, prices[product.id])
                rules[product.id] = match
        return prices, rules

    @classmethod
    def _pricing_context(cls):
        "(company id, customer id, date) from the context, or None"
        pool = Pool()
        Date = pool.get('ir.date')
        context = Transaction().context
        company = context.get('company')
        customer = context.get('customer')
        # Views pass -1 for an empty customer or company
        if (not isinstance(company, int) or company < 0
                or not isinstance(customer, int) or customer < 0):
            return None
        date = context.get('sale_date')
        if not date:
            with Transaction().set_context(company=company):
                date = Date.today()
        return company, customer, date

    @classmethod
    def _pricing_converter(cls, company):
        """The conversion of fixed prices (in the company currency) into the
        currency asked, as upstream converts list prices"""
        pool = Pool()
        Currency = pool.get('currency.currency')
        context = Transaction().context
        currency_id = context.get('currency')
        if not currency_id or currency_id == company.currency.id:
            return None
        currency = Currency(currency_id)
        date = context.get('sale_date')

        def convert(amount):
            with Transaction().set_context(date=date):
                return Currency.compute(
                    company.currency, amount, currency, round=False)
        return convert

    @classmethod
    def _pricing_engine(cls, products, all_dates=False):
        "(engine, customer id) of the context, or (None, None)"
        pool = Pool()
        Company = pool.get('company.company')
        Rule = pool.get('backoffice.price.rule')
        pricing = cls._pricing_context()
        if pricing is None or not products:
            return None, None
        company_id, customer, date = pricing
        company = Company(company_id)
        engine = Rule.get_engine(
            company, [customer], [p.id for p in products], date=date,
            all_dates=all_dates, convert=cls._pricing_converter(company))
        return engine, customer

    @classmethod
    def explain_sale_price(cls, product, quantity=0):
        """(base price, unit price, explanation, engine) of the product's
        price in the context, every candidate rule included"""
        base = super().get_sale_price([product], quantity=quantity)[
            product.id]
        engine, customer = cls._pricing_engine([product], all_dates=True)
        if engine is None:
            return base, base, None, None
        unit = Transaction().context.get('uom')
        explanation = engine.explain(customer, product.id, quantity, unit)
        price = engine.unit_price(explanation.match, product.id, unit, base)
        return base, price, explanation, engine


class Uom(metaclass=PoolMeta):
    __name__ = 'product.uom'

    @classmethod
    def on_modification(cls, mode, units, field_names=None):
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        super().on_modification(mode, units, field_names=field_names)
        Rule._units_cache.clear()


class Category(metaclass=PoolMeta):
    __name__ = 'product.category'

    @classmethod
    def on_modification(cls, mode, categories, field_names=None):
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        super().on_modification(mode, categories, field_names=field_names)
        if mode != 'write' or 'parent' in field_names:
            Rule._categories_cache.clear()
