# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The compiled zone matcher (numpy and shapely, no database), to which
zone_matcher.py and address.py hand the rules of one company; it imports the
public names of specificity.py, postal_code.py, polygon.py, tie.py and
explanation.py, so models, tests and scripts/bench_zone.py import from here.
"""
import math
from collections import defaultdict

import numpy as np
import shapely

from .explanation import ExplanationMixin
from .polygon import (
    GeometryError, PolygonGrid, geojson_polygons, parse_geojson,
    polygons_tie, ragged_multipolygons)
from .postal_code import (
    IntervalTable, PatternError, PostalPattern, is_numeric_code,
    normalise_postal_code, parse_postal_pattern, postal_patterns_tie,
    prefix_interval)
from .specificity import (
    KIND_CITY, KIND_EXACT, KIND_POLYGON, KIND_RANGE, KIND_SUBDIVISION,
    Explanation, Location, Match, RuleSpec, normalise_city)
from .tie import tied_rules

__all__ = [
    'RuleSpec', 'Location', 'Match', 'Explanation', 'ZoneMatcher',
    'PatternError', 'GeometryError', 'PostalPattern',
    'normalise_city', 'normalise_postal_code', 'parse_postal_pattern',
    'parse_geojson', 'postal_patterns_tie', 'polygons_tie', 'tied_rules']


class ZoneMatcher(ExplanationMixin):
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
        self.tie_rank = {index: rank for rank, index in enumerate(sorted(
                    range(len(self.rules)),
                    key=lambda i: order_key(self.rules[i])))}
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
            geometries[texts] = ragged_multipolygons(
                [geojson_polygons(polygons[i].value) for i in texts])
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
        self.grid = PolygonGrid(shapely.bounds(self.polygons).reshape(-1, 4))

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
        table = self._tables.get((ckey, length))
        if table is not None:
            return table
        intervals = []
        for key in {None, ckey}:
            for start, end, size, index in self._intervals.get(key, ()):
                if size == length:
                    intervals.append(
                        (start, end, self._key(index, end - start + 1),
                            index))
            for prefix, indices in self._prefixes.get(key, {}).items():
                if prefix.isdigit() and len(prefix) <= length:
                    start, end = prefix_interval(prefix, length)
                    for index in indices:
                        intervals.append(
                            (start, end, self._key(index, end - start + 1),
                                index))
        table = self._tables[ckey, length] = IntervalTable(intervals)
        return table

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
