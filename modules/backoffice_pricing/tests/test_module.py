# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import unittest
from contextlib import contextmanager
from decimal import Decimal

from backoffice_testing import ClientWidgetsTestMixin, request

from trytond.model.exceptions import AccessError
from trytond.model.modelstorage import (
    DomainValidationError, RequiredValidationError)
from trytond.modules.backoffice_pricing.engine import (
    LEVEL_CATEGORY, LEVEL_GLOBAL, LEVEL_PRODUCT, SCOPE_CLIENT, SCOPE_GROUP,
    SCOPE_TAG, ClientSpec, PricingEngine, ProductSpec, RuleSpec, TagSpec,
    UnitCategorySpec, UnitSpec, bulk_adjust, dates_overlap, find_overlaps)
from trytond.modules.backoffice_pricing.exceptions import (
    BulkUpdateError, CopyRulesWarning, ExplainError,
    PriceGroupCompanyError, RuleOverlapError, RuleValidationError)
from trytond.modules.backoffice_zone.exceptions import (
    CompanyContextError, ValueCheckError)
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.modules.currency.tests import create_currency
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

D = Decimal
TODAY = dt.date(2025, 3, 15)

# Units: u (unit), kg, g
UNIT, KG, G = 1, 2, 3
UNITS = [
    UnitSpec(UNIT, UnitCategorySpec(1), 1.0, 1.0, 'factor'),
    UnitSpec(KG, UnitCategorySpec(2), 1.0, 1.0, 'factor'),
    UnitSpec(G, UnitCategorySpec(2), 0.001, 1000.0, 'factor'),
    ]
# Categories: Food (1) > Dairy (2) > Cheese (3) > Hard cheese (4);
# Organic (5) at the root
FOOD, DAIRY, CHEESE, HARD, ORGANIC = 1, 2, 3, 4, 5
PARENTS = {FOOD: None, DAIRY: FOOD, CHEESE: DAIRY, HARD: CHEESE,
    ORGANIC: None}
# Products: milk (Dairy), brie (Cheese, per kg), gruyère (Hard cheese and
# Organic), bread (no category)
MILK, BRIE, GRUYERE, BREAD = 11, 12, 13, 14
PRODUCTS = [
    ProductSpec(MILK, (DAIRY,), UNIT, UNIT, D('2')),
    ProductSpec(BRIE, (CHEESE,), KG, KG, D('20')),
    ProductSpec(GRUYERE, (HARD, ORGANIC), KG, KG, D('30')),
    ProductSpec(BREAD, (), UNIT, UNIT, D('5')),
    ]
# Price groups 100, 101; tags pricings 200 (HoReCa), 201 (Premium)
GROUP, OTHER_GROUP = 100, 101
HORECA, PREMIUM = 200, 201
# Clients: bistro (group, both tags), shop (group only), walk-in (nothing)
BISTRO, SHOP, WALKIN = 300, 301, 302


def rule(id_, level, scope, owner, target=None, value='0', unit=None,
        min_quantity=0.0, start=None, end=None):
    return RuleSpec(id_, level, scope, owner, target, D(value), unit,
        min_quantity, start, end)


def engine(rules, tags=None, date=TODAY):
    return PricingEngine(
        rules,
        clients=[
            ClientSpec(BISTRO, GROUP, (HORECA, PREMIUM)),
            ClientSpec(SHOP, GROUP, ()),
            ClientSpec(WALKIN, None, ()),
            ],
        tags=tags or [TagSpec(HORECA, 10), TagSpec(PREMIUM, 20)],
        products=PRODUCTS, parents=PARENTS, units=UNITS, date=date)


