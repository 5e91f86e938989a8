# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The colour labels of an order on the board and the list: urgent, near
its delivery window, to review; searchable in SQL"""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import timezone as tz
from trytond.transaction import Transaction


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    label_urgent = fields.Function(fields.Boolean(
            "Urgent",
            help="Set when the priority of the order is urgent: the row "
            "shows in red."),
        'get_labels', searcher='search_label_urgent')
    label_near_window = fields.Function(fields.Boolean(
            "Near Delivery Window",
            help="The delivery window starts within the hours of the "
            "scheme (or has started) and the order is not in a ready or "
            "end stage."),
        'get_labels', searcher='search_label_near_window')
    labels = fields.Function(fields.Char(
            "Labels",
            help="Urgent, near delivery window, manual review: the labels "
            "the order shows on the board and in the list."),
        'get_labels')

    @classmethod
    def view_attributes(cls):
        # the labels at a glance: urgent rows red, near their window amber,
        # the labels of an order to review red
        return super().view_attributes() + [
            ('/tree[field[@name="label_urgent"]]', 'visual',
                If(Eval('label_urgent', False), 'danger',
                    If(Eval('label_near_window', False), 'warning', ''))),
            ('/tree/field[@name="labels"]', 'visual',
                If(Eval('manual_review', False), 'danger', '')),
            ]

    @classmethod
    def _near_window_threshold(cls, company=None):
        "The local date and time before which a window is near, or None"
        pool = Pool()
        Scheme = pool.get('backoffice.order.scheme')
        Company = pool.get('company.company')
        company = company or Transaction().context.get('company')
        if company is None:
            return None
        scheme = Scheme.get(company, create=False)
        if scheme is None:
            return None
        company = Company(int(company))
        timezone = tz.ZoneInfo(company.timezone) if company.timezone else (
            tz.SERVER)
        now = dt.datetime.now(timezone).replace(tzinfo=None)
        return now + dt.timedelta(hours=scheme.near_window_hours or 0)

    @classmethod
    def get_labels(cls, sales, names):
        result = {n: {} for n in names}
        thresholds = {}
        for sale in sales:
            company = sale.company.id
            if company not in thresholds:
                thresholds[company] = cls._near_window_threshold(company)
            threshold = thresholds[company]
            urgent = sale.priority == 'urgent'
            near = bool(
                threshold and sale.delivery_date and sale.delivery_window
                and sale.stage and not sale.stage.ready
                and not sale.stage.end
                and dt.datetime.combine(
                    sale.delivery_date, sale.delivery_window.start)
                <= threshold)
            if 'label_urgent' in result:
                result['label_urgent'][sale.id] = urgent
            if 'label_near_window' in result:
                result['label_near_window'][sale.id] = near
            if 'labels' in result:
                labels = []
                if urgent:
                    labels.append(gettext('backoffice_order.msg_label_urgent'))
                if near:
                    labels.append(
                        gettext('backoffice_order.msg_label_near_window'))
                if sale.manual_review:
                    labels.append(
                        gettext('backoffice_order.msg_label_manual_review'))
                result['labels'][sale.id] = ', '.join(labels)
        return result

    @classmethod
    def search_label_urgent(cls, name, clause):
        _, operator, value = clause[:3]
        positive = (operator == '=') == bool(value)
        return [('priority', '=' if positive else '!=', 'urgent')]

    @classmethod
    def search_label_near_window(cls, name, clause):
        # A plain domain, so the database does the work with the indexes
        # on stage and delivery date.
        _, operator, value = clause[:3]
        positive = (operator == '=') == bool(value)
        threshold = cls._near_window_threshold()
        if threshold is None:
            return [('id', '=', -1)] if positive else []
        date, time = threshold.date(), threshold.time()
        if positive:
            return ['AND',
                ('stage.ready', '=', False),
                ('stage.end', '=', False),
                ('delivery_window', '!=', None),
                ['OR',
                    ('delivery_date', '<', date),
                    [('delivery_date', '=', date),
                        ('delivery_window.start', '<=', time)],
                    ]]
        # Tryton domains have no NOT: the negation spelt out
        return ['OR',
            ('stage', '=', None),
            ('stage.ready', '=', True),
            ('stage.end', '=', True),
            ('delivery_window', '=', None),
            ('delivery_date', '=', None),
            ('delivery_date', '>', date),
            [('delivery_date', '=', date),
                ('delivery_window.start', '>', time)],
            ]
