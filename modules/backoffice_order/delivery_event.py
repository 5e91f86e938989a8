# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The fleet's side of an order: its driver (assigned by hand, in the
timeline) and the delivery events the drivers report (picked up,
delivered, failed), which move the order to the stage of the event

Kept together to move to backoffice_fleet as a whole."""
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import Index, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    driver = fields.Many2One(
        'company.employee', "Driver", ondelete='SET NULL',
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        help="The employee who delivers the order; set with Assign "
        "Driver, each change recorded in the timeline.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._value_checked |= {'driver'}
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.driver, Index.Range())))

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        # the copy is delivered on its own
        default.setdefault('driver', None)
        return super().copy(sales, default=default)

    @classmethod
    def _tracked_fields(cls):
        return {**super()._tracked_fields(), 'driver': 'assignment'}

    @classmethod
    def delivery_event(cls, sales, event):
        """Move sales to the stage of their scheme that the delivery event
        ('picked_up', 'delivered' or 'failed') reaches, for the fleet

        The stage's delivery event is the permission: transitions and
        approval groups are for people. Sales already there, in an end
        stage, or whose scheme has no such stage stay. Returns the moved
        sales."""
        pool = Pool()
        Scheme = pool.get('backoffice.order.scheme')
        Stage = pool.get('backoffice.order.stage')
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
                        and sale.state in cls._stage_plans[stage.kind]):
                    targets[stage].append(sale)
            description = gettext(
                'backoffice_order.msg_activity_delivery_event',
                event=dict(Stage.fields_get(['delivery_event'])[
                        'delivery_event']['selection']).get(event, event))
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


class AssignDriverStart(ModelView):
    __name__ = 'backoffice.order.assign_driver.start'
    __string__ = "Assign Driver"

    company = fields.Many2One(
        'company.company', "Company", readonly=True,
        help="The company of the selected orders: the driver is one of "
        "its employees.")
    driver = fields.Many2One(
        'company.employee', "Driver",
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        help="The employee who delivers the orders; "
        "leave empty to unassign them.")


class AssignDriver(Wizard):
    "Assign a driver to orders"
    __name__ = 'backoffice.order.assign_driver'

    start = StateView(
        'backoffice.order.assign_driver.start',
        'backoffice_order.assign_driver_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Assign", 'assign', 'tryton-ok', default=True),
            ])
    assign = StateTransition()

    def default_start(self, fields):
        return {'company': Transaction().context.get('company')}

    def transition_assign(self):
        pool = Pool()
        Sale = pool.get('sale.sale')
        # one write: the timeline records each order's old and new driver
        Sale.write(list(self.records), {
                'driver': self.start.driver.id if self.start.driver
                else None})
        return 'end'

    def end(self):
        # the list behind re-reads its rows and the counters of its tabs
        return 'reload'