class PricingEngineTestCase(unittest.TestCase):
    "The precedence of the engine, without database"

    def winner(self, engine_, client, product, quantity=1, unit=None):
        match = engine_.resolve(client, product, quantity, unit)
        # explain() must always agree with resolve()
        explanation = engine_.explain(client, product, quantity, unit)
        winners = [c.rule for c in explanation.candidates
            if c.status == 'winner']
        self.assertEqual(winners, [match.rule] if match else [])
        return match.rule.id if match else None

    def test_no_rule(self):
        "No rule: the list price"
        e = engine([])
        self.assertIsNone(self.winner(e, WALKIN, MILK))
        self.assertEqual(e.price(WALKIN, MILK, 1), (D('2.0000'), None))

    def test_level_product_beats_category_beats_global(self):
        "Fixed product price > category > global, whatever the scope"
        e = engine([
                rule(1, LEVEL_GLOBAL, SCOPE_CLIENT, BISTRO, value='-20'),
                rule(2, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, DAIRY, '-15'),
                rule(3, LEVEL_PRODUCT, SCOPE_GROUP, GROUP, BRIE, '14'),
                ])
        self.assertEqual(self.winner(e, BISTRO, BRIE), 3)
        self.assertEqual(self.winner(e, BISTRO, MILK), 2)
        self.assertEqual(self.winner(e, BISTRO, BREAD), 1)
        explanation = e.explain(BISTRO, BRIE, 1)
        reasons = {c.rule.id: (c.status, c.reason)
            for c in explanation.candidates}
        self.assertEqual(reasons, {
                3: ('winner', None),
                2: ('beaten', 'level'),
                1: ('beaten', 'level'),
                })

    def test_scope_client_beats_tag_beats_group(self):
        "At the same level: client > tag > price group"
        rules = [
            rule(1, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, DAIRY, '-15'),
            rule(2, LEVEL_CATEGORY, SCOPE_TAG, PREMIUM, DAIRY, '-17'),
            rule(3, LEVEL_CATEGORY, SCOPE_CLIENT, BISTRO, DAIRY, '-20'),
            ]
        e = engine(rules)
        self.assertEqual(self.winner(e, BISTRO, MILK), 3)
        self.assertEqual(self.winner(e, SHOP, MILK), 1)
        e = engine(rules[:2])
        self.assertEqual(self.winner(e, BISTRO, MILK), 2)
        reasons = {c.rule.id: c.reason
            for c in e.explain(BISTRO, MILK, 1).candidates}
        self.assertEqual(reasons[1], 'scope')
        self.assertEqual(e.price(BISTRO, MILK, 1)[0], D('1.6600'))

    def test_client_category_beats_nearer_group_category(self):
        "The scope decides before the distance of the category"
        e = engine([
                rule(1, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, CHEESE, '-15'),
                rule(2, LEVEL_CATEGORY, SCOPE_CLIENT, BISTRO, DAIRY, '-5'),
                ])
        self.assertEqual(self.winner(e, BISTRO, BRIE), 2)
        self.assertEqual(self.winner(e, SHOP, BRIE), 1)

    def test_tag_sequence(self):
        "Two tags of a client at the same level: the lower sequence wins"
        rules = [
            rule(1, LEVEL_GLOBAL, SCOPE_TAG, HORECA, value='-5'),
            rule(2, LEVEL_GLOBAL, SCOPE_TAG, PREMIUM, value='-8'),
            ]
        e = engine(rules)
        self.assertEqual(self.winner(e, BISTRO, BREAD), 1)
        candidates = e.explain(BISTRO, BREAD, 1).candidates
        self.assertEqual(
            [(c.rule.id, c.status, c.reason) for c in candidates],
            [(1, 'winner', None), (2, 'beaten', 'tag')])
        e = engine(rules, tags=[TagSpec(HORECA, 30), TagSpec(PREMIUM, 20)])
        self.assertEqual(self.winner(e, BISTRO, BREAD), 2)
        # Equal sequences: the tag pricing created first (lower id)
        e = engine(rules, tags=[TagSpec(HORECA, 10), TagSpec(PREMIUM, 10)])
        self.assertEqual(self.winner(e, BISTRO, BREAD), 1)
        # An empty sequence comes first, as in the list of tag pricings
        e = engine(rules, tags=[TagSpec(HORECA, 10), TagSpec(PREMIUM, None)])
        self.assertEqual(self.winner(e, BISTRO, BREAD), 2)

    def test_tag_level(self):
        "The level still decides before the tag"
        e = engine([
                rule(1, LEVEL_GLOBAL, SCOPE_TAG, HORECA, value='-5'),
                rule(2, LEVEL_CATEGORY, SCOPE_TAG, PREMIUM, DAIRY, '-8'),
                ])
        self.assertEqual(self.winner(e, BISTRO, MILK), 2)

    def test_nearest_category(self):
        "The category nearest to the product wins, then the deeper"
        e = engine([
                rule(1, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, FOOD, '-1'),
                rule(2, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, DAIRY, '-2'),
                rule(3, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, CHEESE, '-3'),
                ])
        self.assertEqual(self.winner(e, SHOP, GRUYERE), 3)
        self.assertEqual(self.winner(e, SHOP, BRIE), 3)
        self.assertEqual(self.winner(e, SHOP, MILK), 2)
        candidates = e.explain(SHOP, GRUYERE, 1).candidates
        self.assertEqual(
            [(c.rule.id, c.reason, c.distance) for c in candidates],
            [(3, None, 1), (2, 'distance', 2), (1, 'distance', 3)])
        # Gruyère is in Hard cheese (depth 3) and Organic (depth 0), both
        # at distance 0: the deeper category wins
        e = engine([
                rule(4, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, ORGANIC, '-4'),
                rule(5, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, HARD, '-5'),
                ])
        self.assertEqual(self.winner(e, SHOP, GRUYERE), 5)
        reasons = {c.rule.id: c.reason
            for c in e.explain(SHOP, GRUYERE, 1).candidates}
        self.assertEqual(reasons[4], 'depth')

    def test_quantity_breaks(self):
        "The highest minimum quantity not above the line quantity wins"
        e = engine([
                rule(1, LEVEL_PRODUCT, SCOPE_CLIENT, BISTRO, BRIE, '18'),
                rule(2, LEVEL_PRODUCT, SCOPE_CLIENT, BISTRO, BRIE, '16',
                    min_quantity=10),
                rule(3, LEVEL_PRODUCT, SCOPE_CLIENT, BISTRO, BRIE, '15',
                    min_quantity=50),
                rule(4, LEVEL_CATEGORY, SCOPE_CLIENT, BISTRO, CHEESE, '-50'),
                ])
        self.assertEqual(self.winner(e, BISTRO, BRIE, 1), 1)
        self.assertEqual(self.winner(e, BISTRO, BRIE, 10), 2)
        self.assertEqual(self.winner(e, BISTRO, BRIE, 49.5), 2)
        self.assertEqual(self.winner(e, BISTRO, BRIE, 50), 3)
        # A returned quantity prices as its absolute value
        self.assertEqual(self.winner(e, BISTRO, BRIE, -60), 3)
        # in grams: 12,000 g = 12 kg
        self.assertEqual(self.winner(e, BISTRO, BRIE, 12000, G), 2)
        self.assertEqual(e.price(BISTRO, BRIE, 12000, G)[0], D('0.0160'))
        statuses = {c.rule.id: (c.status, c.reason)
            for c in e.explain(BISTRO, BRIE, 10).candidates}
        self.assertEqual(statuses, {
                2: ('winner', None),
                1: ('beaten', 'min_quantity'),
                3: ('inapplicable', 'min_quantity'),
                4: ('beaten', 'level'),
                })

    def test_quantity_break_does_not_beat_scope(self):
        "Quantity breaks choose only inside one level and scope"
        e = engine([
                rule(1, LEVEL_PRODUCT, SCOPE_CLIENT, BISTRO, BRIE, '18'),
                rule(2, LEVEL_PRODUCT, SCOPE_GROUP, GROUP, BRIE, '12',
                    min_quantity=10),
                ])
        self.assertEqual(self.winner(e, BISTRO, BRIE, 20), 1)
        self.assertEqual(self.winner(e, SHOP, BRIE, 20), 2)
        self.assertIsNone(self.winner(e, SHOP, BRIE, 5))

    def test_unit(self):
        "A price in the unit of the line beats a price per sale unit"
        e = engine([
                rule(1, LEVEL_PRODUCT, SCOPE_CLIENT, BISTRO, BRIE, '18'),
                rule(2, LEVEL_PRODUCT, SCOPE_CLIENT, BISTRO, BRIE, '0.025',
                    unit=G),
                ])
        self.assertEqual(self.winner(e, BISTRO, BRIE, 500, G), 2)
        self.assertEqual(e.price(BISTRO, BRIE, 500, G)[0], D('0.0250'))
        self.assertEqual(self.winner(e, BISTRO, BRIE, 1, KG), 1)
        statuses = {c.rule.id: (c.status, c.reason)
            for c in e.explain(BISTRO, BRIE, 1, KG).candidates}
        self.assertEqual(statuses[2], ('inapplicable', 'unit'))
        # A unit of another category: the sale unit
        self.assertEqual(self.winner(e, BISTRO, BRIE, 1, UNIT), 1)

    def test_dates(self):
        "Validity dates make a rule apply or not, never beat a level"
        rules = [
            rule(1, LEVEL_GLOBAL, SCOPE_GROUP, GROUP, value='-10',
                end=dt.date(2025, 2, 28)),
            rule(2, LEVEL_GLOBAL, SCOPE_GROUP, GROUP, value='-30',
                start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31)),
            rule(3, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, DAIRY, '-15',
                end=dt.date(2025, 2, 28)),
            ]
        e = engine(rules)
        self.assertEqual(self.winner(e, SHOP, MILK), 2)
        candidates = {c.rule.id: (c.status, c.reason)
            for c in e.explain(SHOP, MILK, 1).candidates}
        self.assertEqual(candidates[3], ('inapplicable', 'date'))
        e = engine(rules, date=dt.date(2025, 2, 28))
        self.assertEqual(self.winner(e, SHOP, MILK), 3)
        e = engine(rules, date=dt.date(2025, 4, 1))
        self.assertIsNone(self.winner(e, SHOP, MILK))
        self.assertEqual(e.price(SHOP, MILK, 1)[0], D('2.0000'))
        e = engine(rules, date=dt.date(2025, 1, 1))
        self.assertEqual(self.winner(e, SHOP, BREAD), 1)
        self.assertEqual(e.price(SHOP, BREAD, 1)[0], D('4.5000'))

    def test_deterministic(self):
        "The order of loading never changes the winner"
        rules = [
            rule(1, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, ORGANIC, '-4'),
            rule(2, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, HARD, '-5'),
            rule(3, LEVEL_GLOBAL, SCOPE_TAG, HORECA, value='-1'),
            rule(4, LEVEL_GLOBAL, SCOPE_TAG, PREMIUM, value='-2'),
            rule(5, LEVEL_PRODUCT, SCOPE_GROUP, GROUP, BRIE, '1'),
            rule(6, LEVEL_PRODUCT, SCOPE_GROUP, GROUP, BRIE, '2',
                min_quantity=5),
            ]
        expected = [self.winner(engine(rules), c, p, q)
            for c in [BISTRO, SHOP] for p in [BRIE, GRUYERE, BREAD]
            for q in [1, 5]]
        self.assertEqual(
            [self.winner(engine(rules[::-1]), c, p, q)
                for c in [BISTRO, SHOP] for p in [BRIE, GRUYERE, BREAD]
                for q in [1, 5]],
            expected)

    def test_tie(self):
        """Equal distance and depth: the lower category wins; equal keys
        (rows written behind the ORM): the rule created first"""
        organic_food = 99
        rules = [
            rule(1, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, ORGANIC, '-4'),
            rule(2, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, FOOD, '-3'),
            rule(4, LEVEL_GLOBAL, SCOPE_CLIENT, SHOP, value='-2'),
            rule(3, LEVEL_GLOBAL, SCOPE_CLIENT, SHOP, value='-1'),
            ]
        for rules_ in [rules, rules[::-1]]:
            e = PricingEngine(rules_,
                clients=[ClientSpec(SHOP, GROUP, ())],
                products=PRODUCTS + [ProductSpec(
                        organic_food, (ORGANIC, FOOD), UNIT, UNIT, D('10'))],
                parents=PARENTS, units=UNITS, date=TODAY)
            self.assertEqual(self.winner(e, SHOP, organic_food), 2)
            self.assertEqual(self.winner(e, SHOP, BREAD), 3)
            reasons = {c.rule.id: (c.status, c.reason) for product in [
                    organic_food, BREAD]
                for c in e.explain(SHOP, product, 1).candidates}
            self.assertEqual(reasons[1], ('beaten', 'category'))
            self.assertEqual(reasons[4], ('beaten', 'id'))

    def test_prices(self):
        "Percentages apply to the list price, fixed prices replace it"
        e = engine([
                rule(1, LEVEL_GLOBAL, SCOPE_GROUP, GROUP, value='12.5'),
                rule(2, LEVEL_PRODUCT, SCOPE_GROUP, GROUP, BRIE, '17.25'),
                ])
        self.assertEqual(
            [p for p, _ in e.prices([
                        (SHOP, MILK, 1, None), (SHOP, BRIE, 1, None),
                        (SHOP, BRIE, 1, G), (WALKIN, BRIE, 1, None)])],
            [D('2.2500'), D('17.2500'), D('0.0172'), D('20.0000')])

    def test_overlaps(self):
        "Same level, scope, target and overlapping dates are ambiguous"
        self.assertTrue(dates_overlap(None, None, dt.date(2025, 1, 1), None))
        self.assertTrue(dates_overlap(
                dt.date(2025, 1, 1), dt.date(2025, 1, 31),
                dt.date(2025, 1, 31), None))
        self.assertFalse(dates_overlap(
                dt.date(2025, 1, 1), dt.date(2025, 1, 31),
                dt.date(2025, 2, 1), None))
        existing = [
            rule(1, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, DAIRY, '-15'),
            rule(2, LEVEL_PRODUCT, SCOPE_GROUP, GROUP, BRIE, '14'),
            ]
        pairs = find_overlaps([
                rule(-1, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, DAIRY, '-5',
                    start=dt.date(2025, 6, 1))], existing)
        self.assertEqual([(a.id, b.id) for a, b in pairs], [(-1, 1)])
        # Different minimum quantity, unit, owner or target: no overlap
        self.assertEqual(find_overlaps([
                    rule(-1, LEVEL_PRODUCT, SCOPE_GROUP, GROUP, BRIE, '13',
                        min_quantity=10),
                    rule(-2, LEVEL_PRODUCT, SCOPE_GROUP, GROUP, BRIE, '1',
                        unit=G),
                    rule(-3, LEVEL_PRODUCT, SCOPE_GROUP, OTHER_GROUP, BRIE,
                        '13'),
                    rule(-4, LEVEL_CATEGORY, SCOPE_GROUP, GROUP, CHEESE,
                        '-5'),
                    ], existing), [])
        # New rules are checked against each other too
        pairs = find_overlaps([
                rule(-1, LEVEL_GLOBAL, SCOPE_CLIENT, BISTRO, value='-5'),
                rule(-2, LEVEL_GLOBAL, SCOPE_CLIENT, BISTRO, value='-6',
                    start=dt.date(2025, 1, 1)),
                ])
        self.assertEqual([(a.id, b.id) for a, b in pairs], [(-2, -1)])

    def test_bulk_adjust(self):
        "Fixed prices are multiplied, percentages compounded"
        rounding = D('0.0001')
        self.assertEqual(bulk_adjust(
                rule(1, LEVEL_PRODUCT, SCOPE_GROUP, GROUP, BRIE, '14.50'),
                D('3'), rounding), D('14.9350'))
        self.assertEqual(bulk_adjust(
                rule(1, LEVEL_GLOBAL, SCOPE_GROUP, GROUP, value='-10'),
                D('3'), rounding), D('-7.30'))


