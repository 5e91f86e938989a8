#!/usr/bin/env python3
# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Benchmark the order list, search and bulk moves of backoffice_order

Builds a throw-away database (activated like the tests, from the
--db-cache directory when given), bulk-inserts ORDERS orders by SQL
(INSERT … SELECT over a recursive series, cloning one order made by the
ORM) and measures:

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
import datetime as dt
import statistics
import sys
import time
from decimal import Decimal

from benchlib import (
    arguments, conclude, configure, fmt, report, throwaway_database)

PAGE_FIELDS = [
    'number', 'party.rec_name', 'stage.rec_name', 'priority',
    'delivery_date', 'delivery_window.rec_name', 'delivery_zone.rec_name',
    'driver.rec_name', 'labels', 'manual_review', 'untaxed_amount',
    'sale_date']


def parse_args():
    parser = arguments(__doc__.splitlines()[0], db_cache=True)
    parser.add_argument('--orders', type=int, default=100_000)
    parser.add_argument('--clients', type=int, default=5_000)
    parser.add_argument('--bulk', type=int, default=1_000)
    return parser.parse_args()


def main():
    args = parse_args()
    configure(args, 'bench_order')
    from trytond import backend
    from trytond.transaction import Transaction

    print(f"Orders: {backend.name}, throw-away database", flush=True)
    with throwaway_database(['backoffice_order'], args.keep) as db_name:
        with Transaction().start(db_name, 0) as transaction:
            fixtures = build(args)
            transaction.commit()
        with Transaction().start(db_name, 0, context={
                    'company': fixtures['company']}) as transaction:
            measure(fixtures)
            transaction.rollback()
        bulk(args, fixtures, db_name)
    return conclude()


def build(args):
    "The company, zones, one ORM order, then the clones by SQL"
    from sql import Cast, Literal, Select, Union, With
    from sql.aggregate import Max
    from sql.conditionals import Case
    from sql.operators import Concat, Mod

    from trytond.modules.company.tests import create_company, set_company
    from trytond.pool import Pool
    from trytond.transaction import Transaction

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
        columns = [c[0] for c in cursor.description if c[0] != 'id']
        # 1 … count on PostgreSQL and SQLite alike (SQLite has no
        # generate_series)
        series = With('g', recursive=True)
        series.query = Union(
            Select([Cast(Literal(1), 'INTEGER')]),
            series.select(series.g + 1, where=series.g < count),
            all_=True)
        g = series.g
        select = template.join(series, condition=Literal(True)).select(
            *[overrides[c](g) if c in overrides
                else getattr(template, c) for c in columns],
            where=template.id == template_id,
            order_by=[g], with_=[series])
        # the new ids follow the last one (trytond's SQLite backend has no
        # RETURNING)
        cursor.execute(*table.select(Max(table.id)))
        last, = cursor.fetchone()
        cursor.execute(*table.insert(
                [getattr(table, c) for c in columns], select))
        cursor.execute(*table.select(
                table.id, where=table.id > last, order_by=[table.id]))
        return [i for i, in cursor]

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
            'delivery_date': lambda g: Case(*[
                    (Mod(g, 30) == i, base_date + dt.timedelta(days=i))
                    for i in range(29)],
                else_=base_date + dt.timedelta(days=29)),
            })
    line, = sale.lines
    clone(Line, line.id, args.orders, {
            'sale': lambda g: Literal(sale_ids[0] - 1) + g,
            'product': lambda g: Literal(products[0].id) + Mod(
                g, len(products)),
            })
    cursor.execute('ANALYZE')
    print(f"  {args.orders} orders of {args.clients} clients inserted in "
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


def bulk(args, fixtures, db_name):
    """Preparing → Ready of args.bulk orders, each checked, with the
    restart the dispatcher does when the rows must be locked (timed)"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    stages = fixtures['stages']
    extras = {}
    t0 = time.perf_counter()
    while True:
        with Transaction().start(db_name, 0, context={
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
    report(f"bulk change of stage, {len(sales)} orders "
        f"({len(result['moved'])} moved, {len(result['refused'])} refused)",
        fmt(value, 1), 's', '<= 20',
        value <= 20 and len(result['moved']) == len(sales))


def timed(function, runs=7):
    "The median time of function in ms (after one warm-up run)"
    function()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        function()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(fixtures):
    from backoffice_testing import count_queries
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Sale = pool.get('sale.sale')
    stages = fixtures['stages']
    zone = fixtures['zones'][3]

    def page(domain, limit=80):
        def run():
            ids = [s.id for s in Sale.search(domain, limit=limit)]
            Sale.read(ids, PAGE_FIELDS)
            # the client asks for the count of the tab too
            Sale.search_count(domain)
        return run

    baseline = timed(page([]))
    report("list first page, no filter (baseline)", fmt(baseline, 1), 'ms',
        '-', True)

    def timed_report(label, function, target, limit):
        value = timed(function)
        report(label, fmt(value, 1), 'ms', target, value <= limit,
            f"{value / baseline:.1f}x baseline")

    timed_report("list first page, stage and zone", page([
                ('stage', '=', stages['preparing']),
                ('delivery_zone', '=', zone)]), '<= 150', 150)
    timed_report("search a client name", lambda: Sale.search(
            [('text', 'ilike', 'Client 4321')], limit=80), '<= 300', 300)
    timed_report("search a product name", lambda: Sale.search(
            [('text', 'ilike', 'Olive Oil')], limit=80), '<= 300', 300)

    # queries of a list page do not grow with its size
    counts = []
    for limit in [20, 200]:
        Transaction().cache.clear()
        with count_queries() as counter:
            page([('stage', '=', stages['preparing'])], limit=limit)()
        counts.append(counter[0])
    report("queries of a list page, 20 rows / 200 rows",
        f"{counts[0]} / {counts[1]}", 'queries', 'equal',
        counts[0] == counts[1])


if __name__ == '__main__':
    sys.exit(main())
