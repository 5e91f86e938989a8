# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Row locks for the moves of orders that answer with the module's message

Tryton takes the locks of records at the start of a transaction: a lock
request restarts it, and when another transaction holds a row the start
gives up after a few retries with the database's "could not obtain lock
on row", which the server turns into HTTP 503. Two users moving the same
order got that instead of the module's message. On PostgreSQL the moves
lock their rows where they are instead."""
from sql import For, Literal

from trytond import backend
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import StageChangedError

# PostgreSQL's lock_not_available and serialization_failure
LOCK_NOT_AVAILABLE = '55P03'
SERIALIZATION_FAILURE = '40001'
# How many orders the message names
NAMED = 5


def _row_locks():
    "Whether the database locks rows inside a running transaction"
    return backend.name == 'postgresql'


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def lock(cls, records=None):
        """Lock the rows of records now, or refuse with the module's
        "changed by someone else" message when another transaction holds
        one of them or changed one since this transaction started

        Taken in the middle of a transaction, a row lock is safe on
        PostgreSQL: a row changed by a transaction committed after this one
        started raises a serialization failure instead of handing out a
        stale row. Table locks and other databases keep Tryton's way."""
        transaction = Transaction()
        if (records is None or not _row_locks()
                or cls._table in transaction._locked_tables):
            return super().lock(records)
        new_ids = set(transaction.create_records[cls.__name__])
        records = cls.browse(
            [i for i in map(int, records) if i not in new_ids])
        if not records:
            return
        # A failed statement aborts the transaction: the message (its text
        # and the names) is read before, it could not be read after.
        names = ', '.join(r.rec_name for r in records[:NAMED])
        if len(records) > NAMED:
            names += ', …'
        message = gettext('backoffice_order.msg_order_busy', sales=names)
        table = cls.__table__()
        cursor = transaction.connection.cursor()
        try:
            for sub_ids in grouped_slice(
                    sorted(r.id for r in records), backend.MAX_QUERY_PARAMS):
                cursor.execute(*table.select(Literal(1),
                        where=fields.SQL_OPERATORS['in'](
                            table.id, list(sub_ids)),
                        order_by=[table.id],
                        for_=For('UPDATE', nowait=True)))
        except backend.DatabaseOperationalError as exception:
            if getattr(exception, 'sqlstate', None) not in {
                    LOCK_NOT_AVAILABLE, SERIALIZATION_FAILURE}:
                raise
            raise StageChangedError(message) from exception

    @classmethod
    def _lock_parties(cls, sales):
        """Lock the clients of sales where the move is: a confirmation of
        another order of the same client is waited for

        The rows are also marked as changed, so a transaction that started
        before this one commits fails to lock them with a serialization
        failure; the dispatcher runs it again on a fresh snapshot, where
        its credit check counts this confirmation."""
        pool = Pool()
        Party = pool.get('party.party')
        if not _row_locks():
            return super()._lock_parties(sales)
        ids = sorted({(s.invoice_party or s.party).id for s in sales})
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            where = fields.SQL_OPERATORS['in'](party.id, list(sub_ids))
            cursor.execute(*party.select(Literal(1),
                    where=where, order_by=[party.id], for_=For('UPDATE')))
            cursor.execute(*party.update([party.id], [party.id], where=where))