def company_users(companies, groups):
    "A user of each company, in the groups named by (module, XML id)"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    groups = [ModelData.get_id(*g) for g in groups]
    return User.create([{
                'login': 'user%s' % c.id, 'name': 'User %s' % c.id,
                'companies': [('add', [c.id])], 'company': c.id,
                'groups': [('add', groups)],
                } for c in companies])


@contextmanager
def acting(user, company):
    "As user with company in the request's context, through the RPC checks"
    with Transaction().set_user(user.id), \
            Transaction().set_context(company=company.id), \
            check_access():
        yield


class BackofficePricingTestCase(
        CompanyTestMixin, ClientWidgetsTestMixin, ModuleTestCase):
    "Test BackOffice Pricing module"
    module = 'backoffice_pricing'

    def setup_world(self, company):
        """Units, Dairy > Cheese, milk, brie (kg) and bread, the group
        Restaurants, the tags HoReCa and Premium, the client Le Bistro in
        Restaurants with both tags"""
        pool = Pool()
        Uom = pool.get('product.uom')
        Category = pool.get('product.category')
        Template = pool.get('product.template')
        Party = pool.get('party.party')
        PartyCategory = pool.get('party.category')
        PriceGroup = pool.get('backoffice.price.group')
        PriceTag = pool.get('backoffice.price.tag')

        w = type('World', (), {})()
        w.company = company
        w.unit, = Uom.search([('name', '=', "Unit")])
        w.kg, = Uom.search([('name', '=', "Kilogram")])
        w.gram, = Uom.search([('name', '=', "Gram")])
        # Taxes of sale lines come from the accounting category
        w.accounting, = Category.create([{
                    'name': "Accounting", 'accounting': True}])
        w.dairy, = Category.create([{'name': "Dairy"}])
        w.cheese, = Category.create([{
                    'name': "Cheese", 'parent': w.dairy.id}])
        templates = Template.create([{
                    'name': name, 'type': 'goods', 'salable': True,
                    'default_uom': unit.id, 'sale_uom': unit.id,
                    'list_price': D(price),
                    'account_category': w.accounting.id,
                    'categories': [('add', [c.id for c in categories])],
                    'products': [('create', [{}])],
                    } for name, unit, price, categories in [
                    ("Milk", w.unit, '2', [w.dairy]),
                    ("Brie", w.kg, '20', [w.cheese]),
                    ("Bread", w.unit, '5', []),
                    ]])
        w.milk, w.brie, w.bread = [t.products[0] for t in templates]
        w.horeca_tag, w.premium_tag = PartyCategory.create([
                {'name': "HoReCa"}, {'name': "Premium"}])
        w.restaurants, = PriceGroup.create([{'name': "Restaurants"}])
        w.horeca, w.premium = PriceTag.create([
                {'tag': w.horeca_tag.id, 'sequence': 10},
                {'tag': w.premium_tag.id, 'sequence': 20},
                ])
        w.bistro, = Party.create([{
                    'name': "Le Bistro",
                    'price_group': w.restaurants.id,
                    'categories': [('add', [
                                w.horeca_tag.id, w.premium_tag.id])],
                    }])
        w.shop, = Party.create([{'name': "Corner Shop"}])
        return w

    def rules(self, *values):
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        return Rule.create(list(values))

    def price(self, w, product, quantity=1, party=None, unit=None, date=None):
        "(price, rule) as a sale line gets them"
        pool = Pool()
        Product = pool.get('product.product')
        context = {
            'customer': (party or w.bistro).id,
            'company': w.company.id,
            'currency': w.company.currency.id,
            'uom': (unit or product.sale_uom).id,
            'sale_date': date or dt.date.today(),
            }
        with Transaction().set_context(context):
            product = Product(product.id)
            prices, matches = Product.get_sale_price_and_rules(
                [product], quantity)
        match = matches[product.id]
        return prices[product.id], (match.rule.id if match else None)

    def snapshot(self, Model, fields):
        records = Model.search([], order=[('id', 'ASC')])
        return Model.read([r.id for r in records], fields)

    # --- precedence through the ORM

    @with_transaction()
    def test_precedence_levels_and_scopes(self):
        "Fixed product > category > global; client > tag > group"
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            group_global, group_dairy, tag_dairy, client_dairy, fixed = (
                self.rules(
                    {'price_group': w.restaurants.id, 'level': 'global',
                        'percentage': D('-10')},
                    {'price_group': w.restaurants.id, 'level': 'category',
                        'category': w.dairy.id, 'percentage': D('-15')},
                    {'price_tag': w.premium.id, 'level': 'category',
                        'category': w.dairy.id, 'percentage': D('-17')},
                    {'party': w.bistro.id, 'level': 'category',
                        'category': w.cheese.id, 'percentage': D('-20')},
                    {'party': w.bistro.id, 'level': 'product',
                        'product': w.brie.id, 'fixed_price': D('14.50')},
                    ))
            self.assertEqual(group_global.scope, 'group')
            self.assertEqual(fixed.scope, 'client')
            self.assertEqual(tag_dairy.company, company)
            # Bread: only the group's global rule
            self.assertEqual(self.price(w, w.bread),
                (D('4.5000'), group_global.id))
            # Milk (Dairy): the tag's category rule beats the group's
            self.assertEqual(self.price(w, w.milk),
                (D('1.6600'), tag_dairy.id))
            # Brie: the fixed price beats the client's category rule
            self.assertEqual(self.price(w, w.brie),
                (D('14.5000'), fixed.id))
            # Without the fixed price: the client's Cheese rule
            pool = Pool()
            Rule = pool.get('backoffice.price.rule')
            Rule.delete([fixed])
            self.assertEqual(self.price(w, w.brie),
                (D('16.0000'), client_dairy.id))
            # A client without group or rule: the list price
            self.assertEqual(self.price(w, w.brie, party=w.shop),
                (D('20.0000'), None))

    @with_transaction()
    def test_tag_sequence_explained(self):
        "Two tags compete: the sequence decides, the explanation says so"
        pool = Pool()
        Product = pool.get('product.product')
        Rule = pool.get('backoffice.price.rule')
        PriceTag = pool.get('backoffice.price.tag')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            horeca, premium = self.rules(
                {'price_tag': w.horeca.id, 'level': 'global',
                    'percentage': D('-5')},
                {'price_tag': w.premium.id, 'level': 'global',
                    'percentage': D('-8')},
                )
            self.assertEqual(self.price(w, w.bread), (D('4.7500'), horeca.id))
            with Transaction().set_context(
                    customer=w.bistro.id, company=company.id):
                _, _, explanation, engine = Product.explain_sale_price(
                    w.bread, 1)
                loser = explanation.candidates[1]
                winner = explanation.candidates[0]
                self.assertEqual(loser.reason, 'tag')
                text = Rule.format_reason(loser, winner, engine)
            self.assertIn('HoReCa', text)
            self.assertIn('sequence 10', text)
            self.assertIn('sequence 20', text)
            PriceTag.write([w.premium], {'sequence': 5})
            self.assertEqual(self.price(w, w.bread),
                (D('4.6000'), premium.id))

    @with_transaction()
    def test_quantity_breaks_and_units(self):
        "Quantity breaks and per-unit prices through get_sale_price"
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            base, ten, gram = self.rules(
                {'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('18')},
                {'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('16'),
                    'min_quantity': 10},
                {'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('0.03'),
                    'unit': w.gram.id},
                )
            self.assertEqual(self.price(w, w.brie, 9), (D('18.0000'), base.id))
            self.assertEqual(self.price(w, w.brie, 10), (D('16.0000'), ten.id))
            self.assertEqual(self.price(w, w.brie, 500, unit=w.gram),
                (D('0.0300'), gram.id))

    @with_transaction()
    def test_dates(self):
        "A rule applies only between its dates"
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            always, march = self.rules(
                {'price_group': w.restaurants.id, 'level': 'global',
                    'percentage': D('-10'), 'end_date': dt.date(2025, 2, 28)},
                {'price_group': w.restaurants.id, 'level': 'global',
                    'percentage': D('-30'),
                    'start_date': dt.date(2025, 3, 1),
                    'end_date': dt.date(2025, 3, 31)},
                )
            self.assertEqual(self.price(w, w.bread, date=dt.date(2025, 2, 1)),
                (D('4.5000'), always.id))
            self.assertEqual(self.price(w, w.bread, date=dt.date(2025, 3, 31)),
                (D('3.5000'), march.id))
            self.assertEqual(self.price(w, w.bread, date=dt.date(2025, 4, 1)),
                (D('5.0000'), None))

    @with_transaction()
    def test_inactive_group(self):
        "The rules of an inactive price group no longer apply"
        pool = Pool()
        PriceGroup = pool.get('backoffice.price.group')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            self.rules({'price_group': w.restaurants.id, 'level': 'global',
                    'percentage': D('-10')})
            PriceGroup.write([w.restaurants], {'active': False})
            self.assertEqual(self.price(w, w.bread), (D('5.0000'), None))

    # --- bad input: a clear message and nothing stored changes

    def check_refused(self, exception, values, *expected, records=None,
            write=None):
        """Creating values (a dict, or a list of them for one batch) or
        writing them fails with the texts, and nothing stored changes once
        the request is rolled back"""
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        fields = ['scope', 'level', 'percentage', 'fixed_price',
            'start_date', 'end_date', 'min_quantity', 'unit', 'company']
        before = self.snapshot(Rule, fields)
        with self.assertRaises(exception) as cm, request():
            if write is None:
                Rule.create(values if isinstance(values, list) else [values])
            else:
                Rule.write(records, write)
        for text in expected:
            self.assertIn(text, cm.exception.message)
        self.assertEqual(self.snapshot(Rule, fields), before)
        return cm.exception.message

    @with_transaction()
    def test_negative_fixed_price(self):
        "A negative fixed price is refused"
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            self.check_refused(RuleValidationError, {
                    'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('-1')},
                'Le Bistro: Brie', 'Fixed Price', 'negative')
            rule, = self.rules({'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('12')})
            self.check_refused(RuleValidationError, None,
                'Le Bistro: Brie', 'Fixed Price', 'negative',
                records=[rule], write={'fixed_price': D('-0.5')})

    @with_transaction()
    def test_percentage_range(self):
        "A percentage below -100% or above +1000% is refused"
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            self.check_refused(RuleValidationError, {
                    'price_group': w.restaurants.id, 'level': 'global',
                    'percentage': D('-100.01')},
                'Restaurants: all products', '"Percentage"', '-100%',
                '+1,000%')
            self.check_refused(RuleValidationError, {
                    'price_group': w.restaurants.id, 'level': 'category',
                    'category': w.dairy.id, 'percentage': D('1000.5')},
                'Restaurants: Dairy', '"Percentage"')
            # The limits themselves are allowed
            self.rules({'price_group': w.restaurants.id, 'level': 'global',
                    'percentage': D('-100')})

    @with_transaction()
    def test_negative_min_quantity(self):
        "A negative minimum quantity is refused"
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            self.check_refused(RuleValidationError, {
                    'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('1'),
                    'min_quantity': -5},
                'Le Bistro: Brie', 'Minimum Quantity')

    @with_transaction()
    def test_dates_reversed(self):
        "An end date before the start date is refused"
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            self.check_refused(RuleValidationError, {
                    'price_group': w.restaurants.id, 'level': 'global',
                    'percentage': D('-10'),
                    'start_date': dt.date(2025, 5, 1),
                    'end_date': dt.date(2025, 4, 30)},
                'Restaurants: all products', '"End Date"', 'before')
            rule, = self.rules({'price_group': w.restaurants.id,
                    'level': 'global', 'percentage': D('-10'),
                    'start_date': dt.date(2025, 5, 1)})
            self.check_refused(RuleValidationError, None, '"End Date"',
                records=[rule], write={'end_date': dt.date(2025, 1, 1)})

    @with_transaction()
    def test_overlap(self):
        "Two rules competing at the same date are refused, both named"
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            self.rules({'price_group': w.restaurants.id, 'level': 'category',
                    'category': w.dairy.id, 'percentage': D('-15'),
                    'start_date': dt.date(2025, 1, 1),
                    'end_date': dt.date(2025, 6, 30)})
            message = self.check_refused(RuleOverlapError, {
                    'price_group': w.restaurants.id, 'level': 'category',
                    'category': w.dairy.id, 'percentage': D('-12'),
                    'start_date': dt.date(2025, 6, 30)},
                'ambiguous')
            self.assertIn('Restaurants: Dairy -15%', message)
            self.assertIn('Restaurants: Dairy -12%', message)

    @with_transaction()
    def test_overlap_within_batch_and_on_write(self):
        "Overlaps among new rules and by moving dates are refused too"
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            self.check_refused(RuleOverlapError, [
                    {'party': w.bistro.id, 'level': 'global',
                        'percentage': D('-5')},
                    {'party': w.bistro.id, 'level': 'global',
                        'percentage': D('-6'),
                        'start_date': dt.date(2025, 1, 1)},
                    ], 'Le Bistro: all products -5%',
                'Le Bistro: all products -6%')
            january, february = self.rules(
                {'party': w.bistro.id, 'level': 'global',
                    'percentage': D('-5'),
                    'end_date': dt.date(2025, 1, 31)},
                {'party': w.bistro.id, 'level': 'global',
                    'percentage': D('-6'),
                    'start_date': dt.date(2025, 2, 1)},
                )
            self.check_refused(RuleOverlapError, None, '-5%', '-6%',
                records=[january], write={'end_date': dt.date(2025, 2, 1)})

    @with_transaction()
    def test_not_overlaps(self):
        "Different minimum quantities, units or targets are no overlap"
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            rules = self.rules(
                {'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('18')},
                {'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('16'),
                    'min_quantity': 10},
                {'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('0.02'),
                    'unit': w.gram.id},
                {'price_group': w.restaurants.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('18')},
                {'party': w.bistro.id, 'level': 'category',
                    'category': w.dairy.id, 'percentage': D('-1')},
                {'party': w.bistro.id, 'level': 'category',
                    'category': w.cheese.id, 'percentage': D('-2')},
                )
            self.assertEqual(len(rules), 6)

    @with_transaction()
    def test_company_of_group(self):
        "A rule cannot belong to another company than its price group"
        pool = Pool()
        PriceGroup = pool.get('backoffice.price.group')
        company = create_company()
        other = create_company(
            "Other Company", currency=create_currency('EUR'))
        with set_company(company):
            w = self.setup_world(company)
        with set_company(other):
            wholesale, = PriceGroup.create([{'name': "Wholesale"}])
        with set_company(company):
            # by the domain of the field
            self.check_refused(DomainValidationError, {
                    'price_group': wholesale.id, 'level': 'global',
                    'percentage': D('-10'), 'company': company.id},
                'Wholesale: all products', '"Price Group"', '"Wholesale"')
            # Nor can a group with rules move to another company
            self.rules({'price_group': w.restaurants.id, 'level': 'global',
                    'percentage': D('-10')})
            with self.assertRaises(PriceGroupCompanyError) as cm:
                PriceGroup.write([w.restaurants], {'company': other.id})
            self.assertIn('Restaurants', cm.exception.message)
            self.assertEqual(PriceGroup(w.restaurants.id).company, company)

    @with_transaction()
    def test_unit_of_other_category(self):
        "A fixed price in a unit the product is not measured in is refused"
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            # by the domain of the field
            self.check_refused(DomainValidationError, {
                    'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('3'),
                    'unit': w.unit.id},
                'Le Bistro: Brie', '"Unit"')

    @with_transaction()
    def test_unit_column_renamed(self):
        "Updating a database whose rules have a uom column keeps their units"
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        table = Rule.__table__()
        cursor = Transaction().connection.cursor()
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            gram, = self.rules({'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('0.03'),
                    'unit': w.gram.id})
        # After a write: SQLite starts the transaction at the first one,
        # and only its rollback restores the column for the other tests
        Rule.__table_handler__().column_rename('unit', 'uom')
        self.assertFalse(Rule.__table_handler__().column_exist('unit'))

        Rule.__register__('backoffice_pricing')

        self.assertFalse(Rule.__table_handler__().column_exist('uom'))
        cursor.execute(*table.select(table.unit, where=table.id == gram.id))
        self.assertEqual(cursor.fetchone(), (w.gram.id,))

    @with_transaction()
    def test_missing_target(self):
        "A category rule without category is refused"
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            # by the states of the field
            self.check_refused(RequiredValidationError, {
                    'price_group': w.restaurants.id, 'level': 'category',
                    'percentage': D('-10')},
                '"Category"', 'Restaurants')

    @with_transaction()
    def test_bad_value_types(self):
        "Wrong types, NaN, absurd numbers and dangling links are refused"
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            rule, = self.rules({'price_group': w.restaurants.id,
                    'level': 'category', 'category': w.dairy.id,
                    'percentage': D('-5')})
            for values, texts in [
                    ({'percentage': 'abc'},
                        ['"abc"', '"Percentage"', '"Price Rule"',
                            "not of the field's type"]),
                    ({'percentage': D('NaN')},
                        ['"NaN"', '"Percentage"', 'not a finite number']),
                    ({'percentage': float('nan')},
                        ['"nan"', '"Percentage"', 'not a finite number']),
                    ({'percentage': D('1E+40')},
                        ['1E+40', '"Percentage"', '1000000000000 or less']),
                    ({'category': 999999},
                        ['"Category"', 'Product Category with id 999999',
                            'does not exist']),
                    ]:
                with self.subTest(values=values):
                    self.check_refused(ValueCheckError, dict({
                                'price_group': w.restaurants.id,
                                'level': 'category',
                                'category': w.cheese.id,
                                'percentage': D('-10')}, **values),
                        *texts)
                    self.check_refused(ValueCheckError, None, *texts,
                        records=[rule], write=values)
            self.check_refused(ValueCheckError, {
                    'price_group': 999999, 'level': 'global',
                    'percentage': D('5')},
                '"Price Group"', 'id 999999')
            self.check_refused(ValueCheckError, {
                    'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('10'),
                    'min_quantity': -1e308},
                '"Minimum Quantity"', '-1000000000000 or more')
            # the list, its search and the rule's names still work
            self.assertEqual(
                Rule.search([('rec_name', 'ilike', '%Dairy%')]), [rule])
            self.assertEqual(Rule(rule.id).category, w.dairy)

    @with_transaction()
    def test_explain_bad_input(self):
        "Explain Price without client, with NaN or a wrong unit: refused"
        pool = Pool()
        Explain = pool.get('backoffice.price.explain', type='wizard')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)

            def explain(**values):
                data = dict({
                        'company': company.id, 'party': w.bistro.id,
                        'product': w.milk.id, 'quantity': 1.0,
                        'date': TODAY}, **values)
                session_id, _, _ = Explain.create()
                try:
                    Explain.execute(session_id, {'ask': data}, 'explain')
                finally:
                    Explain.delete(session_id)

            for values, exception, message in [
                    ({'party': None}, ExplainError,
                        'To explain a price, fill in the field "Client".'),
                    ({'product': None}, ExplainError,
                        'To explain a price, fill in the field "Product".'),
                    ({'quantity': float('nan')}, ValueCheckError,
                        'The value "nan" of field "Quantity" of "Explain '
                        'Price" is not a finite number.'),
                    ({'party': 999999}, ValueCheckError,
                        'Field "Client" of "Explain Price" links to the '
                        'Party with id 999999, which does not exist.'),
                    ({'unit': w.kg.id}, ExplainError,
                        'The unit "Kilogram" cannot measure the product '
                        '"Milk": choose a unit of its category.'),
                    ]:
                with self.subTest(values=values):
                    with self.assertRaises(exception) as cm, request():
                        explain(**values)
                    self.assertEqual(cm.exception.message, message)
            # a complete question is answered
            explain()

    # --- permissions

    @with_transaction()
    def test_only_pricing_managers_edit_rules(self):
        "A sales user reads rules, only a Pricing Manager changes them"
        pool = Pool()
        User = pool.get('res.user')
        Group = pool.get('res.group')
        ModelData = pool.get('ir.model.data')
        Rule = pool.get('backoffice.price.rule')
        PriceGroup = pool.get('backoffice.price.group')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            rule, = self.rules({'price_group': w.restaurants.id,
                    'level': 'global', 'percentage': D('-10')})
            wholesale, = PriceGroup.create([{'name': "Wholesale"}])
        sale_group = Group(ModelData.get_id('sale', 'group_sale'))
        pricing_group = Group(ModelData.get_id(
                'backoffice_pricing', 'group_pricing_admin'))
        sales_user, manager = User.create([{
                    'name': name, 'login': login,
                    'groups': [('add', [group.id])],
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    } for name, login, group in [
                    ("Sales", 'sales', sale_group),
                    ("Pricing", 'pricing', pricing_group),
                    ]])

        @contextmanager
        def as_user(user):
            with Transaction().set_user(user.id), Transaction().set_context(
                    User.get_preferences(context_only=True),
                    _check_access=True):
                yield

        fields = ['level', 'percentage', 'start_date']
        before = self.snapshot(Rule, fields)
        with as_user(sales_user):
            self.assertEqual(Rule(rule.id).percentage, D('-10'))
            self.assertEqual(len(Rule.search([])), 1)
            with self.assertRaises(AccessError):
                Rule.create([{'price_group': w.restaurants.id,
                            'level': 'global', 'percentage': D('-5'),
                            'start_date': dt.date(2030, 1, 1)}])
            with self.assertRaises(AccessError):
                Rule.write([Rule(rule.id)], {'percentage': D('-50')})
            with self.assertRaises(AccessError):
                Rule.delete([Rule(rule.id)])
            with self.assertRaises(AccessError):
                PriceGroup.create([{'name': "Mine"}])
            with self.assertRaises(AccessError):
                Party.write([Party(w.bistro.id)],
                    {'price_group': wholesale.id})
            # Pricing still works for the sales user
            self.assertEqual(self.price(w, w.bread)[0], D('4.5000'))
        self.assertEqual(self.snapshot(Rule, fields), before)
        with set_company(company):
            self.assertEqual(Party(w.bistro.id).price_group, w.restaurants)

        with as_user(manager):
            Rule.write([Rule(rule.id)], {'percentage': D('-12')})
            new, = Rule.create([{'price_group': w.restaurants.id,
                        'level': 'category', 'category': w.dairy.id,
                        'percentage': D('-15')}])
            Party.write([Party(w.bistro.id)], {'price_group': wholesale.id})
            Rule.delete([new])
        self.assertEqual(Rule(rule.id).percentage, D('-12'))
        with set_company(company):
            self.assertEqual(Party(w.bistro.id).price_group, wholesale)

    # --- sale lines

    @with_transaction()
    def test_sales_user_copies_client(self):
        "A Sales user copies a client: without its price group"
        pool = Pool()
        Party = pool.get('party.party')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            self.rules({'party': w.bistro.id, 'level': 'global',
                    'percentage': D('-3')})
            seller, manager = User.create([{
                        'login': login, 'name': login,
                        'companies': [('add', [company.id])],
                        'company': company.id,
                        'groups': [('add', [
                                    ModelData.get_id(*g) for g in groups])],
                        } for login, groups in [
                        ('seller', [('sale', 'group_sale')]),
                        ('manager', [
                                ('sale', 'group_sale'),
                                ('backoffice_pricing', 'group_pricing_admin'),
                                ]),
                        ]])
            with Transaction().set_user(seller.id), check_access():
                copy, = Party.copy([w.bistro])
                self.assertEqual(
                    Party.read([copy.id], ['price_group'])[0][
                        'price_group'], None)
                # the Sales user reads the price group, cannot set it
                self.assertEqual(
                    Party.read([w.bistro.id], ['price_group'])[0][
                        'price_group'], w.restaurants.id)
                with self.assertRaises(AccessError):
                    Party.write([copy], {'price_group': w.restaurants.id})
            copy = Party(copy.id)
            self.assertEqual(
                (copy.price_group, copy.pricing_rules), (None, ()))
            self.assertEqual(Party(w.bistro.id).price_group, w.restaurants)
            # a Sales user who is also Pricing Manager copies them
            with Transaction().set_user(manager.id), check_access():
                copy, = Party.copy([w.bistro])
            copy = Party(copy.id)
            self.assertEqual(copy.price_group, w.restaurants)
            # (a client's own rules are never copied: their field has a
            # filter, which Tryton's copy skips)
            self.assertEqual(copy.pricing_rules, ())

    @with_transaction()
    def test_context_company_of_user(self):
        "A user works only with the values of one of the user's companies"
        pool = Pool()
        Party = pool.get('party.party')
        Address = pool.get('party.address')
        PartyPriceGroup = pool.get('party.party.price_group')
        CreditLimit = pool.get('party.party.credit_limit_amount')
        PriceGroup = pool.get('backoffice.price.group')
        Explain = pool.get('backoffice.price.explain', type='wizard')
        company1 = create_company()
        company2 = create_company("Other")
        with set_company(company1):
            w = self.setup_world(company1)
            Party.write([w.bistro], {
                    'credit_limit_amount': D(1000),
                    'addresses': [('create', [{'postal_code': '8001'}])]})
        with set_company(company2):
            wholesale, = PriceGroup.create([{'name': "Wholesale"}])
        user1, user2 = company_users([company1, company2], [
                ('sale', 'group_sale'), ('sale', 'group_sale_admin'),
                ('account_credit_limit', 'group_credit_limit'),
                ('backoffice_pricing', 'group_pricing_admin')])
        address, = w.bistro.addresses

        def explain(company):
            session_id, _, _ = Explain.create()
            Explain.execute(session_id, {'ask': {
                        'company': company.id, 'party': w.bistro.id,
                        'product': w.milk.id, 'quantity': 1.0,
                        'date': TODAY}}, 'explain')

        refused = [
            lambda: Party.read([w.bistro.id], ['credit_limit_amount']),
            lambda: Party.read([w.bistro.id], ['price_group']),
            lambda: Party.read([w.bistro.id], ['lifetime_revenue']),
            lambda: Party.read([w.bistro.id], ['top_products_quantity']),
            lambda: Party.read([w.bistro.id], ['history_sales']),
            lambda: Party.search([('lifetime_revenue', '>', 0)]),
            lambda: Address.read([address.id], ['zone_explanation']),
            lambda: Party.write([w.bistro], {'credit_limit_amount': D(1)}),
            lambda: Party.write(
                [w.bistro], {'price_group': w.restaurants.id}),
            lambda: PartyPriceGroup.search([]),
            lambda: CreditLimit.search([]),
            lambda: explain(company1),
            ]
        for i, call in enumerate(refused):
            with self.subTest(call=i):
                with acting(user2, company1):
                    with self.assertRaises(CompanyContextError) as cm, \
                            request():
                        call()
                self.assertEqual(cm.exception.message,
                    'You are not allowed to work with the values of company '
                    '"%s": it is not one of your companies. Choose one of '
                    'your companies in your preferences.' % company1.id)
        # nothing changed; each user works with the own company's values
        with acting(user1, company1):
            bistro, = Party.read([w.bistro.id], [
                    'credit_limit_amount', 'price_group'])
            self.assertEqual(
                (bistro['credit_limit_amount'], bistro['price_group']),
                (D(1000), w.restaurants.id))
            explain(company1)
        with acting(user2, company2):
            bistro, = Party.read([w.bistro.id], [
                    'credit_limit_amount', 'price_group'])
            self.assertEqual(
                (bistro['credit_limit_amount'], bistro['price_group']),
                (None, None))
            Party.write([w.bistro], {
                    'credit_limit_amount': D(5), 'price_group': wholesale.id})
            with self.assertRaises(CompanyContextError), request():
                explain(company1)
        with acting(user1, company1):
            bistro, = Party.read([w.bistro.id], [
                    'credit_limit_amount', 'price_group'])
            self.assertEqual(
                (bistro['credit_limit_amount'], bistro['price_group']),
                (D(1000), w.restaurants.id))
        # the server's own work is not a user's request
        with Transaction().set_context(company=company2.id):
            self.assertEqual(
                Party(w.bistro.id).credit_limit_amount, D(5))

    @with_transaction()
    def test_sale_line_created_without_price(self):
        "A line created by an API without unit price gets the rule's"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            fixed, = self.rules({'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('14.50')})
            sale, = Sale.create([{'party': w.bistro.id,
                        'currency': company.currency.id}])
            brie, bread, manual = Line.create([
                    {'sale': sale.id, 'product': w.brie.id, 'quantity': 2,
                        'unit': w.kg.id},
                    {'sale': sale.id, 'product': w.bread.id, 'quantity': 1,
                        'unit': w.unit.id},
                    {'sale': sale.id, 'product': w.brie.id, 'quantity': 1,
                        'unit': w.kg.id, 'unit_price': D('13')},
                    ])
            self.assertEqual(brie.unit_price, D('14.5000'))
            self.assertEqual(brie.price_rule, fixed)
            self.assertIn('Le Bistro: Brie', brie.price_origin)
            self.assertEqual(bread.unit_price, D('5.0000'))
            self.assertIsNone(bread.price_rule)
            self.assertEqual(bread.price_origin, 'list price (no rule)')
            self.assertEqual(manual.unit_price, D('13'))
            self.assertIsNone(manual.price_rule)
            self.assertEqual(manual.price_origin, 'price entered by hand')

    @with_transaction()
    def test_sale_line_on_change(self):
        "The on_change of product and quantity record the rule"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            base, ten = self.rules(
                {'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('18')},
                {'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('16'),
                    'min_quantity': 10},
                )
            sale = Sale(party=w.bistro, company=company,
                currency=company.currency)
            line = Line(sale=sale, type='line', quantity=1, taxes=[])
            line.product = w.brie
            line.on_change_product()
            self.assertEqual(line.unit_price, D('18.0000'))
            self.assertEqual(line.price_rule, base)
            line.quantity = 12
            line.on_change_quantity()
            self.assertEqual(line.unit_price, D('16.0000'))
            self.assertEqual(line.price_rule, ten)
            line.unit_price = D('15')
            line.on_change_unit_price()
            self.assertIsNone(line.price_rule)
            self.assertEqual(line.price_origin, 'price entered by hand')

    # --- bulk operations

    @with_transaction()
    def test_copy_group_rules(self):
        "Copy a group's rules to a client, keeping or replacing its own"
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            self.rules(
                {'price_group': w.restaurants.id, 'level': 'global',
                    'percentage': D('-10')},
                {'price_group': w.restaurants.id, 'level': 'category',
                    'category': w.dairy.id, 'percentage': D('-15')},
                )
            own, = self.rules({'party': w.shop.id, 'level': 'global',
                    'percentage': D('-3')})
            self.assertEqual(Rule.copy_group_rules(
                    w.restaurants, [w.shop], conflict='skip'), (1, 1, 0))
            self.assertEqual(Rule(own.id).percentage, D('-3'))
            shop_rules = Rule.search([('party', '=', w.shop.id)])
            self.assertEqual(
                sorted((r.level, r.percentage) for r in shop_rules),
                [('category', D('-15')), ('global', D('-3'))])
            with self.assertRaises(CopyRulesWarning):
                Rule.copy_group_rules(
                    w.restaurants, [w.shop], conflict='replace')
            self.assertEqual(len(Rule.search([('party', '=', w.shop.id)])), 2)

    @with_transaction()
    def test_bulk_update(self):
        "A percentage update moves fixed prices and percentages"
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            global_, fixed = self.rules(
                {'price_group': w.restaurants.id, 'level': 'global',
                    'percentage': D('-10')},
                {'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('14.50')},
                )
            preview = Rule.bulk_preview([global_, fixed], D('3'))
            self.assertEqual([(f, new) for _, f, _, new in preview],
                [('percentage', D('-7.30')), ('fixed_price', D('14.9350'))])
            Rule.bulk_apply([global_, fixed], D('3'))
            self.assertEqual(Rule(global_.id).percentage, D('-7.30'))
            self.assertEqual(Rule(fixed.id).fixed_price, D('14.9350'))

    @with_transaction()
    def test_bulk_update_refused(self):
        "A bulk update giving a rule an invalid value changes nothing"
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            small, big = self.rules(
                {'price_group': w.restaurants.id, 'level': 'global',
                    'percentage': D('-10')},
                {'party': w.bistro.id, 'level': 'global',
                    'percentage': D('900')},
                )
            before = self.snapshot(Rule, ['percentage'])
            with self.assertRaises(BulkUpdateError) as cm:
                Rule.bulk_apply([small, big], D('20'))
            self.assertIn('Le Bistro: all products +900%',
                cm.exception.message)
            with self.assertRaises(BulkUpdateError):
                Rule.bulk_apply([small], D('-100'))
            self.assertEqual(self.snapshot(Rule, ['percentage']), before)

    # --- account requests

    @with_transaction()
    def test_request_approval_sets_price_group(self):
        "Approving an account request gives the client its price group"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        Party = pool.get('party.party')
        PriceGroup = pool.get('backoffice.price.group')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            request, = Request.create([{
                        'client_type': 'b2c',
                        'contact_name': "Anna Keller",
                        'contact_email': 'anna@example.com',
                        'price_group': w.restaurants.id,
                        }])
            # Private clients are approved on arrival (configuration),
            # which grants no price group: choosing one is the approver's
            request = Request(request.id)
            self.assertEqual(request.state, 'approved')
            client = request.party
            self.assertIsNone(Party(client.id).price_group)

            # A request for an existing client waits for a person, who
            # grants the price group
            request, = Request.create([{
                        'client_type': 'b2c',
                        'contact_name': "Anna Keller",
                        'contact_email': 'anna@example.com',
                        'party': client.id,
                        'price_group': w.restaurants.id,
                        }])
            self.assertEqual(request.state, 'to_verify')
            Request.approve([request])
            self.assertEqual(Party(client.id).price_group, w.restaurants)

            # A second request of the client moves it to its group: the
            # value of the company is changed, not added
            wholesale, = PriceGroup.create([{'name': "Wholesale"}])
            request, = Request.create([{
                        'client_type': 'b2c',
                        'contact_name': "Anna Keller",
                        'contact_email': 'anna@example.com',
                        'party': client.id,
                        'price_group': wholesale.id,
                        }])
            self.assertEqual(request.state, 'to_verify')
            Request.approve([request])
            self.assertEqual(Party(client.id).price_group, wholesale)
            self.assertEqual(len(Party(client.id).price_groups), 1)

    # --- price sheet

    @with_transaction()
    def test_price_sheet(self):
        "A client's price sheet lists every salable product with its rule"
        pool = Pool()
        Sheet = pool.get('backoffice.price.sheet')
        company = create_company()
        with set_company(company):
            w = self.setup_world(company)
            dairy, fixed = self.rules(
                {'price_group': w.restaurants.id, 'level': 'category',
                    'category': w.dairy.id, 'percentage': D('-15')},
                {'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('14.50')},
                )
            sheet, = Sheet.create([{'party': w.bistro.id}])
            Sheet.compute([sheet])
            sheet = Sheet(sheet.id)
            lines = {l.product: l for l in sheet.lines}
            self.assertEqual(sheet.line_count, 3)
            self.assertEqual(lines[w.milk].unit_price, D('1.7000'))
            self.assertEqual(lines[w.milk].rule, dairy)
            self.assertEqual(lines[w.milk].difference, D('-15.00'))
            self.assertEqual(lines[w.brie].unit_price, D('14.5000'))
            self.assertEqual(lines[w.brie].level, 'product')
            self.assertEqual(lines[w.bread].unit_price, D('5.0000'))
            self.assertIsNone(lines[w.bread].rule)
            # Each price is the one a sale line gets
            for product, line in lines.items():
                self.assertEqual(
                    self.price(w, product)[0], line.unit_price)
            # The batch names of the export are the rules' rec_names
            rules = [dairy, fixed]
            self.assertEqual(
                pool.get('backoffice.price.rule').describe(
                    [r.id for r in rules]),
                {r.id: r.rec_name for r in rules})
            csv = sheet.to_csv().splitlines()
            self.assertEqual(len(csv), 4)
            self.assertIn('Client Price', csv[0])
            self.assertTrue(any(
                    'Brie' in r and '14.5' in r and 'Le Bistro' in r
                    for r in csv))
            # Compute again replaces the lines
            Sheet.compute([sheet])
            self.assertEqual(Sheet(sheet.id).line_count, 3)

    @with_transaction()
    def test_price_sheet_of_other_company(self):
        """A user of another company neither reads, computes, exports nor
        creates a company's price sheets, whatever company the request's
        context names; nothing of the sheet changes"""
        pool = Pool()
        Sheet = pool.get('backoffice.price.sheet')
        Line = pool.get('backoffice.price.sheet.line')
        Export = pool.get('backoffice.price.sheet.export', type='wizard')
        company1 = create_company()
        company2 = create_company("Other")
        with set_company(company1):
            w = self.setup_world(company1)
            self.rules({'party': w.bistro.id, 'level': 'product',
                    'product': w.brie.id, 'fixed_price': D('14.50')})
        user1, user2 = company_users([company1, company2], [
                ('sale', 'group_sale'),
                ('backoffice_pricing', 'group_pricing_admin')])

        def export(sheet):
            with Transaction().set_context(
                    active_model=Sheet.__name__, active_id=sheet.id,
                    active_ids=[sheet.id]):
                session_id, _, _ = Export.create()
                return Export.execute(session_id, {}, 'start')

        with acting(user1, company1):
            sheet, = Sheet.create([{'party': w.bistro.id}])
            Sheet.compute([sheet])
            self.assertTrue(export(sheet)['view']['defaults']['file'])
        sheet = Sheet(sheet.id)
        before = (sheet.computed_at, sheet.company, sheet.line_count)
        line_ids = [l.id for l in sheet.lines]
        self.assertEqual(len(line_ids), 3)

        for company in [company2, company1]:
            with self.subTest(context_company=company.id):
                with acting(user2, company):
                    for call in [
                            lambda: Sheet.read([sheet.id], ['party']),
                            lambda: Line.read(line_ids, ['unit_price']),
                            lambda: Sheet.compute([Sheet(sheet.id)]),
                            lambda: export(sheet),
                            lambda: Sheet.create([{
                                        'company': company1.id,
                                        'party': w.bistro.id}]),
                            ]:
                        # the record rule of the sheet's company, which
                        # its lines follow
                        with self.assertRaisesRegex(AccessError,
                                    r'^You are not allowed to (read|create) '
                                    r'records .*of "Client Price Sheet'), \
                                request():
                            call()
                    if company == company2:
                        self.assertEqual(Sheet.search([]), [])
                        self.assertEqual(Line.search([]), [])
        sheet = Sheet(sheet.id)
        self.assertEqual(
            (sheet.computed_at, sheet.company, sheet.line_count), before)
        self.assertEqual(Sheet.search([], count=True), 1)


del ModuleTestCase
