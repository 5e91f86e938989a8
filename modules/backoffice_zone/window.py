# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields

from .exceptions import WindowError
from .values import ValueCheckMixin

WEEKDAYS = [
    ('0', "Monday"),
    ('1', "Tuesday"),
    ('2', "Wednesday"),
    ('3', "Thursday"),
    ('4', "Friday"),
    ('5', "Saturday"),
    ('6', "Sunday"),
    ]


def window_name(weekday, start, end):
    "A delivery window as the office reads it: Monday 06:00-10:00"
    return '%s %s-%s' % (
        weekday or '',
        start.strftime('%H:%M') if start else '',
        end.strftime('%H:%M') if end else '')


class ZoneWindow(ValueCheckMixin, ModelSQL, ModelView):
    __name__ = 'backoffice.zone.window'
    __string__ = "Delivery Window"

    zone = fields.Many2One(
        'backoffice.zone', "Zone", required=True, ondelete='CASCADE')
    weekday = fields.Selection(
        WEEKDAYS, "Day", required=True, sort=False,
        help="The day of the week; it must be a delivery day of the zone.")
    start = fields.Time(
        "Start", required=True, format='%H:%M')
    end = fields.Time(
        "End", required=True, format='%H:%M',
        help="The time the deliveries end; after the start, "
        "on the same day.")
    weekday_string = weekday.translated('weekday')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('zone')
        cls._order = [
            ('zone', 'ASC'),
            ('weekday', 'ASC'),
            ('start', 'ASC'),
            ('id', 'ASC'),
            ]

    def get_rec_name(self, name):
        return window_name(self.weekday_string, self.start, self.end)

    @classmethod
    def validate_fields(cls, windows, field_names):
        super().validate_fields(windows, field_names)
        for window in windows:
            if window.start and window.end and window.start >= window.end:
                raise WindowError(gettext(
                        'backoffice_zone.msg_window_start_end',
                        window=window.rec_name, zone=window.zone.rec_name))
        cls.check_weekdays(windows)
        cls.check_overlaps(windows)

    @classmethod
    def check_weekdays(cls, windows):
        for window in windows:
            if window.weekday not in (window.zone.weekdays or ()):
                raise WindowError(gettext(
                        'backoffice_zone.msg_window_weekday',
                        window=window.rec_name, zone=window.zone.rec_name,
                        weekday=window.weekday_string))

    @classmethod
    def check_overlaps(cls, windows):
        zones = {w.zone for w in windows}
        # All the windows of the zones at once (not one search per window)
        all_windows = cls.search([('zone', 'in', [z.id for z in zones])])
        by_day = defaultdict(list)
        for window in all_windows:
            by_day[window.zone.id, window.weekday].append(window)
        checked = {w.id for w in windows}
        for day_windows in by_day.values():
            day_windows.sort(key=lambda w: (w.start, w.end, w.id))
            # Sweep by start, keeping the window that ends last so far: a
            # window starting before it ends overlaps it.
            latest = None
            for window in day_windows:
                if (latest and window.start < latest.end
                        and (latest.id in checked or window.id in checked)):
                    raise WindowError(gettext(
                            'backoffice_zone.msg_window_overlap',
                            window=latest.rec_name, other=window.rec_name,
                            zone=window.zone.rec_name))
                if latest is None or window.end > latest.end:
                    latest = window
