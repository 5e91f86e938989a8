# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The checks of a zone rule: its postal code pattern, its polygon and its
ties with the rules of other zones"""
import re
from collections import defaultdict

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access

from .exceptions import (
    RuleGeometryError, RuleOverlapWarning, RulePatternError)
from .polygon import GeometryError, parse_geojson
from .postal_code import PatternError, parse_postal_pattern
from .tie import tied_rules

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
# the message of each reason of the matcher's errors
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


def _coordinate(text):
    "A coordinate of shapely's text as a user reads it: 6.63, not 6.630000"
    try:
        return ('%.5f' % float(text)).rstrip('0').rstrip('.')
    except ValueError:
        return text


class ZoneRule(metaclass=PoolMeta):
    __name__ = 'backoffice.zone.rule'

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
