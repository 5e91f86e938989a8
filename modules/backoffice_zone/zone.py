# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import re
from itertools import chain

from sql import Literal
from sql.aggregate import Count

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields, sequence_ordered)
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import ZoneCodeError, ZoneValidationError
from .map import zone_svg
from .polygon import GeometryError, parse_geojson
from .values import ValueCheckMixin
from .window import WEEKDAYS

COLOUR = re.compile(r'^#[0-9a-fA-F]{6}$')
# Hours: a cut-off of more than 30 days is a typing error.
CUTOFF_MAX = 30 * 24
PRIORITY_MAX = 10 ** 6


class ZoneCodeMixin:
    """A code unique in the company, checked before the row is stored: the
    SQL constraint would refuse it with a message naming no zone

    Listed after ValueCheckMixin in the bases of Zone, so the values are
    known to be of their fields' types when the codes are compared."""
    __slots__ = ()

    @classmethod
    def create(cls, vlist):
        # Before the INSERT, where the unique constraint would answer with a
        # message naming no zone.
        default_company = cls.default_company()
        cls._check_codes([
                (None, v.get('company', default_company), v.get('code'),
                    v.get('name'))
                for v in vlist])
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, zones, values=None, external=False):
        super().check_modification(
            mode, zones, values=values, external=external)
        if mode == 'write' and values.keys() & {'code', 'company'}:
            cls._check_codes([
                    (z.id, values.get('company', z.company.id),
                        values.get('code', z.code), z.name)
                    for z in zones])

    @classmethod
    def _check_codes(cls, items):
        "items: (id or None, company id, code, name) about to be stored"
        pool = Pool()
        Company = pool.get('company.company')
        # The field strips the code: compare what will be stored
        items = [(id_, company, code.strip(), name)
            for id_, company, code, name in items
            if company is not None and code and code.strip()]
        if not items:
            return
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        stored = {}
        writing = {i[0] for i in items if i[0] is not None}
        for sub_items in grouped_slice(items, backend.MAX_QUERY_PARAMS):
            sub_items = list(sub_items)
            cursor.execute(*table.select(
                    table.id, table.company, table.code, table.name,
                    where=table.code.in_(list({i[2] for i in sub_items}))
                    & table.company.in_(list({i[1] for i in sub_items}))))
            for id_, company, code, name in cursor:
                if id_ not in writing:
                    stored[company, code] = name
        for id_, company, code, name in items:
            key = (company, code)
            if key in stored:
                raise ZoneCodeError(gettext(
                        'backoffice_zone.msg_zone_code_unique',
                        code=code, zone=name or '', other=stored[key],
                        company=Company(company).rec_name))
            stored[key] = name


