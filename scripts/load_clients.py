# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The client importers: clients (party.party with its client account),
their delivery addresses and their contacts, each from its own CSV file
and each keyed by the client's code"""
import re
from collections import defaultdict

from load_base import (
    LOOKUP_SIZE, Choice, Choices, Column, Loader, Number, Ref, Refs,
    RowError, Text, chunks, subdivision_code)
from stdnum import iban as stdnum_iban
from stdnum.ch import vat as ch_vat

KINDS = {
    'company': "Company", 'works_council': "Works Council",
    'employee': "Employee", 'individual': "Individual"}
# the client type of each kind (backoffice_client/party.py)
KIND_TYPES = {
    'company': 'b2b', 'works_council': 'b2b',
    'employee': 'b2c', 'individual': 'b2c'}
STATUSES = {
    'prospect': "Prospect", 'pending': "Pending Validation",
    'active': "Active", 'blocked': "Blocked"}
LEGAL_FORMS = {
    'sole': "Sole Proprietorship", 'partnership': "General Partnership",
    'limited_partnership': "Limited Partnership",
    'corporation': "AG/SA", 'llc': "GmbH/Sàrl", 'cooperative': "Cooperative",
    'association': "Association", 'foundation': "Foundation",
    'public': "Public Body", 'branch': "Branch", 'other': "Other"}
BILLING_SCHEMES = {'order': "Per Order", 'weekly': "Weekly",
    'monthly': "Monthly"}
PAYMENT_METHODS = {'invoice': "On Invoice", 'card': "Card",
    'deposit': "Deposit"}
DELIVERY_METHODS = {'own_route': "Own Route", 'logistics': "Logistics",
    'click_collect': "Click & Collect", 'pickup_point': "Pickup Point"}
ROLES = {'admin': "Admin", 'buyer': "Buyer", 'viewer': "Viewer",
    'receiver': "Receiver"}
EVENTS = {'order_confirmed': "Order Confirmed",
    'out_for_delivery': "Out for Delivery", 'delivered': "Delivered",
    'invoice': "Invoice"}
# what any email address looks like (the contact checks the same)
EMAIL = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s.]+$')
SWISS_POSTAL_CODE = re.compile(r'^[1-9][0-9]{3}$')


class Vat(Column):
    """The Swiss VAT number (CHE-123.456.789 MWST), compared without its
    format; stored as the party's ch_vat identifier"""

    def parse(self, row, loader):
        text = self.cell(row)
        if not text:
            return None
        if not ch_vat.is_valid(text):
            raise RowError(self.name,
                f"{text!r} is not a valid Swiss VAT number")
        return ch_vat.compact(text)

    def normal(self, value, loader):
        return ch_vat.compact(value) if value else None

    def format(self, value, loader):
        return ch_vat.format(value) if value else ''


class Iban(Column):
    "An IBAN checked with its check digits, compared without spaces"

    def parse(self, row, loader):
        text = self.cell(row)
        if not text:
            return None
        if not stdnum_iban.is_valid(text):
            raise RowError(self.name, f"{text!r} is not a valid IBAN")
        return stdnum_iban.compact(text)

    def normal(self, value, loader):
        return stdnum_iban.compact(value) if value else None

    def format(self, value, loader):
        return stdnum_iban.format(value) if value else ''


class ClientLoader(Loader):
    label = 'clients'
    model = 'party.party'
    key_columns = ['code']
    columns = [
        Text('code', required=True, size=100),
        Text('name', required=True, size=200),
        Choice('kind', KINDS, field='client_kind', required=True),
        Choice('status', STATUSES, field='client_status', required=True),
        Choice('legal_form', LEGAL_FORMS),
        Ref('industry', 'backoffice.client.industry', key='name',
            create=True),
        Refs('tags', 'party.category', field='categories', create=True,
            what='tag'),
        Vat('vat', field='vat_code'),
        Iban('iban'),
        Choice('billing_scheme', BILLING_SCHEMES),
        Choices('payment_methods', PAYMENT_METHODS),
        Choices('delivery_methods', DELIVERY_METHODS),
        Ref('price_group', 'backoffice.price.group', what='price group'),
        Number('credit_limit', field='credit_limit_amount', minimum=0),
        Text('handling_instructions'),
        Text('access_notes'),
        ]
    # the clients, not the other parties (the companies, suppliers)
    export_domain = [('client_type', '!=', None)]

    def __init__(self, session):
        fields = session.fields(self.model)
        # the price group comes with backoffice_pricing
        self.columns = [c for c in self.columns if c.field in fields]
        super().__init__(session)

    def complete(self, values, row):
        values['client_type'] = KIND_TYPES[values['client_kind']]
        if values.get('billing_scheme') is None:
            values['billing_scheme'] = 'order'
        return values

    def read_fields(self):
        return super().read_fields() + ['client_type', 'identifiers']

    def read(self, ids):
        records = super().read(ids)
        # the VAT identifiers of the batch in one read, to replace them
        identifiers = self.proxy('party.identifier').read(
            [i for r in records for i in r['identifiers']], ['type'],
            self.session.context)
        vat = {i['id'] for i in identifiers if i['type'] == 'ch_vat'}
        for record in records:
            record['vat_ids'] = [i for i in record['identifiers'] if i in vat]
        return records

    def create_values(self, values):
        values = super().create_values(values)
        vat = values.pop('vat_code', None)
        if vat:
            values['identifiers'] = [('create', [
                        {'type': 'ch_vat', 'code': ch_vat.format(vat)}])]
        # no empty address: the addresses come from their own file
        values['addresses'] = []
        if values.get('iban'):
            values['iban'] = stdnum_iban.format(values['iban'])
        return values

    def write_values(self, changes, current):
        changes = super().write_values(changes, current)
        if 'vat_code' in changes:
            vat = changes.pop('vat_code')
            commands = ([('delete', current['vat_ids'])]
                if current['vat_ids'] else [])
            if vat:
                commands.append(('create', [
                            {'type': 'ch_vat', 'code': ch_vat.format(vat)}]))
            changes['identifiers'] = commands
        if changes.get('iban'):
            changes['iban'] = stdnum_iban.format(changes['iban'])
        return changes

    def export(self, path):
        self.domain = self.export_domain
        return super().export(path)

    def export_order(self):
        return [('code', 'ASC'), ('id', 'ASC')]


