# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The moves of orders between stages: each is checked (expected stage,
transition, approval group, sale action, credit limit), then the sale
actions that reach the stage run and the stage is written, in the timeline;
by a person (Change Stage), by the scheme's automatic confirmation (here)
and by the drivers' events (delivery_event.py)"""
from collections import defaultdict
from itertools import groupby

from trytond.i18n import gettext
from trytond.model import ModelView
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .exceptions import StageChangedError, StageGateError, StageMoveError
from .scheme import KIND_STATES
from .stage import MOVING
from .workflow import sale_plans


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'change_stage': {
                    'invisible': Eval('id', -1) < 0,
                    'depends': ['id'],
                    },
                })

    @classmethod
    def __post_setup__(cls):
        super().__post_setup__()
        # after every module's __setup__, which may add transitions
        cls._stage_plans = sale_plans(cls._transitions)

    @classmethod
    @ModelView.button_action('backoffice_order.wizard_change_stage')
    def change_stage(cls, sales):
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
        expected = expected or {}
        refused = {}
        allowed = {}
        for sale in sales:
            scheme = stage.scheme
            if scheme not in allowed:
                allowed[scheme] = scheme.allowed()
            refusal = cls._move_refusal(
                sale, stage, expected, allowed[scheme])
            if refusal:
                refused[sale] = refusal
        refused.update(cls._move_credit_refusals(
                [s for s in sales if s not in refused], stage))
        return refused

    @classmethod
    def _move_refusal(cls, sale, stage, expected, allowed):
        """The error refusing the move of sale to stage, None if it may go

        expected: {sale id: stage id the user saw}, allowed: the
        transitions of the stage's scheme"""
        current = sale.stage
        if sale.id in expected and (
                (current.id if current else None) != expected[sale.id]):
            return StageChangedError(gettext(
                    'backoffice_order.msg_stage_changed',
                    sale=sale.rec_name,
                    stage=current.rec_name if current else ''))
        if current == stage:
            return StageMoveError(gettext(
                    'backoffice_order.msg_stage_same',
                    sale=sale.rec_name, stage=stage.rec_name))
        if stage.scheme.company != sale.company:
            return StageMoveError(gettext(
                    'backoffice_order.msg_stage_company',
                    sale=sale.rec_name, stage=stage.rec_name))
        if (not stage.active or current is None
                or (current.id, stage.id) not in allowed):
            return StageMoveError(gettext(
                    'backoffice_order.msg_transition_not_allowed',
                    sale=sale.rec_name,
                    from_=current.rec_name if current else '',
                    to=stage.rec_name))
        if stage.gate_group and not cls._in_group(stage.gate_group):
            return StageGateError(gettext(
                    'backoffice_order.msg_stage_gate',
                    sale=sale.rec_name, stage=stage.rec_name,
                    group=stage.gate_group.rec_name))
        if sale.state not in cls._stage_plans[stage.kind]:
            return StageMoveError(gettext(
                    'backoffice_order.msg_stage_action_impossible',
                    sale=sale.rec_name, stage=stage.rec_name,
                    state=sale.state_string))

    @classmethod
    def _move_credit_refusals(cls, sales, stage):
        """{sale: error} of the sales whose move to stage confirms them
        over the credit limit, counting the orders of the same client
        accepted before in this batch

        Members of the credit limit group get upstream's warning instead."""
        pool = Pool()
        Group = pool.get('res.group')
        ModelData = pool.get('ir.model.data')
        credit_group = Group(ModelData.get_id(
                'account_credit_limit', 'group_credit_limit'))
        if cls._in_group(credit_group):
            return {}
        plan = cls._stage_plans[stage.kind]
        to_confirm = [s for s in sales if 'confirm' in plan.get(s.state, [])]
        cls._lock_parties(to_confirm)
        return {
            sale: StageMoveError(cls._credit_refusal(sale, stage, *excess))
            for sale, excess in cls._credit_excess(to_confirm).items()}

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
        with Transaction().set_context(**{MOVING: True}):
            cls._run_plan(sales, stage)
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
    def _run_plan(cls, sales, stage):
        "Run the sale actions that bring sales to the kind of stage"
        plan = cls._stage_plans[stage.kind]
        key = lambda s: s.state  # noqa: E731
        for state, s_sales in groupby(sorted(sales, key=key), key=key):
            s_sales = list(s_sales)
            steps = plan[state]
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
        Scheme = pool.get('backoffice.order.scheme')
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
