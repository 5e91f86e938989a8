# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The loading of a pricing engine: in a few SQL queries, the rules that can
apply to a batch of clients and products, with what the engine needs of
them"""
from collections import defaultdict
from decimal import Decimal

from sql import Literal, Null
from sql.operators import Or

from trytond import backend
from trytond.cache import Cache
from trytond.model import fields
from trytond.modules.product import price_digits
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .engine import (
    LEVELS, SCOPES, ClientSpec, PricingEngine, ProductSpec, RuleSpec, TagSpec,
    UnitCategorySpec, UnitSpec)
from .rule import OWNER_FIELDS, to_date
from .rule_text import to_decimal

# Above this many products (or categories) the rules of the clients' scopes
# are loaded whole and filtered in Python: a list of thousands of ids in the
# query costs more than the rows it saves.
TARGET_FILTER_MAX = 500


class PriceRule(metaclass=PoolMeta):
    __name__ = 'backoffice.price.rule'

    # The units and the category tree change seldom and every engine needs
    # them: kept between transactions, cleared when a unit or category is
    # modified (see product.py).
    _units_cache = Cache('backoffice.price.rule.units', context=False)
    _categories_cache = Cache(
        'backoffice.price.rule.categories', context=False)

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
        Uom = pool.get('product.uom')
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
        units = cls._load_units()
        rules = cls._load_rules(
            company.id, clients, tags, product_specs, parents,
            date=None if all_dates else date)
        return PricingEngine(
            rules, clients=clients, tags=tags, products=product_specs,
            parents=parents, units=units, date=date,
            # the quantum of product.round_price
            rounding=Decimal(1).scaleb(-price_digits[1]),
            convert=convert, Uom=Uom)

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
        Category = pool.get('product.category')
        cursor = Transaction().connection.cursor()
        category = Category.__table__()
        rows = {}
        categories = defaultdict(list)
        prices = {}
        query, columns = cls._products_query(company_id, list_prices)
        for sub_ids in grouped_slice(product_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*query.select(*columns,
                    where=fields.SQL_OPERATORS['in'](
                        columns[0], list(sub_ids))))
            for row in cursor.fetchall():
                product_id = row[0]
                rows[product_id] = row[1:3]
                if row[3] is not None:
                    categories[product_id].append(row[3])
                if list_prices:
                    price = row[4] if row[4] is not None else row[5]
                    if price is not None:
                        prices[product_id] = to_decimal(price)
        specs = [ProductSpec(
                product_id, tuple(sorted(categories[product_id])),
                default_uom, sale_uom or default_uom, prices.get(product_id))
            for product_id, (default_uom, sale_uom) in rows.items()]
        parents = cls._categories_cache.get(None)
        if parents is None:
            cursor.execute(*category.select(category.id, category.parent))
            parents = dict(cursor)
            cls._categories_cache.set(None, parents)
        return specs, parents

    @classmethod
    def _products_query(cls, company_id, list_prices):
        """The query of the products' units and categories (a row per
        category) and, with list_prices, of their list prices, and its
        columns: the product id first"""
        pool = Pool()
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        TemplateCategory = pool.get('product.template-product.category')
        ListPrice = pool.get('product.list_price')
        product = Product.__table__()
        template = Template.__table__()
        template_category = TemplateCategory.__table__()
        list_price = ListPrice.__table__()
        query = product.join(template,
            condition=product.template == template.id
            ).join(template_category, 'LEFT',
            condition=template_category.template == template.id)
        columns = [product.id, template.default_uom, template.sale_uom,
            template_category.category]
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
        return query, columns

    @classmethod
    def _load_units(cls):
        from trytond.modules.product.uom import _accurate_operator
        pool = Pool()
        Uom = pool.get('product.uom')
        specs = cls._units_cache.get(None)
        if specs is not None:
            return specs
        cursor = Transaction().connection.cursor()
        unit = Uom.__table__()
        cursor.execute(*unit.select(
                unit.id, unit.category, unit.factor, unit.rate))
        # product.uom's accurate_field (a property), computed once
        specs = [UnitSpec(id_, UnitCategorySpec(category), factor, rate,
                _accurate_operator(factor, rate))
            for id_, category, factor, rate in cursor]
        cls._units_cache.set(None, specs)
        return specs

    @classmethod
    def _load_rules(cls, company_id, clients, tags, products, parents,
            date=None):
        "RuleSpecs of the clients' scopes that can apply to the products"
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        product_ids = {p.id for p in products}
        category_ids = set()
        for product in products:
            for category in product.categories:
                seen = set()
                while category is not None and category not in seen:
                    seen.add(category)
                    category = parents.get(category)
                category_ids |= seen
        filter_targets = (len(product_ids) <= TARGET_FILTER_MAX
            and len(category_ids) <= TARGET_FILTER_MAX)
        where = cls._rules_where(table, company_id, date,
            product_ids if filter_targets else None,
            category_ids if filter_targets else None)
        columns = [table.id, table.level, table.scope, table.party,
            table.price_tag, table.price_group, table.product, table.category,
            table.percentage, table.fixed_price, table.unit,
            table.min_quantity, table.start_date, table.end_date]
        specs = []
        for condition in cls._owners_conditions(table, clients, tags):
            cursor.execute(*table.select(*columns, where=where & condition))
            for (id_, level, scope_, party, price_tag, price_group,
                    product, category, percentage, fixed_price, unit,
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
                        to_decimal(value),
                        unit if level == 'product' else None,
                        float(min_quantity or 0)
                        if level == 'product' else 0.0,
                        to_date(start_date), to_date(end_date)))
        return specs

    @classmethod
    def _rules_where(cls, table, company_id, date, product_ids,
            category_ids):
        """The rules of the company valid at date (None: any), whose target
        is among the products and categories (None: any)"""
        in_ = fields.SQL_OPERATORS['in']
        where = table.company == company_id
        if date is not None:
            where &= ((table.start_date == Null)
                | (table.start_date <= date))
            where &= ((table.end_date == Null) | (table.end_date >= date))
        if product_ids is not None:
            targets = [table.level == 'global']
            if category_ids:
                targets.append((table.level == 'category')
                    & in_(table.category, list(category_ids)))
            if product_ids:
                targets.append((table.level == 'product')
                    & in_(table.product, list(product_ids)))
            where &= Or(targets)
        return where

    @classmethod
    def _owners_conditions(cls, table, clients, tags):
        """The conditions on the owners of the clients' scopes: one for the
        few owners of a sale line, batches by scope for thousands of
        clients; none without owner"""
        in_ = fields.SQL_OPERATORS['in']
        owners = {
            'client': [c.id for c in clients],
            'tag': [t.id for t in tags],
            'group': list({c.price_group for c in clients
                    if c.price_group is not None}),
            }
        size = backend.MAX_QUERY_PARAMS // 4
        if not any(owners.values()):
            return []
        if sum(len(i) for i in owners.values()) <= size:
            return [Or([
                        (table.scope == scope)
                        & in_(getattr(table, OWNER_FIELDS[scope]), ids)
                        for scope, ids in owners.items() if ids])]
        conditions = []
        for scope, ids in owners.items():
            column = getattr(table, OWNER_FIELDS[scope])
            for sub_ids in grouped_slice(ids, size):
                conditions.append(
                    (table.scope == scope) & in_(column, list(sub_ids)))
        return conditions
