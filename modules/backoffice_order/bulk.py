# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import json

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import ChangeStageInputError


class ChangeStageStart(ModelView):
    __name__ = 'backoffice.order.change_stage.start'
    __string__ = "Change Stage"

    company = fields.Many2One(
        'company.company', "Company", readonly=True,
        help="The company of the selected orders: only the stages of its "
        "scheme can be chosen.")
    stage = fields.Many2One(
        'backoffice.order.stage', "Stage", required=True,
        domain=[
            ('scheme.company', '=', Eval('company', -1)),
            ],
        help="The stage to move the orders to; each order is checked on "
        "its own (transition, approval group, credit limit).")
    order_count = fields.Integer("Orders", readonly=True)
    expected = fields.Text(
        "Expected Stages", readonly=True,
        help="The stage of each order when the wizard opened, to refuse "
        "the orders someone else moved meanwhile.")


class ChangeStageResult(ModelView):
    __name__ = 'backoffice.order.change_stage.result'
    __string__ = "Change Stage Result"

    moved = fields.Integer("Moved", readonly=True)
    refused = fields.Integer(
        "Refused", readonly=True,
        help="The orders that stay in their stage; the list below says "
        "why for each one.")
    lines = fields.One2Many(
        'backoffice.order.change_stage.result.line', None, "Orders",
        readonly=True,
        help="Each selected order: moved, or refused with the reason.")


class ChangeStageResultLine(ModelView):
    __name__ = 'backoffice.order.change_stage.result.line'
    __string__ = "Change Stage Result per Order"

    sale = fields.Many2One('sale.sale', "Order", readonly=True)
    moved = fields.Boolean("Moved", readonly=True)
    message = fields.Text(
        "Message", readonly=True,
        help="Why the order was refused (transition, approval group, "
        "credit limit); empty when it moved.")


class ChangeStage(Wizard):
    "Move orders to a stage, each checked on its own"
    __name__ = 'backoffice.order.change_stage'

    start = StateView(
        'backoffice.order.change_stage.start',
        'backoffice_order.change_stage_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Move", 'move', 'tryton-ok', default=True),
            ])
    move = StateTransition()
    result = StateView(
        'backoffice.order.change_stage.result',
        'backoffice_order.change_stage_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        companies = {r.company.id for r in self.records}
        return {
            'company': (companies.pop() if len(companies) == 1
                else Transaction().context.get('company')),
            'order_count': len(self.records),
            'expected': json.dumps({
                    str(r.id): r.stage.id if r.stage else None
                    for r in self.records}),
            }

    def transition_move(self):
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('backoffice.order.change_stage.result.line')
        expected = self._expected()
        if not self.start.stage:
            raise ChangeStageInputError(gettext(
                    'backoffice_order.msg_change_stage_no_stage'))
        result = Sale.bulk_move(self.records, self.start.stage, expected)
        self.result.moved = len(result['moved'])
        self.result.refused = len(result['refused'])
        self.result.lines = (
            [Line(sale=s, moved=False, message=str(e.message))
                for s, e in result['refused'].items()]
            + [Line(sale=s, moved=True) for s in result['moved']])
        return 'result'

    def default_result(self, fields):
        return self.result._default_values

    def end(self):
        # the list behind re-reads its rows and the counters of its tabs
        return 'reload'

    def _expected(self):
        """The stages the user saw, as default_start wrote them: {sale id:
        stage id or None}; anything else comes from outside the form"""
        try:
            data = json.loads(self.start.expected or '{}')
            if not isinstance(data, dict):
                raise ValueError
            expected = {int(k): v for k, v in data.items()}
            if not all(v is None or (isinstance(v, int)
                        and not isinstance(v, bool))
                    for v in expected.values()):
                raise ValueError
        except (ValueError, TypeError, RecursionError) as exception:
            raise ChangeStageInputError(gettext(
                    'backoffice_order.msg_change_stage_expected')
                ) from exception
        return expected
