# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import json
import random
import re
import unittest

from backoffice_testing import ClientWidgetsTestMixin, count_queries, request
from lxml import etree
import shapely

from trytond.model.exceptions import AccessError
from trytond.modules.backoffice_zone.exceptions import (
    AddressCoordinatesError, RuleGeometryError, RuleOverlapWarning,
    RulePatternError, ValueCheckError, WindowError, ZoneCodeError,
    ZoneValidationError)
from trytond.modules.backoffice_zone.matcher import (
    KIND_RANGE, KIND_SUBDIVISION,
    GeometryError, Location, PatternError, RuleSpec, ZoneMatcher,
    normalise_city, normalise_postal_code, parse_geojson,
    parse_postal_pattern, tied_rules)
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction


def polygon(*points):
    "GeoJSON Polygon text of a closed ring through points (lon, lat)"
    ring = [list(p) for p in points] + [list(points[0])]
    return json.dumps({'type': 'Polygon', 'coordinates': [ring]})


def square(lon, lat, size):
    return polygon(
        (lon, lat), (lon + size, lat), (lon + size, lat + size),
        (lon, lat + size))


# Around the centre of Geneva (lon, lat)
GENEVA = polygon(
    (6.110, 46.170), (6.190, 46.165), (6.215, 46.205), (6.175, 46.245),
    (6.115, 46.228))
GENEVA_CENTRE = (6.1432, 46.2044)


