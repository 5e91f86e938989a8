# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import re
import threading
from collections import defaultdict
from itertools import chain
from uuid import uuid4

from sql import Literal
from sql.aggregate import Count

from trytond.cache import Cache, LRUDict
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields, sequence_ordered)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction, without_check_access

from .exceptions import (
    RuleGeometryError, RuleOverlapWarning, RulePatternError, WindowError,
    ZoneCodeError, ZoneValidationError)
from .map import zone_svg
from .matcher import (
    KIND_EXACT, GeometryError, Location, PatternError, RuleSpec, ZoneMatcher,
    parse_geojson, parse_postal_pattern, tied_rules)
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
COLOUR = re.compile(r'^#[0-9a-fA-F]{6}$')
# shapely.is_valid_reason: "Reason[x y]" or "Reason"
SHAPELY_REASON = re.compile(r'^\s*([^\[]*?)\s*(?:\[([^\]]*)\])?\s*$')
SHAPELY_MESSAGES = {
    'self-intersection': 'backoffice_zone.msg_polygon_crosses',
    'ring self-intersection': 'backoffice_zone.msg_polygon_crosses',
    'too few points in geometry component':
        'backoffice_zone.msg_polygon_too_few',
    'hole lies outside shell': 'backoffice_zone.msg_polygon_hole_outside',
    'nested holes': 'backoffice_zone.msg_polygon_nested',
    'nested shells': 'backoffice_zone.msg_polygon_nested',
    'interior is disconnected': 'backoffice_zone.msg_polygon_disconnected',
    }
# the message of each reason of the matcher's errors and explanations
GEOJSON_MESSAGES = {
    'json': 'backoffice_zone.msg_rule_geojson_json',
    'type': 'backoffice_zone.msg_rule_geojson_type',
    'coordinates': 'backoffice_zone.msg_rule_geojson_coordinates',
    'range': 'backoffice_zone.msg_rule_geojson_range',
    'empty': 'backoffice_zone.msg_rule_geojson_empty',
    }
PATTERN_MESSAGES = {
    'malformed': 'backoffice_zone.msg_rule_pattern_malformed',
    'reversed': 'backoffice_zone.msg_rule_pattern_reversed',
    'long': 'backoffice_zone.msg_rule_pattern_long',
    }
EXPLAIN_MESSAGES = {
    'specificity': 'backoffice_zone.msg_explain_specificity',
    'priority': 'backoffice_zone.msg_explain_priority',
    'sequence': 'backoffice_zone.msg_explain_sequence',
    }


def _coordinate(text):
    "A coordinate of shapely's text as a user reads it: 6.63, not 6.630000"
    try:
        return ('%.5f' % float(text)).rstrip('0').rstrip('.')
    except ValueError:
        return text

# Hours: a cut-off of more than 30 days is a typing error.
CUTOFF_MAX = 30 * 24
PRIORITY_MAX = 10 ** 6
# A polygon of a canton drawn to the metre is a few hundred kilobytes.
GEOJSON_MAX = 5_000_000

# Compiled matchers of this process, keyed by (database, company, token).
#
# Tryton's Cache holds only the token of the current matcher of a company:
# the default MemoryCache copies what it stores with copy.copy() (cheap for
# a ZoneMatcher, whose __copy__ returns itself), but `[cache] class` may name
# another backend that serialises values, and an STRtree with hundreds of
# prepared polygons is not something to pickle on every lookup. A token is
# cheap for any backend, and Cache.clear() still does the invalidation: it
# drops the token in this transaction at once and, after commit, in every
# process (through ir_cache or the PostgreSQL channel), so the next lookup
# compiles again under a new token. Entries of old tokens are never read
# again and fall out of this LRU dictionary.
_matchers = LRUDict(64)
_matchers_lock = threading.Lock()


