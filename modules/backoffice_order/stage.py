# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The stage of an order: a new order starts in the start stage, the stage
follows the sale actions run outside the board, only moves (move.py) reach
a stage otherwise, and a stage may lock the lines of its orders"""
from collections import defaultdict
from itertools import groupby

from trytond.i18n import gettext
from trytond.model import Index, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .exceptions import LinesLockedError, StageMoveError
from .scheme import KIND_STATES

# Set while this module moves orders: the sale actions it runs must not
# resynchronise the stage, and the stage may be written.
MOVING = '_backoffice_stage_move'


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    stage = fields.Many2One(
        'backoffice.order.stage', "Stage", readonly=True,
        ondelete='RESTRICT',
        domain=[
            ('scheme.company', '=', Eval('company', -1)),
            ],
        help="The fulfilment stage of the order; change it with "
        "\"Change Stage\", which checks the allowed transitions, the "
        "approval group and the sale action of the stage.")
    stage_kind = fields.Function(fields.Selection(
            'get_stage_kinds', "Stage Kind",
            help="The kind of the order's stage, which the state of its "
            "sale follows."),
        'on_change_with_stage_kind')
    lines_editable = fields.Function(fields.Boolean(
            "Lines Editable",
            help="Whether the stage of the order lets its lines, delivery "
            "date and window be edited."),
        'on_change_with_lines_editable')
    stage_colour = fields.Function(fields.Char(
            "Stage Colour",
            help="The colour of the stage, for the calendar of the orders."),
        'on_change_with_stage_colour')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._value_checked |= {'stage'}
        t = cls.__table__()
        cls._sql_indexes.add(
            # the list filtered by stage, sorted as upstream
            Index(t, (t.stage, Index.Equality(cardinality='low')),
                (t.sale_date, Index.Range(order='DESC NULLS FIRST')),
                (t.id, Index.Range(order='DESC'))))

    @classmethod
    def default_stage(cls):
        Scheme = Pool().get('backoffice.order.scheme')
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
        Stage = Pool().get('backoffice.order.stage')
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
    def check_modification(cls, mode, sales, values=None, external=False):
        super().check_modification(
            mode, sales, values=values, external=external)
        if mode != 'write':
            return
        if 'stage' in values and not Transaction().context.get(MOVING):
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
        return [s for s in sales
            if (s.stage.id if s.stage else None) != stage]

    @classmethod
    def on_modification(cls, mode, sales, field_names=None):
        super().on_modification(mode, sales, field_names=field_names)
        if mode == 'create':
            cls._set_start_stage(sales)
        elif (mode == 'write' and 'state' in field_names
                and not Transaction().context.get(MOVING)):
            cls._sync_stage(sales)

    @classmethod
    def _set_start_stage(cls, sales):
        """Put the sales created without stage in the start stage; the
        timeline starts with the stage of every created sale"""
        pool = Pool()
        Scheme = pool.get('backoffice.order.scheme')
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
        Activity = pool.get('backoffice.order.activity')
        moves = cls._sync_targets(sales)
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
    def _sync_targets(cls, sales):
        """{stage: [sale]} of the sales whose stage does not hold their
        state: the first stage of the state's kind in their scheme"""
        pool = Pool()
        Scheme = pool.get('backoffice.order.scheme')
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
        return moves

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        # a copy is a new order: it starts in the start stage
        default.setdefault('stage', None)
        return super().copy(sales, default=default)


class Line(metaclass=PoolMeta):
    __name__ = 'sale.line'

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
