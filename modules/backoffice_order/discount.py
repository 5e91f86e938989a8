# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.modules.product import round_price
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import DiscountError, LinesLockedError

# Set while a discount is given on whole orders: the timeline records one
# entry per order, not one per line
ORDER_DISCOUNT = '_backoffice_order_discount'


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'discount_wizard': {
                    'invisible': ~Eval('lines_editable', False),
                    'depends': ['lines_editable'],
                    },
                })

    @classmethod
    @ModelView.button_action('backoffice_order.wizard_discount')
    def discount_wizard(cls, sales):
        pass

    @classmethod
    def apply_discount(cls, sales, rate, reason):
        """Give a discount of rate (Decimal('0.1') for 10 %) on the base
        price of every product line of sales, for reason

        The unit prices are computed from the base prices (a discount
        replaces the previous one, as upstream sale_discount does), the
        reason is kept on the lines and the timeline of each order gets one
        entry with the untaxed amount before and after. All the orders must
        be in a stage that lets their lines be edited."""
        pool = Pool()
        Activity = pool.get('backoffice.order.activity')
        sales = cls.browse(sales)
        if rate is None or not (Decimal(0) <= rate < Decimal(1)):
            raise DiscountError(gettext(
                    'backoffice_order.msg_order_discount_rate',
                    rate=rate * 100 if rate is not None else ''))
        if not reason:
            raise DiscountError(gettext(
                    'backoffice_order.msg_order_discount_reason',
                    sale=sales[0].rec_name if sales else ''))
        for sale in sales:
            if sale.stage and not sale.stage.lines_editable:
                raise LinesLockedError(gettext(
                        'backoffice_order.msg_lines_locked',
                        sale=sale.rec_name, stage=sale.stage.rec_name))
        old = {s.id: s.untaxed_amount for s in sales}
        cls._discount_lines(sales, rate, reason)
        sales = cls.browse([s.id for s in sales])
        Activity.record([{
                    'sale': s.id,
                    'kind': 'discount',
                    'field': 'untaxed_amount',
                    'old_value': old[s.id],
                    'new_value': s.untaxed_amount,
                    'description': gettext(
                        'backoffice_order.msg_activity_order_discount',
                        rate=format((rate * 100).normalize(), 'f'),
                        reason=reason),
                    } for s in sales if s.untaxed_amount != old[s.id]])
        return sales

    @classmethod
    def _discount_lines(cls, sales, rate, reason):
        """Set the unit price of the product lines of sales to their base
        price less rate, for reason"""
        pool = Pool()
        Line = pool.get('sale.line')
        # one write per distinct price, not per line
        by_values = defaultdict(list)
        for sale in sales:
            for line in sale.line_lines:
                base_price = line.base_price
                if base_price is None:
                    base_price = line.unit_price
                if base_price is None:
                    continue
                unit_price = round_price(base_price * (1 - rate))
                by_values[base_price, unit_price].append(line)
        args = []
        for (base_price, unit_price), lines in by_values.items():
            args.extend((lines, {
                        'base_price': base_price,
                        'unit_price': unit_price,
                        'discount_reason': reason,
                        }))
        if args:
            with Transaction().set_context(**{ORDER_DISCOUNT: True}):
                Line.write(*args)


class Line(metaclass=PoolMeta):
    __name__ = 'sale.line'

    discount_reason = fields.Char(
        "Discount Reason",
        states={
            'invisible': Eval('type') != 'line',
            },
        help="Why the unit price differs from the base price; recorded "
        "in the timeline of the order.")

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


class DiscountStart(ModelView):
    __name__ = 'backoffice.order.discount.start'
    __string__ = "Order Discount"

    rate = fields.Numeric(
        "Discount", digits=(16, 4), required=True,
        domain=[
            ('rate', '>=', 0),
            ('rate', '<', 1),
            ],
        help="The discount on the base price of every line of the orders; "
        "it replaces the discounts given before.")
    reason = fields.Char(
        "Reason", required=True,
        help="Why the orders get the discount; kept on the lines and in "
        "the timeline.")
    order_count = fields.Integer("Orders", readonly=True)


class Discount(Wizard):
    "Give a discount on whole orders"
    __name__ = 'backoffice.order.discount'

    start = StateView(
        'backoffice.order.discount.start',
        'backoffice_order.discount_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Apply", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()

    def default_start(self, fields):
        return {'order_count': len(self.records)}

    def transition_apply(self):
        pool = Pool()
        Sale = pool.get('sale.sale')
        Sale.apply_discount(
            list(self.records), self.start.rate, self.start.reason)
        return 'end'

    def end(self):
        # the list behind re-reads its rows and the counters of its tabs
        return 'reload'
