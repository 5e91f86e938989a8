# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""What the benchmarks share: the report of a figure against its target and
the count of the SQL queries a piece of code sends"""
from contextlib import contextmanager

# the labels of the figures that missed their target
failures = []


def report(label, value, unit, target, ok):
    "Print a figure with its target and PASS or FAIL (kept in failures)"
    status = 'PASS' if ok else 'FAIL'
    if not ok:
        failures.append(label)
    print(f"  {label:<46} {value:>14} {unit:<8} target {target:<14} "
        f"{status}")


def fmt(value, digits=0):
    return f"{value:,.{digits}f}"


def conclude():
    "Print the verdict; the exit status: 1 when a figure missed its target"
    if failures:
        print(f"\nFAILED: {', '.join(failures)}")
        return 1
    print("\nAll targets met.")
    return 0


class CountingCursor:
    def __init__(self, cursor, counter):
        self._cursor, self._counter = cursor, counter

    def execute(self, *args, **kwargs):
        self._counter[0] += 1
        return self._cursor.execute(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def __iter__(self):
        return iter(self._cursor)


class CountingConnection:
    def __init__(self, connection, counter):
        self._connection, self._counter = connection, counter

    def cursor(self, *args, **kwargs):
        return CountingCursor(
            self._connection.cursor(*args, **kwargs), self._counter)

    def __getattr__(self, name):
        return getattr(self._connection, name)


@contextmanager
def count_queries(transaction):
    """Count the queries sent through the cursors transaction opens in the
    block: yields a list whose first item is the count"""
    counter = [0]
    connection = transaction.connection
    transaction.connection = CountingConnection(connection, counter)
    try:
        yield counter
    finally:
        transaction.connection = connection
