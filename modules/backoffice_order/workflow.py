# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The scheme is the only way into a stage

Besides "Change Stage" (move_to_stage), a sale changes state through the
upstream buttons and workflow methods (quote, confirm, draft, cancel,
process), which any Sales user may call over RPC, and a client could write
the state itself. Here:

- the user actions (quote, confirm, draft, cancel) are checked first like a
  move to the stage they lead to (transition, approval group, credit
  limit): a refusal raises the move's message before anything changes;
- the facts upstream records by itself (processing, done: shipped and paid)
  follow the scheme only through allowed transitions and gates, else the
  order keeps its stage;
- the workflow fields (state, stage, number, review, …) are written by the
  server only: a client's create, write or copy carrying them is refused.

The sale actions a move runs to reach a stage (sale_plans) are derived from
upstream's transitions."""
from collections import defaultdict, deque

from trytond.modules.backoffice_client.access import (
    SERVER, ServerFieldsMixin)
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .scheme import KIND_STATES
from .stage import MOVING

# The sale action (upstream's button or workflow method) that brings a sale
# into a state; none brings it into "done": upstream records it when the
# order is shipped and paid.
ACTIONS = {
    'draft': 'draft',
    'quotation': 'quote',
    'confirmed': 'confirm',
    'processing': 'process',
    'cancelled': 'cancel',
    }
# The state a move into a stage of a kind brings its sale to; a move into a
# stage of kind "done" processes the sale, upstream makes it done once it
# is shipped and paid (KIND_STATES)
KIND_TARGETS = {
    'draft': 'draft',
    'quotation': 'quotation',
    'confirmed': 'confirmed',
    'processing': 'processing',
    'done': 'processing',
    'cancelled': 'cancelled',
    }
# The states upstream records by itself once a sale is confirmed
FACTS = {'processing', 'done'}


def _server():
    "The context of the server's own writes of the workflow fields"
    return Transaction().set_context(**{SERVER: True})


class Sale(ServerFieldsMixin, metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def _state_targets(cls, sales, state):
        """{stage: [sale]} of the sales whose stage would change when their
        state becomes state: the first stage of that kind, when their stage
        does not hold sales in that state (as _sync_stage moves them)"""
        pool = Pool()
        Scheme = pool.get('backoffice.order.scheme')
        targets = defaultdict(list)
        schemes = {}
        with without_check_access():
            for sale in cls.browse(sales):
                # Sales without stage are not (yet) driven by a scheme.
                if not sale.stage or state in KIND_STATES[sale.stage.kind]:
                    continue
                company = sale.company.id
                if company not in schemes:
                    schemes[company] = Scheme.get(company, create=False)
                scheme = schemes[company]
                stages = scheme.stages_of_kind(state) if scheme else []
                if stages and stages[0] != sale.stage:
                    targets[stages[0]].append(sale)
        return targets

    @classmethod
    def check_workflow(cls, sales, state):
        """Check the change of the state of sales by a workflow method like
        the move to the stage it leads to: the transition, the approval
        group and the credit limit; raises the first refusal"""
        if Transaction().context.get(MOVING):
            # the moves of the scheme are checked already (check_move)
            return
        transitions = cls._transitions
        sales = [s for s in cls.browse(sales)
            if (s.state, state) in transitions]
        for stage, s_sales in cls._state_targets(sales, state).items():
            refused = cls.check_move(s_sales, stage)
            for sale in s_sales:
                if sale in refused:
                    raise refused[sale]

    @classmethod
    def _sync_stage(cls, sales):
        # What upstream records by itself (processing, done) follows the
        # scheme through its transitions and gates only; an order that may
        # not go there keeps its stage, for a person to move.
        allowed = []
        for state, s_sales in _by_state(cls.browse(sales)).items():
            targets = cls._state_targets(s_sales, state)
            refused = set()
            for stage, t_sales in targets.items():
                refused.update(cls.check_move(t_sales, stage))
            allowed.extend(s for s in s_sales if s not in refused)
        super()._sync_stage(allowed)

    # The user actions of upstream: checked like moves

    @classmethod
    def quote(cls, sales):
        cls.check_workflow(sales, 'quotation')
        with _server():
            super().quote(sales)

    @classmethod
    def confirm(cls, sales):
        cls.check_workflow(sales, 'confirmed')
        with _server():
            super().confirm(sales)

    @classmethod
    def draft(cls, sales):
        cls.check_workflow(sales, 'draft')
        with _server():
            super().draft(sales)

    @classmethod
    def cancel(cls, sales):
        cls.check_workflow(sales, 'cancelled')
        with _server():
            super().cancel(sales)

    # What upstream records by itself (shipments, invoices)

    @classmethod
    def process(cls, sales):
        with _server():
            super().process(sales)

    @classmethod
    def proceed(cls, sales):
        with _server():
            super().proceed(sales)

    @classmethod
    def do(cls, sales):
        with _server():
            super().do(sales)


def sale_plans(transitions):
    """{stage kind: {sale state: [sale action]}}: the sale actions that
    bring a sale from its state to a stage of the kind, in order

    The shortest path over transitions (upstream's Sale._transitions) to
    the target state of the kind (KIND_TARGETS); a sale in that state, or
    in one that upstream records by itself from there (FACTS), needs no
    action. A state missing from the plan of a kind has no path to it."""
    plans = {}
    for kind, target in KIND_TARGETS.items():
        plan = dict.fromkeys(_facts_from(target, transitions), ())
        for state in sorted({s for t in transitions for s in t} - set(plan)):
            path = _shortest_path(state, target, transitions)
            if path is not None:
                plan[state] = path
        plans[kind] = {s: list(p) for s, p in plan.items()}
    return plans


def _facts_from(state, transitions):
    "state and the states upstream records by itself from it (FACTS)"
    reached, todo = {state}, [state]
    while todo:
        current = todo.pop()
        for from_, to in transitions:
            if from_ == current and to in FACTS and to not in reached:
                reached.add(to)
                todo.append(to)
    return reached


def _shortest_path(start, goal, transitions):
    "The sale actions of the shortest path from start to goal, or None"
    paths = {start: ()}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        if current == goal:
            return paths[current]
        for from_, to in sorted(transitions):
            if from_ == current and to in ACTIONS and to not in paths:
                paths[to] = paths[current] + (ACTIONS[to],)
                queue.append(to)
    return None


def _by_state(sales):
    result = defaultdict(list)
    for sale in sales:
        result[sale.state].append(sale)
    return result
