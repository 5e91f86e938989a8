# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The fulfilment scheme of a company: its stages, its transitions and the
default scheme

One file above 400 lines: a scheme is checked as a whole (the number of
active stages, a start and an end stage) whenever its stages change, and
its stages give the tabs of Orders by Stage; the three models are one
concept."""
import re

from sql.aggregate import Count

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields, sequence_ordered)
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.pool import Pool
from trytond.pyson import Eval, PYSONDecoder, PYSONEncoder
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateAction, StateView, Wizard

from .exceptions import SchemeError, StageError, StageInUseError, \
    TransitionError
from .rename import RENAMED_MODELS, rename_model

MIN_STAGES, MAX_STAGES = 3, 8
NEAR_WINDOW_HOURS_MAX = 30 * 24
COLOUR = re.compile(r'^#[0-9a-fA-F]{6}$')

KINDS = [
    ('draft', "Draft"),
    ('quotation', "Quotation"),
    ('confirmed', "Confirmed"),
    ('processing', "Processing"),
    ('done', "Done"),
    ('cancelled', "Cancelled"),
    ]

# The sale states an order may be in while it stands in a stage of a kind.
# A confirmed sale is processed at once (or by the queue), so a stage of
# kind "confirmed" also holds processing sales; a sale becomes done upstream
# when shipped and paid, whatever stage of the delivery the supplier tracks.
KIND_STATES = {
    'draft': {'draft'},
    'quotation': {'quotation'},
    'confirmed': {'confirmed', 'processing'},
    'processing': {'confirmed', 'processing', 'done'},
    'done': {'processing', 'done'},
    'cancelled': {'cancelled'},
    }

DELIVERY_EVENTS = [
    (None, ""),
    ('picked_up', "Picked Up"),
    ('delivered', "Delivered"),
    ('failed', "Failed"),
    ]

# The refusal to delete or to retire (write) a stage holding orders
IN_USE_MESSAGES = {
    'delete': 'backoffice_order.msg_stage_in_use_delete',
    'write': 'backoffice_order.msg_stage_in_use_write',
    }

# code, name, kind, start, end, lines editable, ready, delivery event, colour
DEFAULT_STAGES = [
    ('new', "New", 'draft', True, False, True, False, None, '#9e9e9e'),
    ('confirmed', "Confirmed", 'confirmed', False, False, False, False,
        None, '#1e88e5'),
    ('preparing', "Preparing", 'processing', False, False, False, False,
        None, '#fb8c00'),
    ('ready', "Ready", 'processing', False, False, False, True, 'failed',
        '#8e24aa'),
    ('in_transit', "In Transit", 'processing', False, False, False, True,
        'picked_up', '#3949ab'),
    ('delivered', "Delivered", 'done', False, True, False, True,
        'delivered', '#43a047'),
    ('cancelled', "Cancelled", 'cancelled', False, True, False, True, None,
        '#e53935'),
    ]
DEFAULT_TRANSITIONS = [
    ('new', 'confirmed'),
    ('new', 'cancelled'),
    ('confirmed', 'new'),
    ('confirmed', 'preparing'),
    ('preparing', 'ready'),
    ('ready', 'preparing'),
    ('ready', 'in_transit'),
    ('in_transit', 'delivered'),
    ('in_transit', 'ready'),
    ('cancelled', 'new'),
    ]


class Scheme(ValueCheckMixin, ModelSQL, ModelView):
    __name__ = 'backoffice.order.scheme'
    __string__ = "Fulfilment Scheme"

    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='CASCADE',
        help="The supplier whose orders go through these stages; "
        "a company has one scheme.")
    name = fields.Char("Name", required=True, translate=True)
    stages = fields.One2Many(
        'backoffice.order.stage', 'scheme', "Stages",
        context={'active_test': False},
        help="The stages of the orders, in the order of the board; "
        "%(min)s to %(max)s of them active." % {
            'min': MIN_STAGES, 'max': MAX_STAGES})
    transitions = fields.One2Many(
        'backoffice.order.transition', 'scheme', "Transitions",
        help="The moves between stages users may make; any other move "
        "is refused.")
    near_window_hours = fields.Integer(
        "Near Window Hours", required=True,
        domain=[('near_window_hours', '>=', 0)],
        help="An order gets the \"near delivery window\" label when its "
        "delivery window starts within this many hours (or has started) "
        "and it is not yet in a ready stage.")
    auto_confirm = fields.Boolean(
        "Confirm Automatically",
        help="Move new orders to the first confirmed stage by themselves "
        "when they pass the credit check and need no manual review.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('company_unique', Unique(t, t.company),
                'backoffice_order.msg_scheme_company_unique'),
            ]
        # 10**9 hours once overflowed the date of every order label (and
        # their search); a month ahead is already more than "near".
        cls._value_bounds['near_window_hours'] = (0, NEAR_WINDOW_HOURS_MAX)

    @classmethod
    def __register__(cls, module):
        # Migration from the fulfilment prefix (issue #19), of the five
        # models here: the scheme registers first, and registering its
        # fields registers the stage and transition models under their new
        # names, where their old records must already be
        if backend.TableHandler.table_exist('backoffice_fulfilment_scheme'):
            for old, new in RENAMED_MODELS:
                rename_model(old, new)
        super().__register__(module)

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_near_window_hours(cls):
        return 4

    @classmethod
    def default_auto_confirm(cls):
        return False

    @classmethod
    def validate_fields(cls, schemes, field_names):
        super().validate_fields(schemes, field_names)
        cls.check_stages(schemes)

    @classmethod
    def check_stages(cls, schemes):
        "Check the number of active stages and the start and end stages"
        for scheme in schemes:
            active = [s for s in scheme.stages if s.active]
            if not MIN_STAGES <= len(active) <= MAX_STAGES:
                raise SchemeError(gettext(
                        'backoffice_order.msg_scheme_stage_count',
                        scheme=scheme.rec_name, count=len(active),
                        min=MIN_STAGES, max=MAX_STAGES))
            if not any(s.start for s in active):
                raise SchemeError(gettext(
                        'backoffice_order.msg_scheme_no_start',
                        scheme=scheme.rec_name))
            if not any(s.end for s in active):
                raise SchemeError(gettext(
                        'backoffice_order.msg_scheme_no_end',
                        scheme=scheme.rec_name))

    @classmethod
    def get(cls, company=None, create=True):
        """The scheme of the company (the context one by default), created
        from the default stages on first use when create is set"""
        if company is None:
            company = Transaction().context.get('company')
        company = int(company) if company is not None else None
        if company is None:
            return None
        with without_check_access():
            schemes = cls.search([('company', '=', company)], limit=1)
        if schemes:
            return schemes[0]
        if not create:
            return None
        scheme, = cls.create_default([company])
        return scheme

    @classmethod
    @without_check_access
    def create_default(cls, companies):
        """Create the default scheme (New … Delivered, Cancelled) for the
        companies that have none; returns the schemes of all companies"""
        pool = Pool()
        Stage = pool.get('backoffice.order.stage')
        Transition = pool.get('backoffice.order.transition')
        companies = [int(c) for c in companies]
        existing = {s.company.id: s for s in cls.search(
                [('company', 'in', companies)])}
        missing = [c for c in companies if c not in existing]
        if missing:
            to_create = [cls(
                    company=company,
                    name=gettext('backoffice_order.msg_scheme_default_name'),
                    stages=[Stage(
                            name=name, code=code, sequence=i * 10, kind=kind,
                            start=start, end=end, lines_editable=editable,
                            ready=ready, delivery_event=event, colour=colour)
                        for i, (code, name, kind, start, end, editable,
                            ready, event, colour)
                        in enumerate(DEFAULT_STAGES, 1)])
                for company in missing]
            cls.save(to_create)
            transitions = []
            for scheme in to_create:
                by_code = {s.code: s for s in scheme.stages}
                transitions.extend(Transition(
                        scheme=scheme, from_=by_code[f], to=by_code[t])
                    for f, t in DEFAULT_TRANSITIONS)
            Transition.save(transitions)
            existing.update((s.company.id, s) for s in to_create)
        return [existing[c] for c in companies]

    def stages_of_kind(self, kind):
        "The active stages of kind in board order"
        return [s for s in self.stages if s.active and s.kind == kind]

    @property
    def start_stage(self):
        for stage in self.stages:
            if stage.active and stage.start:
                return stage

    def allowed(self):
        "The set of (from id, to id) of the transitions"
        return {(t.from_.id, t.to.id) for t in self.transitions
            if t.from_.active and t.to.active}


class Stage(
        ValueCheckMixin, DeactivableMixin, sequence_ordered(), ModelSQL,
        ModelView):
    __name__ = 'backoffice.order.stage'
    __string__ = "Fulfilment Stage"

    scheme = fields.Many2One(
        'backoffice.order.scheme', "Scheme", required=True,
        ondelete='CASCADE')
    name = fields.Char(
        "Name", required=True, translate=True,
        help="Shown on the board, as a tab of Orders by Stage and on the "
        "order.")
    code = fields.Char(
        "Code", required=True,
        help="A short identifier of the stage, unique in its scheme: the "
        "stages of the same code share a tab of Orders by Stage, scripts "
        "and data loaders find the stage by it.")
    colour = fields.Char(
        "Colour",
        help="The colour of the stage on the board, as #RRGGBB.")
    kind = fields.Selection(
        KINDS, "Kind", required=True, sort=False,
        help="The state of the sale while its order stands in the stage: "
        "moving an order into the stage runs the sale action that reaches "
        "it (quote, confirm with the credit check, process or cancel).")
    start = fields.Boolean(
        "Start",
        help="The first stage of the orders created outside the board; "
        "a scheme needs one active start stage.")
    end = fields.Boolean(
        "End",
        help="A stage where the orders end (delivered, cancelled); "
        "a scheme needs at least one active end stage.")
    ready = fields.Boolean(
        "Ready",
        help="The goods of the orders in this stage are ready or on their "
        "way: these orders no longer get the \"near delivery window\" "
        "label.")
    lines_editable = fields.Boolean(
        "Lines Editable",
        help="Lines, quantities, delivery date and window of the orders "
        "in this stage may be edited.")
    gate_group = fields.Many2One(
        'res.group', "Approval Group", ondelete='RESTRICT',
        help="When set, only the members of this group may move orders "
        "into the stage (for example credit review).")
    delivery_event = fields.Selection(
        DELIVERY_EVENTS, "Delivery Event",
        help="The delivery event that moves orders into this stage by "
        "itself (reported by the drivers).")
    order_count = fields.Function(
        fields.Integer("Orders"), 'get_order_count')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('scheme')
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.scheme, t.code),
                'backoffice_order.msg_stage_code_unique'),
            ]

    @classmethod
    def default_kind(cls):
        return 'processing'

    @classmethod
    def default_lines_editable(cls):
        return False

    @classmethod
    def default_start(cls):
        return False

    @classmethod
    def default_end(cls):
        return False

    @classmethod
    def default_ready(cls):
        return False

    @classmethod
    def get_order_count(cls, stages, name):
        pool = Pool()
        Sale = pool.get('sale.sale')
        cursor = Transaction().connection.cursor()
        sale = Sale.__table__()
        counts = dict.fromkeys([s.id for s in stages], 0)
        cursor.execute(*sale.select(sale.stage, Count(sale.id),
                where=fields.SQL_OPERATORS['in'](sale.stage, list(counts)),
                group_by=[sale.stage]))
        counts.update(cursor)
        return counts

    @classmethod
    def validate_fields(cls, stages, field_names):
        super().validate_fields(stages, field_names)
        for stage in stages:
            if stage.colour and not COLOUR.match(stage.colour):
                raise StageError(gettext(
                        'backoffice_order.msg_stage_colour',
                        stage=stage.rec_name, colour=stage.colour))
        if field_names & {'active', 'start', 'end', 'scheme'}:
            Pool().get('backoffice.order.scheme').check_stages(
                list({s.scheme for s in stages}))

    @classmethod
    def check_modification(cls, mode, stages, values=None, external=False):
        super().check_modification(
            mode, stages, values=values, external=external)
        if mode == 'delete' or (
                mode == 'write' and values.get('active') is False):
            cls.check_unused(stages, mode)

    @classmethod
    def check_unused(cls, stages, mode):
        "Refuse to delete or retire stages holding orders"
        pool = Pool()
        Sale = pool.get('sale.sale')
        with without_check_access():
            sales = Sale.search([
                    ('stage', 'in', [s.id for s in stages]),
                    ], limit=1, order=[])
        if sales:
            sale, = sales
            raise StageInUseError(gettext(
                    IN_USE_MESSAGES[mode],
                    stage=sale.stage.rec_name, sale=sale.rec_name))

    @classmethod
    def _tab_fields(cls):
        "The fields whose change changes the tabs of Orders by Stage"
        return {'name', 'code', 'sequence', 'active', 'scheme'}

    @classmethod
    def on_modification(cls, mode, stages, field_names=None):
        super().on_modification(mode, stages, field_names=field_names)
        if mode == 'create' or (
                mode == 'write' and field_names & cls._tab_fields()):
            cls.sync_order_tabs()

    @classmethod
    def on_delete(cls, stages):
        return super().on_delete(stages) + [cls.sync_order_tabs]

    @classmethod
    @without_check_access
    def sync_order_tabs(cls):
        """Give the action "Orders by Stage" one tab per stage code of the
        active stages of all schemes, named and ordered like the stages

        The tabs are data (ir.action.act_window.domain) built from the
        schemes, so custom stages get theirs and retired ones lose it; the
        tabs of other domains (Manual Review, All) are left alone."""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        ActionDomain = pool.get('ir.action.act_window.domain')
        try:
            action_id = ModelData.get_id('backoffice_order', 'act_order_form')
        except KeyError:
            # the module is being installed: no scheme exists yet
            return
        codes = {}
        for stage in cls.search([], order=[
                    ('sequence', 'ASC NULLS LAST'), ('id', 'ASC')]):
            codes.setdefault(stage.code, stage.name)
        wanted = {}
        for i, (code, name) in enumerate(codes.items(), 1):
            wanted[code] = {
                'name': name,
                'sequence': i * 10,
                'domain': PYSONEncoder(sort_keys=True).encode(
                    [('stage.code', '=', code)]),
                'count': True,
                'act_window': action_id,
                }
        to_delete, to_write = [], []
        for tab in ActionDomain.search([('act_window', '=', action_id)]):
            code = cls._tab_code(tab.domain)
            if code is None:
                continue
            values = wanted.pop(code, None)
            if values is None:
                to_delete.append(tab)
            elif (tab.name, tab.sequence, tab.count) != (
                    values['name'], values['sequence'], values['count']):
                to_write.extend(([tab], {
                            'name': values['name'],
                            'sequence': values['sequence'],
                            'count': values['count'],
                            }))
        if to_delete:
            ActionDomain.delete(to_delete)
        if to_write:
            ActionDomain.write(*to_write)
        if wanted:
            ActionDomain.create(list(wanted.values()))

    @staticmethod
    def _tab_code(domain):
        "The stage code of a tab domain [('stage.code', '=', code)] or None"
        if not domain:
            return None
        try:
            value = PYSONDecoder().decode(domain)
        except Exception:
            return None
        if (isinstance(value, list) and len(value) == 1
                and isinstance(value[0], (list, tuple))
                and list(value[0][:2]) == ['stage.code', '=']
                and len(value[0]) == 3):
            return value[0][2]
        return None

    @classmethod
    def delete(cls, stages):
        Scheme = Pool().get('backoffice.order.scheme')
        scheme_ids = list({s.scheme.id for s in stages})
        super().delete(stages)
        # What remains of the schemes must still drive orders.
        schemes = Scheme.search([('id', 'in', scheme_ids)])
        Scheme.check_stages(schemes)


class CreateDefaultStart(ModelView):
    __name__ = 'backoffice.order.scheme.create_default.start'
    __string__ = "Create Default Fulfilment Scheme"

    company = fields.Many2One(
        'company.company', "Company", required=True,
        domain=[
            ('id', 'in', Eval('context', {}).get('companies', [])),
            ],
        help="The company that gets the default scheme: New, Confirmed, "
        "Preparing, Ready, In Transit, Delivered and Cancelled with their "
        "transitions. A company has one scheme.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')


class CreateDefault(Wizard):
    "Create the default fulfilment scheme of a company"
    __name__ = 'backoffice.order.scheme.create_default'

    start = StateView(
        'backoffice.order.scheme.create_default.start',
        'backoffice_order.scheme_create_default_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Create", 'create_scheme', 'tryton-ok', default=True),
            ])
    create_scheme = StateAction('backoffice_order.act_scheme_form')

    def do_create_scheme(self, action):
        pool = Pool()
        Scheme = pool.get('backoffice.order.scheme')
        company = self.start.company
        with without_check_access():
            existing = Scheme.search([('company', '=', company.id)], limit=1)
        if existing:
            scheme, = existing
            raise SchemeError(gettext(
                    'backoffice_order.msg_scheme_exists',
                    company=company.rec_name, scheme=scheme.rec_name))
        scheme, = Scheme.create_default([company])
        return action, {'res_id': [scheme.id]}


class Transition(ValueCheckMixin, ModelSQL, ModelView):
    __name__ = 'backoffice.order.transition'
    __string__ = "Fulfilment Transition"

    scheme = fields.Many2One(
        'backoffice.order.scheme', "Scheme", required=True,
        ondelete='CASCADE')
    from_ = fields.Many2One(
        'backoffice.order.stage', "From", required=True,
        ondelete='CASCADE',
        domain=[('scheme', '=', Eval('scheme', -1))])
    to = fields.Many2One(
        'backoffice.order.stage', "To", required=True,
        ondelete='CASCADE',
        domain=[('scheme', '=', Eval('scheme', -1))])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('scheme')
        t = cls.__table__()
        cls._sql_constraints += [
            ('stages_unique', Unique(t, t.from_, t.to),
                'backoffice_order.msg_transition_unique'),
            ]

    def get_rec_name(self, name):
        return '%s → %s' % (
            self.from_.rec_name if self.from_ else '',
            self.to.rec_name if self.to else '')

    @classmethod
    def validate_fields(cls, transitions, field_names):
        super().validate_fields(transitions, field_names)
        for transition in transitions:
            if transition.from_ == transition.to:
                raise TransitionError(gettext(
                        'backoffice_order.msg_transition_same',
                        stage=transition.from_.rec_name))
            if (transition.from_.scheme != transition.scheme
                    or transition.to.scheme != transition.scheme):
                raise TransitionError(gettext(
                        'backoffice_order.msg_transition_scheme',
                        transition=transition.rec_name,
                        scheme=transition.scheme.rec_name))
