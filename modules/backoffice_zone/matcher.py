# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The compiled zone matcher: pure Python, numpy and shapely, no database.

The Tryton models (zone.py, address.py) hand the active rules of one company
to `ZoneMatcher` and keep the compiled result in Tryton's cache; the unit
tests and scripts/bench_zone.py use this module directly.

Specificity, most specific first (lower rank wins):

    0 polygon          the point (lon, lat) lies inside the polygon
    1 exact code       the postal code equals the pattern ("8001")
    2 range / prefix   the postal code is in the range ("8000-8099") or starts
                       with the prefix ("80*"); the narrowest wins: the width
                       of a range is end - start + 1, of a prefix for a code
                       10 ** (len(code) - len(prefix))
    3 city             equal once normalised (accents, case and spaces)
    4 subdivision      the address subdivision or one of its parents (the
                       closer one wins)

Ties are broken by the zone priority (higher first), the zone sequence (the
zone listed first), the rule sequence and finally the rule id, so the result
never depends on the order in which rules were loaded.
"""
import bisect
import json
import math
import re
import unicodedata
from collections import defaultdict, namedtuple

import numpy as np
import shapely
from shapely import GeometryType

__all__ = [
    'RuleSpec', 'Location', 'Match', 'Explanation', 'ZoneMatcher',
    'PatternError', 'GeometryError', 'PostalPattern',
    'normalise_city', 'normalise_postal_code', 'parse_postal_pattern',
    'parse_geojson', 'postal_patterns_tie', 'polygons_tie', 'tied_rules']

KIND_POLYGON, KIND_EXACT, KIND_RANGE, KIND_CITY, KIND_SUBDIVISION = range(5)
KIND_NAMES = {
    KIND_POLYGON: 'polygon',
    KIND_EXACT: 'exact',
    KIND_RANGE: 'range',
    KIND_CITY: 'city',
    KIND_SUBDIVISION: 'subdivision',
    }
# Polygons whose intersection is smaller than this (in square degrees, about
# 1 m² at our latitudes) only share a border drawn twice.
OVERLAP_AREA_TOLERANCE = 1e-10

RuleSpec = namedtuple('RuleSpec', [
        'id', 'zone', 'kind', 'value', 'country', 'priority',
        'zone_sequence', 'sequence'],
    defaults=[None, 0, None, None])
RuleSpec.__doc__ = """One rule as the matcher needs it.

