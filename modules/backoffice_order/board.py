# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The order board: the orders of the company's scheme as columns of stages

The board page (board_route.py) reads and moves orders only through these
RPC methods, under the user's access rights and record rules, as the web
client's list does. A column's count and total are exact; its cards come
fifty at a time. Slightly above 400 lines: the four methods the page calls
keep beside them the checks of everything the page sends."""
import datetime as dt
from decimal import Decimal

from sql import Cast, Literal, Null, Window
from sql.aggregate import Count, Max, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import RowNumber

from trytond.bus import Bus
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import BoardRequestError
from .sale import PRIORITIES

# The cards a column shows at first and at each "more"
PAGE = 50
# The board's bus channel: its messages carry the ids of changed orders only
CHANNEL = 'backoffice.order.board'
LABELS = {'urgent', 'near_window', 'manual_review'}
CARD_FIELDS = [
    'number', 'party.rec_name', 'delivery_date', 'delivery_window.rec_name',
    'priority', 'driver.rec_name', 'label_urgent', 'label_near_window',
    'manual_review', 'stage', 'currency.code', 'currency.digits']


def _amount(value, digits):
    "An amount as the database gives it (a float on SQLite), rounded"
    return Decimal(str(value or 0)).quantize(Decimal(1).scaleb(-digits))


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'board_load': RPC(),
                'board_cards': RPC(),
                'board_stamp': RPC(),
                'board_move': RPC(readonly=False),
                })

    @classmethod
    def on_modification(cls, mode, sales, field_names=None):
        super().on_modification(mode, sales, field_names=field_names)
        # ids only: an open board re-reads them through RPC, where the
        # access rules of its user apply; PostgreSQL's notifications take
        # 8,000 bytes at most
        for ids in grouped_slice([s.id for s in sales], 500):
            Bus.publish(CHANNEL, {'orders': list(ids)})

    @classmethod
    def board_load(cls, filters=None, sizes=None):
        """The board of the context company: its stages in order, each with
        the exact count and untaxed total of its orders matching filters
        and its first cards (more when sizes asks, up to 500), and the
        stamp that tells a later board_stamp whether anything changed"""
        stages = cls._board_stages()
        domain = cls._board_domain(filters, stages)
        sizes = cls._board_sizes(sizes, stages)
        figures = cls._board_figures(domain)
        cards = cls._board_page(domain, sizes)
        return {
            'stages': [{
                    'id': s.id,
                    'name': s.name,
                    'colour': s.colour or '',
                    'count': figures.get(s.id, (0, 0))[0],
                    'total': figures.get(s.id, (0, 0))[1],
                    'cards': cards.get(s.id, []),
                    } for s in stages],
            'stamp': cls.board_stamp(),
            }

    @classmethod
    def board_cards(cls, stage, filters=None, offset=0):
        "The next cards of the column of stage, from offset"
        stages = cls._board_stages()
        stage = cls._board_stage(stage, stages)
        if not isinstance(offset, int) or isinstance(offset, bool) \
                or offset < 0:
            raise BoardRequestError(gettext(
                    'backoffice_order.msg_board_bad_offset'))
        domain = cls._board_domain(filters, stages)
        ranked = cls._board_ranked(domain)
        cursor = Transaction().connection.cursor()
        cursor.execute(*ranked.select(ranked.id,
                where=(ranked.stage == stage.id)
                & (ranked.rank > offset) & (ranked.rank <= offset + PAGE),
                order_by=[ranked.rank]))
        return cls._board_cards_of([i for i, in cursor])

    @classmethod
    def board_stamp(cls):
        """What changes whenever an order of the company is created,
        edited or deleted: the boards that poll compare it"""
        table = cls.__table__()
        query = cls.search(cls._board_company_domain(), order=[], query=True)
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                Count(table.id), Max(table.id),
                Max(Coalesce(table.write_date, table.create_date)),
                where=table.id.in_(query)))
        count, newest, last = cursor.fetchone()
        if isinstance(last, dt.datetime):
            last = last.isoformat()
        return '%s/%s/%s' % (count, newest or '', last or '')

    @classmethod
    def board_move(cls, ids, stage, expected=None):
        """Move the orders ids to stage, each checked on its own as by
        Change Stage; expected maps an order id to the stage id the board
        showed. Returns {order id: the refusal's message or None}"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        ModelAccess.check(cls.__name__, 'write')
        stage = cls._board_stage(stage, cls._board_stages())
        expected = cls._board_expected(expected)
        ids = cls._board_ids(ids)
        sales = cls.search([
                ('id', 'in', ids),
                ('company', '=', stage.scheme.company.id),
                ])
        if len(sales) != len(ids):
            raise BoardRequestError(gettext(
                    'backoffice_order.msg_board_unknown_order'))
        # in the user's order: the credit check accepts the first ones
        position = {i: n for n, i in enumerate(ids)}
        sales.sort(key=lambda s: position[s.id])
        result = cls.bulk_move(sales, stage, expected)
        answer = dict.fromkeys(ids)
        for sale, error in result['refused'].items():
            answer[sale.id] = str(error.message)
        return answer

    @classmethod
    def _board_stages(cls):
        "The active stages of the context company's scheme, in board order"
        pool = Pool()
        Scheme = pool.get('backoffice.order.scheme')
        scheme = Scheme.get(create=False)
        if scheme is None:
            raise BoardRequestError(gettext(
                    'backoffice_order.msg_board_no_scheme'))
        return [s for s in scheme.stages if s.active]

    @classmethod
    def _board_stage(cls, stage, stages):
        "The stage of the board whose id is stage"
        for candidate in stages:
            if candidate.id == stage and not isinstance(stage, bool):
                return candidate
        raise BoardRequestError(gettext(
                'backoffice_order.msg_board_unknown_stage'))

    @classmethod
    def _board_company_domain(cls):
        return [('company', '=', Transaction().context.get('company', -1))]

    @classmethod
    def _board_domain(cls, filters, stages):
        "The domain of the orders on the board, filtered as filters say"
        if filters is None:
            filters = {}
        clauses = cls._board_filters()
        if not isinstance(filters, dict) or not set(filters) <= set(clauses):
            raise BoardRequestError(gettext(
                    'backoffice_order.msg_board_bad_filters',
                    names=', '.join(sorted(clauses))))
        domain = cls._board_company_domain() + [
            ('stage', 'in', [s.id for s in stages])]
        for name, value in filters.items():
            if value in (None, ''):
                continue
            try:
                domain.append(clauses[name](value))
            except (TypeError, ValueError) as exception:
                raise BoardRequestError(gettext(
                        'backoffice_order.msg_board_bad_filter',
                        name=name)) from exception
        return domain

    @classmethod
    def _board_filters(cls):
        "{name: function of the value giving the clause}"
        def record(field):
            def clause(value):
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError(value)
                return (field, '=', value)
            return clause

        def date(operator):
            return lambda value: (
                'delivery_date', operator, dt.date.fromisoformat(value))

        def label(value):
            if value not in LABELS:
                raise ValueError(value)
            return {
                'urgent': ('label_urgent', '=', True),
                'near_window': ('label_near_window', '=', True),
                'manual_review': ('manual_review', '=', True),
                }[value]

        def priority(value):
            if value not in dict(cls.priority.selection):
                raise ValueError(value)
            return ('priority', '=', value)

        def text(value):
            if not isinstance(value, str):
                raise ValueError(value)
            return ('text', 'ilike', value)
        return {
            'party': record('party'),
            'zone': record('delivery_zone'),
            'driver': record('driver'),
            'date_from': date('>='),
            'date_to': date('<='),
            'priority': priority,
            'label': label,
            'text': text,
            }

    @classmethod
    def _board_sizes(cls, sizes, stages):
        "{stage id: number of cards} the board asks, PAGE by default"
        result = {s.id: PAGE for s in stages}
        if sizes is None:
            return result
        try:
            for stage, size in dict(sizes).items():
                size = int(size)
                if int(stage) in result and 0 <= size <= 10 * PAGE:
                    result[int(stage)] = max(size, PAGE)
        except (TypeError, ValueError) as exception:
            raise BoardRequestError(gettext(
                    'backoffice_order.msg_board_bad_sizes')) from exception
        return result

    @classmethod
    def _board_figures(cls, domain):
        "{stage id: (count, untaxed total)} of the orders of domain"
        table = cls.__table__()
        query = cls.search(domain, order=[], query=True)
        orders, untaxed = cls._board_untaxed(table, lambda c: c.in_(query))
        cursor = Transaction().connection.cursor()
        cursor.execute(*orders.select(
                table.stage, Count(table.id), Sum(untaxed),
                where=table.id.in_(query),
                group_by=[table.stage]))
        digits = cls._board_company_digits()
        return {stage: (count, _amount(total, digits))
            for stage, count, total in cursor}

    @classmethod
    def _board_untaxed(cls, table, of_orders):
        """The orders of table joined to the amount of their lines, and the
        untaxed amount of each as the graph by stage sums it (the cache,
        else the lines)

        of_orders(column) restricts the lines to the orders counted: one
        aggregate joined, where a sub-query per order took seconds at
        100,000 orders."""
        pool = Pool()
        Line = pool.get('sale.line')
        line = Line.__table__()
        sale = cls.__table__()
        # the lines of the orders not yet quoted only: the others have
        # their amount in the cache
        uncached = sale.select(sale.id,
            where=(sale.untaxed_amount_cache == Null) & of_orders(sale.id))
        lines = line.select(line.sale,
            Sum(Coalesce(line.quantity, 0)
                * Coalesce(line.unit_price, 0)).as_('amount'),
            where=(line.type == 'line') & line.sale.in_(uncached),
            group_by=[line.sale])
        orders = table.join(lines, 'LEFT',
            condition=lines.sale == table.id)
        untaxed = Coalesce(table.untaxed_amount_cache, lines.amount)
        # SQLite keeps decimals as text
        return orders, Cast(untaxed, cls.untaxed_amount_cache.sql_type().base)

    @classmethod
    def _board_company_digits(cls):
        pool = Pool()
        Company = pool.get('company.company')
        company = Transaction().context.get('company')
        return Company(company).currency.digits if company else 2

    @classmethod
    def _board_ranked(cls, domain):
        """The query of (id, stage, rank) of the orders of domain, ranked
        in their column: the most pressing first (by priority, then by
        delivery date)"""
        table = cls.__table__()
        query = cls.search(domain, order=[], query=True)
        pressing = Case(*((table.priority == key, Literal(i))
                for i, (key, _) in enumerate(reversed(PRIORITIES))),
            else_=Literal(len(PRIORITIES)))
        rank = RowNumber(window=Window([table.stage], order_by=[
                    pressing.asc,
                    table.delivery_date.asc.nulls_last,
                    table.id.asc]))
        return table.select(
            table.id, table.stage, rank.as_('rank'),
            where=table.id.in_(query))

    @classmethod
    def _board_page(cls, domain, sizes):
        "{stage id: [card]} of the first sizes[stage] orders of each column"
        ranked = cls._board_ranked(domain)
        cursor = Transaction().connection.cursor()
        cursor.execute(*ranked.select(
                ranked.id, ranked.stage, ranked.rank,
                where=ranked.rank <= max(sizes.values(), default=PAGE),
                order_by=[ranked.stage, ranked.rank]))
        ids = [i for i, stage, rank in cursor if rank <= sizes[stage]]
        cards = {}
        for card in cls._board_cards_of(ids):
            cards.setdefault(card['stage'], []).append(card)
        return cards

    @classmethod
    def _board_cards_of(cls, ids):
        "The cards of the orders ids, in the order of the column"
        table = cls.__table__()
        orders, amount = cls._board_untaxed(
            table, lambda c: fields.SQL_OPERATORS['in'](c, ids))
        cursor = Transaction().connection.cursor()
        untaxed = {}
        if ids:
            cursor.execute(*orders.select(table.id, amount,
                    where=fields.SQL_OPERATORS['in'](table.id, ids)))
            untaxed = dict(cursor)
        position = {i: n for n, i in enumerate(ids)}
        # read answers in the order of the table
        rows = sorted(cls.read(ids, CARD_FIELDS),
            key=lambda r: position[r['id']])
        cards = []
        for values in rows:
            window = values.get('delivery_window.') or {}
            cards.append({
                    'id': values['id'],
                    'number': values['number'] or '',
                    'client': (values.get('party.') or {}).get(
                        'rec_name', ''),
                    'untaxed': _amount(untaxed[values['id']],
                        (values.get('currency.') or {}).get('digits', 2)),
                    'currency': (values.get('currency.') or {}).get(
                        'code', ''),
                    'delivery_date': values['delivery_date'],
                    'delivery_window': window.get('rec_name', ''),
                    'priority': values['priority'],
                    'driver': (values.get('driver.') or {}).get(
                        'rec_name', ''),
                    'labels': [name for name, field in [
                            ('urgent', 'label_urgent'),
                            ('near_window', 'label_near_window'),
                            ('manual_review', 'manual_review')]
                        if values[field]],
                    'stage': values['stage'],
                    })
        return cards

    @classmethod
    def _board_ids(cls, ids):
        if (not isinstance(ids, list) or not ids
                or not all(isinstance(i, int) and not isinstance(i, bool)
                    for i in ids)):
            raise BoardRequestError(gettext(
                    'backoffice_order.msg_board_bad_ids'))
        return list(dict.fromkeys(ids))

    @classmethod
    def _board_expected(cls, expected):
        "{order id: stage id or None} from the board's JSON object"
        try:
            expected = {int(k): v for k, v in dict(expected or {}).items()}
        except (TypeError, ValueError) as exception:
            raise BoardRequestError(gettext(
                    'backoffice_order.msg_board_bad_expected')
                ) from exception
        if not all(v is None or (isinstance(v, int)
                    and not isinstance(v, bool)) for v in expected.values()):
            raise BoardRequestError(gettext(
                    'backoffice_order.msg_board_bad_expected'))
        return expected


class Action(metaclass=PoolMeta):
    __name__ = 'ir.action'

    @classmethod
    def get_action_values(cls, type_, action_ids, columns=None):
        # The board is served under the database's path, which an URL
        # action written as data cannot know: it says {database}.
        actions = super().get_action_values(
            type_, action_ids, columns=columns)
        if type_ == 'ir.action.url':
            database = Transaction().database.name
            for values in actions:
                if values.get('url'):
                    values['url'] = values['url'].replace(
                        '{database}', database)
        return actions
