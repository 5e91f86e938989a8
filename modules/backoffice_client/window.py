# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The preferred delivery windows of a client in a company, each within a
delivery window of its default zone there"""
from collections import defaultdict

from sql import Literal, Null

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.modules.backoffice_zone.window import WEEKDAYS, window_name
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .exceptions import WindowError, ZoneWindowWarning


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    # Like upstream's product suppliers: a plain One2Many whose targets
    # belong to a company, the record rule shows the user's company's.
    preferred_windows = fields.One2Many(
        'backoffice.client.window', 'party', "Preferred Delivery Windows",
        states={
            'invisible': (~Eval('client_type')
                | ~Eval('context', {}).get('company')),
            },
        help="When the client wants to be delivered by the current company; "
        "each window must lie within a delivery window of its default "
        "zone.")

    @classmethod
    def validate_fields(cls, parties, field_names):
        pool = Pool()
        Window = pool.get('backoffice.client.window')
        super().validate_fields(parties, field_names)
        # The windows must still fit the windows of the new zone, once the
        # windows of the same write are stored. The zone is the context
        # company's: so are the windows it must hold.
        if 'default_zone' in field_names:
            Window.check_fit([
                    (w, p.default_zone)
                    for p in parties for w in p.company_windows()])

    def company_windows(self, company=None):
        """The preferred windows of the client in company (default: the
        context company), whoever reads them: the server's own reads are
        not filtered by the record rule"""
        if company is None:
            company = Transaction().context.get('company')
        company = int(company) if company is not None else None
        return [w for w in self.preferred_windows
            if w.company and w.company.id == company]


class ClientWindow(ValueCheckMixin, ModelSQL, ModelView):
    __name__ = 'backoffice.client.window'

    party = fields.Many2One(
        'party.party', "Client", required=True, ondelete='CASCADE',
        # the client as the window's company sees it (its default zone)
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="The client that wants to be delivered in this window.")
    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='CASCADE',
        help="The company that delivers the client in this window: the "
        "window must fit the client's default zone in this company.")
    weekday = fields.Selection(
        WEEKDAYS, "Day", required=True, sort=False)
    start = fields.Time(
        "Start", required=True, format='%H:%M',
        help="From when the client can receive the delivery.")
    end = fields.Time(
        "End", required=True, format='%H:%M',
        help="Until when the client can receive the delivery.")
    weekday_string = weekday.translated('weekday')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('party')
        cls._order = [
            ('party', 'ASC'),
            ('weekday', 'ASC'),
            ('start', 'ASC'),
            ('id', 'ASC'),
            ]

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        Company = pool.get('company.company')
        Value = pool.get('party.party.client_account')
        cursor = Transaction().connection.cursor()
        migrate = False
        if backend.TableHandler.table_exist(cls._table):
            table_h = cls.__table_handler__(module)
            migrate = not table_h.column_exist('company')
            if migrate:
                # Filled before the ORM makes it required
                table_h.add_column('company', 'INTEGER')

        # Migration to windows per company: a window belongs to the
        # company of the client's default zone (the one it was checked
        # against); the windows of a client without zone to each company.
        if migrate:
            table = cls.__table__()
            value = Value.__table__()
            company = Company.__table__()
            cursor.execute(*company.select(
                    company.id, order_by=[company.id.asc]))
            companies = [c for c, in cursor]
            for company_id in companies:
                cursor.execute(*table.update([table.company],
                        [Literal(company_id)],
                        where=(table.company == Null)
                        & table.party.in_(value.select(value.party,
                                where=(value.company == company_id)
                                & (value.default_zone != Null)))))
            if companies:
                columns = [table.party, table.weekday, table.start, table.end,
                    table.create_uid, table.create_date]
                for other in companies[1:]:
                    cursor.execute(*table.insert(
                            columns + [table.company],
                            table.select(*columns, Literal(other),
                                where=table.company == Null)))
                cursor.execute(*table.update([table.company],
                        [Literal(companies[0])],
                        where=table.company == Null))

        super().__register__(module)

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_rec_name(self, name):
        return window_name(
            self.weekday_string, self.start, self.end)

    @classmethod
    def _zone(cls, party, company):
        "The default zone of party in company, against which windows fit"
        if company is None:
            return None
        return party.get_multivalue('default_zone', company=int(company))

    @classmethod
    def validate_fields(cls, windows, field_names):
        super().validate_fields(windows, field_names)
        if field_names & {'party', 'company', 'weekday', 'start', 'end'}:
            cls.check_fit([
                    (w, cls._zone(w.party, w.company)) for w in windows])

    @classmethod
    def check_fit(cls, entries):
        """Check that each window lies within a window of the zone on the
        same day

        entries: (window, zone or zone id), the zone the window must fit
        (None: nothing to fit in, its windows are checked when the client
        gets one). One search for the windows of all the zones."""
        pool = Pool()
        Zone = pool.get('backoffice.zone')
        ZoneWindow = pool.get('backoffice.zone.window')
        for window, _ in entries:
            if window.start >= window.end:
                raise WindowError(gettext(
                        'backoffice_client.msg_window_start_end',
                        window=window.rec_name, party=window.party.rec_name))
        zone_ids = {int(z) for _, z in entries if z is not None}
        if not zone_ids:
            return
        with without_check_access():
            zone_windows = ZoneWindow.search([
                    ('zone', 'in', list(zone_ids)),
                    ])
        by_day = defaultdict(list)
        for zone_window in zone_windows:
            by_day[zone_window.zone.id, zone_window.weekday].append(
                zone_window)
        for window, zone in entries:
            if zone is None:
                continue
            day = by_day.get((int(zone), window.weekday), [])
            if any(w.start <= window.start and window.end <= w.end
                    for w in day):
                continue
            raise WindowError(gettext(
                    'backoffice_client.msg_window_outside_zone',
                    window=window.rec_name, party=window.party.rec_name,
                    zone=Zone(int(zone)).rec_name,
                    zone_windows=', '.join(w.rec_name for w in day)
                    or gettext('backoffice_client.msg_window_zone_none')))


class ZoneWindow(metaclass=PoolMeta):
    __name__ = 'backoffice.zone.window'

    @classmethod
    def check_modification(cls, mode, windows, values=None, external=False):
        super().check_modification(
            mode, windows, values=values, external=external)
        # Adding a window never leaves a client out; changing or removing
        # one may. A warning: the planner decides, the clients are told
        # when their windows are saved again.
        if mode == 'delete' or (mode == 'write' and values.keys() & {
                    'zone', 'weekday', 'start', 'end'}):
            cls.check_client_windows(
                windows, values if mode == 'write' else None)

    @classmethod
    def check_client_windows(cls, windows, values=None):
        """Warn when the preferred windows of clients would no longer fit
        the windows of their zone once windows are written with values (or
        deleted when values is None)"""
        pool = Pool()
        ClientWindow = pool.get('backoffice.client.window')
        ClientAccount = pool.get('party.party.client_account')
        Warning = pool.get('res.user.warning')
        zones = {w.zone.id for w in windows}
        if values and values.get('zone'):
            zones.add(values['zone'])
        changed = {w.id for w in windows}
        with without_check_access():
            fits = defaultdict(list)
            for window in cls.search([('zone', 'in', list(zones))]):
                if window.id in changed:
                    if values is None:
                        continue
                    key = (values.get('zone', window.zone.id),
                        values.get('weekday', window.weekday))
                    start = values.get('start', window.start)
                    end = values.get('end', window.end)
                else:
                    key = (window.zone.id, window.weekday)
                    start, end = window.start, window.end
                fits[key].append((start, end))
            # The clients of these zones, in the zones' companies: the
            # windows of a client in a company fit its zone there.
            client_zones = {
                (v.party.id, v.company.id): v.default_zone.id
                for v in ClientAccount.search([
                        ('default_zone', 'in', list(zones)),
                        ])}
            client_windows = ClientWindow.search([
                    ('party.client_accounts.default_zone', 'in',
                        list(zones)),
                    ])
            misfits = [w for w in client_windows
                if (w.party.id, w.company.id) in client_zones
                and not any(start <= w.start and w.end <= end
                    for start, end in fits[
                        client_zones[w.party.id, w.company.id],
                        w.weekday])]
            if not misfits:
                return
            key = Warning.format(
                'backoffice_client.zone_window_clients', windows)
            if Warning.check(key):
                parties = sorted({w.party.rec_name for w in misfits})
                raise ZoneWindowWarning(key, gettext(
                        'backoffice_client.msg_zone_window_clients',
                        zone=windows[0].zone.rec_name,
                        count=len(parties),
                        clients=', '.join(parties[:10])))
