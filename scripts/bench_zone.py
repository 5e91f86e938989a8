#!/usr/bin/env python3
# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Benchmark of the delivery zone matcher (backoffice_zone)

Part 1, no database: 100,000 random points with postal codes against 500
random polygons of up to 50 vertices and 3,000 postal code rules: batch
throughput, ratio against a naive loop over the polygons with shapely
`contains` (on a sample, in the same run), single lookup latency and
compile time.

Part 2, PostgreSQL: a throw-away database with backoffice_zone activated,
addresses inserted with SQL, then Address.assign_zones (what the "Reassign
Zones" wizard runs) for 10,000 and 50,000 addresses: seconds and SQL
statements, against a naive ORM loop (one write per address) on a sample.

Every figure is printed with its target and PASS/FAIL; the exit status is 1
when one fails. Usage:

    .venv/bin/python scripts/bench_zone.py [--skip-database]
        [--database-uri postgresql://postgres@127.0.0.1:5432/] [--keep]
"""
import json
import statistics
import sys
import time

import numpy as np
import shapely
from benchlib import (
    arguments, conclude, configure, failures, fmt, report, throwaway_database)

BBOX = (5.95, 45.82, 10.49, 47.81)  # Switzerland, lon/lat
SEED = 20260101

parser = arguments(__doc__.splitlines()[0])
parser.add_argument('--skip-database', action='store_true',
    help="run only part 1 (no database)")
parser.add_argument('--points', type=int, default=100_000)
parser.add_argument('--polygons', type=int, default=500)
parser.add_argument('--postal-rules', type=int, default=3_000)
parser.add_argument('--zones', type=int, default=200)
args = parser.parse_args()
configure(args, 'bench_zone')

from backoffice_testing import count_queries  # noqa: E402
from trytond.modules.backoffice_zone.matcher import (  # noqa: E402
    Location, RuleSpec, ZoneMatcher)


def random_polygon(rng, vertices):
    "A star-shaped polygon (valid: angles sorted and distinct)"
    while True:
        cx = rng.uniform(BBOX[0] + 0.1, BBOX[2] - 0.1)
        cy = rng.uniform(BBOX[1] + 0.1, BBOX[3] - 0.1)
        radius = rng.uniform(0.01, 0.08)
        angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
        if np.min(np.diff(angles)) < 1e-6:
            continue
        radii = rng.uniform(0.4 * radius, radius, vertices)
        ring = np.round(np.c_[cx + radii * np.cos(angles),
                cy + radii * np.sin(angles)], 6).tolist()
        ring.append(ring[0])
        text = json.dumps({'type': 'Polygon', 'coordinates': [ring]})
        if shapely.is_valid(shapely.from_geojson(text)):
            return text


def make_rules(rng):
    rules, next_id = [], 1
    zones = np.arange(1, args.zones + 1)
    for _ in range(args.polygons):
        rules.append(RuleSpec(
                next_id, int(rng.choice(zones)), 'polygon',
                random_polygon(rng, int(rng.integers(3, 51))),
                priority=int(rng.integers(0, 3)),
                zone_sequence=int(rng.integers(0, 10))))
        next_id += 1
    for i in range(args.postal_rules):
        kind = i % 6
        start = int(rng.integers(1000, 9900))
        if kind in {0, 1}:
            pattern = str(start)
        elif kind in {2, 3, 4}:
            pattern = f'{start}-{min(9999, start + int(rng.integers(0, 200)))}'
        else:
            pattern = str(start)[:int(rng.integers(1, 4))] + '*'
        rules.append(RuleSpec(
                next_id, int(rng.choice(zones)), 'postal', pattern,
                priority=int(rng.integers(0, 3)),
                zone_sequence=int(rng.integers(0, 10))))
        next_id += 1
    return rules


def make_points(rng, count):
    lons = rng.uniform(BBOX[0], BBOX[2], count)
    lats = rng.uniform(BBOX[1], BBOX[3], count)
    codes = [str(c) for c in rng.integers(1000, 10000, count)]
    return lons, lats, codes


def part_matcher():
    print(f"Part 1: matcher, {args.points:,} points, {args.polygons} "
        f"polygons (3-50 vertices), {args.postal_rules:,} postal rules, "
        f"{args.zones} zones")
    rng = np.random.default_rng(SEED)
    rules = make_rules(rng)
    polygon_rules = [r for r in rules if r.kind == 'polygon']
    lons, lats, codes = make_points(rng, args.points)

    def timed(func, repeat):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            result = func()
            times.append(time.perf_counter() - start)
        return statistics.median(times), result

    compile_polygons, _ = timed(lambda: ZoneMatcher(polygon_rules), 7)
    compile_all, matcher = timed(lambda: ZoneMatcher(rules), 5)

    batch, found = timed(
        lambda: matcher.match_many(lons, lats, codes), 5)
    kinds = np.bincount(
        np.where(found < 0, 0, np.where(found < matcher.polygon_count, 1, 2)),
        minlength=3)
    rate = args.points / batch
    polygon_only, _ = timed(lambda: matcher.match_many(lons, lats), 5)

    # Naive baseline: every polygon's shapely `contains`, per point
    geometries = [shapely.from_geojson(r.value) for r in matcher.rules[
            :matcher.polygon_count]]
    sample = min(2_000, args.points)
    start = time.perf_counter()
    naive = []
    for i in range(sample):
        point = shapely.Point(lons[i], lats[i])
        inside = [j for j, g in enumerate(geometries) if g.contains(point)]
        naive.append(min(inside) if inside else -1)
    naive_time = time.perf_counter() - start
    naive_rate = sample / naive_time
    agree = sum(
        (n if n >= 0 else -1) == (f if 0 <= f < matcher.polygon_count else -1)
        for n, f in zip(naive, found[:sample]))

    locations = [Location(lons[i], lats[i], codes[i])
        for i in range(20_000)]
    durations = []
    match = matcher.match
    for location in locations:
        start = time.perf_counter_ns()
        match(location)
        durations.append(time.perf_counter_ns() - start)
    single = statistics.median(durations) / 1000
    p99 = sorted(durations)[int(len(durations) * 0.99)] / 1000

    print(f"  matched: {kinds[1]:,} by polygon, {kinds[2]:,} by postal "
        f"code, {kinds[0]:,} none; naive agrees on {agree:,}/{sample:,}")
    report("batch matching (polygons + postal codes)", fmt(rate),
        "points/s", ">= 500,000", rate >= 500_000)
    print(f"    polygons only: {fmt(args.points / polygon_only)} points/s; "
        f"naive loop: {fmt(naive_rate)} points/s on {sample:,} points")
    report("ratio batch / naive shapely contains loop",
        fmt(rate / naive_rate, 1), "x", ">= 15x", rate / naive_rate >= 15)
    report("single lookup median", fmt(single, 1), "µs", "<= 20",
        single <= 20)
    print(f"    single lookup p99: {fmt(p99, 1)} µs")
    report(f"compile {args.polygons} polygons", fmt(compile_polygons * 1e3, 1),
        "ms", "<= 50", compile_polygons * 1e3 <= 50)
    print(f"    compile {args.polygons} polygons + {args.postal_rules:,} "
        f"postal rules: {fmt(compile_all * 1e3, 1)} ms")
    return rules


def part_database(rules):
    from trytond import backend
    if backend.name != 'postgresql':
        print("Part 2 needs PostgreSQL (--database-uri postgresql://...)")
        failures.append('database')
        return
    from sql import Null
    from sql.functions import CurrentTimestamp

    from trytond.modules.company.tests import create_company, set_company
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    print("\nPart 2: PostgreSQL, throw-away database")
    with throwaway_database(['backoffice_zone'], args.keep) as db_name:
        with Transaction().start(db_name, 1, context={
                    '_skip_warnings': True}) as transaction:
            pool = Pool()
            Zone = pool.get('backoffice.zone')
            Address = pool.get('party.address')
            Party = pool.get('party.party')
            company = create_company()
            with set_company(company):
                by_zone = {}
                for rule in rules:
                    by_zone.setdefault(rule.zone, []).append(rule)
                start = time.perf_counter()
                Zone.create([{
                            'name': f"Zone {zone}", 'code': f'Z{zone}',
                            'priority': zone_rules[0].priority,
                            'sequence': zone_rules[0].zone_sequence,
                            'rules': [('create', [
                                        {'kind': 'polygon',
                                            'geojson': r.value}
                                        if r.kind == 'polygon' else
                                        {'kind': 'postal',
                                            'pattern': r.value}
                                        for r in zone_rules])],
                            } for zone, zone_rules in sorted(by_zone.items())])
                print(f"  {len(by_zone)} zones with {len(rules):,} rules "
                    f"created in {time.perf_counter() - start:.1f} s")
                party, = Party.create([{'name': "Bench", 'addresses': []}])
                transaction.commit()

                rng = np.random.default_rng(SEED + 1)
                table = Address.__table__()
                cursor = transaction.connection.cursor()

                def insert(count):
                    lons, lats, codes = make_points(rng, count)
                    # a third without coordinates: matched by postal code
                    lons[::3] = np.nan
                    lats[::3] = np.nan
                    rows = [[party.id, True, False, 1, CurrentTimestamp(),
                            None if np.isnan(x) else float(x),
                            None if np.isnan(y) else float(y), c]
                        for x, y, c in zip(lons, lats, codes)]
                    for i in range(0, count, 5000):
                        cursor.execute(*table.insert([
                                    table.party, table.active,
                                    table.zone_manual, table.create_uid,
                                    table.create_date, table.longitude,
                                    table.latitude, table.postal_code],
                                rows[i:i + 5000]))
                    transaction.commit()

                def reassign(count):
                    cursor.execute(*table.update(
                            [table.zone], [Null],
                            where=table.party == party.id))
                    transaction.commit()
                    Zone._matcher_cache.clear()
                    with count_queries(transaction) as counter:
                        start = time.perf_counter()
                        result = Address.assign_zones()
                        seconds = time.perf_counter() - start
                    transaction.commit()
                    assigned = sum(
                        c for z, c in result['zones'].items() if z)
                    print(f"  {count:,} addresses: {assigned:,} assigned, "
                        f"{result['zones'].get(None, 0):,} without zone, "
                        f"{result['changed']:,} updated")
                    return seconds, counter[0]

                insert(10_000)
                seconds_10k, queries_10k = reassign(10_000)
                insert(40_000)
                seconds_50k, queries_50k = reassign(50_000)

                # Naive baseline: browse, match and write one by one
                cursor.execute(*table.select(table.id,
                        where=table.party == party.id, limit=500))
                sample = [i for i, in cursor]
                cursor.execute(*table.update([table.zone], [Null],
                        where=table.id.in_(sample)))
                matcher = Zone.get_matcher()
                with count_queries(transaction) as counter:
                    start = time.perf_counter()
                    for address in Address.browse(sample):
                        zone = matcher.match_zone(address._zone_location())
                        if zone != (address.zone.id if address.zone
                                else None):
                            Address.write([address], {
                                    'zone': zone, 'zone_manual': False})
                    naive = (time.perf_counter() - start) / len(sample)
                naive_queries = counter[0] / len(sample)
                transaction.rollback()

        per_address = seconds_50k / 50_000
        print(f"    reassign 10,000 addresses: {seconds_10k:.2f} s")
        report("reassign 50,000 addresses", fmt(seconds_50k, 2), "s",
            "<= 30", seconds_50k <= 30)
        report("SQL queries, 10,000 addresses", fmt(queries_10k), "queries",
            "< 1/address", queries_10k < 10_000)
        report("SQL queries, 50,000 addresses", fmt(queries_50k), "queries",
            "< 1/address", queries_50k < 50_000)
        per_k_10 = queries_10k / 10
        per_k_50 = queries_50k / 50
        report("queries per 1,000 addresses 50k vs 10k",
            f"{per_k_50:.0f} vs {per_k_10:.0f}", "", "no growth",
            per_k_50 <= per_k_10 * 1.1)
        print(f"    naive ORM loop on {len(sample)} addresses: "
            f"{naive * 1e3:.2f} ms and {naive_queries:.1f} queries "
            f"per address ({naive * 50_000:.0f} s for 50,000)")
        print(f"    ratio naive loop / batch, per address: "
            f"{naive / per_address:.0f}x")


def main():
    rules = part_matcher()
    if not args.skip_database:
        part_database(rules)
    return conclude()


if __name__ == '__main__':
    sys.exit(main())
