# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Transaction helpers for the tests and benchmarks of the suite: a request
that undoes what it wrote when it fails, and a count of the SQL queries"""
from contextlib import contextmanager

from trytond.cache import MemoryCache
from trytond.transaction import Transaction

__all__ = ['count_queries', 'request']


@contextmanager
def request(transaction=None, undo=False):
    """Undo what the block wrote when it raises (or always, with undo), as
    the RPC dispatcher rolls back a failed request, so a test can check that
    nothing stored changed
    """
    transaction = transaction or Transaction()
    cursor = transaction.connection.cursor()
    if getattr(transaction.connection, 'in_transaction', True) is False:
        # SQLite: releasing a savepoint that opened the transaction commits
        # it, leaving the test's data to the next tests; nest it instead
        cursor.execute('BEGIN')
    # python-sql has no SAVEPOINT statement
    cursor.execute('SAVEPOINT backoffice_test_request')
    try:
        yield
    except Exception:
        _rollback(transaction, cursor)
        raise
    if undo:
        _rollback(transaction, cursor)
    else:
        cursor.execute('RELEASE SAVEPOINT backoffice_test_request')


def _rollback(transaction, cursor):
    "Roll back to the request's savepoint and forget what it cached"
    cursor.execute('ROLLBACK TO SAVEPOINT backoffice_test_request')
    cursor.execute('RELEASE SAVEPOINT backoffice_test_request')
    transaction.counter += 1
    for cache in transaction.cache.values():
        cache.clear()
    # what the caches kept for this transaction only (values read after the
    # request wrote, e.g. a translated name), as a failed request's
    # transaction ends with it
    for cache in MemoryCache._instances.values():
        cache._transaction_cache.pop(transaction, None)


class _CountingCursor:
    def __init__(self, cursor, counter):
        self._cursor, self._counter = cursor, counter

    def execute(self, *args, **kwargs):
        self._counter[0] += 1
        return self._cursor.execute(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def __iter__(self):
        return iter(self._cursor)


class _CountingConnection:
    def __init__(self, connection, counter):
        self._connection, self._counter = connection, counter

    def cursor(self, *args, **kwargs):
        return _CountingCursor(
            self._connection.cursor(*args, **kwargs), self._counter)

    def __getattr__(self, name):
        return getattr(self._connection, name)


@contextmanager
def count_queries(transaction=None):
    """Count the SQL queries sent through the cursors the transaction opens
    in the block: yields a list whose first item is the count"""
    transaction = transaction or Transaction()
    counter = [0]
    connection = transaction.connection
    transaction.connection = _CountingConnection(connection, counter)
    try:
        yield counter
    finally:
        transaction.connection = connection