kind: 'postal' (value = pattern), 'city' (value = city name), 'subdivision'
(value = subdivision id) or 'polygon' (value = GeoJSON text or a shapely
geometry); country: optional country id restricting postal and city rules.
"""

Location = namedtuple('Location', [
        'longitude', 'latitude', 'postal_code', 'city', 'country',
        'subdivision'],
    defaults=[None] * 6)

# rule: index in ZoneMatcher.rules; kind: one of the KIND_* ranks;
# width: number of codes a range/prefix covers, or the subdivision distance
Match = namedtuple('Match', ['rule', 'kind', 'width'])

# best: the winning Match; rival: the best Match of another zone (or None);
# reason: why best beats rival: 'specificity', 'priority' or 'sequence'
Explanation = namedtuple('Explanation', ['best', 'rival', 'reason'])


class PatternError(ValueError):
    """A postal code pattern that cannot be used; reason: malformed,
    reversed, long"""

    def __init__(self, reason, pattern):
        super().__init__(reason, pattern)
        self.reason = reason
        self.pattern = pattern


class GeometryError(ValueError):
    """A polygon that cannot be used

    reason: json, type, coordinates, range, invalid or empty; detail: text
    for the message (the offending coordinate, shapely's reason, ...)
    """

    def __init__(self, reason, detail=''):
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


_SPACES = re.compile(r'\s+')


def normalise_city(name):
    """Return the city name as compared: accents stripped (NFKD), case folded
    and spaces collapsed, so 'ZÜRICH ', 'Zurich' and 'zürich' are equal"""
    if not name:
        return ''
    decomposed = unicodedata.normalize('NFKD', name)
    stripped = ''.join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(' ', stripped.casefold()).strip()


def normalise_postal_code(code):
    "Return the postal code as compared: upper case without spaces"
    if not code:
        return ''
    return ''.join(code.split()).upper()


# The longest postal codes in use have 10 characters. Numeric codes are
# compared as 64-bit integers (numpy), which hold 18 digits: a longer code
# cannot be a range bound, and an address's longer code matches no range.
POSTAL_CODE_MAX = 16

_EXACT = re.compile(r'^[0-9A-Z]+$')
_RANGE = re.compile(r'^([0-9]+)-([0-9]+)$')
_PREFIX = re.compile(r'^([0-9A-Z]+)\*$')

PostalPattern = namedtuple(
    'PostalPattern', ['kind', 'code', 'start', 'end', 'length'])
PostalPattern.__doc__ = """A parsed postal code pattern

kind: KIND_EXACT (code), KIND_RANGE with code None: a range start..end of
codes with `length` digits, or with code set: a prefix (start, end, length
are None)."""


def parse_postal_pattern(pattern):
    """Parse '8001' (exact), '8000-8099' (range, both bounds with the same
    number of digits) or '80*' (prefix); raise PatternError otherwise"""
    text = normalise_postal_code(pattern)
    if any(len(code) > POSTAL_CODE_MAX
            for code in text.rstrip('*').split('-')):
        raise PatternError('long', pattern)
    if _EXACT.match(text):
        return PostalPattern(KIND_EXACT, text, None, None, None)
    match = _RANGE.match(text)
    if match:
        start, end = match.groups()
        if len(start) != len(end):
            raise PatternError('malformed', pattern)
        if int(start) > int(end):
            raise PatternError('reversed', pattern)
        return PostalPattern(
            KIND_RANGE, None, int(start), int(end), len(start))
    match = _PREFIX.match(text)
    if match:
        return PostalPattern(KIND_RANGE, match.group(1), None, None, None)
    raise PatternError('malformed', pattern)


def is_numeric_code(code):
    "Whether a normalised postal code is compared as a number"
    return code.isascii() and code.isdigit() and len(code) <= POSTAL_CODE_MAX


def _prefix_interval(prefix, length):
    "The codes of `length` digits starting with the numeric `prefix`"
    scale = 10 ** (length - len(prefix))
    start = int(prefix) * scale
    return start, start + scale - 1


def postal_patterns_tie(a, b):
    """Whether two parsed patterns can match the same code with the same
    specificity (so only priority and sequence decide between them)"""
    if a.kind != b.kind:
        return False
    if a.kind == KIND_EXACT:
        return a.code == b.code
    if a.code is not None and b.code is not None:
        # Two prefixes overlap only when one extends the other; their widths
        # for a code are then equal only if they are the same prefix.
        return a.code == b.code
    if a.code is None and b.code is None:
        return (a.length == b.length
            and a.end - a.start == b.end - b.start
            and a.start <= b.end and b.start <= a.end)
    range_, prefix = (a, b) if a.code is None else (b, a)
    if not prefix.code.isdigit() or len(prefix.code) > range_.length:
        return False
    start, end = _prefix_interval(prefix.code, range_.length)
    return (end - start == range_.end - range_.start
        and start <= range_.end and range_.start <= end)


def _coordinates(value, depth):
    "Check the nesting of GeoJSON coordinates and return them as floats"
    if depth == 0:
        if (not isinstance(value, (list, tuple)) or len(value) < 2
                or not all(isinstance(c, (int, float))
                    and not isinstance(c, bool) for c in value)):
            raise GeometryError('coordinates', json.dumps(value)[:60])
        try:
            lon, lat = float(value[0]), float(value[1])
        except OverflowError as exception:
            # an integer with hundreds of digits
            raise GeometryError(
                'coordinates', json.dumps(value)[:60]) from exception
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise GeometryError('coordinates', json.dumps(value)[:60])
        return (lon, lat)
    if not isinstance(value, (list, tuple)) or not value:
        raise GeometryError('coordinates', json.dumps(value)[:60])
    return [_coordinates(v, depth - 1) for v in value]


def _geojson_polygons(text):
    "Return the list of polygons (lists of rings) of a GeoJSON text"
    try:
        data = json.loads(text) if isinstance(text, str) else text
    except ValueError as exception:
        raise GeometryError('json', str(exception)) from exception
    except RecursionError as exception:
        # e.g. 100,000 nested brackets: no polygon nests that deep
        raise GeometryError('json', "nested too deeply") from exception
    if not isinstance(data, dict):
        raise GeometryError('json', type(data).__name__)
    type_ = data.get('type')
    # A GeoJSON editor (geojson.io, QGIS) exports a Feature or a
    # FeatureCollection: accept one feature and use its geometry.
    if type_ == 'FeatureCollection':
        features = data.get('features') or []
        if not isinstance(features, list):
            raise GeometryError('type', 'FeatureCollection')
        if len(features) != 1:
            raise GeometryError('type', f'FeatureCollection/{len(features)}')
        data = features[0]
        type_ = data.get('type') if isinstance(data, dict) else None
    if type_ == 'Feature':
        data = data.get('geometry')
        if not isinstance(data, dict):
            raise GeometryError('type', 'Feature')
        type_ = data.get('type')
    if type_ == 'Polygon':
        return [_coordinates(data.get('coordinates'), 2)]
    elif type_ == 'MultiPolygon':
        return _coordinates(data.get('coordinates'), 3)
    raise GeometryError('type', str(type_))


def _ragged_multipolygons(polygon_lists):
    """Build MultiPolygons from lists of polygons in one vectorised call
    (shapely.from_ragged_array): much faster than one constructor per
    polygon, which matters for the compile time of hundreds of polygons"""
    coords, ring_offsets, polygon_offsets, part_offsets = [], [0], [0], [0]
    for polygons in polygon_lists:
        for rings in polygons:
            for ring in rings:
                coords.extend(ring)
                if ring[0] != ring[-1]:
                    coords.append(ring[0])
                ring_offsets.append(len(coords))
            polygon_offsets.append(len(ring_offsets) - 1)
        part_offsets.append(len(polygon_offsets) - 1)
    return shapely.from_ragged_array(
        GeometryType.MULTIPOLYGON, np.asarray(coords, dtype=float).reshape(
            -1, 2),
        (np.asarray(ring_offsets), np.asarray(polygon_offsets),
            np.asarray(part_offsets)))


def parse_geojson(text, validate=True):
    """Return the (Multi)Polygon of a GeoJSON text (lon/lat)

    With validate, raise GeometryError unless the polygon is usable: every
    ring closed with at least 4 positions, coordinates within lon [-180, 180]
    and lat [-90, 90], valid for shapely (is_valid_reason names the problem,
    e.g. a self-intersection) and with an area."""
    polygons = _geojson_polygons(text)
    if validate:
        for rings in polygons:
            for ring in rings:
                closed = ring if ring[0] == ring[-1] else ring + [ring[0]]
                if len(closed) < 4:
                    raise GeometryError('coordinates', json.dumps(ring)[:60])
                for lon, lat in ring:
                    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                        raise GeometryError('range', f'{lon} {lat}')
    geometry = _ragged_multipolygons([polygons])[0]
    if len(polygons) == 1:
        geometry = geometry.geoms[0]
    if validate:
        if not shapely.is_valid(geometry):
            raise GeometryError('invalid', shapely.is_valid_reason(geometry))
        if geometry.is_empty or geometry.area <= 0:
            raise GeometryError('empty')
    return geometry


def polygons_tie(a, b):
    "Whether two polygons share an area (not just a border)"
    if not shapely.intersects(a, b):
        return False
    return shapely.intersection(a, b).area > OVERLAP_AREA_TOLERANCE


def tied_rules(rules, others):
    """Pairs (rule id, other id) of rules that tie: from different zones with
    the same priority, able to match the same address with the same
    specificity (same exact code, overlapping ranges of equal width, the same
    prefix, polygons sharing an area, the same city or subdivision)

    rules, others: RuleSpec lists; a rule is not compared with itself."""
    def countries_meet(a, b):
        return a.country is None or b.country is None or a.country == b.country

    def competing(a, b):
        return (a.id != b.id and a.zone != b.zone
            and (a.priority or 0) == (b.priority or 0))

    # Index the others by what they compare, so each rule is compared only
    # with candidates (polygons through an STRtree).
    exact, patterns, cities, subdivisions, polygons = (
        defaultdict(list), [], defaultdict(list), defaultdict(list), [])
    for other in others:
        if other.kind == 'postal':
            pattern = parse_postal_pattern(other.value)
            if pattern.kind == KIND_EXACT:
                exact[pattern.code].append(other)
            else:
                patterns.append((pattern, other))
        elif other.kind == 'city':
            cities[normalise_city(other.value)].append(other)
        elif other.kind == 'subdivision':
            subdivisions[other.value].append(other)
        elif other.kind == 'polygon':
            polygons.append(other)
    tree = geometries = None
    if polygons and any(r.kind == 'polygon' for r in rules):
        geometries = np.asarray([
                o.value if isinstance(o.value, shapely.Geometry)
                else parse_geojson(o.value, validate=False)
                for o in polygons], dtype=object)
        tree = shapely.STRtree(geometries)

    for rule in rules:
        candidates = []
        if rule.kind == 'postal':
            pattern = parse_postal_pattern(rule.value)
            if pattern.kind == KIND_EXACT:
                candidates = exact.get(pattern.code, [])
            else:
                candidates = [o for p, o in patterns
                    if postal_patterns_tie(pattern, p)]
            candidates = [o for o in candidates if countries_meet(rule, o)]
        elif rule.kind == 'city':
            candidates = [o for o in cities.get(normalise_city(rule.value), [])
                if countries_meet(rule, o)]
        elif rule.kind == 'subdivision':
            candidates = subdivisions.get(rule.value, [])
        elif rule.kind == 'polygon' and tree is not None:
            geometry = (rule.value if isinstance(rule.value, shapely.Geometry)
                else parse_geojson(rule.value, validate=False))
            candidates = [polygons[i]
                for i in tree.query(geometry, predicate='intersects')
                if polygons_tie(geometry, geometries[i])]
        for other in candidates:
            if competing(rule, other):
                yield rule.id, other.id


class _IntervalTable:
    """The best range/prefix rule for every numeric code of one length

    The covered codes are cut into elementary segments at every interval
    start and end + 1; a sweep over them with a heap of the open intervals
    keeps the best one per segment, so a lookup is one bisect."""
    __slots__ = ('bounds', 'best', 'np_bounds', 'np_best')

    def __init__(self, intervals):
        import heapq
        # intervals: (start, end, key, rule)
        points = sorted({s for s, _, _, _ in intervals}
            | {e + 1 for _, e, _, _ in intervals})
        intervals = sorted(intervals)
        heap, i, bounds, best = [], 0, [], []
        for point in points:
            while i < len(intervals) and intervals[i][0] <= point:
                start, end, key, rule = intervals[i]
                heapq.heappush(heap, (key, end, rule))
                i += 1
            while heap and heap[0][1] < point:
                heapq.heappop(heap)
            value = heap[0][2] if heap else -1
            if best and best[-1] == value:
                continue  # merge equal neighbours
            bounds.append(point)
            best.append(value)
        self.bounds = bounds
        self.best = best
        self.np_bounds = np.asarray(bounds, dtype=np.int64)
        self.np_best = np.asarray(best, dtype=np.int64)

    def get(self, number):
        i = bisect.bisect_right(self.bounds, number) - 1
        return self.best[i] if i >= 0 else -1

    def get_many(self, numbers):
        if not len(self.bounds):
            return np.full(len(numbers), -1, dtype=np.int64)
        i = np.searchsorted(self.np_bounds, numbers, side='right') - 1
        result = self.np_best[np.maximum(i, 0)]
        result[i < 0] = -1
        return result


class _PolygonGrid:
    """Candidate polygons per cell of a regular grid over their bounds

    Point lookups use it instead of STRtree.query, which needs a shapely
    Point per lookup: creating 100,000 points costs more than the whole
    grid lookup (measured with scripts/bench_zone.py). Polygons are stored
    by rank, so the candidates of a cell come best first."""
    MAX_CELLS = 1 << 20
    MAX_ENTRIES = 1 << 22

    def __init__(self, bounds):
        count = len(bounds)
        self.empty = not count
        if self.empty:
            return
        self.x0, self.y0 = bounds[:, 0].min(), bounds[:, 1].min()
        x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
        sizes = np.maximum(
            bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
        # About 2 x 2 cells per typical polygon keeps the candidates per
        # point near the bounding-box ideal without too many cells.
        size = float(np.median(sizes)) / 2 or 1e-6
        while True:
            nx = int((x1 - self.x0) / size) + 1
            ny = int((y1 - self.y0) / size) + 1
            ix0, iy0, ix1, iy1 = self._cells(bounds, size, nx, ny)
            per_polygon = (ix1 - ix0 + 1) * (iy1 - iy0 + 1)
            if (nx * ny <= self.MAX_CELLS
                    and per_polygon.sum() <= self.MAX_ENTRIES):
                break
            size *= 2
        self.size, self.nx, self.ny = size, nx, ny
        polygon = np.repeat(np.arange(count), per_polygon)
        local = np.arange(per_polygon.sum()) - np.repeat(
            np.cumsum(per_polygon) - per_polygon, per_polygon)
        width = np.repeat(ix1 - ix0 + 1, per_polygon)
        cell = ((np.repeat(iy0, per_polygon) + local // width) * nx
            + np.repeat(ix0, per_polygon) + local % width)
        order = np.lexsort((polygon, cell))
        self.candidates = polygon[order]
        self.starts = np.searchsorted(
            cell[order], np.arange(nx * ny + 1)).astype(np.int64)

    def _cells(self, bounds, size, nx, ny):
        ix0 = np.clip(((bounds[:, 0] - self.x0) / size).astype(np.int64),
            0, nx - 1)
        iy0 = np.clip(((bounds[:, 1] - self.y0) / size).astype(np.int64),
            0, ny - 1)
        ix1 = np.clip(((bounds[:, 2] - self.x0) / size).astype(np.int64),
            0, nx - 1)
        iy1 = np.clip(((bounds[:, 3] - self.y0) / size).astype(np.int64),
            0, ny - 1)
        return ix0, iy0, ix1, iy1

    def cell(self, x, y):
        ix = math.floor((x - self.x0) / self.size)
        iy = math.floor((y - self.y0) / self.size)
        if 0 <= ix < self.nx and 0 <= iy < self.ny:
            return iy * self.nx + ix
        return -1

    def cells(self, xs, ys):
        with np.errstate(invalid='ignore'):
            fx = np.floor((xs - self.x0) / self.size)
            fy = np.floor((ys - self.y0) / self.size)
        inside = ((fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny))
        cell = np.full(len(xs), -1, dtype=np.int64)
        cell[inside] = (fy[inside].astype(np.int64) * self.nx
            + fx[inside].astype(np.int64))
        return cell


class ZoneMatcher:
    """All the rules of one company compiled for fast lookups

    Read-only once built, so one instance is shared by every transaction of
    a process (see Zone.get_matcher); `__copy__` returns it unchanged."""

    def __init__(self, rules, subdivision_parents=None):
        """rules: RuleSpec list; subdivision_parents: {subdivision id: parent
        id or None} for the subdivisions below the rules' subdivisions, so a
        rule for a canton matches an address in one of its districts"""
        rules = list(rules)
        # Polygons come first and in tie order, so a polygon's index is its
        # rank: the batch lookup takes the minimum index per point.
        order_key = self._order_key
        polygons = sorted(
            (r for r in rules if r.kind == 'polygon'), key=order_key)
        others = [r for r in rules if r.kind != 'polygon']
        self.rules = polygons + others
        self.tie_rank = {}
        for rank, index in enumerate(sorted(range(len(self.rules)),
                    key=lambda i: order_key(self.rules[i]))):
            self.tie_rank[index] = rank
        self.rule_zones = np.asarray(
            [r.zone for r in self.rules] or [0], dtype=np.int64)
        self.countries = {
            r.country for r in others if r.country is not None
            and r.kind in {'postal', 'city'}}
        self._compile_polygons(polygons)
        self._compile_postal()
        self._compile_cities()
        self._compile_subdivisions(subdivision_parents or {})

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    @staticmethod
    def _order_key(rule):
        "The tie-break after specificity: priority, zone sequence, rule"
        def sequence(value):
            # Tryton lists sequences ASC NULLS FIRST: so does the tie-break
            return (0, 0) if value is None else (1, value)
        return (-(rule.priority or 0), sequence(rule.zone_sequence),
            sequence(rule.sequence), rule.id)

    def _key(self, index, width=0):
        return (width, self.tie_rank[index])

    def _country_keys(self, country):
        "The country tables an address of country uses"
        return country if country in self.countries else None

    # Polygons ---------------------------------------------------------

    def _compile_polygons(self, polygons):
        # Rules are validated when saved, so the GeoJSON texts are only
        # decoded here, and all built at once.
        texts = [i for i, r in enumerate(polygons)
            if not isinstance(r.value, shapely.Geometry)]
        geometries = np.empty(len(polygons), dtype=object)
        if texts:
            geometries[texts] = _ragged_multipolygons(
                [_geojson_polygons(polygons[i].value) for i in texts])
        for i, rule in enumerate(polygons):
            if isinstance(rule.value, shapely.Geometry):
                geometries[i] = rule.value
        self.polygons = geometries
        self.polygon_count = len(polygons)
        if self.polygon_count:
            shapely.prepare(self.polygons)
        # The STRtree answers geometry queries (which polygons does this
        # polygon overlap); points go through the grid.
        self.tree = shapely.STRtree(self.polygons)
        self.grid = _PolygonGrid(shapely.bounds(self.polygons).reshape(-1, 4))

    def _polygon_candidates(self, x, y):
        "Indices of the polygons containing (x, y), best first"
        if (self.grid.empty or x is None or y is None
                or not (math.isfinite(x) and math.isfinite(y))):
            return []
        cell = self.grid.cell(x, y)
        if cell < 0:
            return []
        grid = self.grid
        candidates = grid.candidates[grid.starts[cell]:grid.starts[cell + 1]]
        if not len(candidates):
            return []
        inside = shapely.contains_xy(self.polygons[candidates], x, y)
        return candidates[inside].tolist()

    def overlapping_polygons(self, geometry):
        "Indices (in rules) of the polygons sharing an area with geometry"
        return [int(i) for i in self.tree.query(
                geometry, predicate='intersects')
            if polygons_tie(geometry, self.polygons[i])]

    # Postal codes -----------------------------------------------------

    def _compile_postal(self):
        # By country key (None: rules without country): exact codes, numeric
        # intervals by code length, alphanumeric prefixes.
        self._exact = defaultdict(dict)        # ckey -> code -> [indices]
        self._intervals = defaultdict(list)    # ckey -> [(start, end, len, i)]
        self._prefixes = defaultdict(dict)     # ckey -> prefix -> [indices]
        self.patterns = {}
        for index, rule in enumerate(self.rules):
            if rule.kind != 'postal':
                continue
            pattern = parse_postal_pattern(rule.value)
            self.patterns[index] = pattern
            ckey = rule.country
            if pattern.kind == KIND_EXACT:
                self._exact[ckey].setdefault(pattern.code, []).append(index)
            elif pattern.code is None:
                self._intervals[ckey].append(
                    (pattern.start, pattern.end, pattern.length, index))
            else:
                self._prefixes[ckey].setdefault(
                    pattern.code, []).append(index)
        # Rules without a country apply to every country: merge them into
        # the tables of the countries that have rules of their own.
        self._exact_best = {}
        for ckey in {None} | self.countries:
            codes = defaultdict(list)
            for key in {None, ckey}:
                for code, indices in self._exact.get(key, {}).items():
                    codes[code].extend(indices)
            self._exact_best[ckey] = {
                code: min(indices, key=self._key)
                for code, indices in codes.items()}
        # Interval tables are built on demand per (country, code length);
        # build now those of the range lengths, which lookups surely need.
        self._tables = {}
        for ckey in {None} | self.countries:
            for length in {i[2] for key in {None, ckey}
                    for i in self._intervals.get(key, ())}:
                self._interval_table(ckey, length)

    def _interval_table(self, ckey, length):
        "The interval table for codes of `length` digits (built on demand)"
        try:
            return self._tables[ckey, length]
        except KeyError:
            pass
        intervals = []
        for key in {None, ckey}:
            for start, end, size, index in self._intervals.get(key, ()):
                if size == length:
                    intervals.append(
                        (start, end, self._key(index, end - start + 1),
                            index))
            for prefix, indices in self._prefixes.get(key, {}).items():
                if prefix.isdigit() and len(prefix) <= length:
                    start, end = _prefix_interval(prefix, length)
                    for index in indices:
                        intervals.append(
                            (start, end, self._key(index, end - start + 1),
                                index))
        table = self._tables[ckey, length] = _IntervalTable(intervals)
        return table

    def _postal_candidates(self, code, country):
        "All (kind, width, index) of the postal rules matching code"
        code = normalise_postal_code(code)
        if not code:
            return []
        result = []
        for key in {None, self._country_keys(country)}:
            for index in self._exact.get(key, {}).get(code, ()):
                result.append((KIND_EXACT, 0, index))
            if is_numeric_code(code):
                number = int(code)
                for start, end, length, index in self._intervals.get(
                        key, ()):
                    if length == len(code) and start <= number <= end:
                        result.append((KIND_RANGE, end - start + 1, index))
            for size in range(1, len(code) + 1):
                for index in self._prefixes.get(key, {}).get(
                        code[:size], ()):
                    result.append(
                        (KIND_RANGE, 10 ** (len(code) - size), index))
        return result

    def _postal_best(self, code, ckey):
        "(kind, width, index) of the best postal rule for code, or None"
        index = self._exact_best[ckey].get(code)
        if index is not None:
            return (KIND_EXACT, 0, index)
        if is_numeric_code(code):
            index = self._interval_table(ckey, len(code)).get(int(code))
            if index >= 0:
                return (KIND_RANGE, None, index)
            return None
        best = None
        for key in {None, ckey}:
            prefixes = self._prefixes.get(key)
            if not prefixes:
                continue
            for size in range(1, len(code) + 1):
                for index in prefixes.get(code[:size], ()):
                    candidate = self._key(index, 10 ** (len(code) - size))
                    if best is None or candidate < best[0]:
                        best = (candidate, index)
        if best:
            return (KIND_RANGE, best[0][0], best[1])
        return None

    # Cities and subdivisions ------------------------------------------

    def _compile_cities(self):
        cities = defaultdict(lambda: defaultdict(list))
        for index, rule in enumerate(self.rules):
            if rule.kind == 'city':
                cities[rule.country][normalise_city(rule.value)].append(index)
        self._cities = cities
        self._city_best = {}
        for ckey in {None} | self.countries:
            merged = defaultdict(list)
            for key in {None, ckey}:
                for name, indices in cities.get(key, {}).items():
                    merged[name].extend(indices)
            self._city_best[ckey] = {
                name: min(indices, key=self._key)
                for name, indices in merged.items()}

    def _compile_subdivisions(self, parents):
        direct = defaultdict(list)
        for index, rule in enumerate(self.rules):
            if rule.kind == 'subdivision':
                direct[rule.value].append(index)
        # All (distance, index) per subdivision, walking up the parents.
        self._subdivisions = {}
        for subdivision in set(direct) | set(parents):
            found, current, distance, seen = [], subdivision, 0, set()
            while current is not None and current not in seen:
                seen.add(current)
                found.extend((distance, i) for i in direct.get(current, ()))
                current = parents.get(current)
                distance += 1
            if found:
                found.sort(key=lambda c: self._key(c[1], c[0]))
                self._subdivisions[subdivision] = found

    # Lookups ----------------------------------------------------------

    def candidates(self, location):
        """Every rule matching location as Match, best first (used to
        explain a match; `match` is the fast path)"""
        location = Location(*location)
        result = []
        for index in self._polygon_candidates(
                location.longitude, location.latitude):
            result.append((KIND_POLYGON, 0, index))
        result.extend(self._postal_candidates(
                location.postal_code, location.country))
        city = normalise_city(location.city)
        if city:
            for key in {None, self._country_keys(location.country)}:
                for index in self._cities.get(key, {}).get(city, ()):
                    result.append((KIND_CITY, 0, index))
        for distance, index in self._subdivisions.get(
                location.subdivision, ()):
            result.append((KIND_SUBDIVISION, distance, index))
        result.sort(key=lambda c: (c[0],) + self._key(c[2], c[1]))
        return [Match(index, kind, width) for kind, width, index in result]

    def match(self, location):
        "The best Match for location, or None"
        location = Location(*location)
        if location.longitude is not None and location.latitude is not None:
            polygons = self._polygon_candidates(
                location.longitude, location.latitude)
            if polygons:
                return Match(polygons[0], KIND_POLYGON, 0)
        ckey = self._country_keys(location.country)
        code = normalise_postal_code(location.postal_code)
        if code:
            found = self._postal_best(code, ckey)
            if found:
                kind, width, index = found
                if width is None:
                    pattern = self.patterns[index]
                    if pattern.code is None:
                        width = pattern.end - pattern.start + 1
                    else:
                        width = 10 ** (len(code) - len(pattern.code))
                return Match(index, kind, width)
        if location.city:
            index = self._city_best[ckey].get(normalise_city(location.city))
            if index is not None:
                return Match(index, KIND_CITY, 0)
        found = self._subdivisions.get(location.subdivision)
        if found:
            distance, index = found[0]
            return Match(index, KIND_SUBDIVISION, distance)
        return None

    def match_zone(self, location):
        "The zone id for location, or None"
        match = self.match(location)
        return self.rules[match.rule].zone if match else None

    def explain(self, location):
        """Explanation of the match of location (None without match): the
        winner, the best rule of another zone and why the winner beat it"""
        candidates = self.candidates(location)
        if not candidates:
            return None
        best = candidates[0]
        zone = self.rules[best.rule].zone
        rival = next(
            (c for c in candidates if self.rules[c.rule].zone != zone), None)
        reason = None
        if rival:
            if (best.kind, best.width) != (rival.kind, rival.width):
                reason = 'specificity'
            elif (self.rules[best.rule].priority or 0) != (
                    self.rules[rival.rule].priority or 0):
                reason = 'priority'
            else:
                reason = 'sequence'
        return Explanation(best, rival, reason)

    def match_many(
            self, longitudes=None, latitudes=None, postal_codes=None,
            cities=None, countries=None, subdivisions=None):
        """The best rule index per item (-1 without match) as a numpy array

        Every argument is a sequence of the same length or None. Polygons
        are matched for all points at once (grid candidates, one vectorised
        shapely.contains_xy over the candidate pairs, numpy minimum per
        point); the items left fall through to the postal code (vectorised
        for numeric codes), city and subdivision tables in specificity
        order, so a less specific kind is only looked up when needed."""
        size = next((len(s) for s in (longitudes, postal_codes, cities,
                        countries, subdivisions) if s is not None), 0)
        result = np.full(size, -1, dtype=np.int64)
        if not size:
            return result
        if (longitudes is not None and latitudes is not None
                and self.polygon_count):
            result = self._match_points(
                np.asarray(longitudes, dtype=float),
                np.asarray(latitudes, dtype=float))
        left = np.flatnonzero(result < 0)
        if not len(left):
            return result
        if countries is None:
            ckeys = [None] * size
        else:
            ckeys = [c if c in self.countries else None for c in countries]
        if postal_codes is not None:
            self._match_postal_many(postal_codes, ckeys, left, result)
            left = left[result[left] < 0]
        if cities is not None and len(left):
            normalised = {}
            city_best = self._city_best
            for i in left.tolist():
                city = cities[i]
                if not city:
                    continue
                try:
                    name = normalised[city]
                except KeyError:
                    name = normalised[city] = normalise_city(city)
                index = city_best[ckeys[i]].get(name)
                if index is not None:
                    result[i] = index
            left = left[result[left] < 0]
        if subdivisions is not None and len(left) and self._subdivisions:
            table = self._subdivisions
            for i in left.tolist():
                found = table.get(subdivisions[i])
                if found:
                    result[i] = found[0][1]
        return result

    def _match_points(self, xs, ys):
        size = len(xs)
        result = np.full(size, -1, dtype=np.int64)
        grid = self.grid
        cell = grid.cells(xs, ys)
        points = np.flatnonzero(cell >= 0)
        if not len(points):
            return result
        cell = cell[points]
        counts = grid.starts[cell + 1] - grid.starts[cell]
        total = int(counts.sum())
        if not total:
            return result
        # One row per (point, candidate polygon) pair
        pair_point = np.repeat(points, counts)
        first = np.repeat(grid.starts[cell] - (np.cumsum(counts) - counts),
            counts)
        pair_polygon = grid.candidates[first + np.arange(total)]
        inside = shapely.contains_xy(
            self.polygons[pair_polygon], xs[pair_point], ys[pair_point])
        # A polygon's index is its rank: the best is the smallest index.
        best = np.full(size, self.polygon_count, dtype=np.int64)
        np.minimum.at(best, pair_point[inside], pair_polygon[inside])
        found = best < self.polygon_count
        result[found] = best[found]
        return result

    def _match_postal_many(self, postal_codes, ckeys, left, result):
        numeric = defaultdict(list)  # (ckey, length) -> [(item, number)]
        for i in left.tolist():
            code = postal_codes[i]
            if not code:
                continue
            code = normalise_postal_code(code)
            ckey = ckeys[i]
            index = self._exact_best[ckey].get(code)
            if index is not None:
                result[i] = index
            elif is_numeric_code(code):
                numeric[ckey, len(code)].append((i, int(code)))
            else:
                found = self._postal_best(code, ckey)
                if found:
                    result[i] = found[2]
        for (ckey, length), items in numeric.items():
            table = self._interval_table(ckey, length)
            items = np.asarray(items, dtype=np.int64)
            result[items[:, 0]] = table.get_many(items[:, 1])

    def zones(self, indices):
        "Zone ids of rule indices from match_many (0 for no match)"
        indices = np.asarray(indices)
        zones = self.rule_zones[np.maximum(indices, 0)]
        return np.where(indices >= 0, zones, 0)
