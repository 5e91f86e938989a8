# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""What the benchmarks share: their common arguments, the throw-away
database they measure in, the bulk insert of their data and the report of
each figure against its target

A benchmark builds its parser with arguments(), calls configure() before
it imports trytond (which reads its configuration from the environment
then), measures inside throwaway_database() and ends with conclude().
"""
import argparse
import os
import time
from contextlib import contextmanager

__all__ = ['arguments', 'conclude', 'configure', 'failures', 'fmt',
    'insert', 'report', 'throwaway_database']

DEFAULT_URI = 'postgresql://postgres@127.0.0.1:5432/'

# the labels of the figures that missed their target
failures = []


def arguments(description, db_cache=False):
    """The parser of a benchmark's arguments with those they share: the
    database server, --keep and, with db_cache, the test-database cache"""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--database-uri', default=DEFAULT_URI,
        help="the database server (default: %(default)s)")
    parser.add_argument('--keep', action='store_true',
        help="keep the throw-away database (its name is printed)")
    if db_cache:
        parser.add_argument('--db-cache',
            help="a DB_CACHE of trytond's tests (a directory) to activate "
            "the modules faster on repeated runs of the same code (a cache "
            "is keyed by the module names, not their code)")
    return parser


def configure(args, prefix):
    """Point trytond at the database server of args, with their
    test-database cache only when given, and name the throw-away database
    (DB_NAME) prefix_<process id>"""
    os.environ['TRYTOND_DATABASE_URI'] = args.database_uri
    if getattr(args, 'db_cache', None):
        os.environ['DB_CACHE'] = args.db_cache
    else:
        os.environ.pop('DB_CACHE', None)
    os.environ['DB_NAME'] = f'{prefix}_{os.getpid()}'


@contextmanager
def throwaway_database(modules, keep=False, name=None, template=None):
    """Yield the name of a new database (DB_NAME unless name is given) with
    the modules activated, dropped at the end unless keep

    With a template (PostgreSQL), the database is a copy of that one,
    activated first when it does not exist yet."""
    from trytond.tests.test_tryton import DB_NAME, drop_db
    name = name or DB_NAME
    try:
        start = time.perf_counter()
        _activate(name, modules, template)
        print(f"  database {name} created, {', '.join(modules)} activated "
            f"in {time.perf_counter() - start:.0f} s", flush=True)
        yield name
    finally:
        if keep:
            print(f"  database {name} kept")
        else:
            drop_db(name)
            print(f"  database {name} dropped")


def _activate(name, modules, template=None):
    from trytond import backend
    from trytond.pool import Pool
    from trytond.tests.test_tryton import (
        DB_NAME, activate_module, create_db, db_exist)
    from trytond.transaction import Transaction
    if template:
        if not db_exist(template):
            _activate(template, modules)
        backend.Database(template).close()
        Pool.stop(template)
        database = backend.Database()
        connection = database.get_connection(autocommit=True)
        try:
            database.create(connection, name, template=template)
        finally:
            database.put_connection(connection)
        Pool(name).init()
    elif name == DB_NAME:
        # from the test-database cache, when DB_CACHE is set
        activate_module(modules)
    else:
        create_db(name)
        with Transaction().start(name, 0, close=True) as transaction:
            pool = Pool()
            Module = pool.get('ir.module')
            Module.activate(Module.search([('name', 'in', modules)]))
            transaction.commit()
            ActivateUpgrade = pool.get(
                'ir.module.activate_upgrade', type='wizard')
            instance_id, _, _ = ActivateUpgrade.create()
            transaction.commit()
            ActivateUpgrade(instance_id).transition_upgrade()
            ActivateUpgrade.delete(instance_id)
            transaction.commit()


def insert(cursor, table, columns, rows, returning=False):
    """Insert rows (lists of the columns' values) in chunks, in table (a
    python-sql table or its name); the new ids in order if returning"""
    from sql import Column, Table

    from trytond import backend
    from trytond.transaction import Transaction
    table = Table(table) if isinstance(table, str) else table
    columns = [Column(table, c) if isinstance(c, str) else c
        for c in columns]
    database = Transaction().database
    if returning and not database.has_returning():
        # SQLite (trytond's backend has no RETURNING): row by row, each new
        # id from the connection, as trytond's own create does there
        ids = []
        for row in rows:
            cursor.execute(*table.insert(columns, [row]))
            ids.append(database.lastid(cursor))
        return ids
    size = max(1, backend.MAX_QUERY_PARAMS // (len(columns) + 1))
    ids = []
    for i in range(0, len(rows), size):
        chunk = rows[i:i + size]
        if returning:
            cursor.execute(*table.insert(
                    columns, chunk, returning=[Column(table, 'id')]))
            ids.extend(r for r, in cursor)
        else:
            cursor.execute(*table.insert(columns, chunk))
    return ids


def report(label, value, unit, target, ok, note=None):
    """Print a figure with its target and PASS or FAIL (kept in failures),
    then the note if any"""
    status = 'PASS' if ok else 'FAIL'
    if not ok:
        failures.append(label)
    print(f"  {label:<46} {value:>14} {unit:<8} target {target:<14} "
        f"{status}" + (f" ({note})" if note else ''), flush=True)


def fmt(value, digits=0):
    return f"{value:,.{digits}f}"


def conclude():
    "Print the verdict; the exit status: 1 when a figure missed its target"
    if failures:
        print(f"\nFAILED: {', '.join(failures)}")
        return 1
    print("\nAll targets met.")
    return 0
