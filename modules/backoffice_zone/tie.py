# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Rules of different zones that tie: only the zone sequence decides"
from collections import defaultdict

import numpy as np
import shapely

from .polygon import parse_geojson, polygons_tie
from .postal_code import parse_postal_pattern, postal_patterns_tie
from .specificity import KIND_EXACT, normalise_city


def tied_rules(rules, others):
    """Pairs (rule id, other id) of rules that tie: from different zones with
    the same priority, able to match the same address with the same
    specificity (same exact code, overlapping ranges of equal width, the same
    prefix, polygons sharing an area, the same city or subdivision)

    rules, others: RuleSpec lists; a rule is not compared with itself."""
    index = _OtherRules(
        others, with_polygons=any(r.kind == 'polygon' for r in rules))
    for rule in rules:
        for other in index.candidates(rule):
            if (other.id != rule.id and other.zone != rule.zone
                    and (other.priority or 0) == (rule.priority or 0)):
                yield rule.id, other.id


def _countries_meet(a, b):
    return a.country is None or b.country is None or a.country == b.country


def _geometry(rule):
    if isinstance(rule.value, shapely.Geometry):
        return rule.value
    return parse_geojson(rule.value, validate=False)


class _OtherRules:
    """The rules compared with, indexed by what they compare, so each rule
    is compared only with candidates (polygons through an STRtree)"""

    def __init__(self, others, with_polygons):
        self.exact, self.patterns = defaultdict(list), []
        self.cities, self.subdivisions = defaultdict(list), defaultdict(list)
        self.polygons = []
        for other in others:
            if other.kind == 'postal':
                pattern = parse_postal_pattern(other.value)
                if pattern.kind == KIND_EXACT:
                    self.exact[pattern.code].append(other)
                else:
                    self.patterns.append((pattern, other))
            elif other.kind == 'city':
                self.cities[normalise_city(other.value)].append(other)
            elif other.kind == 'subdivision':
                self.subdivisions[other.value].append(other)
            elif other.kind == 'polygon':
                self.polygons.append(other)
        self.tree = self.geometries = None
        if self.polygons and with_polygons:
            self.geometries = np.asarray(
                [_geometry(o) for o in self.polygons], dtype=object)
            self.tree = shapely.STRtree(self.geometries)

    def candidates(self, rule):
        "The other rules rule may tie with, whatever their zone"
        if rule.kind == 'postal':
            pattern = parse_postal_pattern(rule.value)
            if pattern.kind == KIND_EXACT:
                candidates = self.exact.get(pattern.code, [])
            else:
                candidates = [o for p, o in self.patterns
                    if postal_patterns_tie(pattern, p)]
            return [o for o in candidates if _countries_meet(rule, o)]
        elif rule.kind == 'city':
            return [o for o in self.cities.get(normalise_city(rule.value), [])
                if _countries_meet(rule, o)]
        elif rule.kind == 'subdivision':
            return self.subdivisions.get(rule.value, [])
        elif rule.kind == 'polygon' and self.tree is not None:
            geometry = _geometry(rule)
            return [self.polygons[i]
                for i in self.tree.query(geometry, predicate='intersects')
                if polygons_tie(geometry, self.geometries[i])]
        return []
