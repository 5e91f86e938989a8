# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from collections import Counter, defaultdict

from trytond.i18n import gettext
from trytond.model import Index, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import AddressCoordinatesError
from .company import CompanyContextMixin
from .matcher import Location
from .values import ValueCheckMixin

# Reassignment reads and updates addresses by batches of this size: a few
# queries per batch, never one per address.
BATCH_SIZE = 1000


class Address(CompanyContextMixin, ValueCheckMixin, metaclass=PoolMeta):
    __name__ = 'party.address'
    # Upstream's fields are checked by upstream, except the ones the zone
    # matcher reads: a 25-digit postal code once broke every address save.
    _value_checked = {
        'latitude', 'longitude', 'entrance', 'access_code',
        'delivery_instructions', 'zone', 'zone_manual', 'postal_code',
        'city'}

    latitude = fields.Float(
        "Latitude", digits=(3, 7),
        help="The latitude of the delivery point in degrees (WGS 84, "
        "-90 to 90); with the longitude it puts the address in a polygon "
        "zone.")
    longitude = fields.Float(
        "Longitude", digits=(3, 7),
        help="The longitude of the delivery point in degrees (WGS 84, "
        "-180 to 180).")
    floor = fields.Char(
        "Floor",
        help="The floor the goods are brought to, e.g. \"2\", "
        "\"basement\" or \"ground floor\".")
    entrance = fields.Char(
        "Entrance",
        help="Which door, gate or loading bay the driver uses.")
    access_code = fields.Char(
        "Access Code",
        help="The code of the door or gate. Only the Delivery and "
        "Delivery Zone Administration groups can read it.")
    delivery_instructions = fields.Text(
        "Delivery Instructions",
        help="What the driver must know to deliver, "
        "e.g. opening hours or whom to ask.")
    zone = fields.Many2One(
        'backoffice.zone', "Delivery Zone", ondelete='SET NULL',
        domain=[
            ('company', '=', Eval('context', {}).get('company', -1)),
            ],
        help="The delivery zone, assigned from the zone rules when the "
        "address is saved. Choosing a zone by hand checks \"Zone Set by "
        "Hand\"; clearing it returns to the automatic zone.")
    zone_manual = fields.Boolean(
        "Zone Set by Hand",
        help="Keep the zone chosen by hand: changes to the address or to "
        "the rules no longer reassign it. Uncheck to assign the zone from "
        "the rules again.")
    zone_explanation = fields.Function(fields.Text(
            "Zone Explanation",
            help="Which rule gives the zone of this address, "
            "and why it wins over the rules of other zones."),
        'on_change_with_zone_explanation')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._value_bounds.update({
                'postal_code': 20,
                'city': 200,
                'entrance': 200,
                'access_code': 100,
                })
        cls._sql_indexes.update({
                # the "Without Zone" tab and the zone's address list
                Index(cls.__table__(),
                    (cls.__table__().zone, Index.Range())),
                })

    @classmethod
    def default_zone_manual(cls):
        return False

    @classmethod
    def _zone_location_fields(cls):
        "The fields whose change may move the address to another zone"
        return {
            'postal_code', 'city', 'country', 'subdivision',
            'latitude', 'longitude'}

    def _zone_location(self):
        return Location(
            self.longitude, self.latitude, self.postal_code, self.city,
            self.country.id if self.country else None,
            self.subdivision.id if self.subdivision else None)

    @fields.depends('zone')
    def on_change_zone(self):
        # Picking a zone in the form is a choice by hand; clearing it
        # gives the address back to the rules (see preprocess_values).
        self.zone_manual = bool(self.zone)

    @fields.depends(
        'postal_code', 'city', 'country', 'subdivision', 'latitude',
        'longitude', 'zone', 'zone_manual')
    def on_change_with_zone_explanation(self, name=None):
        Zone = Pool().get('backoffice.zone')
        return Zone.explain(
            self._zone_location(), current=self.zone,
            manual=self.zone_manual)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        # Whoever writes a zone (form, import, script) without saying how
        # chose it by hand; writing no zone returns to the rules.
        # The automatic assignment writes zone_manual False with the zone.
        if 'zone' in values and 'zone_manual' not in values:
            values['zone_manual'] = bool(values['zone'])
        return values

    @classmethod
    def validate_fields(cls, addresses, field_names):
        super().validate_fields(addresses, field_names)
        cls.check_coordinates(addresses, field_names)

    @classmethod
    def check_coordinates(cls, addresses, field_names=None):
        if field_names and not (field_names & {'latitude', 'longitude'}):
            return
        for address in addresses:
            latitude, longitude = address.latitude, address.longitude
            if (latitude is None) != (longitude is None):
                raise AddressCoordinatesError(gettext(
                        'backoffice_zone.msg_address_coordinates_incomplete',
                        address=address.rec_name))
            if latitude is not None and not (-90 <= latitude <= 90):
                raise AddressCoordinatesError(gettext(
                        'backoffice_zone.msg_address_latitude_range',
                        address=address.rec_name, latitude=latitude))
            if longitude is not None and not (-180 <= longitude <= 180):
                raise AddressCoordinatesError(gettext(
                        'backoffice_zone.msg_address_longitude_range',
                        address=address.rec_name, longitude=longitude))

    @classmethod
    def on_modification(cls, mode, addresses, field_names=None):
        super().on_modification(mode, addresses, field_names=field_names)
        if mode == 'create' or (mode == 'write' and field_names & (
                    cls._zone_location_fields() | {'zone', 'zone_manual'})):
            cls.assign_zones([a.id for a in addresses])

    @classmethod
    def copy(cls, addresses, default=None):
        pool = Pool()
        FieldAccess = pool.get('ir.model.field.access')
        default = default.copy() if default is not None else {}
        # A copy gets its zone from the rules unless it was chosen by hand.
        default.setdefault(
            'zone', lambda data: data['zone'] if data['zone_manual'] else None)
        # Who may not write the access code may still copy a party.
        if not FieldAccess.check(
                cls.__name__, ['access_code'], 'write',
                raise_exception=False):
            default.setdefault('access_code', None)
        return super().copy(addresses, default=default)

    @classmethod
    def assign_zones(cls, ids=None, batch_size=BATCH_SIZE):
        """Assign the zone from the rules of the context company to the
        addresses of ids (all addresses when None), except those whose zone
        was set by hand

        Addresses are read in batches with python-sql and matched with
        ZoneMatcher.match_many; each batch is then one write with an UPDATE
        per zone that changes, so the queries do not grow per address.
        Returns {'zones': Counter(zone id or None: addresses), 'manual':
        skipped addresses, 'changed': updated addresses}."""
        Zone = Pool().get('backoffice.zone')
        result = {'zones': Counter(), 'manual': 0, 'changed': 0}
        matcher = Zone.get_matcher()
        if matcher is None:
            return result
        for rows in cls._zone_batches(ids, batch_size):
            automatic = [r for r in rows if not r[2]]
            result['manual'] += len(rows) - len(automatic)
            if automatic:
                result['changed'] += cls._assign_batch(
                    matcher, automatic, result)
        return result

    @classmethod
    def _zone_batches(cls, ids, batch_size):
        """The rows (id, zone, zone_manual and the location columns in
        Location's order) of the addresses of ids (all when None), by batch"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [
            table.id, table.zone, table.zone_manual, table.longitude,
            table.latitude, table.postal_code, table.city, table.country,
            table.subdivision]
        if ids is not None:
            for sub_ids in grouped_slice(ids, batch_size):
                cursor.execute(*table.select(*columns,
                        where=fields.SQL_OPERATORS['in'](
                            table.id, list(sub_ids))))
                yield cursor.fetchall()
            return
        # Keyset pagination: each batch starts after the last id
        last = -1
        while True:
            cursor.execute(*table.select(*columns,
                    where=table.id > last,
                    order_by=[table.id.asc], limit=batch_size))
            rows = cursor.fetchall()
            if not rows:
                break
            yield rows
            last = rows[-1][0]

    @classmethod
    def _assign_batch(cls, matcher, rows, result):
        """Write the zones the matcher gives the rows of one batch, in one
        write; count them in result and return how many changed"""
        ids, current, _, longitudes, latitudes, codes, cities, countries, \
            subdivisions = zip(*rows)
        zones = matcher.zones(matcher.match_many(
                longitudes, latitudes, codes, cities, countries,
                subdivisions)).tolist()
        changes = defaultdict(list)
        for id_, old, new in zip(ids, current, zones):
            new = new or None
            result['zones'][new] += 1
            if new != old:
                changes[new].append(id_)
        # One write for every zone, so the addresses are validated once per
        # batch. The rules assign the zone, not the user who changed them: a
        # zone manager may not edit addresses.
        args = []
        for zone, zone_ids in changes.items():
            args.extend((cls.browse(zone_ids), {
                        'zone': zone,
                        'zone_manual': False,
                        }))
        if args:
            with without_check_access():
                cls.write(*args)
        return sum(len(i) for i in changes.values())


class PartyErase(metaclass=PoolMeta):
    __name__ = 'party.erase'

    def to_erase(self, party_id):
        pool = Pool()
        Address = pool.get('party.address')
        to_erase = super().to_erase(party_id)
        # The delivery details say where and how a person lives.
        to_erase.append(
            (Address, [('party', '=', party_id)], True,
                ['latitude', 'longitude', 'entrance', 'access_code',
                    'delivery_instructions'],
                [None] * 5))
        return to_erase


class ZoneReassignStart(ModelView):
    __name__ = 'backoffice.zone.reassign.start'
    __string__ = "Reassign Zones"

    scope = fields.Selection([
            ('selected', "Selected Addresses"),
            ('all', "All Addresses"),
            ], "Scope", readonly=True,
        help="The addresses whose zone is computed again from the rules.")
    address_count = fields.Integer(
        "Addresses", readonly=True,
        help="How many addresses the scope holds; those whose zone was "
        "set by hand keep it.")


class ZoneReassignResult(ModelView):
    __name__ = 'backoffice.zone.reassign.result'
    __string__ = "Reassign Zones Result"

    lines = fields.One2Many(
        'backoffice.zone.reassign.result.line', None, "Zones", readonly=True,
        help="The number of addresses in each zone after the reassignment.")
    unassigned = fields.Integer(
        "Without Zone", readonly=True,
        help="Addresses no rule matches; find them with the \"Without "
        "Zone\" tab of the addresses.")
    manual = fields.Integer(
        "Set by Hand", readonly=True,
        help="Addresses skipped because their zone was set by hand.")
    changed = fields.Integer(
        "Changed", readonly=True,
        help="Addresses whose zone changed.")


class ZoneReassignResultLine(ModelView):
    __name__ = 'backoffice.zone.reassign.result.line'
    __string__ = "Reassign Zones Result per Zone"

    zone = fields.Many2One(
        'backoffice.zone', "Zone", readonly=True)
    count = fields.Integer(
        "Addresses", readonly=True,
        help="The addresses of the scope that the rules put in the zone.")


class ZoneReassign(Wizard):
    "Compute the zones of addresses again from the rules"
    __name__ = 'backoffice.zone.reassign'

    start = StateView(
        'backoffice.zone.reassign.start',
        'backoffice_zone.zone_reassign_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Reassign", 'reassign', 'tryton-ok', default=True),
            ])
    reassign = StateTransition()
    result = StateView(
        'backoffice.zone.reassign.result',
        'backoffice_zone.zone_reassign_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    @property
    def _address_ids(self):
        "The selected addresses, or None for all"
        if self.model and self.model.__name__ == 'party.address':
            return [r.id for r in self.records]
        return None

    def default_start(self, fields):
        pool = Pool()
        Address = pool.get('party.address')
        ids = self._address_ids
        if ids is not None:
            return {'scope': 'selected', 'address_count': len(ids)}
        with Transaction().set_context(active_test=False):
            count = Address.search_count([])
        return {'scope': 'all', 'address_count': count}

    def transition_reassign(self):
        pool = Pool()
        Address = pool.get('party.address')
        Line = pool.get('backoffice.zone.reassign.result.line')
        result = Address.assign_zones(self._address_ids)
        zones = result['zones']
        self.result.lines = [
            Line(zone=zone, count=count)
            for zone, count in sorted(
                ((z, c) for z, c in zones.items() if z),
                key=lambda i: (-i[1], i[0]))]
        self.result.unassigned = zones.get(None, 0)
        self.result.manual = result['manual']
        self.result.changed = result['changed']
        return 'result'

    def default_result(self, fields):
        return self.result._default_values
