# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from itertools import groupby

from sql import Cast, Literal, Union
from sql.aggregate import Sum
from sql.conditionals import Coalesce
from sql.functions import Position, Substring

from trytond.i18n import gettext
from trytond.model import Index, ModelStorage, ModelView, fields
from trytond.modules.product import round_price
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.tools import (
    grouped_slice, is_full_text, reduce_ids, strip_wildcard,
    unescape_wildcard)
from trytond.tools import timezone as tz
from trytond.transaction import Transaction, without_check_access

from .exceptions import (
    DiscountError, LinesLockedError, StageChangedError, StageGateError,
    StageMoveError)
from .scheme import KIND_STATES

# Set while a discount is given on whole orders (see discount.py)
ORDER_DISCOUNT = '_backoffice_order_discount'

PRIORITIES = [
    ('low', "Low"),
    ('normal', "Normal"),
    ('high', "High"),
    ('urgent', "Urgent"),
    ]

# The sale actions that bring a sale from its state to a stage kind, in
# order; a missing entry means no action reaches the kind from the state.
PLANS = {
    'draft': {
        'draft': [], 'quotation': ['draft'], 'confirmed': ['draft'],
        'cancelled': ['draft'],
        },
    'quotation': {
        'draft': ['quote'], 'quotation': [],
        'confirmed': ['draft', 'quote'], 'cancelled': ['draft', 'quote'],
        },
    'confirmed': {
        'draft': ['quote', 'confirm'], 'quotation': ['confirm'],
        'confirmed': [], 'processing': [], 'done': [],
        'cancelled': ['draft', 'quote', 'confirm'],
        },
    'processing': {
        'draft': ['quote', 'confirm', 'process'],
        'quotation': ['confirm', 'process'],
        'confirmed': ['process'], 'processing': [], 'done': [],
        },
    'done': {
        'draft': ['quote', 'confirm', 'process'],
        'quotation': ['confirm', 'process'],
        'confirmed': ['process'], 'processing': [], 'done': [],
        },
    'cancelled': {
        'draft': ['cancel'], 'quotation': ['cancel'], 'cancelled': [],
        },
    }

# Set while this module moves orders: the sale actions it runs must not
# resynchronise the stage, and the stage may be written.
MOVING = '_backoffice_stage_move'


def _raw(record, name):
    "The stored value of the field name of record"
    value = getattr(record, name, None)
    return value.id if isinstance(value, ModelStorage) else value


