# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""When an order is delivered: its delivery date and window, a window of
the zone of its delivery address on the weekday of the date, which follows
the address and the date when they change"""
from collections import defaultdict

from trytond.model import Index, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    delivery_date = fields.Date(
        "Delivery Date",
        states={
            'readonly': ~Eval('lines_editable', True),
            },
        help="The day the goods must reach the client; it gives the "
        "delivery windows to choose from (those of the zone that "
        "weekday).")
    delivery_zone = fields.Function(fields.Many2One(
            'backoffice.zone', "Delivery Zone",
            help="The zone of the delivery address, whose windows the "
            "delivery window is chosen from."),
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

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._value_checked |= {'delivery_date', 'delivery_window'}
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.delivery_date, Index.Range())))

    @fields.depends('shipment_address')
    def on_change_with_delivery_zone(self, name=None):
        if self.shipment_address and self.shipment_address.zone:
            return self.shipment_address.zone.id

    @classmethod
    def search_delivery_zone(cls, name, clause):
        return [('shipment_address.zone' + clause[0][len(name):],
                *clause[1:])]

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

    @classmethod
    def write(cls, *args):
        # The address is read below: its id must exist (values.py)
        cls.check_values(args[1::2])
        actions = iter(args)
        args = []
        for sales, values in zip(actions, actions):
            if ('shipment_address' in values
                    and 'delivery_window' not in values):
                args.extend(cls._window_follows_address(sales, values))
            else:
                args.extend((sales, values))
        super().write(*args)

    @classmethod
    def _window_follows_address(cls, sales, values):
        """The write actions of values, a new delivery address, on sales
        with the window that follows the address

        A new delivery address may lie in another zone: the window of the
        old zone gives way to the window of the new zone on the same day
        starting at the same time (or its first that day), or to none (in
        the same write, so the domain holds)."""
        pool = Pool()
        Address = pool.get('party.address')
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
        args = []
        if keep:
            args.extend((keep, values))
        for window, w_sales in by_window.items():
            args.extend((w_sales, dict(values, delivery_window=window)))
        return args
