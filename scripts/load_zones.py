# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The delivery zone importer: one CSV row per zone with its delivery days,
windows, postal codes, cities and cantons; the polygons from a GeoJSON
FeatureCollection whose features name their zone (properties.zone)"""
import datetime as dt
import json
import re
from collections import defaultdict

from load_base import (
    SEPARATOR, Choices, Column, FileError, Loader, Number, Ref, RowError,
    Text, split_cell, subdivision_code)

WEEKDAYS = {'0': "Mon", '1': "Tue", '2': "Wed", '3': "Thu", '4': "Fri",
    '5': "Sat", '6': "Sun"}
DAY_NUMBERS = {v.lower(): k for k, v in WEEKDAYS.items()}
WINDOW = re.compile(
    r'^(?:([A-Za-z]{3})\s+)?([0-2]?[0-9]:[0-5][0-9])\s*-\s*'
    r'([0-2]?[0-9]:[0-5][0-9])$')
# the postal code patterns a zone rule takes (backoffice_zone/postal_code.py)
POSTAL_PATTERN = re.compile(
    r'^(?:[0-9A-Z]{1,16}|([0-9]{1,16})-([0-9]{1,16})|[0-9A-Z]{1,16}\*)$')
COLOUR = re.compile(r'^#[0-9a-fA-F]{6}$')
# the kinds of rules the CSV holds, the polygons come from GeoJSON
CSV_RULES = {'postal': 'postal_codes', 'city': 'cities',
    'subdivision': 'cantons'}


class Weekdays(Choices):
    "Delivery days as Mon;Wed;Fri"

    def __init__(self):
        super().__init__('weekdays', WEEKDAYS)

    def format(self, value, loader):
        return SEPARATOR.join(WEEKDAYS[d] for d in self.normal(value, loader))


class Colour(Text):
    def parse(self, row, loader):
        text = super().parse(row, loader)
        if text and not COLOUR.match(text):
            raise RowError(self.name, f"{text!r} is not a colour like #1f77b4")
        return text


class Windows(Column):
    """The delivery windows: 06:00-10:00;14:00-17:00 on every delivery day,
    or Mon 06:00-10:00;Thu 07:00-09:00 day by day; stored and compared as
    sorted (weekday, start, end)"""

    def __init__(self):
        super().__init__('windows')

    def parse(self, row, loader):
        days = loader.column('weekdays').parse(row, loader)
        windows = set()
        for text in split_cell(self.cell(row)):
            match = WINDOW.match(text)
            if not match:
                raise RowError(self.name,
                    f"{text!r} is not a window like Mon 06:00-10:00")
            day, start, end = match.groups()
            start, end = self.time(start), self.time(end)
            if start >= end:
                raise RowError(self.name, f"{text!r} ends before it starts")
            if day and day.lower() not in DAY_NUMBERS:
                raise RowError(self.name, f"unknown day {day!r} in {text!r}")
            if day and DAY_NUMBERS[day.lower()] not in days:
                raise RowError(self.name,
                    f"{day} is not a delivery day of the zone")
            for weekday in ([DAY_NUMBERS[day.lower()]] if day else days):
                windows.add((weekday, start, end))
        return sorted(windows)

    def time(self, text):
        try:
            return dt.time.fromisoformat(text.zfill(5))
        except ValueError:
            raise RowError(self.name, f"{text!r} is not a time") from None

    def normal(self, value, loader):
        return sorted(value or [])

    def format(self, value, loader):
        by_day = defaultdict(list)
        for weekday, start, end in value:
            by_day[weekday].append(f"{start:%H:%M}-{end:%H:%M}")
        same = {tuple(w) for w in by_day.values()}
        if len(same) == 1 and len(by_day) == len(loader.current_days):
            return SEPARATOR.join(same.pop())
        return SEPARATOR.join(f"{WEEKDAYS[d]} {w}"
            for d in sorted(by_day) for w in by_day[d])


class Rules(Column):
    """The postal code, city or canton rules of the zone (one kind per
    column), compared as sets of (kind, value, country)"""

    def __init__(self, name, kind):
        super().__init__(name, field='rules_' + kind)
        self.kind = kind

    def parse(self, row, loader):
        country = loader.column('country').parse(row, loader)
        values = split_cell(self.cell(row))
        if self.kind == 'postal':
            for value in values:
                match = POSTAL_PATTERN.match(value.upper())
                if not match or (match.group(1) and (
                            len(match.group(1)) != len(match.group(2))
                            or int(match.group(1)) > int(match.group(2)))):
                    raise RowError(self.name, f"{value!r} is not a postal "
                        "code, range (8000-8099) or prefix (80*)")
        elif self.kind == 'subdivision':
            cantons = loader.lookups.get('country.subdivision', 'code')
            codes = [loader.canton_code(v, row) for v in values]
            for value, code in zip(values, codes):
                if code not in cantons.ids:
                    raise RowError(self.name, f"unknown canton {value!r}")
            values = [cantons.ids[c] for c in codes]
            country = None
        return sorted((self.kind, v, country) for v in set(values))

    def normal(self, value, loader):
        return sorted(value or [])

    def format(self, value, loader):
        if self.kind == 'subdivision':
            cantons = loader.lookups.get('country.subdivision', 'code')
            return SEPARATOR.join(sorted(cantons.code(v) for _, v, _ in value))
        return SEPARATOR.join(v for _, v, _ in value)


class ZoneLoader(Loader):
    label = 'zones'
    model = 'backoffice.zone'
    key_columns = ['code']
    columns = [
        Text('code', required=True, size=50),
        Text('name', required=True, size=200),
        Colour('colour'),
        Number('priority', integer=True, minimum=-10 ** 6, maximum=10 ** 6),
        Weekdays(),
        Windows(),
        Number('cutoff_hours', integer=True, minimum=0, maximum=720),
        Ref('country', 'country.country'),
        Rules('postal_codes', 'postal'),
        Rules('cities', 'city'),
        Rules('cantons', 'subdivision'),
        Text('notes'),
        ]

    def __init__(self, session, polygons=None):
        super().__init__(session)
        # the zones of the context company
        self.domain = [('company', '=', session.context.get('company'))]
        # {zone code: [(name, geojson)]} when a GeoJSON file is given
        self.polygons = polygons
        # the delivery days of the zone formatted, and the zones exported
        self.current_days, self.exported = [], []

    def prepare(self, rows):
        super().prepare(rows)
        codes = [self.canton_code(v, r) for r in rows if r.cells
            for v in split_cell(r.cells.get('cantons', ''))]
        self.lookups.get('country.subdivision', 'code').load(codes)

    @staticmethod
    def canton_code(text, row):
        # the cantons of a zone without country are Swiss
        return subdivision_code(text, row.cells.get('country') or 'CH')

    def complete(self, values, row):
        values['priority'] = values['priority'] or 0
        values['cutoff_hours'] = values['cutoff_hours'] or 0
        if self.polygons is not None:
            values['rules_polygon'] = sorted(
                self.polygons.get(values['code'], []))
        return values

    def read(self, ids):
        "The zones with their windows and rules, three reads for the batch"
        records = super().read(ids)
        context = self.session.context
        windows = self.proxy('backoffice.zone.window').read(
            [w for r in records for w in r['windows']],
            ['zone', 'weekday', 'start', 'end'], context)
        rules = self.proxy('backoffice.zone.rule').read(
            [w for r in records for w in r['rules']],
            ['zone', 'kind', 'pattern', 'city', 'subdivision', 'geojson',
                'country', 'name'], context)
        by_zone = {r['id']: r for r in records}
        for record in records:
            record.update({'windows_ids': record['windows'], 'windows': [],
                    'rules_ids': record['rules']})
            for kind in list(CSV_RULES) + ['polygon']:
                record['rules_' + kind] = []
        for window in windows:
            by_zone[window['zone']]['windows'].append((window['weekday'],
                    self.as_time(window['start']),
                    self.as_time(window['end'])))
        for rule in rules:
            self.add_rule(by_zone[rule['zone']], rule)
        for record in records:
            record['rules_polygon'].sort()
        return records

    @staticmethod
    def as_time(value):
        # SQLite and XML-RPC may hand a time back as text
        if isinstance(value, str):
            value = dt.time.fromisoformat(value)
        return value.replace(second=0, microsecond=0)

    def add_rule(self, record, rule):
        kind = rule['kind']
        if kind == 'polygon':
            record['rules_polygon'].append(
                (rule['name'] or '', normal_geojson(rule['geojson'])))
            return
        value = {'postal': rule['pattern'], 'city': rule['city'],
            'subdivision': rule['subdivision']}[kind]
        country = rule['country'] if kind != 'subdivision' else None
        record['rules_' + kind].append((kind, value, country))
        if kind != 'subdivision' and rule['country']:
            record['country'] = rule['country']

    def read_fields(self):
        return ['code', 'name', 'colour', 'priority', 'weekdays', 'windows',
            'cutoff_hours', 'notes', 'rules']

    def changes(self, values, current):
        current.setdefault('country', None)
        changes = super().changes(values, current)
        if not any(k.startswith('rules_') for k in changes):
            # the country only qualifies the rules, which are the same
            changes.pop('country', None)
        return changes

    def create_values(self, values):
        return self.child_values(dict(values), {})

    def write_values(self, changes, current):
        return self.child_values(dict(changes), current)

    def child_values(self, values, current):
        """The windows and rules as commands: those of a changed list are
        deleted and created again (they have no key of their own)"""
        values.pop('country', None)
        if 'windows' in values:
            windows = values.pop('windows')
            values['windows'] = replace(current.get('windows_ids'),
                [{'weekday': d, 'start': s, 'end': e} for d, s, e in windows])
        kinds = [k for k in list(CSV_RULES) + ['polygon']
            if 'rules_' + k in values]
        if not kinds:
            return values
        rules = []
        for kind in list(CSV_RULES) + ['polygon']:
            source = values if kind in kinds else current
            rules.extend(rule_values(kind, source.pop('rules_' + kind, [])))
            values.pop('rules_' + kind, None)
        values['rules'] = replace(current.get('rules_ids'), rules)
        return values

    def export(self, path, polygons_path=None):
        count = super().export(path)
        if polygons_path:
            write_polygons(polygons_path, self.exported)
        return count

    def prefetch(self, records):
        self.exported = records
        super().prefetch(records)
        countries = self.column('country').lookup(self)
        countries.fetch_codes([r.get('country') for r in records])
        self.lookups.get('country.subdivision', 'code').fetch_codes(
            [v for r in records for _, v, _ in r['rules_subdivision']])

    def format_record(self, record):
        self.current_days = record['weekdays'] or []
        record.setdefault('country', None)
        return super().format_record(record)

    def export_order(self):
        return [('code', 'ASC')]


def replace(ids, vlist):
    "The commands that replace the records ids of a One2Many by vlist"
    commands = [('delete', ids)] if ids else []
    return commands + ([('create', vlist)] if vlist else [])


def rule_values(kind, rules):
    "The create values of the rules of kind"
    if kind == 'polygon':
        return [{'kind': 'polygon', 'name': name or None, 'geojson': geojson}
            for name, geojson in rules]
    field = {'postal': 'pattern', 'city': 'city',
        'subdivision': 'subdivision'}[kind]
    return [{'kind': kind, field: value, 'country': country}
        for _, value, country in rules]


def normal_geojson(text):
    "The geometry as compared: its JSON without spaces, keys sorted"
    return json.dumps(json.loads(text), sort_keys=True,
        separators=(',', ':'))


def read_polygons(path, session):
    """{zone code: [(name, geojson)]} of the GeoJSON FeatureCollection at
    path; each feature names its zone in properties.zone (and the rule in
    properties.name); a bad feature is reported as path:feature number"""
    try:
        with open(path, encoding='utf-8') as file:
            data = json.load(file)
    except (OSError, ValueError) as exception:
        raise FileError(f"{path}: {exception}") from exception
    if data.get('type') != 'FeatureCollection':
        raise FileError(f"{path}: not a GeoJSON FeatureCollection")
    polygons, failed = defaultdict(list), 0
    for number, feature in enumerate(data.get('features', []), 1):
        try:
            zone, name, geometry = check_feature(feature)
        except RowError as error:
            session.error(path, f"feature {number}", error.column,
                error.reason)
            failed += 1
            continue
        polygons[zone].append((name, normal_geojson(json.dumps(geometry))))
    if failed:
        # the zones would lose the polygons of the refused features
        raise FileError(f"{path}: {failed} features refused, no zone loaded")
    return dict(polygons)


def check_feature(feature):
    "(zone code, rule name, geometry) of a feature, or RowError"
    from shapely.geometry import shape
    properties = feature.get('properties') or {}
    zone = str(properties.get('zone') or '').strip()
    if not zone:
        raise RowError('properties.zone', "the feature names no zone")
    geometry = feature.get('geometry') or {}
    if geometry.get('type') not in {'Polygon', 'MultiPolygon'}:
        raise RowError('geometry', "not a Polygon or MultiPolygon")
    try:
        polygon = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError) as exception:
        raise RowError('geometry', f"unreadable: {exception}") from None
    minx, miny, maxx, maxy = polygon.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise RowError('geometry', "coordinates are not longitude/latitude")
    if not polygon.is_valid:
        raise RowError('geometry', "the polygon crosses itself")
    return zone, str(properties.get('name') or ''), geometry


def write_polygons(path, records):
    features = [{'type': 'Feature',
            'properties': {'zone': r['code'], **({'name': n} if n else {})},
            'geometry': json.loads(g)}
        for r in records for n, g in r['rules_polygon']]
    # one feature a line: a polygon's coordinates one per line would be
    # thousands of lines
    with open(path, 'w', encoding='utf-8') as file:
        file.write('{"type": "FeatureCollection", "features": [\n')
        file.write(',\n'.join(json.dumps(f, ensure_ascii=False)
                for f in features))
        file.write('\n]}\n')