class Zone(ValueCheckMixin, DeactivableMixin, sequence_ordered(), ModelSQL,
        ModelView):
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
        help="The days of the week on which the zone is delivered.")
    windows = fields.One2Many(
        'backoffice.zone.window', 'zone', "Delivery Windows",
        help="The time windows of each delivery day.")
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

    # Only a token: see _matchers above.
    _matcher_cache = Cache('backoffice.zone.matcher', context=False)

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
        for sub_ids in grouped_slice(zones):
            cursor.execute(*address.select(
                    # COUNT(column): Literal('*') is sent as a parameter,
                    # whose type PostgreSQL cannot determine
                    address.zone, Count(address.id),
                    where=reduce_ids(address.zone, list(map(int, sub_ids)))
                    & (address.active == Literal(True)),
                    group_by=[address.zone]))
            counts.update(cursor)
        return counts

    # Validation ---------------------------------------------------------

    @classmethod
    def create(cls, vlist):
        # Before the INSERT, where the unique constraint would answer with a
        # message naming no zone.
        cls.check_values(vlist)
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
        for sub_items in grouped_slice(items):
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
    def on_modification(cls, mode, zones, field_names=None):
        super().on_modification(mode, zones, field_names=field_names)
        cls._matcher_cache.clear()

    @classmethod
    def copy(cls, zones, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('code', lambda data: f"{data['code']} (copy)")
        return super().copy(zones, default=default)

    # Matching -----------------------------------------------------------

    @classmethod
    def get_matcher(cls, company=None):
        """The compiled ZoneMatcher of company (the context company by
        default), or None without company"""
        if company is None:
            company = Transaction().context.get('company')
        if company is None or company < 0:
            return None
        company = int(company)
        database = Transaction().database.name
        token = cls._matcher_cache.get(company)
        if token is not None:
            with _matchers_lock:
                matcher = _matchers.get((database, company, token))
            if matcher is not None:
                return matcher
        matcher = cls._compile_matcher(company)
        if token is None:
            token = uuid4().hex
            cls._matcher_cache.set(company, token)
        with _matchers_lock:
            _matchers[database, company, token] = matcher
        return matcher

    @classmethod
    @without_check_access
    def _compile_matcher(cls, company):
        "Build the matcher from the rules of the active zones of company"
        pool = Pool()
        Rule = pool.get('backoffice.zone.rule')
        Subdivision = pool.get('country.subdivision')
        zone = cls.__table__()
        rule = Rule.__table__()
        cursor = Transaction().connection.cursor()
        # One query for all the rules: the values the matcher needs only
        cursor.execute(*rule.join(zone, condition=rule.zone == zone.id
                ).select(
                rule.id, rule.zone, rule.kind, rule.pattern, rule.city,
                rule.subdivision, rule.geojson, rule.country,
                zone.priority, zone.sequence, rule.sequence,
                where=(zone.company == company)
                & (zone.active == Literal(True))))
        specs = []
        for (id_, zone_id, kind, pattern, city, subdivision, geojson,
                country, priority, zone_sequence, sequence) in cursor:
            value = {
                'postal': pattern,
                'city': city,
                'subdivision': subdivision,
                'polygon': geojson,
                }.get(kind)
            if not value:
                continue
            specs.append(RuleSpec(
                    id_, zone_id, kind, value, country, priority or 0,
                    zone_sequence, sequence))
        # A rule for a canton also matches the addresses of its districts.
        parents = {}
        subdivisions = {s.value for s in specs if s.kind == 'subdivision'}
        if subdivisions:
            children = Subdivision.search([
                    ('parent', 'child_of', list(subdivisions)),
                    ('id', 'not in', list(subdivisions)),
                    ])
            parents = {s.id: s.parent.id if s.parent else None
                for s in children}
        return ZoneMatcher(specs, parents)

    @classmethod
    def _explain_no_match(cls, matcher, location):
        """Why no rule matches location: what was looked up and, for an
        address without coordinates, the map zones it could not be put in"""
        Subdivision = Pool().get('country.subdivision')
        looked_up = [gettext('backoffice_zone.msg_explain_postal_code',
                code=location.postal_code)] if location.postal_code else []
        if location.city:
            looked_up.append(location.city)
        if location.subdivision is not None:
            looked_up.append(Subdivision(location.subdivision).rec_name)
        if looked_up:
            text = gettext('backoffice_zone.msg_explain_none_for',
                location=', '.join(looked_up))
        else:
            text = gettext('backoffice_zone.msg_explain_none')
        if ((location.longitude is None or location.latitude is None)
                and matcher.polygon_count):
            zones = sorted({cls(matcher.rules[i].zone).rec_name
                    for i in range(matcher.polygon_count)})
            text += ' ' + gettext(
                'backoffice_zone.msg_explain_no_coordinates',
                zones=', '.join(f'"{z}"' for z in zones[:5])
                + (', …' if len(zones) > 5 else ''))
        return text

    @classmethod
    def explain(cls, location, current=None, manual=False):
        """A sentence telling which zone matches location and why

        current: the zone stored on the address, mentioned when the rules
        give another one; manual: the zone was set by hand."""
        pool = Pool()
        Rule = pool.get('backoffice.zone.rule')
        matcher = cls.get_matcher()
        if matcher is None:
            return gettext('backoffice_zone.msg_explain_no_company')
        location = Location(*location)
        explanation = matcher.explain(location)
        if explanation is None:
            text = cls._explain_no_match(matcher, location)
            zone_id = None
        else:
            best = matcher.rules[explanation.best.rule]
            zone_id = best.zone
            rule = Rule(best.id)
            values = {
                'zone': rule.zone.rec_name,
                'rule': rule.description,
                'priority': rule.zone.priority,
                }
            if explanation.rival:
                rival = Rule(matcher.rules[explanation.rival.rule].id)
                values.update(
                    rival=rival.description,
                    rival_zone=rival.zone.rec_name,
                    rival_priority=rival.zone.priority)
                text = gettext(
                    EXPLAIN_MESSAGES[explanation.reason], **values)
            else:
                text = gettext('backoffice_zone.msg_explain_match', **values)
        current_id = current.id if current else None
        if manual:
            if current:
                return gettext('backoffice_zone.msg_explain_manual',
                    zone=current.rec_name, explanation=text)
            return gettext('backoffice_zone.msg_explain_manual_empty',
                explanation=text)
        if current_id != zone_id:
            if current:
                return gettext('backoffice_zone.msg_explain_outdated',
                    explanation=text, zone=current.rec_name)
            return gettext('backoffice_zone.msg_explain_outdated_empty',
                explanation=text)
        return text


class ZoneRule(ValueCheckMixin, sequence_ordered(), ModelSQL, ModelView):
    __name__ = 'backoffice.zone.rule'
    __string__ = "Delivery Zone Rule"

    zone = fields.Many2One(
        'backoffice.zone', "Zone", required=True, ondelete='CASCADE',
        help="The zone the rule puts addresses in.")
    name = fields.Char(
        "Description",
        help="An optional description, shown for polygons, "
        "e.g. 'Geneva left bank'.")
    kind = fields.Selection([
            ('postal', "Postal Code"),
            ('city', "City"),
            ('subdivision', "Subdivision"),
            ('polygon', "Polygon"),
            ], "Kind", required=True, sort=False,
        help="What the rule compares with the address.")
    pattern = fields.Char(
        "Postal Codes", strip=True,
        states={
            'required': Eval('kind') == 'postal',
            'invisible': Eval('kind') != 'postal',
            },
        help="An exact code (8001), a range of codes with as many digits "
        "(8000-8099) or a prefix (80*).")
    country = fields.Many2One(
        'country.country', "Country", ondelete='RESTRICT',
        states={
            'invisible': ~Eval('kind').in_(['postal', 'city', 'subdivision']),
            },
        help="Match only addresses of this country (postal codes and "
        "cities); for subdivisions it only narrows the choice.")
    city = fields.Char(
        "City", strip=True,
        states={
            'required': Eval('kind') == 'city',
            'invisible': Eval('kind') != 'city',
            },
        help="The city name, compared without accents, case "
        "or repeated spaces.")
    subdivision = fields.Many2One(
        'country.subdivision', "Subdivision", ondelete='RESTRICT',
        domain=[
            If(Eval('country'),
                ('country', '=', Eval('country', -1)),
                ()),
            ],
        states={
            'required': Eval('kind') == 'subdivision',
            'invisible': Eval('kind') != 'subdivision',
            },
        help="The subdivision (e.g. a canton); it also matches the "
        "subdivisions below it.")
    geojson = fields.Text(
        "GeoJSON",
        states={
            'required': Eval('kind') == 'polygon',
            'invisible': Eval('kind') != 'polygon',
            },
        help="A GeoJSON Polygon or MultiPolygon in longitude/latitude "
        "(WGS 84), as drawn with geojson.io or exported from QGIS.")
    description = fields.Function(fields.Char(
            "Rule", help="The rule as explanations name it."),
        'get_description')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('zone')
        cls._value_bounds.update({
                'pattern': 100,
                'city': 200,
                'geojson': GEOJSON_MAX,
                })
        cls.sequence.help = (
            "The order of the rules; it decides last between rules "
            "of the same zone.")

    @classmethod
    def default_kind(cls):
        return 'postal'

    @fields.depends('kind', 'pattern', 'city', 'subdivision', 'geojson')
    def on_change_kind(self):
        # Keep only the value of the kind, so a rule compares one thing.
        for kind, field in [
                ('postal', 'pattern'), ('city', 'city'),
                ('subdivision', 'subdivision'), ('polygon', 'geojson')]:
            if self.kind != kind:
                setattr(self, field, None)

    def get_description(self, name):
        if self.kind == 'postal':
            try:
                pattern = parse_postal_pattern(self.pattern or '')
            except PatternError:
                message = 'backoffice_zone.msg_rule_exact'
            else:
                if pattern.kind == KIND_EXACT:
                    message = 'backoffice_zone.msg_rule_exact'
                elif pattern.code is None:
                    message = 'backoffice_zone.msg_rule_range'
                else:
                    message = 'backoffice_zone.msg_rule_prefix'
            text = gettext(message, pattern=self.pattern or '')
            if self.country:
                text = gettext('backoffice_zone.msg_rule_postal_country',
                    rule=text, country=self.country.name)
            return text
        elif self.kind == 'city':
            text = gettext('backoffice_zone.msg_rule_city',
                city=self.city or '')
            if self.country:
                text = gettext('backoffice_zone.msg_rule_postal_country',
                    rule=text, country=self.country.name)
            return text
        elif self.kind == 'subdivision':
            return gettext('backoffice_zone.msg_rule_subdivision',
                subdivision=(
                    self.subdivision.rec_name if self.subdivision else ''))
        elif self.name:
            return gettext('backoffice_zone.msg_rule_polygon_named',
                name=self.name)
        return gettext('backoffice_zone.msg_rule_polygon')

    def get_rec_name(self, name):
        return self.description

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('pattern', operator, operand, *extra),
            ('city', operator, operand, *extra),
            ('subdivision.rec_name', operator, operand, *extra),
            ]

    @property
    def spec(self):
        "The RuleSpec of the rule for the matcher functions"
        value = {
            'postal': self.pattern,
            'city': self.city,
            'subdivision': self.subdivision.id if self.subdivision else None,
            'polygon': self.geojson,
            }.get(self.kind)
        return RuleSpec(
            self.id, self.zone.id, self.kind, value,
            self.country.id if self.country else None,
            self.zone.priority or 0, self.zone.sequence, self.sequence)

    @classmethod
    def validate_fields(cls, rules, field_names):
        super().validate_fields(rules, field_names)
        cls.check_pattern(rules, field_names)
        cls.check_geojson(rules, field_names)
        # Last: it compares values the checks above have accepted.
        if field_names & {
                'zone', 'kind', 'pattern', 'country', 'city', 'subdivision',
                'geojson'}:
            cls.check_overlaps(rules)

    @classmethod
    def check_pattern(cls, rules, field_names=None):
        if field_names and not (field_names & {'pattern', 'kind'}):
            return
        for rule in rules:
            if rule.kind != 'postal' or not rule.pattern:
                continue
            try:
                parse_postal_pattern(rule.pattern)
            except PatternError as exception:
                values = {
                    'pattern': rule.pattern,
                    'zone': rule.zone.rec_name,
                    }
                if exception.reason == 'reversed':
                    start, end = rule.pattern.split('-')
                    values['fixed'] = f'{end.strip()}-{start.strip()}'
                raise RulePatternError(gettext(
                        PATTERN_MESSAGES[exception.reason],
                        **values)) from exception

    @classmethod
    def check_geojson(cls, rules, field_names=None):
        if field_names and not (field_names & {'geojson', 'kind'}):
            return
        for rule in rules:
            if rule.kind != 'polygon' or not rule.geojson:
                continue
            try:
                parse_geojson(rule.geojson)
            except GeometryError as exception:
                raise RuleGeometryError(
                    rule._geometry_message(exception)) from exception

    def _geometry_message(self, exception):
        "The sentence telling what is wrong with the polygon of the rule"
        # The polygon is named as a user calls it, without the quoted rule
        # description inside the quotes of the message.
        if self.name:
            polygon = gettext('backoffice_zone.msg_polygon_named_of_zone',
                name=self.name, zone=self.zone.rec_name)
        else:
            polygon = gettext('backoffice_zone.msg_polygon_of_zone',
                zone=self.zone.rec_name)
        if exception.reason != 'invalid':
            return gettext(GEOJSON_MESSAGES[exception.reason],
                polygon=polygon, detail=exception.detail)
        # shapely's reason reads "Self-intersection[6.15 46.15]": said in
        # words, with the place in longitude, latitude
        match = SHAPELY_REASON.match(exception.detail or '')
        reason, near = (match.group(1), match.group(2)) if match else (
            exception.detail, None)
        message = SHAPELY_MESSAGES.get(
            (reason or '').strip().lower(),
            'backoffice_zone.msg_polygon_invalid')
        if near:
            lon, lat = (_coordinate(c) for c in near.split()[:2])
            near = gettext('backoffice_zone.msg_polygon_near',
                lon=lon, lat=lat)
        return gettext(message, polygon=polygon, near=near or '')

    @classmethod
    def check_overlaps(cls, rules):
        """Warn when a rule ties with a rule of another zone: same
        specificity and same zone priority, so only the zone sequence
        decides (and a planner probably made a mistake)"""
        pool = Pool()
        Warning = pool.get('res.user.warning')
        by_company = defaultdict(list)
        for rule in rules:
            if rule.zone.active:
                by_company[rule.zone.company.id].append(rule)
        for company, company_rules in by_company.items():
            with without_check_access():
                others = cls.search([
                        ('zone.company', '=', company),
                        ('zone.active', '=', True),
                        ])
            for rule_id, other_id in tied_rules(
                    [r.spec for r in company_rules],
                    [o.spec for o in others]):
                rule, other = cls(rule_id), cls(other_id)
                key = Warning.format(
                    'backoffice_zone.rule_overlap',
                    sorted([rule, other], key=lambda r: r.id))
                if Warning.check(key):
                    raise RuleOverlapWarning(key, gettext(
                            'backoffice_zone.msg_rule_overlap',
                            rule=rule.rec_name, zone=rule.zone.rec_name,
                            other=other.rec_name,
                            other_zone=other.zone.rec_name,
                            priority=rule.zone.priority))

    @classmethod
    def on_modification(cls, mode, rules, field_names=None):
        super().on_modification(mode, rules, field_names=field_names)
        Pool().get('backoffice.zone')._matcher_cache.clear()


class ZoneWindow(ValueCheckMixin, ModelSQL, ModelView):
    __name__ = 'backoffice.zone.window'
    __string__ = "Delivery Window"

    zone = fields.Many2One(
        'backoffice.zone', "Zone", required=True, ondelete='CASCADE',
        help="The zone delivered in this window.")
    weekday = fields.Selection(
        WEEKDAYS, "Day", required=True, sort=False,
        help="The day of the week; it must be a delivery day of the zone.")
    start = fields.Time(
        "Start", required=True, format='%H:%M',
        help="The time the deliveries start.")
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


class Subdivision(metaclass=PoolMeta):
    __name__ = 'country.subdivision'

    @classmethod
    def on_modification(cls, mode, subdivisions, field_names=None):
        super().on_modification(mode, subdivisions, field_names=field_names)
        # The matchers know which subdivisions lie below a rule's one.
        if mode != 'write' or 'parent' in field_names:
            Pool().get('backoffice.zone')._matcher_cache.clear()


def window_name(weekday, start, end):
    "A delivery window as the office reads it: Monday 06:00-10:00"
    return '%s %s-%s' % (
        weekday or '',
        start.strftime('%H:%M') if start else '',
        end.strftime('%H:%M') if end else '')