class ClientRef(Ref):
    "The client of an address or contact, by its code"

    def __init__(self, name='client'):
        super().__init__(name, 'party.party', field='party', required=True)


class Canton(Ref):
    """The subdivision by its ISO code, CH-ZH or ZH (in the country of the
    row)"""

    def __init__(self, name='canton'):
        super().__init__(name, 'country.subdivision', field='subdivision')

    def texts(self, row):
        if not row.cells or not row.cells.get(self.name):
            return []
        return [self.full_code(row)]

    def full_code(self, row):
        return subdivision_code(row.cells[self.name], row.cells.get('country'))

    def parse(self, row, loader):
        if not self.cell(row):
            return None
        code = self.full_code(row)
        country = row.cells.get('country', '').upper()
        if country and not code.startswith(country + '-'):
            raise RowError(self.name,
                f"canton {code!r} is not in the country {country}")
        return self.resolve(code, loader)


class PostalCode(Text):
    "A postal code: four digits in Switzerland, else up to 20 characters"

    def parse(self, row, loader):
        text = super().parse(row, loader)
        country = row.cells.get('country', '').upper()
        if text and country == 'CH' and not SWISS_POSTAL_CODE.match(text):
            raise RowError(self.name,
                f"{text!r} is not a Swiss postal code (4 digits)")
        return text


class ManualZone(Ref):
    """The zone chosen by hand; empty: the zone rules assign it (the export
    writes only zones chosen by hand, so a round trip keeps them so)"""

    def __init__(self):
        super().__init__('zone', 'backoffice.zone')


class AddressLoader(Loader):
    """The addresses of the clients; an address is the client's number-th
    (in the order of the client's form), new ones get their number as
    sequence"""
    label = 'addresses'
    model = 'party.address'
    key_columns = ['client', 'number']
    columns = [
        ClientRef(),
        Number('number', field='sequence', required=True, integer=True,
            minimum=1, maximum=1000),
        Text('street', field='street_unstructured', size=500),
        PostalCode('postal_code', size=20),
        Text('city', size=200),
        Ref('country', 'country.country'),
        Canton(),
        Number('latitude', digits=7, minimum=-90, maximum=90,
            as_float=True),
        Number('longitude', digits=7, minimum=-180, maximum=180,
            as_float=True),
        Text('floor', size=200),
        Text('entrance', size=200),
        Text('access_code', size=100),
        Text('delivery_instructions'),
        ManualZone(),
        ]

    def complete(self, values, row):
        if (values['latitude'] is None) != (values['longitude'] is None):
            raise RowError('longitude' if values['longitude'] is None
                else 'latitude', "latitude and longitude go together")
        if 'zone' in row.cells:
            values['zone_manual'] = values['zone'] is not None
        return values

    def read_fields(self):
        return super().read_fields() + ['party', 'zone_manual']

    def existing(self, keys):
        "The addresses of the batch's clients, numbered in their order"
        result = {}
        for party, rank, record in self.numbered({k[0] for k in keys}):
            result[(party, rank)] = record
        return result

    def numbered(self, parties):
        "(party id, number, stored values) of the addresses of parties"
        proxy = self.proxy()
        for sub in chunks(sorted(parties), LOOKUP_SIZE):
            ids = proxy.search([('party', 'in', sub)], 0, None,
                self.export_order(), self.session.context)
            for record in self.number(self.read(ids)):
                yield record['party'], record['sequence'], record

    @staticmethod
    def number(records):
        """Number the records (in the order of export_order) per client
        and forget the zones the rules assigned, as the import reads them"""
        ranks = defaultdict(int)
        for record in records:
            ranks[record['party']] += 1
            record['sequence'] = ranks[record['party']]
            if not record['zone_manual']:
                record['zone'] = None
        return records

    def export_order(self):
        return [('party', 'ASC'), ('sequence', 'ASC NULLS FIRST'),
            ('id', 'ASC')]

    def export(self, path):
        self.domain = [('party.client_type', '!=', None)]
        return super().export(path)

    def prefetch(self, records):
        self.number(records)
        super().prefetch(records)


class Email(Text):
    def parse(self, row, loader):
        text = super().parse(row, loader)
        if text and not EMAIL.match(text):
            raise RowError(self.name, f"{text!r} is not an email address")
        return text


class ContactLoader(Loader):
    "The people of the clients, by client and name"
    label = 'contacts'
    model = 'backoffice.client.contact'
    key_columns = ['client', 'name']
    columns = [
        ClientRef(),
        Text('name', required=True, size=200),
        Email('email', size=200),
        Text('phone', size=50),
        Choices('roles', ROLES, required=True),
        Choices('notify_events', EVENTS),
        ]

    def existing(self, keys):
        proxy = self.proxy()
        result = {}
        for sub in chunks(sorted({k[0] for k in keys}), LOOKUP_SIZE):
            ids = proxy.search([('party', 'in', sub)], 0, None, None,
                self.session.context)
            for record in self.read(ids):
                result[(record['party'], record['name'])] = record
        return result

    def export_order(self):
        return [('party', 'ASC'), ('sequence', 'ASC NULLS FIRST'),
            ('id', 'ASC')]