def _display(record, name):
    "The value of the field name of record as the user sees it"
    value = getattr(record, name, None)
    field = record._fields[name]
    if value is None:
        return None
    if isinstance(field, fields.Many2One):
        return value.rec_name
    if isinstance(field, fields.Selection):
        return dict(field.selection).get(value, value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    stage = fields.Many2One(
        'backoffice.fulfilment.stage', "Stage", readonly=True,
        ondelete='RESTRICT',
        domain=[
            ('scheme.company', '=', Eval('company', -1)),
            ],
        help="The fulfilment stage of the order; change it with "
        "\"Change Stage\", which checks the allowed transitions, the "
        "approval group and the sale action of the stage.")
    stage_kind = fields.Function(fields.Selection(
            'get_stage_kinds', "Stage Kind",
            help="The kind of the stage of the order."),
        'on_change_with_stage_kind')
    lines_editable = fields.Function(fields.Boolean(
            "Lines Editable",
            help="Whether the stage of the order lets its lines, delivery "
            "date and window be edited."),
        'on_change_with_lines_editable')
    priority = fields.Selection(
        PRIORITIES, "Priority", required=True, sort=False,
        help="How urgently the order must be prepared; urgent orders get "
        "the \"urgent\" label.")
    delivery_date = fields.Date(
        "Delivery Date",
        states={
            'readonly': ~Eval('lines_editable', True),
            },
        help="The day the client is delivered.")
    stage_colour = fields.Function(fields.Char(
            "Stage Colour",
            help="The colour of the stage, for the calendar of the orders."),
        'on_change_with_stage_colour')
    delivery_zone = fields.Function(fields.Many2One(
            'backoffice.zone', "Delivery Zone",
            help="The zone of the delivery address."),
        'on_change_with_delivery_zone', searcher='search_delivery_zone')
    delivery_weekday = fields.Function(fields.Char(
            "Delivery Weekday",
            help="The day of the week of the delivery date, "
            "0 for Monday."),
        'on_change_with_delivery_weekday')
    delivery_window = fields.Many2One(
        'backoffice.zone.window', "Delivery Window", ondelete='RESTRICT',
        domain=[
            ('zone', '=', Eval('delivery_zone', -1)),
            If(Bool(Eval('delivery_weekday')),
                ('weekday', '=', Eval('delivery_weekday')),
                ()),
            ],
        states={
            'readonly': ~Eval('lines_editable', True),
            },
        help="The time window of the delivery, one of the windows of the "
        "zone of the delivery address on the weekday of the delivery "
        "date.")
    driver = fields.Many2One(
        'company.employee', "Driver", ondelete='SET NULL',
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        help="The employee who delivers the order.")
    manual_review = fields.Boolean(
        "Manual Review", readonly=True,
        help="Someone must look at the order before it goes on: see the "
        "review reasons. Computed when the order or its lines change.")
    review_reasons = fields.Char(
        "Review Reasons", readonly=True,
        help="Why the order needs a manual review: the credit limit of the "
        "client is exceeded, a unit price was set by hand, or the delivery "
        "address has no zone.")
    label_urgent = fields.Function(fields.Boolean(
            "Urgent",
            help="The priority of the order is urgent."),
        'get_labels', searcher='search_label_urgent')
    label_near_window = fields.Function(fields.Boolean(
            "Near Delivery Window",
            help="The delivery window starts within the hours of the "
            "scheme (or has started) and the order is not in a ready or "
            "end stage."),
        'get_labels', searcher='search_label_near_window')
    labels = fields.Function(fields.Char(
            "Labels",
            help="The labels of the order for the board and the list."),
        'get_labels')
    order_count = fields.Function(fields.Integer(
            "Orders",
            help="One per order: the graphs of the orders add it up."),
        'get_order_count')
    text = fields.Function(fields.Char(
            "Text",
            help="Search the orders by number, reference, client name, "
            "product names and the text of their notes."),
        'get_text', searcher='search_text')
    activities = fields.One2Many(
        'backoffice.order.activity', 'sale', "Timeline", readonly=True,
        help="What happened to the order, oldest first: stage changes, "
        "edits with old and new values, discounts, splits, address "
        "changes, assignments and notes.")
    split_from = fields.Many2One(
        'sale.sale', "Split From", readonly=True, ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        help="The order this delivery was split from.")
    split_parts = fields.One2Many(
        'sale.sale', 'split_from', "Split Parts", readonly=True,
        help="The deliveries split from this order.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # checked before writing (backoffice_zone's values.py)
        cls._value_checked |= {
            'stage', 'priority', 'delivery_date', 'delivery_window',
            'driver', 'review_reasons', 'split_from'}
        t = cls.__table__()
        cls._sql_indexes.update({
                # the list filtered by stage, sorted as upstream
                Index(t, (t.stage, Index.Equality(cardinality='low')),
                    (t.sale_date, Index.Range(order='DESC NULLS FIRST')),
                    (t.id, Index.Range(order='DESC'))),
                Index(t, (t.delivery_date, Index.Range())),
                Index(t, (t.driver, Index.Range())),
                Index(t, (t.split_from, Index.Range())),
                })
        cls._buttons.update({
                'change_stage': {
                    'invisible': Eval('id', -1) < 0,
                    'depends': ['id'],
                    },
                'split_wizard': {
                    'invisible': ~Eval('lines_editable', False),
                    'depends': ['lines_editable'],
                    },
                })

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # Orders created before the module was activated get the
        # normal priority (and a stage on first use).
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.priority], [Literal('normal')],
                where=table.priority == None))  # noqa: E711

    @classmethod
    def default_priority(cls):
        return 'normal'

    @classmethod
    def default_manual_review(cls):
        return False

    @classmethod
    def default_stage(cls):
        Scheme = Pool().get('backoffice.fulfilment.scheme')
        # Never create the scheme in a default: defaults may be read in a
        # read-only transaction. The stage is set on create otherwise.
        scheme = Scheme.get(create=False)
        if scheme and scheme.start_stage:
            return scheme.start_stage.id

    @classmethod
    def default_lines_editable(cls):
        return True

    @classmethod
    def get_stage_kinds(cls):
        Stage = Pool().get('backoffice.fulfilment.stage')
        return [(None, '')] + Stage.fields_get(['kind'])['kind']['selection']

    @fields.depends('stage')
    def on_change_with_stage_kind(self, name=None):
        return self.stage.kind if self.stage else None

    @fields.depends('stage')
    def on_change_with_lines_editable(self, name=None):
        return self.stage.lines_editable if self.stage else True

    @fields.depends('stage')
    def on_change_with_stage_colour(self, name=None):
        return self.stage.colour if self.stage else None

    @classmethod
    def get_order_count(cls, sales, name):
        return dict.fromkeys([s.id for s in sales], 1)

    @fields.depends('shipment_address')
    def on_change_with_delivery_zone(self, name=None):
        if self.shipment_address and self.shipment_address.zone:
            return self.shipment_address.zone.id

    @classmethod
    def search_delivery_zone(cls, name, clause):
        return [('shipment_address.zone' + clause[0][len(name):],
                *clause[1:])]

    @classmethod
    def view_attributes(cls):
        # the labels at a glance: urgent rows red, near their window amber,
        # the labels of an order to review red
        return super().view_attributes() + [
            ('/tree[field[@name="label_urgent"]]', 'visual',
                If(Eval('label_urgent', False), 'danger',
                    If(Eval('label_near_window', False), 'warning', ''))),
            ('/tree/field[@name="labels"]', 'visual',
                If(Eval('manual_review', False), 'danger', '')),
            ]

    @classmethod
    def order_untaxed_amount(cls, tables):
        pool = Pool()
        Line = pool.get('sale.line')
        table, _ = tables[None]
        line = Line.__table__()
        # The cache is filled from the quotation on; before, the lines tell
        lines_amount = line.select(
            Sum(Coalesce(line.quantity, 0) * Coalesce(line.unit_price, 0)),
            where=(line.sale == table.id) & (line.type == 'line'))
        return [Coalesce(table.untaxed_amount_cache, lines_amount)]

    @classmethod
    def order_delivery_zone(cls, tables):
        # Sorting the list by zone joins the address and its zone.
        return cls.shipment_address.convert_order(
            'shipment_address.zone', tables, cls)

    @classmethod
    def derive_window(cls, zone, date, previous=None):
        """The window of zone on the weekday of date that replaces previous:
        the one starting at the same time, else the earliest; None when the
        zone has no window that day (or no date or zone is given)"""
        if not zone or not date:
            return None
        weekday = str(date.weekday())
        windows = sorted(
            (w for w in zone.windows if w.weekday == weekday),
            key=lambda w: (w.start, w.end, w.id))
        if not windows:
            return None
        if previous:
            for window in windows:
                if window.start == previous.start:
                    return window
        return windows[0]

    @fields.depends('delivery_date')
    def on_change_with_delivery_weekday(self, name=None):
        if self.delivery_date:
            return str(self.delivery_date.weekday())

    @fields.depends(
        'delivery_window', 'shipment_address', 'delivery_date',
        methods=['on_change_with_delivery_zone',
            'on_change_with_delivery_weekday'])
    def on_change_shipment_address(self):
        # A new address may be in another zone: re-derive the window.
        self._clear_window()

    @fields.depends(
        'delivery_window', 'shipment_address', 'delivery_date',
        methods=['on_change_with_delivery_zone',
            'on_change_with_delivery_weekday'])
    def on_change_delivery_date(self):
        self._clear_window()

    @fields.depends(
        'delivery_window', 'shipment_address', 'delivery_date',
        methods=['on_change_with_delivery_zone',
            'on_change_with_delivery_weekday'])
    def _clear_window(self):
        # A window of another zone or another day no longer fits: the zone
        # of the address gives the window of that day starting at the same
        # time (or its first one), if it has one.
        pool = Pool()
        Zone = pool.get('backoffice.zone')
        window = self.delivery_window
        zone = self.on_change_with_delivery_zone()
        if window and (
                window.zone.id != zone
                or (self.delivery_date and window.weekday
                    != self.on_change_with_delivery_weekday())):
            self.delivery_window = self.derive_window(
                Zone(zone) if zone else None, self.delivery_date, window)

    # Labels

    @classmethod
    def _near_window_threshold(cls, company=None):
        "The local date and time before which a window is near, or None"
        pool = Pool()
        Scheme = pool.get('backoffice.fulfilment.scheme')
        Company = pool.get('company.company')
        company = company or Transaction().context.get('company')
        if company is None:
            return None
        scheme = Scheme.get(company, create=False)
        if scheme is None:
            return None
        company = Company(int(company))
        timezone = tz.ZoneInfo(company.timezone) if company.timezone else (
            tz.SERVER)
        now = dt.datetime.now(timezone).replace(tzinfo=None)
        return now + dt.timedelta(hours=scheme.near_window_hours or 0)

    @classmethod
    def get_labels(cls, sales, names):
        result = {n: {} for n in names}
        thresholds = {}
        for sale in sales:
            company = sale.company.id
            if company not in thresholds:
                thresholds[company] = cls._near_window_threshold(company)
            threshold = thresholds[company]
            urgent = sale.priority == 'urgent'
            near = bool(
                threshold and sale.delivery_date and sale.delivery_window
                and sale.stage and not sale.stage.ready
                and not sale.stage.end
                and dt.datetime.combine(
                    sale.delivery_date, sale.delivery_window.start)
                <= threshold)
            if 'label_urgent' in result:
                result['label_urgent'][sale.id] = urgent
            if 'label_near_window' in result:
                result['label_near_window'][sale.id] = near
            if 'labels' in result:
                labels = []
                if urgent:
                    labels.append(gettext('backoffice_order.msg_label_urgent'))
                if near:
                    labels.append(
                        gettext('backoffice_order.msg_label_near_window'))
                if sale.manual_review:
                    labels.append(
                        gettext('backoffice_order.msg_label_manual_review'))
                result['labels'][sale.id] = ', '.join(labels)
        return result

    @classmethod
    def search_label_urgent(cls, name, clause):
        _, operator, value = clause[:3]
        positive = (operator == '=') == bool(value)
        return [('priority', '=' if positive else '!=', 'urgent')]

    @classmethod
    def search_label_near_window(cls, name, clause):
        # A plain domain, so the database does the work with the indexes
        # on stage and delivery date.
        _, operator, value = clause[:3]
        positive = (operator == '=') == bool(value)
        threshold = cls._near_window_threshold()
        if threshold is None:
            return [('id', '=', -1)] if positive else []
        date, time = threshold.date(), threshold.time()
        if positive:
            return ['AND',
                ('stage.ready', '=', False),
                ('stage.end', '=', False),
                ('delivery_window', '!=', None),
                ['OR',
                    ('delivery_date', '<', date),
                    [('delivery_date', '=', date),
                        ('delivery_window.start', '<=', time)],
                    ]]
        # Tryton domains have no NOT: the negation spelt out
        return ['OR',
            ('stage', '=', None),
            ('stage.ready', '=', True),
            ('stage.end', '=', True),
            ('delivery_window', '=', None),
            ('delivery_date', '=', None),
            ('delivery_date', '>', date),
            [('delivery_date', '=', date),
                ('delivery_window.start', '>', time)],
            ]

    # Search

    def get_text(self, name):
        return None

    @classmethod
    def search_text(cls, name, clause):
        """One sub-query over the order number and reference, the client
        name, the product names and the notes

        The names and notes match as Tryton's full-text search matches a
        Char (the words in any order, stemmed by the language's text search
        configuration) where the database has one (PostgreSQL), and also
        by ILIKE, so a part of a word still finds them; numbers and
        references are codes, matched by ILIKE only. Tryton's own
        full-text search converts one field at a time: here four tables are
        searched in one query."""
        pool = Pool()
        Party = pool.get('party.party')
        Line = pool.get('sale.line')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Note = pool.get('ir.note')
        _, operator, value = clause[:3]
        negative = operator.startswith('not') or operator.startswith('!')
        if isinstance(value, (list, tuple)):
            # 'in' a list of texts: any of them (none of them for 'not in')
            texts = [str(v) for v in value if v is not None and v != '']
            if not texts:
                return [] if negative else [('id', '=', None)]
            return ['AND' if negative else 'OR'] + [
                ('text', 'not ilike' if negative else 'ilike', t)
                for t in texts]
        if not value:
            return []
        if not isinstance(value, str):
            value = str(value)
        if '%' not in value:
            value = '%' + value + '%'
        sale = cls.__table__()
        party = Party.__table__()
        line = Line.__table__()
        product = Product.__table__()
        template = Template.__table__()
        note = Note.__table__()
        transaction = Transaction()
        database = transaction.database
        language = transaction.language
        full_text = database.has_search_full_text() and is_full_text(value)
        if full_text:
            words = database.format_full_text_query(
                unescape_wildcard(strip_wildcard(value)), language=language)

        def like(column):
            return column.ilike(value)

        def matches(column):
            expression = like(column)
            if full_text:
                expression |= database.search_full_text(
                    database.format_full_text(column, language=language),
                    words)
            return expression

        query = Union(
            sale.select(sale.id,
                where=like(sale.number) | like(sale.reference)),
            sale.join(party, condition=sale.party == party.id
                ).select(sale.id, where=matches(party.name)),
            line.join(product, condition=line.product == product.id
                ).join(template, condition=product.template == template.id
                ).select(line.sale, where=matches(template.name)),
            note.select(
                Cast(Substring(note.resource,
                        Position(',', note.resource) + Literal(1)),
                    cls.id.sql_type().base),
                where=note.resource.like(cls.__name__ + ',%')
                & matches(note.message)),
            all_=False)
        return [('id', 'not in' if negative else 'in', query)]

    @classmethod
    def search_rec_name(cls, name, clause):
        domain = super().search_rec_name(name, clause)
        _, operator, value = clause[:3]
        if operator.startswith('!') or operator.startswith('not '):
            return domain
        # The search bar also finds orders by client, product and note.
        return ['OR', domain, ('text', operator, value)]

    # Manual review

    @classmethod
    def _credit_exceeded(cls, sales, pending=None):
        """The sales whose party would exceed its credit limit when they
        are confirmed, each on top of pending ({party id: amount}, updated)
        Only sales not yet confirmed count: confirmed ones are in the
        credit amount already."""
        return set(cls._credit_excess(sales, pending=pending))

    @classmethod
    def _credit_excess(cls, sales, pending=None):
        """{sale: (limit, used, amount, excess)} of the sales that would
        exceed the credit limit of their party (see _credit_exceeded), in
        the currency of the company: used counts the credit amount and the
        sales accepted before, amount is the sale's"""
        pool = Pool()
        Party = pool.get('party.party')
        pending = pending if pending is not None else defaultdict(Decimal)
        exceeded = {}
        key = lambda s: s.company.id  # noqa: E731
        for company, c_sales in groupby(sorted(sales, key=key), key=key):
            c_sales = [s for s in c_sales
                if s.state in {'draft', 'quotation'}
                and s.must_check_credit_limit()]
            if not c_sales:
                continue
            with Transaction().set_context(company=company):
                parties = Party.browse(list({
                            (s.invoice_party or s.party).id
                            for s in c_sales}))
                credit = {p.id: p.credit_amount for p in parties}
                limits = {p.id: p.get_multivalue(
                        'credit_limit_amount', company=company)
                    for p in parties}
            for sale in c_sales:
                party = (sale.invoice_party or sale.party).id
                if limits[party] is None:
                    continue
                amount = sale.credit_limit_amount or 0
                if amount <= 0:
                    continue
                used = credit[party] + pending[party]
                if used + amount > limits[party]:
                    exceeded[sale] = (limits[party], used, amount,
                        used + amount - limits[party])
                else:
                    pending[party] += amount
        return exceeded

    @classmethod
    def _review_reasons(cls, sales):
        "{sale: [reason message]} of the sales that need a manual review"
        reasons = defaultdict(list)
        for sale in cls._credit_exceeded(sales):
            reasons[sale].append(gettext(
                    'backoffice_order.msg_review_credit_limit'))
        for sale in sales:
            if sale.state not in {'draft', 'quotation'}:
                continue
            for line in sale.line_lines:
                if line.unit_price_overridden:
                    reasons[sale].append(gettext(
                            'backoffice_order.msg_review_unit_price',
                            line=line.rec_name))
                    break
            if sale.shipment_address and not sale.shipment_address.zone:
                reasons[sale].append(gettext(
                        'backoffice_order.msg_review_no_zone'))
        return reasons

    @classmethod
    def update_review(cls, sales):
        """Compute the manual review flag and reasons of sales again

        Stored (not a function field) so the list filters on it in SQL; it
        is written with one UPDATE per distinct value, behind the ORM, so
        it neither loops through write nor reaches the timeline."""
        if not sales:
            return
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        with without_check_access():
            sales = cls.browse([s.id for s in sales])
            reasons = cls._review_reasons(sales)
        by_value = defaultdict(list)
        for sale in sales:
            text = '; '.join(reasons.get(sale, [])) or None
            if (bool(text), text) != (
                    bool(sale.manual_review), sale.review_reasons):
                by_value[bool(text), text].append(sale.id)
        for (flag, text), ids in by_value.items():
            for sub_ids in grouped_slice(ids):
                cursor.execute(*table.update(
                        [table.manual_review, table.review_reasons],
                        [flag, text],
                        where=reduce_ids(table.id, list(sub_ids))))
        if by_value:
            cls._clear_cache([i for ids in by_value.values() for i in ids])

    @classmethod
    def _clear_cache(cls, ids):
        "Forget what the ORM cached of the rows changed behind it"
        transaction = Transaction()
        transaction.counter += 1
        for cache in transaction.cache.values():
            if cls.__name__ in cache:
                cache_cls = cache[cls.__name__]
                for id_ in ids:
                    cache_cls.pop(id_, None)

    # Modifications

    @classmethod
    def _tracked_fields(cls):
        "{field name: activity kind} of the fields the timeline follows"
        return {
            'priority': 'edit',
            'delivery_date': 'edit',
            'delivery_window': 'edit',
            'driver': 'assignment',
            'shipment_address': 'address',
            }

    @classmethod
    def _review_fields(cls):
        "The fields whose change may change the manual review"
        return {'party', 'invoice_party', 'shipment_address', 'lines',
            'state', 'company', 'currency'}

    @classmethod
    def check_modification(cls, mode, sales, values=None, external=False):
        super().check_modification(
            mode, sales, values=values, external=external)
        if mode != 'write':
            return
        context = Transaction().context
        if 'stage' in values and not context.get(MOVING):
            # Only moves reach a stage: they check the transition, the
            # group and run the sale action. Writing back the stage a sale
            # has is no move: upstream's Modify Header writes every field.
            moved = cls._stage_written(sales, values['stage'])
            if moved:
                raise StageMoveError(gettext(
                        'backoffice_order.msg_stage_write',
                        sale=moved[0].rec_name))
        if external and values.keys() & {
                'lines', 'delivery_date', 'delivery_window'}:
            for sale in sales:
                if sale.stage and not sale.stage.lines_editable:
                    raise LinesLockedError(gettext(
                            'backoffice_order.msg_lines_locked',
                            sale=sale.rec_name, stage=sale.stage.rec_name))

    @classmethod
    def _stage_written(cls, sales, stage):
        "The sales whose stage a write of stage (an id or None) changes"
        stage = int(stage) if stage is not None else None
        return [s for s in sales if _raw(s, 'stage') != stage]

    @classmethod
    def on_write(cls, sales, values):
        pool = Pool()
        Activity = pool.get('backoffice.order.activity')
        callbacks = super().on_write(sales, values)
        tracked = cls._tracked_fields()
        names = [n for n in tracked if n in values]
        if not names:
            return callbacks
        # the raw value tells a change (two addresses may read alike),
        # the displayed one is what the timeline shows
        old = {s.id: {n: (_raw(s, n), _display(s, n)) for n in names}
            for s in sales}
        ids = [s.id for s in sales]

        def record():
            entries = []
            records = cls.browse(ids)
            for sale in records:
                for name in names:
                    old_raw, old_display = old[sale.id][name]
                    if _raw(sale, name) != old_raw:
                        entries.append({
                                'sale': sale.id,
                                'kind': tracked[name],
                                'field': name,
                                'old_value': old_display,
                                'new_value': _display(sale, name),
                                })
            Activity.record(entries)
        return callbacks + [record]

    @classmethod
    def write(cls, *args):
        pool = Pool()
        Address = pool.get('party.address')
        # The address is read below: its id must exist (values.py)
        cls.check_values(args[1::2])
        # A new delivery address may lie in another zone: the window of the
        # old zone gives way to the window of the new zone on the same day
        # starting at the same time (or its first that day), or to none (in
        # the same write, so the domain holds).
        actions = iter(args)
        args = []
        for sales, values in zip(actions, actions):
            if ('shipment_address' in values
                    and 'delivery_window' not in values):
                address = values['shipment_address']
                zone = Address(address).zone if address else None
                by_window = defaultdict(list)
                keep = []
                for sale in sales:
                    window = sale.delivery_window
                    if window and window.zone != zone:
                        date = values.get('delivery_date', sale.delivery_date)
                        new = cls.derive_window(zone, date, window)
                        by_window[new.id if new else None].append(sale)
                    else:
                        keep.append(sale)
                if keep:
                    args.extend((keep, values))
                for window, w_sales in by_window.items():
                    args.extend(
                        (w_sales, dict(values, delivery_window=window)))
            else:
                args.extend((sales, values))
        super().write(*args)

    @classmethod
    def on_modification(cls, mode, sales, field_names=None):
        super().on_modification(mode, sales, field_names=field_names)
        context = Transaction().context
        if mode == 'create':
            # The office names an order by its number from its first save,
            # not from its quotation on
            cls.set_number(sales)
            cls._set_start_stage(sales)
            cls.update_review(sales)
        elif mode == 'write':
            if 'state' in field_names and not context.get(MOVING):
                cls._sync_stage(sales)
            if field_names & cls._review_fields():
                cls.update_review(sales)

    @classmethod
    def _set_start_stage(cls, sales):
        """Put the sales created without stage in the start stage; the
        timeline starts with the stage of every created sale"""
        pool = Pool()
        Scheme = pool.get('backoffice.fulfilment.scheme')
        Activity = pool.get('backoffice.order.activity')
        without = [s for s in sales if not s.stage]
        key = lambda s: s.company.id  # noqa: E731
        for company, c_sales in groupby(sorted(without, key=key), key=key):
            c_sales = list(c_sales)
            scheme = Scheme.get(company)
            start = scheme.start_stage if scheme else None
            if not start:
                continue
            with Transaction().set_context(**{MOVING: True}), \
                    without_check_access():
                cls.write(c_sales, {'stage': start.id})
        Activity.record([{
                    'sale': s.id,
                    'kind': 'stage',
                    'field': 'stage',
                    'new_value': s.stage.rec_name,
                    } for s in cls.browse(sales) if s.stage])

    @classmethod
    def _sync_stage(cls, sales):
        """Follow the sale actions run outside the board (the upstream
        buttons, the queue): a stage whose kind does not fit the new state
        gives way to the first stage of that kind, when the scheme has one
        """
        pool = Pool()
        Scheme = pool.get('backoffice.fulfilment.scheme')
        Activity = pool.get('backoffice.order.activity')
        moves = defaultdict(list)
        schemes = {}
        for sale in cls.browse([s.id for s in sales]):
            if sale.stage and sale.state in KIND_STATES[sale.stage.kind]:
                continue
            company = sale.company.id
            if company not in schemes:
                schemes[company] = Scheme.get(company)
            scheme = schemes[company]
            stages = scheme.stages_of_kind(sale.state) if scheme else []
            if stages:
                moves[stages[0]].append(sale)
        entries = []
        for stage, s_sales in moves.items():
            entries.extend({
                    'sale': s.id,
                    'kind': 'stage',
                    'field': 'stage',
                    'old_value': s.stage.rec_name if s.stage else None,
                    'new_value': stage.rec_name,
                    'description': gettext(
                        'backoffice_order.msg_activity_stage_sync',
                        state=s.state_string),
                    } for s in s_sales)
            with Transaction().set_context(**{MOVING: True}), \
                    without_check_access():
                cls.write(s_sales, {'stage': stage.id})
        Activity.record(entries)

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('stage', None)
        default.setdefault('activities', None)
        default.setdefault('split_from', None)
        default.setdefault('split_parts', None)
        default.setdefault('manual_review', False)
        default.setdefault('review_reasons', None)
        default.setdefault('driver', None)
        return super().copy(sales, default=default)

    # Stage moves

    @classmethod
    @ModelView.button_action('backoffice_order.wizard_change_stage')
    def change_stage(cls, sales):
        pass

    @classmethod
    @ModelView.button_action('backoffice_order.wizard_split')
    def split_wizard(cls, sales):
        pass

    @classmethod
    def _in_group(cls, group):
        pool = Pool()
        User = pool.get('res.user')
        transaction = Transaction()
        if transaction.user == 0 and not transaction.context.get('user'):
            return True
        return group.id in User.get_groups()

    @classmethod
    def check_move(cls, sales, stage, expected=None):
        """Check the move of each sale to stage without changing anything

        expected maps a sale id to the stage id the user saw: a sale that
        was moved meanwhile is refused as changed by someone else.
        Returns {sale: UserError} of the refused sales."""
        pool = Pool()
        Group = pool.get('res.group')
        ModelData = pool.get('ir.model.data')
        expected = expected or {}
        refused = {}
        allowed = {}
        for sale in sales:
            current = sale.stage
            if sale.id in expected and (
                    (current.id if current else None) != expected[sale.id]):
                refused[sale] = StageChangedError(gettext(
                        'backoffice_order.msg_stage_changed',
                        sale=sale.rec_name,
                        stage=current.rec_name if current else ''))
                continue
            if current == stage:
                refused[sale] = StageMoveError(gettext(
                        'backoffice_order.msg_stage_same',
                        sale=sale.rec_name, stage=stage.rec_name))
                continue
            scheme = stage.scheme
            if scheme.company != sale.company:
                refused[sale] = StageMoveError(gettext(
                        'backoffice_order.msg_stage_company',
                        sale=sale.rec_name, stage=stage.rec_name))
                continue
            if scheme not in allowed:
                allowed[scheme] = scheme.allowed()
            if (not stage.active or current is None
                    or (current.id, stage.id) not in allowed[scheme]):
                refused[sale] = StageMoveError(gettext(
                        'backoffice_order.msg_transition_not_allowed',
                        sale=sale.rec_name,
                        from_=current.rec_name if current else '',
                        to=stage.rec_name))
                continue
            if stage.gate_group and not cls._in_group(stage.gate_group):
                refused[sale] = StageGateError(gettext(
                        'backoffice_order.msg_stage_gate',
                        sale=sale.rec_name, stage=stage.rec_name,
                        group=stage.gate_group.rec_name))
                continue
            if sale.state not in PLANS[stage.kind]:
                refused[sale] = StageMoveError(gettext(
                        'backoffice_order.msg_stage_action_impossible',
                        sale=sale.rec_name, stage=stage.rec_name,
                        state=sale.state_string))
                continue
        # The credit check of the confirmation, order by order, counting
        # the orders of the same client accepted before in this batch.
        # Members of the credit limit group get upstream's warning instead.
        credit_group = Group(ModelData.get_id(
                'account_credit_limit', 'group_credit_limit'))
        if not cls._in_group(credit_group):
            to_confirm = [s for s in sales if s not in refused
                and 'confirm' in PLANS[stage.kind].get(s.state, [])]
            cls._lock_parties(to_confirm)
            for sale, excess in cls._credit_excess(to_confirm).items():
                refused[sale] = StageMoveError(
                    cls._credit_refusal(sale, stage, *excess))
        return refused

    @classmethod
    def _credit_refusal(cls, sale, stage, limit, used, amount, excess):
        "The message refusing the move of sale to stage for its credit"
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        currency = sale.company.currency
        party = sale.invoice_party or sale.party
        return gettext('backoffice_order.msg_stage_credit_limit',
            sale=sale.rec_name, client=sale.party.rec_name,
            stage=stage.rec_name, party=party.rec_name,
            limit=lang.currency(limit, currency),
            used=lang.currency(used, currency),
            amount=lang.currency(amount, currency),
            excess=lang.currency(excess, currency))

    @classmethod
    def _lock_parties(cls, sales):
        """Lock the clients of sales: confirmations of orders of the same
        client wait for each other, so together they cannot pass a credit
        limit that each passes alone"""
        Party = Pool().get('party.party')
        parties = {(s.invoice_party or s.party) for s in sales}
        if parties:
            Party.lock(list(parties))

    @classmethod
    def move_to_stage(cls, sales, stage, expected=None, description=None):
        """Move sales to stage, running its sale action

        Refuses the whole call with the first refusal (nothing changes);
        the change-stage wizard moves what it can instead."""
        cls.lock(sales)
        sales = cls.browse(sales)
        refused = cls.check_move(sales, stage, expected=expected)
        for sale in sales:
            if sale in refused:
                raise refused[sale]
        cls._move(sales, stage, description=description)

    @classmethod
    def bulk_move(cls, sales, stage, expected=None):
        """Move the sales that may go to stage and report the others

        Tryton's ORM has no savepoint: every move is checked first
        (transition, approval group, credit limit counting the orders of
        the same client accepted before), then the accepted ones are moved
        together. A failure of the sale action itself still refuses the
        whole request, so nothing is half-moved.
        Returns {'moved': [sale], 'refused': {sale: UserError}}."""
        cls.lock(sales)
        sales = cls.browse(sales)
        refused = cls.check_move(sales, stage, expected=expected)
        accepted = [s for s in sales if s not in refused]
        cls._move(accepted, stage, description=gettext(
                'backoffice_order.msg_activity_bulk'))
        return {'moved': accepted, 'refused': refused}

    @classmethod
    def _move(cls, sales, stage, description=None):
        """Run the sale actions that reach the kind of stage and put the
        sales in it, recording the moves in the timeline; the checks are
        done (check_move)"""
        pool = Pool()
        Activity = pool.get('backoffice.order.activity')
        if not sales:
            return
        old = {s.id: s.stage.rec_name if s.stage else None for s in sales}
        plans = PLANS[stage.kind]
        with Transaction().set_context(**{MOVING: True}):
            key = lambda s: s.state  # noqa: E731
            for state, s_sales in groupby(sorted(sales, key=key), key=key):
                s_sales = list(s_sales)
                steps = plans[state]
                if 'confirm' in steps:
                    cls._lock_parties(s_sales)
                for step in steps:
                    # The move itself is the permission (transition, group);
                    # the actions keep their own checks (credit limit).
                    with without_check_access():
                        getattr(cls, step)(s_sales)
                    # Workflow.transition ignores the sales it cannot move:
                    # none may silently stay behind.
                    s_sales = cls.browse(s_sales)
            sales = cls.browse(sales)
            behind = [s for s in sales
                if s.state not in KIND_STATES[stage.kind]]
            if behind:
                raise StageMoveError(gettext(
                        'backoffice_order.msg_stage_action_impossible',
                        sale=behind[0].rec_name, stage=stage.rec_name,
                        state=behind[0].state_string))
            with without_check_access():
                cls.write(sales, {'stage': stage.id})
        Activity.record([{
                    'sale': s.id,
                    'kind': 'stage',
                    'field': 'stage',
                    'old_value': old[s.id],
                    'new_value': stage.rec_name,
                    'description': description,
                    } for s in sales])
        cls.update_review(sales)

    @classmethod
    def delivery_event(cls, sales, event):
        """Move sales to the stage of their scheme that the delivery event
        ('picked_up', 'delivered' or 'failed') reaches, for the fleet

        The stage's delivery event is the permission: transitions and
        approval groups are for people. Sales already there, in an end
        stage, or whose scheme has no such stage stay. Returns the moved
        sales."""
        pool = Pool()
        Scheme = pool.get('backoffice.fulfilment.scheme')
        cls.lock(sales)
        sales = cls.browse(sales)
        targets = defaultdict(list)
        schemes = {}
        with without_check_access():
            for sale in sales:
                company = sale.company.id
                if company not in schemes:
                    scheme = Scheme.get(company)
                    schemes[company] = next(
                        (s for s in scheme.stages
                            if s.active and s.delivery_event == event),
                        None) if scheme else None
                stage = schemes[company]
                if (stage and sale.stage != stage
                        and not (sale.stage and sale.stage.end)
                        and sale.state in PLANS[stage.kind]):
                    targets[stage].append(sale)
            description = gettext(
                'backoffice_order.msg_activity_delivery_event',
                event=dict(
                    Pool().get('backoffice.fulfilment.stage').fields_get(
                        ['delivery_event'])['delivery_event']['selection']
                    ).get(event, event))
            moved = []
            for stage, s_sales in targets.items():
                cls._move(s_sales, stage, description=description)
                moved.extend(s_sales)
        return moved

    @classmethod
    def picked_up(cls, sales):
        "The driver took the goods of sales"
        return cls.delivery_event(sales, 'picked_up')

    @classmethod
    def delivered(cls, sales):
        "The driver delivered sales"
        return cls.delivery_event(sales, 'delivered')

    @classmethod
    def failed(cls, sales):
        "The driver could not deliver sales"
        return cls.delivery_event(sales, 'failed')

    @classmethod
    def auto_confirm(cls, sales):
        """Move to the first confirmed stage the sales in a start stage of a
        scheme that confirms automatically, when they need no manual review
        and pass the credit check; returns the moved sales"""
        moved = []
        cls.update_review(sales)
        sales = cls.browse(sales)
        by_stage = defaultdict(list)
        for sale in sales:
            stage = sale.stage
            if (stage and stage.start and stage.scheme.auto_confirm
                    and not sale.manual_review):
                allowed = stage.scheme.allowed()
                target = next((s for s in stage.scheme.stages_of_kind(
                                'confirmed')
                        if (stage.id, s.id) in allowed
                        and not s.gate_group), None)
                if target:
                    by_stage[target].append(sale)
        with without_check_access():
            for target, t_sales in by_stage.items():
                refused = cls.check_move(t_sales, target)
                accepted = [s for s in t_sales if s not in refused]
                cls._move(accepted, target, description=gettext(
                        'backoffice_order.msg_activity_auto_confirm'))
                moved.extend(accepted)
        return moved

    @classmethod
    def auto_confirm_orders(cls):
        "Confirm the waiting orders of the schemes that confirm by themselves"
        pool = Pool()
        Scheme = pool.get('backoffice.fulfilment.scheme')
        schemes = Scheme.search([('auto_confirm', '=', True)])
        for scheme in schemes:
            start = scheme.start_stage
            if not start:
                continue
            with Transaction().set_context(company=scheme.company.id):
                sales = cls.search([
                        ('company', '=', scheme.company.id),
                        ('stage', '=', start.id),
                        ('state', '=', 'draft'),
                        ('lines', '!=', None),
                        ('manual_review', '=', False),
                        ])
                cls.auto_confirm(sales)


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('sale.sale|auto_confirm_orders',
                "Confirm Orders Automatically"))


