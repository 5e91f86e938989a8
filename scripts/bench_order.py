#!/usr/bin/env python3
# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Benchmark the order list, search and bulk moves of backoffice_order

Builds a throw-away PostgreSQL database (activated like the tests, from
the --db-cache directory when given), bulk-inserts ORDERS orders by SQL
(INSERT … SELECT over generate_series, cloning one order made by the ORM)
and measures:

- the first page of the order list filtered by stage and zone (<= 150 ms),
- the search of a client name and of a product name (<= 300 ms),
- a bulk stage change of 1,000 orders with per-order results (<= 20 s),
- the number of queries of a list page, for 20 and 200 rows (equal).

Each figure is printed with its target, PASS/FAIL and the ratio to a
baseline measured in the same run (the unfiltered first page).

    .venv/bin/python scripts/bench_order.py
        [--database-uri postgresql://postgres@127.0.0.1:5432/]
        [--orders 100000] [--clients 5000] [--bulk 1000]
        [--db-cache /tmp/bench-cache] [--keep]
"""
import argparse
import datetime as dt
import logging
import os
import statistics
import sys
import time
from decimal import Decimal

DEFAULT_URI = 'postgresql://postgres@127.0.0.1:5432/'
PAGE_FIELDS = [
    'number', 'party.rec_name', 'stage.rec_name', 'priority',
    'delivery_date', 'delivery_window.rec_name', 'delivery_zone.rec_name',
    'driver.rec_name', 'labels', 'manual_review', 'untaxed_amount',
    'sale_date']


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--database-uri', default=DEFAULT_URI,
        help="the PostgreSQL server (default: %(default)s)")
    parser.add_argument('--orders', type=int, default=100_000)
    parser.add_argument('--clients', type=int, default=5_000)
    parser.add_argument('--bulk', type=int, default=1_000)
    parser.add_argument('--db-cache',
        help="a DB_CACHE of trytond's tests (a directory) to activate the "
        "module faster on repeated runs of the same code")
    parser.add_argument('--keep', action='store_true',
        help="keep the database after the run")
    return parser.parse_args()


def main():
    args = parse_args()
    if not args.database_uri.startswith('postgresql'):
        sys.exit("--database-uri must be a PostgreSQL server")
    # trytond reads its configuration from the environment when imported
    os.environ['TRYTOND_DATABASE_URI'] = args.database_uri
    # a cache is keyed by the module names, not their code: only on demand
    if args.db_cache:
        os.environ['DB_CACHE'] = args.db_cache
    else:
        os.environ.pop('DB_CACHE', None)
    os.environ['DB_NAME'] = 'bench_order_%d' % os.getpid()

    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction

    t0 = time.perf_counter()
    drop_db()
    activate_module(['backoffice_order'])
    print(f"database {DB_NAME} ready in {time.perf_counter() - t0:.0f} s",
        flush=True)
    try:
        with Transaction().start(DB_NAME, 0) as transaction:
            fixtures = build(args)
            transaction.commit()
        with Transaction().start(DB_NAME, 0, context={
                    'company': fixtures['company']}) as transaction:
            results = measure(args, fixtures)
            transaction.rollback()
        results.append(bulk(args, fixtures))
    finally:
        if not args.keep:
            drop_db()
    failed = [r for r in results if not r[-1]]
    sys.exit(1 if failed else 0)


def build(args):
    "The company, zones, one ORM order, then the clones by SQL"
    from sql import Cast, Literal, Select
    from sql.conditionals import Case
    from sql.functions import Function
    from sql.operators import Concat, Mod

    from trytond.modules.company.tests import create_company, set_company
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    class GenerateSeries(Function):
        __slots__ = ()
        _function = 'GENERATE_SERIES'

    pool = Pool()
    Party = pool.get('party.party')
    Address = pool.get('party.address')
    Zone = pool.get('backoffice.zone')
    Uom = pool.get('product.uom')
    ModelData = pool.get('ir.model.data')
    Template = pool.get('product.template')
    Product = pool.get('product.product')
    Sale = pool.get('sale.sale')
    Line = pool.get('sale.line')
    Scheme = pool.get('backoffice.order.scheme')
    cursor = Transaction().connection.cursor()
    t0 = time.perf_counter()

    company = create_company()
    with set_company(company):
        zones = []
        for i in range(10):
            zone = Zone(company=company, name=f"Zone {i}", code=f'Z{i}',
                weekdays=['0', '1', '2', '3', '4'],
                windows=[{'weekday': str(d), 'start': dt.time(8),
                        'end': dt.time(12)} for d in range(5)])
            zones.append(zone)
        Zone.save(zones)
        unit = Uom(ModelData.get_id('product', 'uom_unit'))
        templates = [Template(
                name=f"Product {i} {word}", type='service',
                default_uom=unit, sale_uom=unit, salable=True,
                list_price=Decimal('10'))
            for i, word in enumerate(
                ['Flour', 'Sugar', 'Olive Oil', 'Rice', 'Coffee'] * 20)]
        Template.save(templates)
        products = Product.create([{'template': t.id} for t in templates])
        scheme = Scheme.get(company)
        stages = [s for s in scheme.stages]
        client = Party(name="Client 0", addresses=[{'zone': zones[0].id}])
        client.save()
        sale = Sale(party=client)
        sale.on_change_party()
        sale.invoice_method = 'manual'
        sale.lines = [Line(
                type='line', product=products[0], quantity=1, unit=unit,
                unit_price=Decimal('10'), base_price=Decimal('10'))]
        sale.save()
        # The clones start in processing, so that the stages from
        # Confirmed on are consistent with their sale.
        sale_table = Sale.__table__()
        cursor.execute(*sale_table.update(
                [sale_table.state, sale_table.sale_date],
                ['processing', dt.date.today()],
                where=sale_table.id == sale.id))

    def clone(Model, template_id, count, overrides):
        """Insert count copies of the row template_id of Model in one
        INSERT … SELECT, columns overridden by functions of the series
        number g (1 … count); returns the new ids in order"""
        table = Model.__table__()
        template = Model.__table__()
        cursor.execute(*template.select(limit=0))
        columns = [c.name for c in cursor.description if c.name != 'id']
        series = Select([GenerateSeries(
                    Cast(Literal(1), 'INTEGER'),
                    Cast(Literal(count), 'INTEGER')).as_('g')])
        g = series.g
        select = template.join(series, condition=Literal(True)).select(
            *[overrides[c](g) if c in overrides
                else getattr(template, c) for c in columns],
            where=template.id == template_id,
            order_by=[g])
        cursor.execute(*table.insert(
                [getattr(table, c) for c in columns], select,
                returning=[table.id]))
        return sorted(r[0] for r in cursor)

    # clients and their addresses (one zone each, round robin)
    party_ids = clone(Party, client.id, args.clients, {
            'name': lambda g: Concat(Literal('Client '), Cast_text(g)),
            'code': lambda g: Concat(Literal('BC'), Cast_text(g)),
            })
    address, = client.addresses
    address_ids = clone(Address, address.id, args.clients, {
            'party': lambda g: Literal(party_ids[0] - 1) + g,
            'zone': lambda g: zone_case(zones, g),
            })
    first_party, first_address = party_ids[0], address_ids[0]

    def stage_of(g):
        return Case(*[
                (Mod(g, len(stages)) == i, stages[i].id)
                for i in range(len(stages) - 1)],
            else_=stages[-1].id)

    base_date = dt.date.today()
    sale_ids = clone(Sale, sale.id, args.orders, {
            'party': lambda g: Literal(first_party - 1) + Mod(
                g, args.clients) + 1,
            'invoice_party': lambda g: Literal(first_party - 1) + Mod(
                g, args.clients) + 1,
            'shipment_party': lambda g: Cast(Literal(None), 'INTEGER'),
            'invoice_address': lambda g: Literal(first_address - 1) + Mod(
                g, args.clients) + 1,
            'shipment_address': lambda g: Literal(first_address - 1) + Mod(
                g, args.clients) + 1,
            'number': lambda g: Concat(Literal('B'), Cast_text(g)),
            'stage': stage_of,
            'priority': lambda g: Case(
                (Mod(g, 10) == 0, 'urgent'), else_='normal'),
            'delivery_date': lambda g: Literal(base_date) + Mod(g, 30),
            })
    line, = sale.lines
    clone(Line, line.id, args.orders, {
            'sale': lambda g: Literal(sale_ids[0] - 1) + g,
            'product': lambda g: Literal(products[0].id) + Mod(
                g, len(products)),
            })
    cursor.execute('ANALYZE')
    print(f"{args.orders} orders of {args.clients} clients inserted in "
        f"{time.perf_counter() - t0:.0f} s", flush=True)
    return {
        'company': company.id,
        'stages': {s.code: s.id for s in stages},
        'zones': [z.id for z in zones],
        }


def Cast_text(expression):
    from sql import Cast
    return Cast(expression, 'VARCHAR')


def zone_case(zones, g):
    from sql.conditionals import Case
    from sql.operators import Mod
    return Case(*[(Mod(g, len(zones)) == i, zones[i].id)
            for i in range(len(zones) - 1)], else_=zones[-1].id)


def bulk(args, fixtures):
    """Preparing → Ready of args.bulk orders, each checked, with the
    restart the dispatcher does when the rows must be locked (timed)"""
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction, TransactionError
    stages = fixtures['stages']
    extras = {}
    t0 = time.perf_counter()
    while True:
        with Transaction().start(DB_NAME, 0, context={
                    'company': fixtures['company']},
                **extras) as transaction:
            pool = Pool()
            Sale = pool.get('sale.sale')
            Stage = pool.get('backoffice.order.stage')
            sales = Sale.search(
                [('stage', '=', stages['preparing'])], limit=args.bulk,
                order=[('id', 'ASC')])
            try:
                result = Sale.bulk_move(sales, Stage(stages['ready']))
            except TransactionError as exception:
                transaction.rollback()
                exception.fix(extras)
                continue
            transaction.rollback()
            break
    value = time.perf_counter() - t0
    ok = value <= 20 and len(result['moved']) == len(sales)
    name = (f"bulk change of stage, {len(sales)} orders "
        f"({len(result['moved'])} moved, {len(result['refused'])} refused)")
    print(f"{name:<52} {value:>9.1f} s   target <= 20      "
        f"{'PASS' if ok else 'FAIL'}", flush=True)
    return (name, value, ok)


class QueryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        self.count += 1


def timed(function, runs=7):
    "The median time of function in ms (after one warm-up run)"
    function()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        function()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(args, fixtures):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Sale = pool.get('sale.sale')
    stages = fixtures['stages']
    zone = fixtures['zones'][3]
    results = []

    def report(name, value, unit, target, ok, baseline=None):
        ratio = f" ({value / baseline:.1f}x baseline)" if baseline else ''
        print(f"{name:<52} {value:>9.1f} {unit:<3} target {target:<10} "
            f"{'PASS' if ok else 'FAIL'}{ratio}", flush=True)
        results.append((name, value, ok))

    def page(domain, limit=80):
        def run():
            ids = [s.id for s in Sale.search(domain, limit=limit)]
            Sale.read(ids, PAGE_FIELDS)
            # the client asks for the count of the tab too
            Sale.search_count(domain)
        return run

    def clear():
        Transaction().cache.clear()

    baseline = timed(page([]))
    report("list first page, no filter (baseline)", baseline, 'ms',
        '-', True)
    value = timed(page([
                ('stage', '=', stages['preparing']),
                ('delivery_zone', '=', zone)]))
    report("list first page, stage and zone", value, 'ms', '<= 150',
        value <= 150, baseline)
    value = timed(lambda: Sale.search(
            [('text', 'ilike', 'Client 4321')], limit=80))
    report("search a client name", value, 'ms', '<= 300', value <= 300,
        baseline)
    value = timed(lambda: Sale.search(
            [('text', 'ilike', 'Olive Oil')], limit=80))
    report("search a product name", value, 'ms', '<= 300', value <= 300,
        baseline)

    # queries of a list page do not grow with its size
    logger = logging.getLogger('trytond.backend.postgresql.database')
    counts = []
    for limit in [20, 200]:
        counter = QueryCounter()
        logger.addHandler(counter)
        level = logger.level
        logger.setLevel(logging.DEBUG)
        try:
            clear()
            page([('stage', '=', stages['preparing'])], limit=limit)()
        finally:
            logger.removeHandler(counter)
            logger.setLevel(level)
        counts.append(counter.count)
    print(f"{'queries of a list page, 20 rows / 200 rows':<52} "
        f"{counts[0]:>4} / {counts[1]:<4} target equal     "
        f"{'PASS' if counts[0] == counts[1] else 'FAIL'}", flush=True)
    results.append(('queries', counts, counts[0] == counts[1]))

    return results


if __name__ == '__main__':
    main()
