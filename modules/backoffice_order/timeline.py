# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The timeline of an order records its edits: the fields of the order it
follows (old and new value) and the edits of its lines (quantity, product,
unit and unit price changed, through the order or on the line, lines added
and removed, each with the order's total before and after)"""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import ModelStorage, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .discount import ORDER_DISCOUNT

# Set while lines change as part of something the timeline records as a
# whole (creating, copying or deleting an order, a split): their lines
# are no edits of their own.
LINES_QUIET = '_backoffice_lines_quiet'


def _raw(record, name):
    "The stored value of the field name of record"
    value = getattr(record, name, None)
    return value.id if isinstance(value, ModelStorage) else value


def _display(record, name):
    "The value of the field name of record as the user sees it"
    value = getattr(record, name, None)
    field = record._fields[name]
    if value is None:
        return None
    if isinstance(field, fields.Many2One):
        return value.rec_name
    if isinstance(field, fields.Selection):
        return dict(field.selection).get(value, value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    activities = fields.One2Many(
        'backoffice.order.activity', 'sale', "Timeline", readonly=True,
        help="What happened to the order, oldest first: stage changes, "
        "edits with old and new values, discounts, splits, address "
        "changes, assignments and notes.")

    @classmethod
    def create(cls, vlist):
        # the lines of a new order (or a copy) belong to its creation
        with Transaction().set_context(**{LINES_QUIET: True}):
            return super().create(vlist)

    @classmethod
    def delete(cls, sales):
        # the timeline of a deleted order goes with it
        with Transaction().set_context(**{LINES_QUIET: True}):
            super().delete(sales)

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        # the copy starts a timeline of its own
        default.setdefault('activities', None)
        return super().copy(sales, default=default)

    @classmethod
    def _tracked_fields(cls):
        "{field name: activity kind} of the fields the timeline follows"
        return {
            'priority': 'edit',
            'delivery_date': 'edit',
            'delivery_window': 'edit',
            'shipment_address': 'address',
            }

    @classmethod
    def on_write(cls, sales, values):
        pool = Pool()
        Activity = pool.get('backoffice.order.activity')
        callbacks = super().on_write(sales, values)
        tracked = cls._tracked_fields()
        names = [n for n in tracked if n in values]
        if not names:
            return callbacks
        # the raw value tells a change (two addresses may read alike),
        # the displayed one is what the timeline shows
        old = {s.id: {n: (_raw(s, n), _display(s, n)) for n in names}
            for s in sales}
        ids = [s.id for s in sales]

        def record():
            entries = []
            records = cls.browse(ids)
            for sale in records:
                for name in names:
                    old_raw, old_display = old[sale.id][name]
                    if _raw(sale, name) != old_raw:
                        entries.append({
                                'sale': sale.id,
                                'kind': tracked[name],
                                'field': name,
                                'old_value': old_display,
                                'new_value': _display(sale, name),
                                })
            Activity.record(entries)
        return callbacks + [record]

    @classmethod
    @without_check_access
    def _timeline_totals(cls, sale_ids):
        "{sale id: total as shown in the timeline} of the sales"
        sales = cls.browse(list(sale_ids))
        return {s.id: '%s %s' % (s.total_amount, s.currency.code)
            if s.currency else str(s.total_amount) for s in sales}


class Line(metaclass=PoolMeta):
    __name__ = 'sale.line'

    @classmethod
    def _timeline_fields(cls):
        "{field name: activity kind} of the line fields the timeline follows"
        fields = {
            'quantity': 'edit',
            'product': 'edit',
            'unit': 'edit',
            'unit_price': 'discount',
            }
        if Transaction().context.get(ORDER_DISCOUNT):
            # the order discount records one entry per order
            del fields['unit_price']
        return fields

    @classmethod
    def _timeline_quiet(cls):
        return bool(Transaction().context.get(LINES_QUIET))

    def _timeline_display(self, name):
        "The value of field name as the timeline shows it"
        pool = Pool()
        Lang = pool.get('ir.lang')
        value = getattr(self, name, None)
        if value is None:
            return None
        if name == 'quantity' and self.unit:
            return Lang.get().format_number_symbol(
                value, self.unit, digits=self.unit.digits)
        if isinstance(value, ModelStorage):
            return value.rec_name
        return str(value)

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Sale = pool.get('sale.sale')
        Activity = pool.get('backoffice.order.activity')
        if cls._timeline_quiet():
            return super().create(vlist)
        sale_ids = {int(v['sale']) for v in vlist if v.get('sale') is not None}
        before = Sale._timeline_totals(sale_ids)
        lines = super().create(vlist)
        after = Sale._timeline_totals(sale_ids)
        Activity.record([{
                    'sale': l.sale.id,
                    'kind': 'edit',
                    'field': 'lines',
                    'new_value': l.rec_name,
                    'description': gettext(
                        'backoffice_order.msg_activity_line_added',
                        before=before[l.sale.id], after=after[l.sale.id]),
                    } for l in cls.browse(lines) if l.sale])
        return lines

    @classmethod
    def on_write(cls, lines, values):
        pool = Pool()
        Sale = pool.get('sale.sale')
        Activity = pool.get('backoffice.order.activity')
        callbacks = super().on_write(lines, values)
        tracked = cls._timeline_fields()
        names = [n for n in tracked if n in values]
        if not names or cls._timeline_quiet():
            return callbacks
        # the raw value tells a change, the displayed one is what the
        # timeline shows
        old = {l.id: {n: (_raw(l, n), l._timeline_display(n))
                for n in names} for l in lines}
        labels = {l.id: l.rec_name for l in lines}
        sale_ids = {l.sale.id for l in lines if l.sale}
        before = Sale._timeline_totals(sale_ids)
        ids = [l.id for l in lines]

        def record():
            after = Sale._timeline_totals(sale_ids)
            entries = []
            for line in cls.browse(ids):
                if not line.sale or line.sale.id not in before:
                    continue
                sale = line.sale.id
                totals = gettext(
                    'backoffice_order.msg_activity_line',
                    line=labels[line.id],
                    before=before[sale], after=after[sale])
                for name in names:
                    old_raw, old_display = old[line.id][name]
                    if _raw(line, name) == old_raw:
                        continue
                    description = totals
                    if name == 'unit_price':
                        description = ' '.join([gettext(
                                    'backoffice_order.msg_activity_discount',
                                    line=line.rec_name,
                                    base_price=line.base_price,
                                    reason=line.discount_reason or ''),
                                totals])
                    entries.append({
                            'sale': sale,
                            'kind': tracked[name],
                            'field': name,
                            'old_value': old_display,
                            'new_value': line._timeline_display(name),
                            'description': description,
                            })
            Activity.record(entries)
        return callbacks + [record]

    @classmethod
    def on_delete(cls, lines):
        pool = Pool()
        Sale = pool.get('sale.sale')
        Activity = pool.get('backoffice.order.activity')
        callbacks = super().on_delete(lines)
        if cls._timeline_quiet():
            return callbacks
        removed = [(l.sale.id, l.rec_name) for l in lines if l.sale]
        sale_ids = {s for s, _ in removed}
        before = Sale._timeline_totals(sale_ids)

        def record():
            after = Sale._timeline_totals(sale_ids)
            Activity.record([{
                        'sale': sale,
                        'kind': 'edit',
                        'field': 'lines',
                        'old_value': label,
                        'description': gettext(
                            'backoffice_order.msg_activity_line_removed',
                            before=before[sale], after=after[sale]),
                        } for sale, label in removed])
        return callbacks + [record]
