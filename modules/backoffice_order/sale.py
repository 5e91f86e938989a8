# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The order itself: its priority, its number from the first save, and what
the list and the graphs of the orders sort and count by

The other concepts of the order have their own files: stage.py (its stage),
move.py (moves between stages), delivery.py (date and window), label.py,
search.py, credit.py, review.py (manual review), timeline.py, split.py,
discount.py, delivery_event.py (driver and fleet events), workflow.py
(the upstream actions) and concurrency.py (row locks)."""
from sql import Literal
from sql.aggregate import Sum
from sql.conditionals import Coalesce

from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

PRIORITIES = [
    ('low', "Low"),
    ('normal', "Normal"),
    ('high', "High"),
    ('urgent', "Urgent"),
    ]


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    priority = fields.Selection(
        PRIORITIES, "Priority", required=True, sort=False,
        help="How urgently the order must be prepared; urgent orders get "
        "the \"urgent\" label.")
    order_count = fields.Function(fields.Integer(
            "Orders",
            help="One per order: the graphs of the orders add it up."),
        'get_order_count')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # checked before writing (backoffice_zone's values.py)
        cls._value_checked |= {'priority'}

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
    def get_order_count(cls, sales, name):
        return dict.fromkeys([s.id for s in sales], 1)

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
    def on_modification(cls, mode, sales, field_names=None):
        super().on_modification(mode, sales, field_names=field_names)
        if mode == 'create':
            # The office names an order by its number from its first save,
            # not from its quotation on
            cls.set_number(sales)
