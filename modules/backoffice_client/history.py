# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The history of a client in one place: its latest sales, invoices and
payments, its notes and attachments (the list or CSV file of its sales:
sales_history.py)"""
from collections import defaultdict

from sql import Literal, Window
from sql.functions import RowNumber

from trytond import backend
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction


# How many of the latest sales, invoices and payments the form shows; the
# links of the form open them all.
HISTORY = 20


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    history_sales = fields.Function(fields.Many2Many(
            'sale.sale', None, None, "Latest Sales",
            help="The %d latest sales of the client; the Sales link opens "
            "them all." % HISTORY),
        'get_history')
    history_invoices = fields.Function(fields.Many2Many(
            'account.invoice', None, None, "Latest Invoices",
            help="The %d latest customer invoices and credit notes of the "
            "client; the Invoices link opens them all." % HISTORY),
        'get_history')
    history_payments = fields.Function(fields.Many2Many(
            'account.move.line', None, None, "Latest Payments",
            help="The %d latest amounts credited to the receivable account "
            "of the client: its payments and credit notes." % HISTORY),
        'get_history')
    client_notes = fields.Function(fields.Many2Many(
            'ir.note', None, None, "Notes",
            help="The notes on the client (the notes button of the form "
            "adds one)."),
        'get_history')
    client_attachments = fields.Function(fields.Many2Many(
            'ir.attachment', None, None, "Attachments",
            help="The files attached to the client, e.g. contracts and "
            "letters (the attachment button of the form adds one)."),
        'get_history')

    @classmethod
    def get_history(cls, parties, names):
        "One query per field for all the parties"
        party_ids = [p.id for p in parties]
        result = {}
        for name in names:
            ids = getattr(cls, '_history_%s' % name)(party_ids)
            result[name] = {i: ids.get(i, []) for i in party_ids}
        return result

    @classmethod
    def _latest(cls, from_, id_column, party_column, order_by, where,
            party_ids, limit=HISTORY):
        "The ids of the latest rows per party: {party id: [id, …]}"
        cursor = Transaction().connection.cursor()
        result = defaultdict(list)
        for sub_ids in grouped_slice(party_ids, backend.MAX_QUERY_PARAMS // 2):
            ranked = from_.select(
                id_column.as_('id'),
                party_column.as_('party'),
                RowNumber(window=Window([party_column], order_by=order_by)
                    ).as_('rank'),
                where=where & fields.SQL_OPERATORS['in'](
                    party_column, list(sub_ids)))
            cursor.execute(*ranked.select(
                    ranked.party, ranked.id,
                    where=ranked.rank <= limit,
                    order_by=[ranked.party.asc, ranked.rank.asc]))
            for party_id, id_ in cursor:
                result[party_id].append(id_)
        return result

    @classmethod
    def _history_history_sales(cls, party_ids):
        pool = Pool()
        Sale = pool.get('sale.sale')
        sale = Sale.__table__()
        company = Transaction().context.get('company', -1)
        return cls._latest(
            sale, sale.id, sale.party,
            [sale.sale_date.desc.nulls_first, sale.id.desc],
            sale.company == company, party_ids)

    @classmethod
    def _history_history_invoices(cls, party_ids):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoice = Invoice.__table__()
        company = Transaction().context.get('company', -1)
        return cls._latest(
            invoice, invoice.id, invoice.party,
            [invoice.invoice_date.desc.nulls_first, invoice.id.desc],
            (invoice.company == company) & (invoice.type == 'out'),
            party_ids)

    @classmethod
    def _history_history_payments(cls, party_ids):
        pool = Pool()
        Line = pool.get('account.move.line')
        Move = pool.get('account.move')
        Account = pool.get('account.account')
        Type = pool.get('account.account.type')
        line = Line.__table__()
        move = Move.__table__()
        account = Account.__table__()
        type_ = Type.__table__()
        company = Transaction().context.get('company', -1)
        from_ = (line
            .join(move, condition=line.move == move.id)
            .join(account, condition=line.account == account.id)
            .join(type_, condition=account.type == type_.id))
        return cls._latest(
            from_, line.id, line.party,
            [move.date.desc, line.id.desc],
            (move.company == company)
            & (type_.receivable == Literal(True))
            & (line.credit > line.debit),
            party_ids)

    @classmethod
    def _resources(cls, Model, party_ids):
        "{party id: ids} of the records of Model attached to the parties"
        cursor = Transaction().connection.cursor()
        table = Model.__table__()
        result = defaultdict(list)
        for sub_ids in grouped_slice(party_ids, backend.MAX_QUERY_PARAMS // 2):
            resources = {'%s,%s' % (cls.__name__, i): i for i in sub_ids}
            cursor.execute(*table.select(table.resource, table.id,
                    where=table.resource.in_(list(resources)),
                    order_by=[table.id.desc]))
            for resource, id_ in cursor:
                result[resources[resource]].append(id_)
        return result

    @classmethod
    def _history_client_notes(cls, party_ids):
        return cls._resources(Pool().get('ir.note'), party_ids)

    @classmethod
    def _history_client_attachments(cls, party_ids):
        return cls._resources(Pool().get('ir.attachment'), party_ids)
