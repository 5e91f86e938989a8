# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Every rule matching a location and why the best one wins"
from .postal_code import is_numeric_code, normalise_postal_code
from .specificity import (
    KIND_CITY, KIND_EXACT, KIND_POLYGON, KIND_RANGE, KIND_SUBDIVISION,
    Explanation, Location, Match, normalise_city)


class ExplanationMixin:
    """The slow path of ZoneMatcher: all the candidates of a location, best
    first, to tell the office why a zone won (`match` is the fast path)"""

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
