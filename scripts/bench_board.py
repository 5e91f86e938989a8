#!/usr/bin/env python3
# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Benchmark the order board of backoffice_order

Builds the orders of bench_order.py (ORDERS orders, bulk-inserted by SQL),
leaves OPEN of them in the open stages and ends the others (Delivered,
Cancelled), then measures the board's server time:

- the first load: every column's count and total and its first 50 cards
  (<= 300 ms), in a fixed number of queries (<= 10, the same at a tenth
  of the orders),
- the next 50 cards of a column (<= 100 ms),
- a move of one order, Preparing → Ready (<= 100 ms).

The baseline, measured in the same run, is what the web client's list
does to show the same orders: per stage, a search_read of its first 50
orders with the list's fields and the count of its tab.

    .venv/bin/python scripts/bench_board.py
        [--database-uri postgresql://postgres@127.0.0.1:5432/]
        [--orders 100000] [--open 20000] [--clients 5000]
        [--db-cache /tmp/bench-cache] [--keep]
"""
import sys
from decimal import Decimal

from bench_order import PAGE_FIELDS, build, timed
from benchlib import (
    arguments, conclude, configure, fmt, report, throwaway_database)


def parse_args():
    parser = arguments(__doc__.splitlines()[0], db_cache=True)
    parser.add_argument('--orders', type=int, default=100_000)
    parser.add_argument('--open', type=int, default=20_000)
    parser.add_argument('--clients', type=int, default=5_000)
    return parser.parse_args()


def main():
    args = parse_args()
    configure(args, 'bench_board')
    from trytond import backend
    from trytond.transaction import Transaction

    print(f"Board: {backend.name}, throw-away database", flush=True)
    with throwaway_database(['backoffice_order'], args.keep) as db_name:
        with Transaction().start(db_name, 0) as transaction:
            fixtures = build(args)
            end_orders(args, fixtures)
            transaction.commit()
        with Transaction().start(db_name, 0, context={
                    'company': fixtures['company']}) as transaction:
            measure(args, fixtures)
            transaction.rollback()
    return conclude()


def end_orders(args, fixtures):
    """All but the first args.open orders go to Delivered or Cancelled;
    each order gets the state of its stage and, from Confirmed on, the
    amounts the sale caches at confirmation"""
    from sql.operators import Mod

    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Sale = Pool().get('sale.sale')
    table = Sale.__table__()
    cursor = Transaction().connection.cursor()
    stages = fixtures['stages']
    cursor.execute(*table.select(table.id, order_by=[table.id.asc],
            offset=args.open, limit=1))
    first, = cursor.fetchone()
    for stage, state, rest in [
            ('delivered', 'done', 0), ('cancelled', 'cancelled', 1)]:
        cursor.execute(*table.update(
                [table.stage, table.state], [stages[stage], state],
                where=(table.id >= first) & (Mod(table.id, 2) == rest)))
    cursor.execute(*table.update(
            [table.state, table.untaxed_amount_cache, table.tax_amount_cache,
                table.total_amount_cache], ['draft', None, None, None],
            where=table.stage == stages['new']))
    cursor.execute(*table.update(
            [table.untaxed_amount_cache, table.tax_amount_cache,
                table.total_amount_cache],
            [Decimal('10'), Decimal('0'), Decimal('10')],
            where=table.stage != stages['new']))
    cursor.execute('ANALYZE')


def measure(args, fixtures):
    from backoffice_testing import count_queries
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Sale = pool.get('sale.sale')
    stages = fixtures['stages']

    def web_client_list():
        for stage in stages.values():
            domain = [('stage', '=', stage)]
            Sale.search_read(domain, limit=50, fields_names=PAGE_FIELDS)
            Sale.search_count(domain)

    baseline = timed(web_client_list)
    report("web client list, first 50 orders and count of each stage "
        "(baseline)", fmt(baseline, 1), 'ms', '-', True)

    def timed_report(label, function, target, limit):
        value = timed(function)
        report(label, fmt(value, 1), 'ms', target, value <= limit,
            f"{value / baseline:.2f}x baseline")

    timed_report("board first load (counts, totals, 50 cards a column)",
        lambda: Sale.board_load(), '<= 300', 300)
    timed_report("board next 50 cards of Preparing",
        lambda: Sale.board_cards(stages['preparing'], None, 50),
        '<= 100', 100)

    preparing = iter(Sale.search(
            [('stage', '=', stages['preparing'])], limit=20,
            order=[('id', 'ASC')]))

    def move():
        sale = next(preparing)
        answer = Sale.board_move([sale.id], stages['ready'], {
                sale.id: stages['preparing']})
        assert answer == {sale.id: None}, answer
    timed_report("board move of an order, Preparing → Ready", move,
        '<= 100', 100)

    counts = []
    for cut in [False, True]:
        if cut:
            cut_to_a_tenth(Sale)
        Sale.board_load()
        Transaction().cache.clear()
        with count_queries() as counter:
            Sale.board_load()
        counts.append(counter[0])
    report(f"queries of the first load, {args.orders} / "
        f"{args.orders // 10} orders",
        f"{counts[0]} / {counts[1]}", 'queries', '<= 10, equal',
        counts[0] == counts[1] and counts[0] <= 10)


def cut_to_a_tenth(Sale):
    "Delete nine orders in ten (the transaction is rolled back)"
    from sql.operators import Mod

    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Line = Pool().get('sale.line')
    sale, line = Sale.__table__(), Line.__table__()
    cursor = Transaction().connection.cursor()
    gone = sale.select(sale.id, where=Mod(sale.id, 10) != 0)
    cursor.execute(*line.delete(where=line.sale.in_(gone)))
    cursor.execute(*sale.delete(where=Mod(sale.id, 10) != 0))


if __name__ == '__main__':
    sys.exit(main())