class Zone(ValueCheckMixin, ZoneCodeMixin, DeactivableMixin,
        sequence_ordered(), ModelSQL, ModelView):
    __name__ = 'backoffice.zone'
    __string__ = "Delivery Zone"

    company = fields.Many2One(
        'company.company', "Company", required=True,
        help="The company that delivers to this zone.")
    name = fields.Char(
        "Name", required=True,
        help="The name of the zone as planners and drivers know it.")
    code = fields.Char(
        "Code", required=True, strip=True,
        help="A short code, unique in the company, e.g. for route labels.")
    colour = fields.Char(
        "Colour", size=7, strip=True,
        help="The colour of the zone on maps and boards, "
        "as a hexadecimal RGB value like #1f77b4.")
    priority = fields.Integer(
        "Priority", required=True,
        help="When rules of several zones match an address equally "
        "specifically, the zone with the higher priority wins.")
    weekdays = fields.MultiSelection(
        WEEKDAYS, "Delivery Days", sort=False,
        help="Orders of the zone are delivered on these days only.")
    windows = fields.One2Many(
        'backoffice.zone.window', 'zone', "Delivery Windows",
        help="When on each delivery day the drivers come; clients choose "
        "among these windows.")
    cutoff_hours = fields.Integer(
        "Order Cut-off", required=True,
        help="How many hours before the delivery an order must be "
        "placed to be delivered that day (0 for no cut-off).")
    notes = fields.Text(
        "Notes", help="Anything planners and drivers should know.")
    rules = fields.One2Many(
        'backoffice.zone.rule', 'zone', "Rules",
        help="The postal codes, cities, subdivisions and polygons of the "
        "zone. The most specific rule of all zones wins: polygon, exact "
        "postal code, postal code range or prefix (narrowest first), city, "
        "subdivision.")
    address_count = fields.Function(fields.Integer(
            "Addresses",
            help="The number of active addresses in the zone."),
        'get_address_count')
    map = fields.Function(fields.Binary(
            "Map",
            help="The polygons of the zone drawn from their GeoJSON, "
            "north up."),
        'get_map')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            # The database guarantee; create and write check first to give
            # a message naming both zones.
            ('company_code_unique', Unique(t, t.company, t.code),
                'backoffice_zone.msg_zone_code_unique_sql'),
            ]
        cls._order.append(('name', 'ASC'))
        # A cut-off beyond a month is a typing error (1.5e6 hours); the
        # priorities only compare zones.
        cls._value_bounds.update({
                'cutoff_hours': (None, CUTOFF_MAX),
                'priority': (-PRIORITY_MAX, PRIORITY_MAX),
                'code': 50,
                'name': 200,
                })
        cls.active.help = "Uncheck to stop matching addresses to the zone."
        cls.sequence.help = (
            "The order of the zones; among equally specific rules "
            "of zones with the same priority, the zone listed first wins.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_priority(cls):
        return 0

    @classmethod
    def default_colour(cls):
        return '#1f77b4'

    def get_map(self, name):
        geometries = []
        for rule in self.rules:
            if rule.kind == 'polygon' and rule.geojson:
                try:
                    geometries.append(
                        parse_geojson(rule.geojson, validate=False))
                except GeometryError:
                    # the rule's own form says what is wrong with it
                    continue
        if geometries:
            return zone_svg(geometries, self.colour or self.default_colour())

    @classmethod
    def default_weekdays(cls):
        return ['0', '1', '2', '3', '4']

    @classmethod
    def default_cutoff_hours(cls):
        return 0

    @classmethod
    def get_address_count(cls, zones, name):
        pool = Pool()
        Address = pool.get('party.address')
        address = Address.__table__()
        cursor = Transaction().connection.cursor()
        counts = dict.fromkeys(map(int, zones), 0)
        for sub_ids in grouped_slice(zones, backend.MAX_QUERY_PARAMS):
            cursor.execute(*address.select(
                    # COUNT(column): Literal('*') is sent as a parameter,
                    # whose type PostgreSQL cannot determine
                    address.zone, Count(address.id),
                    where=fields.SQL_OPERATORS['in'](
                        address.zone, list(map(int, sub_ids)))
                    & (address.active == Literal(True)),
                    group_by=[address.zone]))
            counts.update(cursor)
        return counts

    @classmethod
    def validate_fields(cls, zones, field_names):
        super().validate_fields(zones, field_names)
        cls.check_colour(zones, field_names)
        cls.check_cutoff(zones, field_names)
        if field_names & {'weekdays'}:
            Window = Pool().get('backoffice.zone.window')
            Window.check_weekdays(list(chain(*(z.windows for z in zones))))
        if field_names & {'priority', 'active'}:
            Rule = Pool().get('backoffice.zone.rule')
            Rule.check_overlaps(list(chain(*(z.rules for z in zones))))

    @classmethod
    def check_colour(cls, zones, field_names=None):
        if field_names and 'colour' not in field_names:
            return
        for zone in zones:
            if zone.colour and not COLOUR.match(zone.colour):
                raise ZoneValidationError(gettext(
                        'backoffice_zone.msg_zone_colour_invalid',
                        colour=zone.colour, zone=zone.rec_name))

    @classmethod
    def check_cutoff(cls, zones, field_names=None):
        if field_names and 'cutoff_hours' not in field_names:
            return
        for zone in zones:
            if zone.cutoff_hours is not None and zone.cutoff_hours < 0:
                raise ZoneValidationError(gettext(
                        'backoffice_zone.msg_zone_cutoff_negative',
                        zone=zone.rec_name, cutoff=zone.cutoff_hours))

    @classmethod
    def copy(cls, zones, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('code', lambda data: f"{data['code']} (copy)")
        return super().copy(zones, default=default)