class ZoneMatcherTestCase(unittest.TestCase):
    "Test the compiled matcher, without database"

    def test_precedence(self):
        "Polygon > exact code > narrowest range/prefix > city > subdivision"
        matcher = ZoneMatcher([
                RuleSpec(1, 10, 'subdivision', 100),
                RuleSpec(2, 11, 'city', "Zürich"),
                RuleSpec(3, 12, 'postal', '80*'),
                RuleSpec(4, 13, 'postal', '8000-8049'),
                RuleSpec(5, 14, 'postal', '800*'),
                RuleSpec(6, 15, 'postal', '8001'),
                RuleSpec(7, 16, 'polygon', square(8.5, 47.3, 0.1)),
                ], {101: 100})
        full = Location(8.54, 47.37, '8001', "Zürich", None, 101)

        def zone(**changes):
            return matcher.match_zone(full._replace(**changes))
        self.assertEqual(zone(), 16)
        self.assertEqual(zone(longitude=None, latitude=None), 15)
        self.assertEqual(
            zone(longitude=None, latitude=None, postal_code='8002'), 14)
        self.assertEqual(
            zone(longitude=None, latitude=None, postal_code='8050'), 12)
        self.assertEqual(
            zone(longitude=None, latitude=None, postal_code='8010'), 13)
        self.assertEqual(
            zone(longitude=None, latitude=None, postal_code='80123'), 12)
        self.assertEqual(
            zone(longitude=None, latitude=None, postal_code='9000'), 11)
        self.assertEqual(
            zone(longitude=None, latitude=None, postal_code=None, city=None),
            10)
        self.assertEqual(
            zone(longitude=None, latitude=None, postal_code=None, city=None,
                subdivision=None), None)
        # outside the polygon
        self.assertEqual(zone(longitude=9.0), 15)

    def test_widths(self):
        "A range and a prefix compare by the number of codes they cover"
        matcher = ZoneMatcher([
                RuleSpec(1, 10, 'postal', '8000-8049'),
                RuleSpec(2, 11, 'postal', '80*'),
                RuleSpec(3, 12, 'postal', '8040-8059'),
                ])
        match = matcher.match(Location(postal_code='8045'))
        self.assertEqual(matcher.rules[match.rule].zone, 12)
        self.assertEqual((match.kind, match.width), (KIND_RANGE, 20))
        match = matcher.match(Location(postal_code='8001'))
        self.assertEqual(matcher.rules[match.rule].zone, 10)
        self.assertEqual(match.width, 50)
        match = matcher.match(Location(postal_code='8099'))
        self.assertEqual(matcher.rules[match.rule].zone, 11)
        self.assertEqual(match.width, 100)
        # prefix on an alphanumeric code
        matcher = ZoneMatcher([
                RuleSpec(1, 10, 'postal', 'SW*'),
                RuleSpec(2, 11, 'postal', 'SW1*'),
                ])
        self.assertEqual(
            matcher.match_zone(Location(postal_code='sw1a 1aa')), 11)
        self.assertEqual(
            matcher.match_zone(Location(postal_code='SW7 2AZ')), 10)

    def test_ties(self):
        "Ties: zone priority, then zone sequence, then rule sequence and id"
        def winner(*rules):
            return ZoneMatcher(rules).match_zone(Location(postal_code='8001'))
        self.assertEqual(winner(
                RuleSpec(1, 10, 'postal', '8001', priority=0),
                RuleSpec(2, 11, 'postal', '8001', priority=5)), 11)
        self.assertEqual(winner(
                RuleSpec(1, 10, 'postal', '8001', zone_sequence=20),
                RuleSpec(2, 11, 'postal', '8001', zone_sequence=10)), 11)
        self.assertEqual(winner(
                RuleSpec(1, 10, 'postal', '8001', zone_sequence=10),
                RuleSpec(2, 11, 'postal', '8001', zone_sequence=None)), 11)
        self.assertEqual(winner(
                RuleSpec(1, 10, 'postal', '8001', sequence=2),
                RuleSpec(2, 11, 'postal', '8001', sequence=1)), 11)
        self.assertEqual(winner(
                RuleSpec(2, 11, 'postal', '8001'),
                RuleSpec(1, 10, 'postal', '8001')), 10)
        # priority never beats specificity
        self.assertEqual(winner(
                RuleSpec(1, 10, 'postal', '8001'),
                RuleSpec(2, 11, 'postal', '8000-8099', priority=99)), 10)
        # overlapping polygons tie on priority
        matcher = ZoneMatcher([
                RuleSpec(1, 10, 'polygon', square(0, 0, 2)),
                RuleSpec(2, 11, 'polygon', square(1, 1, 2), priority=1),
                ])
        self.assertEqual(matcher.match_zone(Location(1.5, 1.5)), 11)
        self.assertEqual(matcher.match_zone(Location(0.5, 0.5)), 10)
        self.assertEqual(matcher.match_zone(Location(2.5, 2.5)), 11)

    def test_city(self):
        "City names compare without accents, case or extra spaces"
        matcher = ZoneMatcher([
                RuleSpec(1, 10, 'city', "Zürich"),
                RuleSpec(2, 11, 'city', "La Chaux-de-Fonds"),
                RuleSpec(3, 12, 'city', "Genève"),
                ])
        for name, zone in [
                ("ZURICH", 10), (" zürich ", 10), ("Zu\u0308rich", 10),
                ("la  chaux-de-fonds", 11), ("GENEVE", 12), ("Geneva", None),
                ("Zürichberg", None), ("", None)]:
            with self.subTest(name=name):
                self.assertEqual(
                    matcher.match_zone(Location(city=name)), zone)
        self.assertEqual(normalise_city("  Straße\tNeu "), "strasse neu")

    def test_country(self):
        "A rule with a country matches only addresses of that country"
        matcher = ZoneMatcher([
                RuleSpec(1, 10, 'postal', '1000-1999', country=1),
                RuleSpec(2, 11, 'postal', '1*', country=2),
                RuleSpec(3, 12, 'postal', '1000'),
                RuleSpec(4, 13, 'city', "Paris", country=2),
                ])
        self.assertEqual(
            matcher.match_zone(Location(postal_code='1200', country=1)), 10)
        self.assertEqual(
            matcher.match_zone(Location(postal_code='1200', country=2)), 11)
        self.assertEqual(
            matcher.match_zone(Location(postal_code='1200', country=3)), None)
        self.assertEqual(
            matcher.match_zone(Location(postal_code='1000', country=1)), 12)
        self.assertEqual(
            matcher.match_zone(Location(city="Paris", country=2)), 13)
        self.assertEqual(
            matcher.match_zone(Location(city="Paris", country=3)), None)

    def test_subdivision(self):
        "A subdivision rule matches below it, the closest one wins"
        matcher = ZoneMatcher([
                RuleSpec(1, 10, 'subdivision', 100),
                RuleSpec(2, 11, 'subdivision', 101),
                ], {101: 100, 102: 101, 103: 100})
        self.assertEqual(matcher.match_zone(Location(subdivision=102)), 11)
        self.assertEqual(matcher.match_zone(Location(subdivision=103)), 10)
        self.assertEqual(matcher.match_zone(Location(subdivision=100)), 10)
        self.assertEqual(matcher.match_zone(Location(subdivision=999)), None)
        match = matcher.match(Location(subdivision=102))
        self.assertEqual((match.kind, match.width), (KIND_SUBDIVISION, 1))

    def test_multipolygon_and_holes(self):
        "MultiPolygon parts and holes"
        multi = json.dumps({'type': 'MultiPolygon', 'coordinates': [
                    [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]],
                        [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6],
                            [0.4, 0.4]]],
                    [[[5, 5], [6, 5], [6, 6], [5, 6], [5, 5]]],
                    ]})
        matcher = ZoneMatcher([RuleSpec(1, 10, 'polygon', multi)])
        self.assertEqual(matcher.match_zone(Location(0.2, 0.2)), 10)
        self.assertEqual(matcher.match_zone(Location(0.5, 0.5)), None)
        self.assertEqual(matcher.match_zone(Location(5.5, 5.5)), 10)
        self.assertEqual(matcher.match_zone(Location(3, 3)), None)
        self.assertEqual(
            matcher.match_zone(Location(float('nan'), 0.2)), None)

    def test_match_many_equals_match(self):
        "The batch lookup gives the single lookup's answer for every item"
        rng = random.Random(42)
        rules, next_id = [], 1
        for zone in range(1, 41):
            for _ in range(3):
                kind = rng.choice(['polygon', 'postal', 'postal', 'city',
                        'subdivision'])
                if kind == 'polygon':
                    value = square(rng.uniform(0, 9), rng.uniform(0, 9),
                        rng.uniform(0.2, 2))
                elif kind == 'postal':
                    start = rng.randrange(1000, 9900)
                    value = rng.choice([
                            str(start),
                            f'{start}-{start + rng.randrange(0, 100)}',
                            str(start)[:rng.randrange(1, 4)] + '*'])
                elif kind == 'city':
                    value = rng.choice(["Bern", "Biel", "Thun", "Köniz"])
                else:
                    value = rng.randrange(1, 6)
                rules.append(RuleSpec(
                        next_id, zone, kind, value,
                        priority=rng.choice([0, 0, 1]),
                        zone_sequence=rng.choice([None, 1, 2]),
                        sequence=rng.choice([None, 1, 2])))
                next_id += 1
        matcher = ZoneMatcher(rules, {6: 1, 7: 6})
        size = 3000
        lons = [rng.uniform(-1, 11) if rng.random() < 0.8 else None
            for _ in range(size)]
        lats = [rng.uniform(-1, 11) if lon is not None else None
            for lon in lons]
        codes = [rng.choice([str(rng.randrange(1000, 9999)), '', None,
                    'AB12'])
            for _ in range(size)]
        cities = [rng.choice(["bern", "BIEL", "Koniz", "", None, "Basel"])
            for _ in range(size)]
        subdivisions = [rng.choice([None, 1, 2, 6, 7]) for _ in range(size)]
        found = matcher.match_many(lons, lats, codes, cities, None,
            subdivisions)
        zones = matcher.zones(found)
        matched = 0
        for i in range(size):
            location = Location(lons[i], lats[i], codes[i], cities[i], None,
                subdivisions[i])
            match = matcher.match(location)
            expected = match.rule if match else -1
            self.assertEqual(found[i], expected, msg=str(location))
            self.assertEqual(
                zones[i], matcher.rules[expected].zone if match else 0)
            candidates = matcher.candidates(location)
            self.assertEqual(candidates[0] if candidates else None, match)
            matched += bool(match)
        self.assertGreater(matched, size / 2)

    def test_patterns(self):
        "Postal code patterns: exact, range, prefix and the malformed ones"
        self.assertEqual(parse_postal_pattern(' 80 01 ').code, '8001')
        pattern = parse_postal_pattern('8000-8099')
        self.assertEqual((pattern.start, pattern.end, pattern.length),
            (8000, 8099, 4))
        self.assertEqual(parse_postal_pattern('80*').code, '80')
        for text in ['80a*9', '8000-', '*', '-8000', '800-8099', '80-90-99',
                '8000–8099', '', '80**']:
            with self.subTest(pattern=text):
                with self.assertRaises(PatternError) as cm:
                    parse_postal_pattern(text)
                self.assertEqual(cm.exception.reason, 'malformed')
        with self.assertRaises(PatternError) as cm:
            parse_postal_pattern('8099-8000')
        self.assertEqual(cm.exception.reason, 'reversed')
        self.assertEqual(normalise_postal_code(' sw1a 1aa'), 'SW1A1AA')

    def test_geojson(self):
        "GeoJSON polygons: accepted forms and each refusal"
        self.assertEqual(parse_geojson(GENEVA).geom_type, 'Polygon')
        feature = json.dumps({'type': 'FeatureCollection', 'features': [
                    {'type': 'Feature', 'properties': {},
                        'geometry': json.loads(GENEVA)}]})
        self.assertTrue(parse_geojson(feature).equals(parse_geojson(GENEVA)))
        for text, reason in [
                ('{"type": "Polygon"', 'json'),
                ('[1, 2]', 'json'),
                ('{"type": "Point", "coordinates": [6.1, 46.2]}', 'type'),
                ('{"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}',
                    'coordinates'),
                ('{"type": "Polygon", "coordinates": [[[0, 0], [1, "a"], '
                    '[1, 1], [0, 0]]]}', 'coordinates'),
                (polygon((0, 0), (1, 1), (1, 0), (0, 1)), 'invalid'),
                (polygon((46.2, 6.1), (46.3, 6.1), (46.3, 96.2)), 'range'),
                (polygon((179, 0), (181, 0), (181, 1)), 'range'),
                (polygon((0, 0), (1, 0), (2, 0)), 'invalid'),
                ]:
            with self.subTest(text=text):
                with self.assertRaises(GeometryError) as cm:
                    parse_geojson(text)
                self.assertEqual(cm.exception.reason, reason)
        with self.assertRaises(GeometryError) as cm:
            parse_geojson(polygon((0, 0), (1, 1), (1, 0), (0, 1)))
        self.assertIn('Self-intersection', cm.exception.detail)

    def test_tied_rules(self):
        "Rules of different zones that only the zone sequence separates"
        def ties(rule, *others):
            return list(tied_rules([rule], list(others)))
        rule = RuleSpec(1, 10, 'postal', '8001')
        self.assertEqual(ties(rule, RuleSpec(2, 11, 'postal', '8001')),
            [(1, 2)])
        self.assertEqual(ties(rule,
                RuleSpec(2, 11, 'postal', '8001', priority=1)), [])
        self.assertEqual(ties(rule, RuleSpec(2, 10, 'postal', '8001')), [])
        self.assertEqual(ties(rule,
                RuleSpec(2, 11, 'postal', '8000-8099')), [])
        rule = RuleSpec(1, 10, 'postal', '8000-8099')
        self.assertEqual(ties(rule,
                RuleSpec(2, 11, 'postal', '8050-8149'),
                RuleSpec(3, 12, 'postal', '80*'),
                RuleSpec(4, 13, 'postal', '8100-8199'),
                RuleSpec(5, 14, 'postal', '8000-8009'),
                RuleSpec(6, 15, 'postal', '8000-8099', country=3)),
            [(1, 2), (1, 3), (1, 6)])
        self.assertEqual(ties(
                RuleSpec(1, 10, 'postal', '8000-8099', country=1),
                RuleSpec(2, 11, 'postal', '8000-8099', country=2)), [])
        self.assertEqual(ties(
                RuleSpec(1, 10, 'city', "Genève"),
                RuleSpec(2, 11, 'city', "GENEVE")), [(1, 2)])
        self.assertEqual(ties(
                RuleSpec(1, 10, 'subdivision', 5),
                RuleSpec(2, 11, 'subdivision', 5),
                RuleSpec(3, 12, 'subdivision', 6)), [(1, 2)])
        self.assertEqual(ties(
                RuleSpec(1, 10, 'polygon', square(0, 0, 1)),
                RuleSpec(2, 11, 'polygon', square(0.5, 0.5, 1)),
                RuleSpec(3, 12, 'polygon', square(1, 0, 1)),  # border
                RuleSpec(4, 13, 'polygon', square(5, 5, 1))), [(1, 2)])

    def test_explain(self):
        "The explanation names the rival rule and the reason"
        matcher = ZoneMatcher([
                RuleSpec(1, 10, 'postal', '8000-8099'),
                RuleSpec(2, 11, 'city', "Zürich"),
                RuleSpec(3, 10, 'city', "Zürich"),
                RuleSpec(4, 12, 'postal', '8001', priority=2),
                RuleSpec(5, 13, 'postal', '8001', priority=1),
                RuleSpec(6, 14, 'postal', '8002', zone_sequence=1),
                RuleSpec(7, 15, 'postal', '8002', zone_sequence=2),
                ])
        explanation = matcher.explain(
            Location(postal_code='8050', city="zurich"))
        self.assertEqual(matcher.rules[explanation.best.rule].id, 1)
        self.assertEqual(matcher.rules[explanation.rival.rule].id, 2)
        self.assertEqual(explanation.reason, 'specificity')
        explanation = matcher.explain(Location(postal_code='8001'))
        self.assertEqual(matcher.rules[explanation.rival.rule].id, 5)
        self.assertEqual(explanation.reason, 'priority')
        explanation = matcher.explain(Location(postal_code='8002'))
        self.assertEqual(explanation.reason, 'sequence')
        explanation = matcher.explain(Location(city="Zürich"))
        self.assertEqual(explanation.reason, 'sequence')
        self.assertEqual(matcher.explain(Location(postal_code='9000')), None)
        self.assertIsNone(
            matcher.explain(Location(postal_code='8050')).rival)

    def test_overlapping_polygons(self):
        "The STRtree finds the polygons a geometry overlaps"
        matcher = ZoneMatcher([
                RuleSpec(1, 10, 'polygon', square(0, 0, 1)),
                RuleSpec(2, 11, 'polygon', square(1, 0, 1)),
                RuleSpec(3, 12, 'polygon', square(5, 5, 1)),
                ])
        found = matcher.overlapping_polygons(shapely.box(0.5, 0.5, 1.5, 0.8))
        self.assertEqual(
            sorted(matcher.rules[i].id for i in found), [1, 2])

    def test_empty_and_shared(self):
        "An empty matcher matches nothing; copies share the compiled data"
        import copy
        matcher = ZoneMatcher([])
        self.assertIsNone(matcher.match(Location(1, 2, '8000', "Bern")))
        self.assertEqual(matcher.match_many([1], [2], ['8000']).tolist(),
            [-1])
        self.assertEqual(len(matcher.match_many([], [], [])), 0)
        self.assertIs(copy.copy(matcher), matcher)


