# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""What the matcher compares: the kinds of rules by specificity, the rule and
location it is given, the match and explanation it answers, city names

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
import re
import unicodedata
from collections import namedtuple

KIND_POLYGON, KIND_EXACT, KIND_RANGE, KIND_CITY, KIND_SUBDIVISION = range(5)

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

_SPACES = re.compile(r'\s+')


def normalise_city(name):
    """Return the city name as compared: accents stripped (NFKD), case folded
    and spaces collapsed, so 'ZÜRICH ', 'Zurich' and 'zürich' are equal"""
    if not name:
        return ''
    decomposed = unicodedata.normalize('NFKD', name)
    stripped = ''.join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(' ', stripped.casefold()).strip()

