# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""What the tests of every module, the cross-module tests and the benchmarks
share: a request undone on failure, the count of the SQL queries and the
check that the clients can draw each view"""
from .transaction import count_queries, request
from .views import ClientWidgetsTestMixin

__all__ = ['ClientWidgetsTestMixin', 'count_queries', 'request']