class BackofficeZoneTestCase(
        CompanyTestMixin, ClientWidgetsTestMixin, ModuleTestCase):
    "Test BackOffice Zone module"
    module = 'backoffice_zone'

    def _setup(self):
        "Switzerland, cantons, zones for Zürich, Geneva and Vaud"
        pool = Pool()
        Country = pool.get('country.country')
        Subdivision = pool.get('country.subdivision')
        Zone = pool.get('backoffice.zone')
        Party = pool.get('party.party')

        switzerland, = Country.create([{'name': "Switzerland", 'code': 'CH'}])
        vaud, zurich = Subdivision.create([{
                    'name': "Vaud", 'code': 'CH-VD', 'type': 'canton',
                    'country': switzerland.id,
                    }, {
                    'name': "Zürich", 'code': 'CH-ZH', 'type': 'canton',
                    'country': switzerland.id,
                    }])
        lausanne_district, = Subdivision.create([{
                    'name': "Lausanne", 'code': 'CH-VD-LS',
                    'type': 'district', 'country': switzerland.id,
                    'parent': vaud.id,
                    }])
        city, geneva, canton, lausanne = Zone.create([{
                    'name': "Zürich City", 'code': 'ZH',
                    'rules': [('create', [
                                {'kind': 'postal', 'pattern': '8000-8099'},
                                {'kind': 'postal', 'pattern': '8304'},
                                ])],
                    }, {
                    'name': "Geneva", 'code': 'GE',
                    'rules': [('create', [
                                {'kind': 'polygon', 'geojson': GENEVA,
                                    'name': "Geneva centre"},
                                ])],
                    }, {
                    'name': "Vaud", 'code': 'VD',
                    'rules': [('create', [
                                {'kind': 'subdivision',
                                    'subdivision': vaud.id},
                                ])],
                    }, {
                    'name': "Lausanne", 'code': 'LS',
                    'rules': [('create', [
                                {'kind': 'city', 'city': "Lausanne"},
                                ])],
                    }])
        party, = Party.create([{'name': "Client", 'addresses': []}])
        return {
            'switzerland': switzerland, 'vaud': vaud, 'zurich': zurich,
            'lausanne_district': lausanne_district, 'city': city,
            'geneva': geneva, 'canton': canton, 'lausanne': lausanne,
            'party': party,
            }

    def _address(self, party, **values):
        Address = Pool().get('party.address')
        address, = Address.create([dict(party=party.id, **values)])
        return address

    @with_transaction()
    def test_assign_on_create(self):
        "Addresses get the zone of their most specific rule when created"
        company = create_company()
        with set_company(company):
            data = self._setup()
            party = data['party']
            cases = [
                ({'postal_code': '8004', 'city': "Zürich"}, 'city'),
                ({'postal_code': '8304', 'city': "Wallisellen"}, 'city'),
                ({'city': "Genève", 'latitude': GENEVA_CENTRE[1],
                        'longitude': GENEVA_CENTRE[0],
                        'subdivision': data['vaud'].id,
                        'country': data['switzerland'].id}, 'geneva'),
                ({'city': "LAUSANNE", 'country': data['switzerland'].id,
                        'subdivision': data['lausanne_district'].id},
                    'lausanne'),
                ({'city': "Morges", 'country': data['switzerland'].id,
                        'subdivision': data['lausanne_district'].id},
                    'canton'),
                ({'city': "Bern", 'postal_code': '3000'}, None),
                ({}, None),
                ]
            for values, zone in cases:
                with self.subTest(values=values):
                    address = self._address(party, **values)
                    self.assertEqual(
                        address.zone, data[zone] if zone else None)
                    self.assertFalse(address.zone_manual)

    @with_transaction()
    def test_assign_on_write(self):
        "Writing the location reassigns the zone; other fields do not"
        pool = Pool()
        Address = pool.get('party.address')
        company = create_company()
        with set_company(company):
            data = self._setup()
            address = self._address(data['party'], postal_code='8001')
            self.assertEqual(address.zone, data['city'])

            for values, zone in [
                    ({'postal_code': '9000'}, None),
                    ({'city': 'Lausanne'}, 'lausanne'),
                    ({'latitude': GENEVA_CENTRE[1],
                            'longitude': GENEVA_CENTRE[0]}, 'geneva'),
                    ({'latitude': None, 'longitude': None}, 'lausanne'),
                    ({'city': None,
                            'country': data['switzerland'].id,
                            'subdivision': data['vaud'].id}, 'canton'),
                    ]:
                with self.subTest(values=values):
                    Address.write([address], values)
                    self.assertEqual(
                        address.zone, data[zone] if zone else None)

            # A zone stored by the reassignment is not touched by other
            # writes, even if the rules changed meanwhile.
            Address.write([address], {'delivery_instructions': "Ring twice"})
            self.assertEqual(address.zone, data['canton'])

    @with_transaction()
    def test_manual_zone(self):
        "A zone chosen by hand stays until the flag is unchecked"
        pool = Pool()
        Address = pool.get('party.address')
        company = create_company()
        with set_company(company):
            data = self._setup()
            address = self._address(data['party'], postal_code='8001')

            Address.write([address], {'zone': data['geneva'].id})
            self.assertEqual(address.zone, data['geneva'])
            self.assertTrue(address.zone_manual)

            Address.write([address], {'postal_code': '8002', 'city': 'X'})
            self.assertEqual(address.zone, data['geneva'])
            result = Address.assign_zones([address.id])
            self.assertEqual(result['manual'], 1)
            self.assertEqual(address.zone, data['geneva'])
            self.assertIn('set by hand', address.zone_explanation)

            Address.write([address], {'zone_manual': False})
            self.assertEqual(address.zone, data['city'])
            self.assertFalse(address.zone_manual)

            # clearing the zone gives the address back to the rules
            Address.write([address], {'zone': data['geneva'].id})
            Address.write([address], {'zone': None})
            self.assertFalse(address.zone_manual)
            self.assertEqual(address.zone, data['city'])

            # a zone given at creation is a choice by hand
            other = self._address(
                data['party'], postal_code='8001', zone=data['canton'].id)
            self.assertTrue(other.zone_manual)
            self.assertEqual(other.zone, data['canton'])

            # the form's on_change marks the choice as made by hand
            form = Address(postal_code='8001')
            form.zone = data['lausanne']
            form.on_change_zone()
            self.assertTrue(form.zone_manual)

            # a copy keeps a zone set by hand, else takes the rules' zone
            copy_manual, = Address.copy([other])
            self.assertEqual(copy_manual.zone, data['canton'])
            self.assertTrue(copy_manual.zone_manual)
            copy_auto, = Address.copy([address])
            self.assertEqual(copy_auto.zone, data['city'])
            self.assertFalse(copy_auto.zone_manual)

    @with_transaction()
    def test_without_zone_filter(self):
        "Addresses without zone are found with the tab's domain"
        pool = Pool()
        Address = pool.get('party.address')
        ActionDomain = pool.get('ir.action.act_window.domain')
        ModelData = pool.get('ir.model.data')
        company = create_company()
        with set_company(company):
            data = self._setup()
            matched = self._address(data['party'], postal_code='8001')
            unmatched = self._address(data['party'], postal_code='3000')
            tab = ActionDomain(ModelData.get_id(
                    'backoffice_zone', 'act_address_form_domain_without_zone'))
            domain = PYSONDecoder().decode(tab.domain)
            found = Address.search(
                [('party', '=', data['party'].id)] + domain)
            self.assertIn(unmatched, found)
            self.assertNotIn(matched, found)
            self.assertEqual(Address.search([
                        ('party', '=', data['party'].id),
                        ('zone', '=', data['city'].id)]), [matched])

    @with_transaction()
    def test_map(self):
        "A zone's form draws its polygons in its colour, north up"
        company = create_company()
        with set_company(company):
            data = self._setup()
            geneva = data['geneva']
            svg = etree.fromstring(geneva.map)
            self.assertEqual(svg.tag, '{http://www.w3.org/2000/svg}svg')
            path, = svg
            self.assertEqual(path.get('fill'), geneva.colour)
            # y is the negated latitude of the polygon's points
            ys = [float(p.split(',')[1])
                for p in re.findall(r'-?[\d.]+,-?[\d.]+', path.get('d'))]
            self.assertTrue(all(-46.3 < y < -46.1 for y in ys), ys)
            self.assertIsNone(data['city'].map)

    @with_transaction()
    def test_explanation(self):
        "The address explains which rule gives its zone"
        pool = Pool()
        Address = pool.get('party.address')
        Zone = pool.get('backoffice.zone')
        company = create_company()
        with set_company(company):
            data = self._setup()
            address = self._address(
                data['party'], postal_code='8004', city="Lausanne")
            self.assertEqual(address.zone_explanation,
                'Zone "Zürich City" by postal code range 8000-8099 '
                '(more specific than city "Lausanne" of zone "Lausanne").')
            address = self._address(data['party'], postal_code='3000')
            self.assertEqual(address.zone_explanation,
                'No delivery zone has a rule for this address '
                '(postal code 3000). The map zones ("Geneva") need '
                'coordinates, which this address lacks: enter its latitude '
                'and longitude.')

            Zone.write([data['lausanne']], {'priority': 5})
            Zone.write([data['canton']], {'rules': [('create', [{
                                'kind': 'city', 'city': "lausanne"}])]})
            address = self._address(data['party'], city="Lausanne")
            self.assertEqual(address.zone, data['lausanne'])
            self.assertEqual(address.zone_explanation,
                'Zone "Lausanne" by city "Lausanne" (its priority 5 is '
                'higher than the priority 0 of zone "Vaud" with city '
                '"lausanne").')

            # rules changed after the address was saved
            Zone.write([data['lausanne']], {'active': False})
            self.assertEqual(Address(address.id).zone_explanation,
                'Zone "Vaud" by city "lausanne". The address is still in '
                'zone "Lausanne": save it or run "Reassign Zones" to update '
                'it.')

        # without company no zone can be matched
        self.assertIn('select a company', Address(address.id).zone_explanation)

    @with_transaction()
    def test_cache_invalidation(self):
        "Writing a rule drops the compiled matcher at once"
        pool = Pool()
        Address = pool.get('party.address')
        Zone = pool.get('backoffice.zone')
        Rule = pool.get('backoffice.zone.rule')
        company = create_company()
        with set_company(company):
            data = self._setup()
            address = self._address(data['party'], postal_code='8500')
            self.assertIsNone(address.zone)

            matcher = Zone.get_matcher()
            self.assertIs(Zone.get_matcher(), matcher)
            self.assertIsNotNone(Zone._matcher_cache.get(company.id))

            rule, = Rule.search([('pattern', '=', '8304')])
            Rule.write([rule], {'pattern': '8500'})
            self.assertIsNone(Zone._matcher_cache.get(company.id))
            self.assertIsNot(Zone.get_matcher(), matcher)
            self.assertEqual(
                Zone.get_matcher().match_zone(Location(postal_code='8500')),
                data['city'].id)

            Address.write([address], {'city': "Frauenfeld"})
            self.assertEqual(address.zone, data['city'])

            # creating and deleting rules or zones invalidates too
            matcher = Zone.get_matcher()
            Rule.delete([rule])
            self.assertIsNot(Zone.get_matcher(), matcher)
            self.assertIsNone(
                Zone.get_matcher().match_zone(Location(postal_code='8500')))
            matcher = Zone.get_matcher()
            Zone.write([data['city']], {'priority': 3})
            self.assertIsNot(Zone.get_matcher(), matcher)

            # each company has its own matcher
            other = create_company("Other")
            self.assertIsNone(
                Zone.get_matcher(other.id).match_zone(
                    Location(postal_code='8001')))

    @with_transaction()
    def test_reassign(self):
        "Reassignment: counts per zone, skips manual zones, few queries"
        pool = Pool()
        Address = pool.get('party.address')
        Rule = pool.get('backoffice.zone.rule')
        company = create_company()
        with set_company(company):
            data = self._setup()
            party = data['party']
            Address.create(
                [{'party': party.id, 'postal_code': '8001'}] * 5
                + [{'party': party.id, 'postal_code': '8304'}] * 3
                + [{'party': party.id, 'city': "Lausanne"}] * 2
                + [{'party': party.id, 'postal_code': '3000'}] * 4
                + [{'party': party.id, 'postal_code': '8001',
                        'zone': data['geneva'].id}])
            ids = [a.id for a in Address.search([('party', '=', party.id)])]

            rule, = Rule.search([('pattern', '=', '8304')])
            Rule.write([rule], {'zone': data['canton'].id})
            # the rule moved, the stored zones did not
            self.assertEqual(Address.search_count([
                        ('id', 'in', ids), ('zone', '=', data['city'].id)]),
                8)

            Reassign = pool.get('backoffice.zone.reassign', type='wizard')
            session_id, _, _ = Reassign.create()
            with Transaction().set_context(
                    active_model='party.address', active_ids=ids,
                    active_id=ids[0]):
                start = Reassign.execute(session_id, {}, 'start')
                self.assertEqual(start['view']['defaults'],
                    {'scope': 'selected', 'address_count': 15})
                result = Reassign.execute(session_id, {}, 'reassign')
            Reassign.delete(session_id)
            values = result['view']['defaults']
            self.assertEqual(
                {l['zone']: l['count'] for l in values['lines']}, {
                    data['city'].id: 5,
                    data['canton'].id: 3,
                    data['lausanne'].id: 2,
                    })
            self.assertEqual(values['unassigned'], 4)
            self.assertEqual(values['manual'], 1)
            self.assertEqual(values['changed'], 3)
            self.assertEqual(Address.search_count([
                        ('id', 'in', ids),
                        ('zone', '=', data['canton'].id)]), 3)
            self.assertEqual(Address.search_count([
                        ('id', 'in', ids),
                        ('zone', '=', data['geneva'].id)]), 1)

            # from the menu: all addresses
            session_id, _, _ = Reassign.create()
            start = Reassign.execute(session_id, {}, 'start')
            self.assertEqual(start['view']['defaults']['scope'], 'all')
            with Transaction().set_context(active_test=False):
                self.assertEqual(
                    start['view']['defaults']['address_count'],
                    Address.search_count([]))
            result = Reassign.execute(session_id, {}, 'reassign')
            self.assertEqual(result['view']['defaults']['changed'], 0)

            # The queries do not grow with the addresses: a few per batch
            # (its SELECT and one write per zone that changes in it).
            def moved_queries(count, batch_size):
                new = Address.create(
                    [{'party': party.id, 'postal_code': '8010'}] * count)
                Rule.write([rule], {'pattern': '8010'})
                Address.assign_zones([])  # compile the matcher
                with count_queries() as counter:
                    result = Address.assign_zones(
                        [a.id for a in new], batch_size=batch_size)
                self.assertEqual(result['changed'], count)
                self.assertEqual(result['zones'][data['canton'].id], count)
                Rule.write([rule], {'pattern': '8304'})
                Address.assign_zones([a.id for a in new])
                return counter[0]
            per_batch = moved_queries(5, 1000)
            self.assertLessEqual(per_batch, 10)
            self.assertEqual(moved_queries(200, 1000), per_batch)
            self.assertEqual(moved_queries(200, 50), 4 * per_batch)

    @with_transaction()
    def test_field_access(self):
        "Only the delivery groups read and write the access code"
        pool = Pool()
        Address = pool.get('party.address')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        company = create_company()
        with set_company(company):
            data = self._setup()
            address = self._address(
                data['party'], postal_code='8001', access_code='4711#')
        group_sale = ModelData.get_id('sale', 'group_sale')
        group_delivery = ModelData.get_id('backoffice_zone', 'group_delivery')
        clerk, driver = User.create([{
                    'name': "Clerk", 'login': 'clerk',
                    'groups': [('add', [group_sale])],
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    }, {
                    'name': "Driver", 'login': 'driver',
                    'groups': [('add', [group_delivery])],
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    }])

        transaction = Transaction()
        with transaction.set_user(clerk.id), \
                transaction.set_context(_check_access=True):
            with self.assertRaises(AccessError):
                Address.read([address.id], ['access_code'])
            with self.assertRaises(AccessError):
                Address.write([Address(address.id)], {'access_code': '0000'})
            with self.assertRaises(AccessError):
                Address.search([('access_code', '=', '4711#')])
            view = Address.fields_view_get(view_type='form')
            self.assertNotIn('access_code', view['fields'])
            self.assertIn('zone', view['fields'])
            # the rest of the address stays readable, and copyable
            record, = Address.read([address.id], ['zone', 'postal_code'])
            self.assertEqual(record['zone'], data['city'].id)
            copy, = Address.copy([Address(address.id)])
        self.assertIsNone(copy.access_code)

        with transaction.set_user(driver.id), \
                transaction.set_context(_check_access=True):
            record, = Address.read([address.id], ['access_code'])
            self.assertEqual(record['access_code'], '4711#')

    @with_transaction()
    def test_zone_company_rule(self):
        "Users see the zones of their companies only"
        pool = Pool()
        Zone = pool.get('backoffice.zone')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        company = create_company()
        other = create_company("Other")
        with set_company(company):
            mine, = Zone.create([{'name': "Mine", 'code': 'A'}])
        with set_company(other):
            theirs, = Zone.create([{'name': "Theirs", 'code': 'A'}])
        user, = User.create([{
                    'name': "Planner", 'login': 'planner',
                    'groups': [('add', [ModelData.get_id(
                                    'backoffice_zone', 'group_zone_admin')])],
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    }])
        with Transaction().set_user(user.id), \
                Transaction().set_context(
                    User.get_preferences(context_only=True),
                    _check_access=True):
            self.assertEqual(Zone.search([]), [mine])

    # Bad input: a clear error naming record and field, nothing stored
    # changes.

    def _assert_refused(self, exception, message, func, *args):
        with self.assertRaises(exception) as cm, request():
            func(*args)
        self.assertEqual(cm.exception.message, message)

    @with_transaction()
    def test_selection_nul_refused(self):
        "A NUL character in a selection is refused before the database sees it"
        pool = Pool()
        Zone = pool.get('backoffice.zone')
        Window = pool.get('backoffice.zone.window')
        company = create_company()
        with set_company(company):
            zone, = Zone.create([{'name': "Bern", 'code': 'BE'}])
            self._assert_refused(ValueCheckError,
                'The value of field "Day" of "Delivery Window" contains a '
                'NUL character, which cannot be stored.',
                Window.create, [{'zone': zone.id, 'weekday': '\x00',
                        'start': dt.time(8), 'end': dt.time(9)}])
            self.assertEqual(Window.search_count([]), 0)

    @with_transaction()
    def test_bad_patterns(self):
        "Malformed and reversed postal code patterns are refused"
        pool = Pool()
        Rule = pool.get('backoffice.zone.rule')
        Zone = pool.get('backoffice.zone')
        company = create_company()
        with set_company(company):
            data = self._setup()
            rule, = Rule.search([('pattern', '=', '8000-8099')])
            count = Rule.search_count([])
            self._assert_refused(RulePatternError,
                'The postal code range "8099-8000" of a rule of zone '
                '"Zürich City" starts after it ends: write "8000-8099".',
                Rule.write, [rule], {'pattern': '8099-8000'})
            for pattern in ['80a*9', '8000-', '*']:
                with self.subTest(pattern=pattern):
                    self._assert_refused(RulePatternError,
                        f'The postal code pattern "{pattern}" of a rule of '
                        'zone "Zürich City" is malformed: write an exact '
                        'code ("8001"), a range ("8000-8099", both bounds '
                        'with the same number of digits) or a prefix '
                        '("80*").',
                        Rule.create, [{
                                'zone': data['city'].id, 'kind': 'postal',
                                'pattern': pattern}])
            self._assert_refused(RulePatternError,
                'The postal code range "9099-9000" of a rule of zone '
                '"Bern" starts after it ends: write "9000-9099".',
                Zone.create, [{'name': "Bern", 'code': 'BE',
                        'rules': [('create', [{'pattern': '9099-9000'}])]}])
            self.assertEqual(Rule(rule.id).pattern, '8000-8099')
            self.assertEqual(Rule.search_count([]), count)
            self.assertEqual(Zone.search([('code', '=', 'BE')]), [])

    @with_transaction()
    def test_bad_polygons(self):
        "Invalid GeoJSON, self-intersecting or out of range polygons"
        pool = Pool()
        Rule = pool.get('backoffice.zone.rule')
        company = create_company()
        with set_company(company):
            data = self._setup()
            rule, = Rule.search([('kind', '=', 'polygon')])
            for geojson, message in [
                    ('{"type": "Polygon", "coordinates": [[6.1, 46.2]',
                        'The polygon "Geneva centre" of zone "Geneva" '
                        'is not valid GeoJSON (Expecting \',\' '
                        'delimiter: line 1 column 48 (char 47)).'),
                    (polygon((6.1, 46.1), (6.2, 46.2), (6.2, 46.1),
                            (6.1, 46.2)),
                        'The polygon "Geneva centre" of zone "Geneva" '
                        'crosses itself near 6.15, 46.15.'),
                    (polygon((46.1, 6.1), (46.2, 6.1), (46.2, 96.2)),
                        'The polygon "Geneva centre" of zone "Geneva" '
                        'has the position "46.2 96.2" outside '
                        'longitude -180 to 180 and latitude -90 to 90 '
                        '(GeoJSON positions are [longitude, latitude]).'),
                    ('{"type": "LineString", "coordinates": [[0, 0], [1, 1]]}',
                        'The polygon "Geneva centre" of zone "Geneva" '
                        'must be a GeoJSON Polygon or '
                        'MultiPolygon, not "LineString".'),
                    ]:
                with self.subTest(geojson=geojson):
                    self._assert_refused(RuleGeometryError, message,
                        Rule.write, [rule], {'geojson': geojson})
                    self.assertEqual(Rule(rule.id).geojson, GENEVA)
            # an unnamed polygon: the zone names it
            Zone = pool.get('backoffice.zone')
            bow_tie, = Zone.create([{'name': "Bow-tie", 'code': 'BT'}])
            count = Rule.search_count([])
            self._assert_refused(RuleGeometryError,
                'The polygon of zone "Bow-tie" crosses itself near '
                '6.63, 46.52.',
                Rule.create, [{'zone': bow_tie.id, 'kind': 'polygon',
                        'geojson': polygon((6.62, 46.51), (6.64, 46.53),
                            (6.64, 46.51), (6.62, 46.53))}])
            self.assertEqual(Rule.search_count([]), count)
            with self.assertRaises(RuleGeometryError), request():
                Rule.create([{'zone': data['geneva'].id, 'kind': 'polygon',
                            'geojson': 'POLYGON((0 0, 1 0, 1 1, 0 0))'}])
            self.assertEqual(Rule.search_count([]), count)

    @with_transaction()
    def test_bad_windows(self):
        "Windows must start before they end, not overlap, on delivery days"
        pool = Pool()
        Zone = pool.get('backoffice.zone')
        Window = pool.get('backoffice.zone.window')
        company = create_company()
        with set_company(company):
            data = self._setup()
            zone = data['city']
            Zone.write([zone], {'windows': [('create', [
                                {'weekday': '0', 'start': dt.time(8),
                                    'end': dt.time(12)},
                                {'weekday': '0', 'start': dt.time(14),
                                    'end': dt.time(17)},
                                {'weekday': '1', 'start': dt.time(8),
                                    'end': dt.time(12)},
                                ])]})
            self.assertEqual(len(zone.windows), 3)
            self._assert_refused(WindowError,
                'The delivery windows "Monday 08:00-12:00" and '
                '"Monday 11:00-15:00" of zone "Zürich City" overlap.',
                Window.create, [{'zone': zone.id, 'weekday': '0',
                        'start': dt.time(11), 'end': dt.time(15)}])
            self._assert_refused(WindowError,
                'The delivery windows "Monday 08:00-12:00" and '
                '"Monday 09:00-10:00" of zone "Zürich City" overlap.',
                Zone.write, [zone], {'windows': [('create', [
                                {'weekday': '0', 'start': dt.time(9),
                                    'end': dt.time(10)}])]})
            self._assert_refused(WindowError,
                'The delivery window "Tuesday 12:00-08:00" of zone '
                '"Zürich City" must start before it ends.',
                Window.write, [zone.windows[2]],
                {'start': dt.time(12), 'end': dt.time(8)})
            self._assert_refused(WindowError,
                'The delivery window "Saturday 08:00-12:00" of zone '
                '"Zürich City" is on Saturday, which is not a delivery day '
                'of the zone.',
                Window.create, [{'zone': zone.id, 'weekday': '5',
                        'start': dt.time(8), 'end': dt.time(12)}])
            self._assert_refused(WindowError,
                'The delivery window "Tuesday 08:00-12:00" of zone '
                '"Zürich City" is on Tuesday, which is not a delivery day '
                'of the zone.',
                Zone.write, [zone], {'weekdays': ['0', '2']})
            # touching windows are fine
            Window.create([{'zone': zone.id, 'weekday': '0',
                        'start': dt.time(12), 'end': dt.time(14)}])
            zone = Zone(zone.id)
            self.assertEqual(
                [w.rec_name for w in zone.windows], [
                    "Monday 08:00-12:00", "Monday 12:00-14:00",
                    "Monday 14:00-17:00", "Tuesday 08:00-12:00"])
            self.assertEqual(zone.weekdays, ('0', '1', '2', '3', '4'))

    @with_transaction()
    def test_bad_zones(self):
        "Duplicate codes, bad colours and negative cut-offs are refused"
        pool = Pool()
        Zone = pool.get('backoffice.zone')
        company = create_company()
        with set_company(company):
            data = self._setup()
            count = Zone.search_count([])
            message = ('The code "ZH" of zone "%s" is already used by zone '
                '"Zürich City" of company "Dunder Mifflin".')
            self._assert_refused(ZoneCodeError, message % "Zürich North",
                Zone.create, [{'name': "Zürich North", 'code': 'ZH'}])
            self._assert_refused(ZoneCodeError, message % "Geneva",
                Zone.write, [data['geneva']], {'code': 'ZH'})
            self._assert_refused(ZoneCodeError,
                'The code "N" of zone "North 2" is already used by zone '
                '"North 1" of company "Dunder Mifflin".',
                Zone.create, [{'name': "North 1", 'code': 'N'},
                    {'name': "North 2", 'code': 'N'}])
            self._assert_refused(ZoneValidationError,
                'The colour "blue" of zone "Geneva" is not a hexadecimal '
                'colour like "#1f77b4".',
                Zone.write, [data['geneva']], {'colour': 'blue'})
            self._assert_refused(ZoneValidationError,
                'The order cut-off of zone "Geneva" must be 0 hours or '
                'more, not -2.',
                Zone.write, [data['geneva']], {'cutoff_hours': -2})
            self.assertEqual(Zone.search_count([]), count)
            geneva = Zone(data['geneva'].id)
            self.assertEqual(
                (geneva.code, geneva.colour, geneva.cutoff_hours),
                ('GE', '#1f77b4', 0))
            # the same code in another company is fine
            other = create_company("Other")
        with set_company(other):
            Zone.create([{'name': "Zürich", 'code': 'ZH'}])

    @with_transaction()
    def test_bad_value_types_and_bounds(self):
        "Values of the wrong type, not finite or absurd are refused first"
        pool = Pool()
        Zone = pool.get('backoffice.zone')
        Rule = pool.get('backoffice.zone.rule')
        Window = pool.get('backoffice.zone.window')
        company = create_company()
        with set_company(company):
            data = self._setup()
            geneva = data['geneva']
            count = Zone.search_count([])
            for values, message in [
                    ({'code': 12345},
                        'The value "12345" of field "Code" of "Delivery '
                        'Zone" is not of the field\'s type.'),
                    ({'cutoff_hours': 1500000},
                        'The value 1500000 of field "Order Cut-off" of '
                        '"Delivery Zone" must be 720 or less.'),
                    ({'cutoff_hours': 1.5e6},
                        'The value "1500000.0" of field "Order Cut-off" of '
                        '"Delivery Zone" is not of the field\'s type.'),
                    ({'priority': 10 ** 12},
                        'The value 1000000000000 of field "Priority" of '
                        '"Delivery Zone" must be 1000000 or less.'),
                    ({'sequence': float('nan')},
                        'The value "nan" of field "Sequence" of "Delivery '
                        'Zone" is not of the field\'s type.'),
                    ({'weekdays': 5},
                        'The value "5" of field "Delivery Days" of "Delivery '
                        'Zone" is not of the field\'s type.'),
                    ({'name': 'x' * 201},
                        'The value "%s..." of field "Name" of "Delivery '
                        'Zone" is longer than 200 characters.' % ('x' * 37)),
                    ({'notes': 'a\x00b'},
                        'The value of field "Notes" of "Delivery Zone" '
                        'contains a NUL character, which cannot be stored.'),
                    ({'company': 999999},
                        'Field "Company" of "Delivery Zone" links to the '
                        'Company with id 999999, which does not exist.'),
                    ({'company': 'abc'},
                        'The value "abc" of field "Company" of "Delivery '
                        'Zone" is not the id of a record.'),
                    ]:
                with self.subTest(values=values):
                    self._assert_refused(ValueCheckError, message,
                        Zone.create, [dict(
                                {'name': "Bern", 'code': 'BE'}, **values)])
                    self.assertEqual(Zone.search_count([]), count)
                    self._assert_refused(ValueCheckError, message,
                        Zone.write, [geneva], values)
                    geneva = Zone(geneva.id)
                    self.assertEqual(
                        (geneva.name, geneva.code, geneva.cutoff_hours,
                            geneva.priority, geneva.company, geneva.notes),
                        ("Geneva", 'GE', 0, 0, company, None))
            self._assert_refused(ValueCheckError,
                'Field "Country" of "Delivery Zone Rule" links to the '
                'Country with id 999999, which does not exist.',
                Rule.create, [{'zone': geneva.id, 'kind': 'city',
                        'city': "Carouge", 'country': 999999}])
            self._assert_refused(ValueCheckError,
                'Field "Zone" of "Delivery Window" links to the Delivery '
                'Zone with id 999999, which does not exist.',
                Window.create, [{'zone': 999999, 'weekday': '0',
                        'start': dt.time(8), 'end': dt.time(9)}])
            # the bounds themselves are accepted, and the lists still read
            Zone.write([geneva], {'cutoff_hours': 720, 'priority': 10 ** 6})
            self.assertEqual(
                Zone.search([('cutoff_hours', '=', 720)]), [geneva])
            self.assertEqual(Zone.search_count([]), count)

    @with_transaction()
    def test_long_postal_codes(self):
        "A postal pattern or an address code too long for the matcher"
        pool = Pool()
        Rule = pool.get('backoffice.zone.rule')
        Address = pool.get('party.address')
        company = create_company()
        with set_company(company):
            data = self._setup()
            count = Rule.search_count([])
            self._assert_refused(RulePatternError,
                'The postal code pattern '
                '"10000000000000000000-99999999999999999999" of a rule of '
                'zone "Zürich City" is too long: postal codes have at most '
                '16 characters.',
                Rule.create, [{'zone': data['city'].id, 'kind': 'postal',
                        'pattern': '10000000000000000000-99999999999999999999'
                        }])
            self._assert_refused(RulePatternError,
                'The postal code pattern "12345678901234567*" of a rule of '
                'zone "Zürich City" is too long: postal codes have at most '
                '16 characters.',
                Rule.create, [{'zone': data['city'].id, 'kind': 'postal',
                        'pattern': '12345678901234567*'}])
            self.assertEqual(Rule.search_count([]), count)
            addresses = Address.search_count([])
            self._assert_refused(ValueCheckError,
                'The value "1111111111111111111111111" of field "Postal '
                'Code" of "Party Address" is longer than 20 characters.',
                Address.create, [{'party': data['party'].id,
                        'postal_code': '1' * 25}])
            self.assertEqual(Address.search_count([]), addresses)
            # A 16-digit range works; an 18-digit code is not a number for
            # the ranges (int64) but still matches by prefix and saves.
            Rule.create([{'zone': data['city'].id, 'kind': 'postal',
                        'pattern': '1000000000000000-1000000000000099'},
                    {'zone': data['canton'].id, 'kind': 'postal',
                        'pattern': '99*'}])
            address = self._address(
                data['party'], postal_code='1000000000000042')
            self.assertEqual(address.zone, data['city'])
            address = self._address(
                data['party'], postal_code='990000000000000000')
            self.assertEqual(address.zone, data['canton'])
            address = self._address(data['party'], postal_code='8001')
            self.assertEqual(address.zone, data['city'])
            # the zones' list counts them (on PostgreSQL too)
            Zone = pool.get('backoffice.zone')
            self.assertEqual(
                {z['id']: z['address_count'] for z in Zone.read(
                        [data['city'].id, data['canton'].id],
                        ['address_count'])},
                {data['city'].id: 2, data['canton'].id: 1})

    @with_transaction()
    def test_malformed_geojson(self):
        "Malformed GeoJSON structures are refused with the rule's message"
        pool = Pool()
        Rule = pool.get('backoffice.zone.rule')
        company = create_company()
        with set_company(company):
            self._setup()
            rule, = Rule.search([('kind', '=', 'polygon')])
            prefix = ('The polygon "Geneva centre" of '
                'zone "Geneva" ')
            for geojson, message in [
                    ('{"type": "FeatureCollection", "features": 5}',
                        'must be a GeoJSON Polygon or MultiPolygon, not '
                        '"FeatureCollection".'),
                    ('[' * 100000 + ']' * 100000,
                        'is not valid GeoJSON (nested too deeply).'),
                    ('{"type": "Polygon", "coordinates": [[[1%s, 0], '
                        '[1, 1], [0, 1], [0, 0]]]}' % ('0' * 400),
                        'has malformed coordinates near [1%s: each '
                        'position is [longitude, latitude] and each ring '
                        'has at least 4 positions.' % ('0' * 58)),
                    ]:
                with self.subTest(geojson=geojson[:50]):
                    self._assert_refused(RuleGeometryError,
                        prefix + message,
                        Rule.write, [rule], {'geojson': geojson})
                    self.assertEqual(Rule(rule.id).geojson, GENEVA)

    @with_transaction()
    def test_bad_coordinates(self):
        "Coordinates out of range or incomplete are refused"
        pool = Pool()
        Address = pool.get('party.address')
        company = create_company()
        with set_company(company):
            data = self._setup()
            address = self._address(data['party'], postal_code='8001',
                latitude=47.37, longitude=8.54)
            for values, message in [
                    ({'latitude': 91.0}, 'The latitude 91.0 of address '
                        '"%s" must be between -90 and 90.'),
                    ({'longitude': -180.5}, 'The longitude -180.5 of '
                        'address "%s" must be between -180 and 180.'),
                    ({'latitude': None}, 'Address "%s" needs both a '
                        'latitude and a longitude, or neither.'),
                    ]:
                with self.subTest(values=values):
                    self._assert_refused(AddressCoordinatesError,
                        message % address.rec_name,
                        Address.write, [address], values)
                    address = Address(address.id)
                    self.assertEqual(
                        (address.latitude, address.longitude),
                        (47.37, 8.54))
            count = Address.search_count([])
            with self.assertRaises(AddressCoordinatesError), request():
                self._address(data['party'], latitude=46.2, longitude=200.0)
            self.assertEqual(Address.search_count([]), count)

    @with_transaction()
    def test_overlap_warning(self):
        "Tied rules of different zones raise a warning naming both zones"
        pool = Pool()
        Rule = pool.get('backoffice.zone.rule')
        Zone = pool.get('backoffice.zone')
        Warning = pool.get('res.user.warning')
        company = create_company()
        with set_company(company):
            data = self._setup()
            count = Rule.search_count([])
            for values, message in [
                    ({'kind': 'postal', 'pattern': '8304'},
                        'Rule "postal code 8304" of zone "Geneva" and rule '
                        '"postal code 8304" of zone "Zürich City" overlap '
                        'with the same specificity and the same zone '
                        'priority (0): only the zone sequence decides which '
                        'zone wins.'),
                    ({'kind': 'postal', 'pattern': '8050-8149'},
                        'Rule "postal code range 8050-8149" of zone "Geneva" '
                        'and rule "postal code range 8000-8099" of zone '
                        '"Zürich City" overlap with the same specificity and '
                        'the same zone priority (0): only the zone sequence '
                        'decides which zone wins.'),
                    ({'kind': 'city', 'city': "LAUSANNE"},
                        'Rule "city "LAUSANNE"" of zone "Geneva" and rule '
                        '"city "Lausanne"" of zone "Lausanne" overlap with '
                        'the same specificity and the same zone priority '
                        '(0): only the zone sequence decides which zone '
                        'wins.'),
                    ({'kind': 'subdivision', 'subdivision': data['vaud'].id},
                        'Rule "subdivision "Vaud"" of zone "Geneva" and rule '
                        '"subdivision "Vaud"" of zone "Vaud" overlap with '
                        'the same specificity and the same zone priority '
                        '(0): only the zone sequence decides which zone '
                        'wins.'),
                    ]:
                with self.subTest(values=values):
                    self._assert_refused(RuleOverlapWarning, message,
                        Rule.create, [dict(zone=data['geneva'].id, **values)])
            self._assert_refused(RuleOverlapWarning,
                'Rule "polygon" of zone "Lausanne" and rule "polygon '
                '"Geneva centre"" of zone "Geneva" overlap with the same '
                'specificity and the same zone priority (0): only the zone '
                'sequence decides which zone wins.',
                Rule.create, [{'zone': data['lausanne'].id,
                        'kind': 'polygon', 'geojson': square(6.1, 46.2, 0.1)}])
            self.assertEqual(Rule.search_count([]), count)

            # a different priority settles it: no warning
            Zone.write([data['geneva']], {'priority': 1})
            rule, = Rule.create([{'zone': data['geneva'].id,
                        'kind': 'postal', 'pattern': '8304'}])
            # raising the other zone's priority ties them again
            with self.assertRaises(RuleOverlapWarning) as cm, request():
                Zone.write([data['city']], {'priority': 1})
            self.assertEqual(Zone(data['city'].id).priority, 0)

            # the user accepts the warning
            Warning.skip(cm.exception.name)
            Zone.write([data['city']], {'priority': 1})
            self.assertEqual(data['city'].priority, 1)

            # adjacent polygons share a border only: no warning
            Rule.create([{'zone': data['lausanne'].id, 'kind': 'polygon',
                        'geojson': polygon(
                            (6.110, 46.170), (6.190, 46.165),
                            (6.190, 46.100), (6.110, 46.100))}])


del ModuleTestCase
