# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""An order split into several deliveries: the new order takes part of
the lines and keeps the link to the order it was split from"""
from trytond.i18n import gettext
from trytond.model import Index, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import LinesLockedError, SplitError
from .timeline import LINES_QUIET


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

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
        cls._value_checked |= {'split_from'}
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.split_from, Index.Range())))
        cls._buttons.update({
                'split_wizard': {
                    'invisible': ~Eval('lines_editable', False),
                    'depends': ['lines_editable'],
                    },
                })

    @classmethod
    @ModelView.button_action('backoffice_order.wizard_split')
    def split_wizard(cls, sales):
        pass

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        # a copy is no part of a split (split sets its own link)
        default.setdefault('split_from', None)
        default.setdefault('split_parts', None)
        return super().copy(sales, default=default)

    @classmethod
    def split(cls, sale, quantities, delivery_date=None):
        """Split off a new delivery of sale holding quantities
        ({sale line: quantity}) of its lines, delivered on delivery_date

        The new order is linked to sale (split_from) and starts in the start
        stage; the lines keep their unit prices, so the quantities and the
        untaxed amounts of the parts add up to those before, to the cent
        (checked); the tax of each part is rounded on its own and a
        difference goes to the timeline. Returns the new order."""
        pool = Pool()
        Activity = pool.get('backoffice.order.activity')
        cls.lock([sale])
        sale = cls(sale.id)
        if sale.stage and not sale.stage.lines_editable:
            raise LinesLockedError(gettext(
                    'backoffice_order.msg_lines_locked',
                    sale=sale.rec_name, stage=sale.stage.rec_name))
        moving = cls._split_quantities(sale, quantities)
        before = (sale.untaxed_amount, sale.total_amount)
        part, = cls.copy([sale], default={
                'lines': None,
                'split_from': sale.id,
                'delivery_date': delivery_date or sale.delivery_date,
                'delivery_window': (
                    sale.delivery_window.id if sale.delivery_window
                    and (not delivery_date
                        or delivery_date == sale.delivery_date)
                    else None),
                'priority': sale.priority,
                })
        cls._split_lines(part, moving)
        sale, part = cls.browse([sale.id, part.id])
        after = tuple(
            a + b for a, b in zip(
                (sale.untaxed_amount, sale.total_amount),
                (part.untaxed_amount, part.total_amount)))
        # Each line keeps its unit price, so the untaxed amounts add up
        # unless the rounding of a line amount differs: that is refused.
        if after[0] != before[0]:
            raise SplitError(gettext(
                    'backoffice_order.msg_split_total',
                    sale=sale.rec_name, before=before[0], after=after[0]))
        description = cls._split_description(sale, moving, before, after)
        Activity.record([{
                    'sale': sale.id, 'kind': 'split', 'field': 'split_parts',
                    'new_value': part.rec_name, 'description': description,
                    }, {
                    'sale': part.id, 'kind': 'split', 'field': 'split_from',
                    'new_value': sale.rec_name, 'description': description,
                    }])
        return part

    @classmethod
    def _split_quantities(cls, sale, quantities):
        """{line: quantity} of the lines of sale that move, from quantities
        ({sale line: quantity}); refuses quantities that split nothing,
        everything or more than a line has, and lines of other orders"""
        lines = {l.id: l for l in sale.line_lines}
        moving = {}
        for line, quantity in quantities.items():
            line = lines.get(int(line))
            if line is None:
                raise SplitError(gettext(
                        'backoffice_order.msg_split_line_foreign',
                        sale=sale.rec_name))
            quantity = quantity or 0
            if quantity < 0 or quantity > line.quantity:
                raise SplitError(gettext(
                        'backoffice_order.msg_split_quantity',
                        sale=sale.rec_name, line=line.rec_name,
                        quantity=quantity, available=line.quantity))
            if quantity:
                moving[line] = quantity
        if not moving:
            raise SplitError(gettext(
                    'backoffice_order.msg_split_empty', sale=sale.rec_name))
        if all(moving.get(l, 0) == l.quantity for l in lines.values()):
            raise SplitError(gettext(
                    'backoffice_order.msg_split_everything',
                    sale=sale.rec_name))
        return moving

    @classmethod
    def _split_lines(cls, part, moving):
        """Move the quantities of moving ({line: quantity}) to the order
        part: whole lines move, the others are divided between the parts"""
        pool = Pool()
        Line = pool.get('sale.line')
        whole = [l for l, q in moving.items() if q == l.quantity]
        divided = [l for l in moving if l not in whole]
        # the split entry tells the moves of the lines
        with Transaction().set_context(**{LINES_QUIET: True}):
            if whole:
                Line.write(whole, {'sale': part.id})
            if divided:
                Line.copy(divided, default={
                        'sale': part.id,
                        'quantity': lambda data: moving[Line(data['id'])],
                        })
                to_write = []
                for line in divided:
                    to_write.extend(
                        ([line], {'quantity': line.quantity - moving[line]}))
                Line.write(*to_write)

    @classmethod
    def _split_description(cls, sale, moving, before, after):
        """The timeline's text of the split of moving ({line: quantity})
        off sale, with the (untaxed, total) amounts before and after"""
        description = gettext(
            'backoffice_order.msg_activity_split',
            lines=', '.join(
                '%s × %s' % (q, l.product.rec_name if l.product else '')
                for l, q in moving.items()))
        # The tax of each part is rounded on its own, as the tax rules
        # say: the parts may pay a few cents more or less tax than the
        # whole did. The timeline states it; the split goes on.
        if after[1] != before[1]:
            description += '\n' + gettext(
                'backoffice_order.msg_activity_split_tax',
                before=before[1] - before[0], after=after[1] - after[0],
                difference='%+g' % (after[1] - before[1]),
                currency=sale.currency.code if sale.currency else '')
        return description


class SplitStart(ModelView):
    __name__ = 'backoffice.order.split.start'
    __string__ = "Split Order"

    sale = fields.Many2One('sale.sale', "Order", readonly=True)
    delivery_date = fields.Date(
        "Delivery Date", required=True,
        help="The delivery date of the new part, an order of its own.")
    lines = fields.One2Many(
        'backoffice.order.split.line', None, "Lines",
        help="How much of each line goes to the new part; "
        "the rest stays on the order.")


class SplitLine(ModelView):
    __name__ = 'backoffice.order.split.line'
    __string__ = "Split Order Line"

    line = fields.Many2One('sale.line', "Line", readonly=True)
    quantity = fields.Float(
        "Quantity", readonly=True, digits='unit',
        help="The quantity of the line before the split.")
    part_quantity = fields.Float(
        "Quantity of the New Part", digits='unit',
        domain=[
            ('part_quantity', '>=', 0),
            ('part_quantity', '<=', Eval('quantity', 0)),
            ],
        help="The quantity moving to the new part, "
        "from 0 to the quantity of the line.")
    unit = fields.Many2One('product.uom', "Unit", readonly=True)


class Split(Wizard):
    "Split an order into several deliveries"
    __name__ = 'backoffice.order.split'

    start = StateView(
        'backoffice.order.split.start',
        'backoffice_order.split_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Split", 'split', 'tryton-ok', default=True),
            ])
    split = StateTransition()

    def default_start(self, fields):
        sale = self.record
        return {
            'sale': sale.id,
            'delivery_date': sale.delivery_date,
            'lines': [{
                    'line': l.id,
                    'quantity': l.quantity,
                    'part_quantity': 0,
                    'unit': l.unit.id if l.unit else None,
                    } for l in sale.line_lines],
            }

    def transition_split(self):
        pool = Pool()
        Sale = pool.get('sale.sale')
        Sale.split(self.record, {
                l.line: l.part_quantity for l in self.start.lines},
            self.start.delivery_date)
        return 'end'

    def end(self):
        # the list behind re-reads its rows and the counters of its tabs
        return 'reload'
