# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""What the benchmarks share: the report of a figure against its target and
(from backoffice_testing) the count of the SQL queries a piece of code sends"""
from backoffice_testing import count_queries

__all__ = ['conclude', 'count_queries', 'failures', 'fmt', 'report']

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