class Line(metaclass=PoolMeta):
    __name__ = 'sale.line'

    discount_reason = fields.Char(
        "Discount Reason",
        states={
            'invisible': Eval('type') != 'line',
            },
        help="Why the unit price differs from the base price; recorded "
        "in the timeline of the order.")
    unit_price_overridden = fields.Function(fields.Boolean(
            "Unit Price Set by Hand",
            help="The unit price differs from the price the sale computes "
            "for the product, client and quantity."),
        'get_unit_price_overridden')

    def get_unit_price_overridden(self, name):
        if self.type != 'line' or not self.product or (
                self.unit_price is None):
            return False
        with Transaction().set_context(self._get_context_sale_price()):
            computed = self.compute_unit_price()
        if computed is None:
            return False
        return round_price(computed) != self.unit_price

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        if not external:
            return
        # Who edits lines by hand does it in a stage that allows it.
        if mode == 'write' and not (values.keys() - {'discount_reason'}):
            return
        for line in lines:
            stage = line.sale.stage if line.sale else None
            if stage and not stage.lines_editable:
                raise LinesLockedError(gettext(
                        'backoffice_order.msg_lines_locked',
                        sale=line.sale.rec_name, stage=stage.rec_name))

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        if field_names & {'unit_price', 'base_price', 'quantity'}:
            for line in lines:
                if (line.type == 'line' and line.unit_price is not None
                        and line.unit_price < 0
                        and (line.base_price or 0) >= 0):
                    raise DiscountError(gettext(
                            'backoffice_order.msg_discount_negative',
                            line=line.rec_name, sale=line.sale.rec_name,
                            unit_price=line.unit_price,
                            base_price=line.base_price))

    @classmethod
    def on_modification(cls, mode, lines, field_names=None):
        pool = Pool()
        Sale = pool.get('sale.sale')
        super().on_modification(mode, lines, field_names=field_names)
        if mode != 'delete' and (mode == 'create' or field_names & {
                    'unit_price', 'quantity', 'product', 'unit'}):
            Sale.update_review(list({l.sale for l in lines}))

    @classmethod
    def on_delete(cls, lines):
        pool = Pool()
        Sale = pool.get('sale.sale')
        callbacks = super().on_delete(lines)
        sale_ids = list({l.sale.id for l in lines})
        return callbacks + [
            lambda: Sale.update_review(Sale.browse(sale_ids))]
