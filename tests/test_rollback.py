# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""A failed request keeps nothing of what it wrote, also in the transaction
that starts when the caches are due for their periodic sync

trytond 8.0 syncs its caches every [cache] clean_timeout seconds, at the
start of a transaction, through that transaction's SQLite connection, which
switches it to autocommit. The test database and the demo server's
configuration turn the periodic sync off for SQLite (one process per
database); this test fails without it.
"""
import datetime as dt

import pytest


@pytest.fixture(scope='module')
def database():
    from trytond.tests.test_tryton import activate_module, drop_db
    drop_db()
    activate_module('backoffice_zone')
    yield
    drop_db()


@pytest.mark.parametrize('sync_due', [False, True])
def test_rollback_when_caches_sync(database, sync_due):
    from trytond.cache import MemoryCache
    from trytond.pool import Pool
    from trytond.tests.test_tryton import CONTEXT, DB_NAME, USER
    from trytond.transaction import Transaction

    if sync_due:
        MemoryCache._clean_last = dt.datetime.now() - dt.timedelta(days=1)
    with Transaction().start(DB_NAME, USER, context=CONTEXT) as transaction:
        Country = Pool().get('country.country')
        Country.create([{'name': "Rollbackland", 'code': 'RB'}])
        transaction.rollback()
    with Transaction().start(DB_NAME, USER, context=CONTEXT):
        Country = Pool().get('country.country')
        assert Country.search([('name', '=', "Rollbackland")]) == []
