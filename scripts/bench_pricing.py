#!/usr/bin/env python3
# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Benchmark of the client pricing engine (backoffice_pricing)

A throw-away database with backoffice_pricing activated gets, by bulk SQL
inserts, 5 price groups, 1,000 clients (with tags), 20,000 products in 200
categories and 100,000 rules (global, category and fixed prices with
quantity breaks, some out of date). Then:

(a) 100,000 (client, product, quantity) prices resolved in one batch after a
    one-time engine load (best of three runs, each on a fresh engine),
    against product.product.get_sale_price called per pair through the ORM
    on a sample (the same prices, checked);
(b) a client price sheet of the 20,000 products, computed and stored (best
    of three computations), and its CSV export; against the same prices
    read the upstream way, with the products' list (search_read of
    sale_price_uom), which a stored sheet must beat to be kept;
(c) adding a sale line through proteus (product, quantity, save) for a
    client with rules, against the same with upstream sale_price_list and a
    price list equivalent to the client's rules, in a second throw-away
    database.

Every figure is printed with its target and PASS/FAIL; the exit status is 1
when one fails. Other processes share the CPUs: the load average is printed
at the start and the end. Usage:

    .venv/bin/python scripts/bench_pricing.py
        [--database-uri postgresql://postgres@127.0.0.1:5432/] [--keep]
"""
import datetime as dt
import os
import random
import sys
import time
from collections import defaultdict
from decimal import Decimal

from benchlib import (
    arguments, conclude, configure, insert, report, throwaway_database)

SEED = 20260214

parser = arguments(__doc__.splitlines()[0])
parser.add_argument('--template', metavar='PREFIX',
    help="PostgreSQL: copy the throw-away databases from PREFIX_pricing and "
    "PREFIX_price_list (activated databases without data), made on the "
    "first run, instead of activating the modules each time")
parser.add_argument('--groups', type=int, default=5)
parser.add_argument('--clients', type=int, default=1_000)
parser.add_argument('--products', type=int, default=20_000)
parser.add_argument('--categories', type=int, default=200)
parser.add_argument('--rules', type=int, default=100_000)
parser.add_argument('--pairs', type=int, default=100_000)
parser.add_argument('--orm-sample', type=int, default=500)
parser.add_argument('--lines', type=int, default=20,
    help="sale lines added through proteus per module (default: 20)")
args = parser.parse_args()
configure(args, 'bench_pricing')
PRICE_LIST_DB = 'bench_price_list_%d' % os.getpid()

from sql import Column, Table  # noqa: E402
from sql.functions import CurrentTimestamp  # noqa: E402

from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import DB_NAME  # noqa: E402
from trytond.transaction import Transaction  # noqa: E402


def table(model):
    "The table of a model"
    return Pool().get(model)._table


def clone(cursor, table_name, model_id, overrides):
    """Insert one row per dict of overrides, copying every other column of
    the row model_id (what the ORM filled for the model record, whatever
    the activated modules require)"""
    table = Table(table_name)
    cursor.execute(*table.select(where=Column(table, 'id') == model_id))
    names = [d[0] for d in cursor.description]
    base = dict(zip(names, cursor.fetchone()))
    del base['id']
    base['create_date'] = CurrentTimestamp()
    columns = list(base)
    rows = [[o.get(c, base[c]) for c in columns] for o in overrides]
    return insert(cursor, table, columns, rows, returning=True)


def setup_company(name):
    "The company (USD), the admin in it, an accounting category, units"
    from trytond.modules.company.tests import create_company
    pool = Pool()
    User = pool.get('res.user')
    Category = pool.get('product.category')
    Uom = pool.get('product.uom')
    company = create_company(name)
    User.write([User(1)], {
            'companies': [('add', [company.id])],
            'company': company.id,
            })
    accounting, = Category.create([{
                'name': "Accounting", 'accounting': True}])
    unit, = Uom.search([('name', '=', "Unit")])
    kg, = Uom.search([('name', '=', "Kilogram")])
    return company, accounting, unit, kg


def load_catalogue(rng, company, accounting, unit, kg):
    """200 categories (20 roots of 9 children), 20,000 products with a list
    price, each in one category: [(product id, category id, unit id)] and
    {category: parent}"""
    pool = Pool()
    Template = pool.get('product.template')
    cursor = Transaction().connection.cursor()
    roots = args.categories // 10
    root_ids = insert(cursor, table('product.category'),
        ['name', 'create_uid', 'create_date'],
        [[f"Family {r:02d}", 0, CurrentTimestamp()] for r in range(roots)],
        returning=True)
    parents = {c: None for c in root_ids}
    child_rows = [[f"Family {r:02d} / {c}", root_ids[r], 0,
            CurrentTimestamp()]
        for r in range(roots) for c in range(args.categories // roots - 1)]
    child_ids = insert(cursor, table('product.category'),
        ['name', 'parent', 'create_uid', 'create_date'], child_rows,
        returning=True)
    parents.update({c: r[1] for c, r in zip(child_ids, child_rows)})
    categories = root_ids + child_ids

    model, = Template.create([{
                'name': "Model", 'type': 'goods', 'salable': True,
                'default_uom': unit.id, 'sale_uom': unit.id,
                'account_category': accounting.id,
                'list_price': Decimal('1'),
                'products': [('create', [{}])],
                }])
    units = [unit.id if i % 4 else kg.id for i in range(args.products)]
    template_ids = clone(cursor, table('product.template'), model.id, [
            {'name': f"Product {i:05d}", 'default_uom': u, 'sale_uom': u}
            for i, u in enumerate(units)])
    product_ids = clone(
        cursor, table('product.product'), model.products[0].id, [
            {'template': t, 'code': f'P{i:05d}'}
            for i, t in enumerate(template_ids)])
    insert(cursor, table('product.list_price'),
        ['template', 'company', 'list_price', 'create_uid', 'create_date'],
        [[t, company.id, Decimal(rng.randrange(100, 10000)) / 100, 0,
                CurrentTimestamp()] for t in template_ids])
    product_category = [rng.choice(categories) for _ in template_ids]
    insert(cursor, table('product.template-product.category'),
        ['template', 'category', 'create_uid', 'create_date'],
        [[t, c, 0, CurrentTimestamp()]
            for t, c in zip(template_ids, product_category)])
    Template.delete([model])
    return list(zip(product_ids, product_category, units)), parents


def make_rules(rng, products, groups, tags, clients):
    """The rules as dicts of columns: per group 1 global, 40 categories,
    1,000 fixed prices (a fifth with a quantity break); per tag 1 global,
    10 categories, 100 fixed prices; clients share the rest (about 93
    each: half a global, 3 categories, fixed prices, some expired)"""
    categories = sorted({c for _, c, _ in products})
    today = dt.date.today()
    rules = []

    def owner_rules(scope, field, owner, n_categories, n_products,
            with_global=True):
        base = {'scope': scope, field: owner}
        if with_global:
            rules.append({**base, 'level': 'global',
                    'percentage': Decimal(-rng.randrange(1, 15))})
        for category in rng.sample(categories, n_categories):
            rules.append({**base, 'level': 'category', 'category': category,
                    'percentage': Decimal(-rng.randrange(1, 30))})
        for product, _, _ in rng.sample(products, n_products):
            price = Decimal(rng.randrange(50, 9000)) / 100
            rules.append({**base, 'level': 'product', 'product': product,
                    'fixed_price': price, 'min_quantity': 0})
            choice = rng.random()
            if choice < 0.2:
                rules.append({**base, 'level': 'product',
                        'product': product, 'min_quantity': 10,
                        'fixed_price': (price * Decimal('0.9')).quantize(
                            Decimal('0.01'))})
            elif choice < 0.25:
                # an old price, expired: loaded for explanations only
                rules.append({**base, 'level': 'product',
                        'product': product, 'min_quantity': 5,
                        'fixed_price': price,
                        'start_date': today - dt.timedelta(days=400),
                        'end_date': today - dt.timedelta(days=30)})

    for group in groups:
        owner_rules('group', 'price_group', group, 40, 1000)
    for tag in tags:
        owner_rules('tag', 'price_tag', tag, 10, 100)
    remaining = args.rules - len(rules)
    for i, client in enumerate(clients):
        share = remaining // (len(clients) - i)
        start = len(rules)
        owner_rules('client', 'party', client, 3, max(0, (share - 3) * 10
                // 12), with_global=bool(i % 2))
        remaining -= len(rules) - start
    return rules[:args.rules]


def load_pricing(rng, company, products):
    "Groups, tags, clients and rules by SQL; returns what (a) needs"
    pool = Pool()
    Party = pool.get('party.party')
    PartyCategory = pool.get('party.category')
    PriceGroup = pool.get('backoffice.price.group')
    PriceTag = pool.get('backoffice.price.tag')
    cursor = Transaction().connection.cursor()
    groups = PriceGroup.create([{'name': f"Group {g}"}
            for g in range(args.groups)])
    party_tags = PartyCategory.create([{'name': n}
            for n in ["HoReCa", "Premium", "Canteen", "Hotel"]])
    tags = PriceTag.create([{'tag': t.id, 'sequence': 10 * (i + 1)}
            for i, t in enumerate(party_tags)])
    model, = Party.create([{'name': "Model Client"}])
    client_ids = clone(cursor, table('party.party'), model.id, [
            {'name': f"Client {i:04d}", 'code': f'BENCH{i:04d}'}
            for i in range(args.clients)])
    Party.delete([model])
    insert(cursor, table('party.party.price_group'),
        ['party', 'company', 'price_group', 'create_uid', 'create_date'],
        [[c, company.id, groups[i % len(groups)].id, 0, CurrentTimestamp()]
            for i, c in enumerate(client_ids)])
    insert(cursor, table('party.party-party.category'),
        ['party', 'category', 'create_uid', 'create_date'],
        [[c, t.id, 0, CurrentTimestamp()]
            for c in client_ids
            for t in rng.sample(party_tags, rng.randrange(0, 3))])
    rules = make_rules(rng, products, [g.id for g in groups],
        [t.id for t in tags], client_ids)
    columns = ['company', 'scope', 'party', 'price_tag', 'price_group',
        'level', 'product', 'category', 'percentage', 'fixed_price',
        'min_quantity', 'start_date', 'end_date']
    insert(cursor, table('backoffice.price.rule'),
        columns + ['create_uid', 'create_date'],
        [[company.id] + [r.get(c) for c in columns[1:]]
            + [0, CurrentTimestamp()] for r in rules])
    return client_ids, rules


def part_a(company, client_ids, products):
    from trytond.modules.backoffice_pricing.engine import PricingEngine
    pool = Pool()
    Rule = pool.get('backoffice.price.rule')
    Product = pool.get('product.product')
    rng = random.Random(SEED + 1)
    product_ids = [p for p, _, _ in products]
    pairs = [(rng.choice(client_ids), rng.choice(product_ids),
            rng.choice([1, 1, 2, 3, 5, 10, 12, 25]), None)
        for _ in range(args.pairs)]
    start = time.perf_counter()
    engine = Rule.get_engine(company, {c for c, _, _, _ in pairs},
        {p for _, p, _, _ in pairs}, list_prices=True)
    load = time.perf_counter() - start
    # Best of three runs (other processes share the CPUs), each on a fresh
    # engine built from the loaded rules: nothing memoised from a run before
    runs = []
    for run in range(3):
        fresh = PricingEngine(
            list(engine.rules.values()), clients=engine.clients.values(),
            tags=engine.tags.values(), products=engine.products.values(),
            parents=engine.parents, units=engine.units.values(),
            date=engine.date, rounding=engine.rounding)
        start = time.perf_counter()
        prices = fresh.prices(pairs)
        runs.append(time.perf_counter() - start)
    resolve = min(runs)
    rate = len(pairs) / resolve
    ruled = sum(1 for _, m in prices if m is not None)
    print(f"(a) batch: engine loaded in {load:.2f} s ({len(engine.rules):,} "
        f"rules, {len(engine.clients):,} clients, {len(engine.products):,} "
        f"products); {len(pairs):,} prices resolved in "
        f"{' / '.join(f'{r:.3f}' for r in runs)} s (3 runs), "
        f"{ruled:,} by a rule")
    report("batch prices per second (best run)", f"{rate:,.0f}", "/s",
        ">= 100,000/s", rate >= 100_000)

    # The baseline: the ORM hook, one call per pair, as a sale line does
    sample = pairs[:args.orm_sample]
    today = engine.date
    start = time.perf_counter()
    orm_prices = []
    for client, product_id, quantity, _ in sample:
        product = Product(product_id)
        with Transaction().set_context(
                customer=client, company=company.id,
                currency=company.currency.id, uom=product.sale_uom.id,
                sale_date=today):
            product = Product(product_id)
            orm_prices.append(
                Product.get_sale_price([product], quantity)[product_id])
    orm = time.perf_counter() - start
    orm_rate = len(sample) / orm
    same = sum(1 for (p, _), q in zip(prices, orm_prices) if p == q)
    print(f"    ORM get_sale_price per pair ({len(sample)} pairs): "
        f"{orm_rate:,.0f}/s, {orm / len(sample) * 1e3:.2f} ms per price; "
        f"batch/ORM ratio {rate / orm_rate:,.0f}x")
    report("same prices batch and ORM", f"{same}/{len(sample)}", "",
        "all", same == len(sample))


def part_b(company, client_ids):
    pool = Pool()
    Sheet = pool.get('backoffice.price.sheet')
    transaction = Transaction()
    sheet, = Sheet.create([{'party': client_ids[7]}])
    transaction.commit()
    # Best of three computations (each replaces the rows of the last)
    runs = []
    for run in range(3):
        start = time.perf_counter()
        Sheet.compute([sheet])
        runs.append(time.perf_counter() - start)
        transaction.commit()
    seconds = min(runs)
    count = Sheet(sheet.id).line_count
    start = time.perf_counter()
    csv = Sheet(sheet.id).to_csv()
    csv_seconds = time.perf_counter() - start
    print(f"(b) price sheet: {count:,} products priced and stored in "
        f"{' / '.join(f'{r:.2f}' for r in runs)} s (3 runs); CSV export "
        f"({len(csv) // 1024:,} KiB) in {csv_seconds:.2f} s")
    report(f"price sheet of {args.products:,} products (best run)",
        f"{seconds:.2f}", "s", "<= 1 s",
        seconds <= 1 and count == args.products)
    part_b_upstream(company, sheet.id, seconds)


def part_b_upstream(company, sheet_id, sheet_seconds):
    """The same sheet the upstream way, without storing it: the products'
    list read as the client's list view (or an ir.export of it) reads it,
    search_read through the access checks with the sale price in the
    context of the sheet (sale_price_uom, through our get_sale_price); best
    of three, against the best computation of the stored sheet"""
    from trytond.transaction import check_access
    pool = Pool()
    Sheet = pool.get('backoffice.price.sheet')
    Line = pool.get('backoffice.price.sheet.line')
    Product = pool.get('product.product')
    sheet = Sheet(sheet_id)
    stored = {r['product']: r['unit_price'] for r in Line.search_read(
            [('sheet', '=', sheet.id)],
            fields_names=['product', 'unit_price'])}
    context = {'company': company.id, 'customer': sheet.party.id,
        'currency': company.currency.id, 'sale_date': sheet.date,
        'quantity': sheet.quantity}
    runs = []
    for run in range(3):
        start = time.perf_counter()
        with Transaction().set_context(context), check_access():
            rows = Product.search_read([('salable', '=', True)],
                fields_names=['code', 'name', 'sale_uom', 'list_price_uom',
                    'sale_price_uom'])
        runs.append(time.perf_counter() - start)
    seconds = min(runs)
    same = sum(1 for r in rows if stored.get(r['id']) == r['sale_price_uom'])
    print(f"    upstream way: {len(rows):,} products read with their sale "
        f"price by search_read in {' / '.join(f'{r:.2f}' for r in runs)} s "
        f"(3 runs), {seconds / len(rows) * 1e3:.2f} ms per product; stored "
        f"sheet {sheet_seconds:.2f} s; same prices {same:,}/{len(stored):,}")
    report("upstream product list / stored sheet (best)",
        f"{seconds / sheet_seconds:.1f}", "x", ">= 1x (keep)",
        seconds >= sheet_seconds and same == len(stored) == len(rows))


def add_lines(database, party_id, product_ids, quantities):
    """Add one sale line per product through proteus as a user would:
    product, quantity, save; seconds per line (after 3 to warm up)"""
    from proteus import Model
    from proteus import config as pconfig
    pconfig.set_trytond(database=database)
    Sale = Model.get('sale.sale')
    Line = Model.get('sale.line')
    sale = Sale(party=party_id)
    sale.save()
    times, lines = [], []
    for product_id, quantity in zip(product_ids, quantities):
        start = time.perf_counter()
        line = Line(sale=sale)
        line.product = Model.get('product.product')(product_id)
        line.quantity = quantity
        line.save()
        times.append(time.perf_counter() - start)
        lines.append(line)
    times = times[3:]
    return sum(times) / len(times), [l.unit_price for l in lines]


def equivalent_price_list(rules, client, group, tag_ids, parents):
    """The lines of a price list that gives the client the prices of its
    rules: fixed prices (client, tags, group; highest quantity first),
    categories (client, tags, group; deepest first), the first global"""
    def depth(category):
        d = 0
        while parents.get(category) is not None:
            category = parents[category]
            d += 1
        return d

    chain = [('party', client)] + [('price_tag', t) for t in tag_ids] + [
        ('price_group', group)]
    today = dt.date.today()
    by_owner = defaultdict(list)
    for rule in rules:
        if rule.get('end_date') and rule['end_date'] < today:
            continue
        for field, owner in chain:
            if rule.get(field) == owner:
                by_owner[(field, owner)].append(rule)
    lines = []
    for owner in chain:
        for rule in sorted((r for r in by_owner[owner]
                    if r['level'] == 'product'),
                key=lambda r: (r['product'], -r['min_quantity'])):
            lines.append({'product': rule['product'],
                    'quantity': rule['min_quantity'] or None,
                    'formula': f"Decimal('{rule['fixed_price']}')"})
    for owner in chain:
        for rule in sorted((r for r in by_owner[owner]
                    if r['level'] == 'category'),
                key=lambda r: -depth(r['category'])):
            lines.append({'category': rule['category'],
                    'formula': "unit_price * Decimal('%s')" % (
                        (100 + rule['percentage']) / 100)})
    for owner in chain:
        globals_ = [r for r in by_owner[owner] if r['level'] == 'global']
        if globals_:
            lines.append({'formula': "unit_price * Decimal('%s')" % (
                        (100 + globals_[0]['percentage']) / 100)})
            break
    lines.append({'formula': 'unit_price'})
    return lines


def part_c(client, group, tag_ids, rules, products, parents, sample):
    "(c): ours in DB_NAME, then upstream sale_price_list in a second DB"
    rng = random.Random(SEED + 3)
    quantities = [rng.choice([1, 2, 5, 10, 12]) for _ in sample]
    ours, our_prices = add_lines(DB_NAME, client, sample, quantities)

    with throwaway_database(['sale_price_list'], args.keep,
            name=PRICE_LIST_DB,
            template=args.template and f'{args.template}_price_list'):
        with Transaction().start(PRICE_LIST_DB, 0, context={
                    '_skip_warnings': True}) as transaction:
            pool = Pool()
            Party = pool.get('party.party')
            PriceList = pool.get('product.price_list')
            company, accounting, unit, kg = setup_company("Bench Company")
            transaction.commit()
            with transaction.set_user(1), transaction.set_context(
                    company=company.id):
                # the same catalogue (generated in the same order: ids map by
                # position) and the client's rules as price list lines
                catalogue, parents_2 = load_catalogue(
                    random.Random(SEED), company, accounting, unit, kg)
                product_map = {a: b for (a, _, _), (b, _, _) in zip(
                        products, catalogue)}
                category_map = dict(zip(parents, parents_2))
                lines = equivalent_price_list(
                    rules, client, group, tag_ids, parents)
                for line in lines:
                    if line.get('product'):
                        line['product'] = product_map[line['product']]
                    if line.get('category'):
                        line['category'] = category_map[line['category']]
                sample_2 = [product_map[p] for p in sample]
                price_list, = PriceList.create([{
                            'name': "Client prices", 'price': 'list_price',
                            'lines': [('create', lines)]}])
                party, = Party.create([{'name': "Client",
                            'sale_price_list': price_list.id}])
                transaction.commit()
        theirs, their_prices = add_lines(
            PRICE_LIST_DB, party.id, sample_2, quantities)
    same = sum(1 for a, b in zip(our_prices, their_prices) if a == b)
    print(f"(c) proteus sale line (product, quantity, save), "
        f"{len(sample) - 3} lines timed: backoffice_pricing "
        f"{ours * 1e3:.1f} ms, sale_price_list {theirs * 1e3:.1f} ms "
        f"({len(lines):,} price list lines); same prices "
        f"{same}/{len(sample)}")
    report("proteus sale line, ours / sale_price_list",
        f"{ours / theirs:.2f}", "x", "<= 1.2x", ours <= 1.2 * theirs)


def main():
    from trytond import backend
    print(f"backend {backend.name}, throw-away database {DB_NAME}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
        f"(other processes share them: figures vary with it)")
    with throwaway_database(['backoffice_pricing'], args.keep,
            template=args.template and f'{args.template}_pricing'):
        with Transaction().start(DB_NAME, 0, context={
                    '_skip_warnings': True}) as transaction:
            company, accounting, unit, kg = setup_company("Bench Company")
            transaction.commit()
            with transaction.set_user(1), transaction.set_context(
                    company=company.id):
                start = time.perf_counter()
                products, parents = load_catalogue(
                    random.Random(SEED), company, accounting, unit, kg)
                client_ids, rules = load_pricing(
                    random.Random(SEED + 2), company, products)
                transaction.commit()
                print(f"    data: {args.groups} price groups, "
                    f"{len(client_ids):,} clients, {len(products):,} "
                    f"products in {len(parents)} categories, "
                    f"{len(rules):,} rules, inserted in "
                    f"{time.perf_counter() - start:.1f} s")
                part_a(company, client_ids, products)
                part_b(company, client_ids)
                # The client of (c): with a group and tags
                pool = Pool()
                Party = pool.get('party.party')
                client = next(c for c in client_ids
                    if len(Party(c).categories) >= 2)
                group = Party(client).price_group.id
                PriceTag = pool.get('backoffice.price.tag')
                tag_ids = [t.id for t in sorted(PriceTag.search([
                                ('tag', 'in', [
                                        c.id for c in Party(client).categories]),
                                ]), key=lambda t: (t.sequence, t.id))]
                rng = random.Random(SEED + 4)
                own = [r['product'] for r in rules
                    if r.get('party') == client and r['level'] == 'product']
                # a third fixed prices of the client, the rest any product
                sample = [rng.choice(own) if i % 3 == 0 and own
                    else rng.choice(products)[0]
                    for i in range(args.lines + 3)]
        part_c(client, group, tag_ids, rules, products, parents, sample)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return conclude()


if __name__ == '__main__':
    sys.exit(main())
