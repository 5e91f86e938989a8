# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The client on the party: its profile (type, kind, status, trade), bank
account and delivery notes, and what the party's Replace and Erase wizards
must know of the client's records"""
from stdnum import iban as stdnum_iban

from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.backoffice_zone.company import CompanyContextMixin
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.modules.company.model import CompanyMultiValueMixin
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction

from .exceptions import ClientValidationError, IBANError

CLIENT_TYPES = [
    (None, ""),
    ('b2b', "Business (B2B)"),
    ('b2c', "Private (B2C)"),
    ]
CLIENT_KINDS = [
    (None, ""),
    ('company', "Company"),
    ('works_council', "Works Council (Comité d'entreprise)"),
    ('employee', "Employee of a Client Company"),
    ('individual', "Individual"),
    ]
# The client type each kind belongs to
KIND_TYPES = {
    'company': 'b2b',
    'works_council': 'b2b',
    'employee': 'b2c',
    'individual': 'b2c',
    }
CLIENT_STATUSES = [
    (None, ""),
    ('prospect', "Prospect"),
    ('pending', "Pending Validation"),
    ('active', "Active"),
    ('blocked', "Blocked"),
    ]
LEGAL_FORMS = [
    (None, ""),
    ('sole', "Sole Proprietorship"),
    ('partnership', "General Partnership"),
    ('limited_partnership', "Limited Partnership"),
    ('corporation', "Company Limited by Shares (AG/SA)"),
    ('llc', "Limited Liability Company (GmbH/Sàrl)"),
    ('cooperative', "Cooperative"),
    ('association', "Association"),
    ('foundation', "Foundation"),
    ('public', "Public Body"),
    ('branch', "Branch of a Foreign Company"),
    ('other', "Other"),
    ]

# The states of the fields of a client, hidden on the other parties
CLIENT_STATES = {
    'invisible': ~Eval('client_type'),
    }


class Party(
        CompanyContextMixin, ValueCheckMixin, CompanyMultiValueMixin,
        metaclass=PoolMeta):
    __name__ = 'party.party'
    # Its credit limit, price group, insights and history are the context
    # company's: the context company must be one of the user's (company.py)
    # The fields of the client account, and the upstream ones its form
    # shows (see values.py)
    _value_checked = {
        'name', 'code', 'client_type', 'client_kind', 'employer',
        'legal_form', 'industry', 'client_status', 'billing_scheme', 'iban',
        'payment_methods', 'default_zone', 'handling_instructions',
        'access_notes', 'delivery_methods', 'credit_limit_amount'}

    # Profile
    client_type = fields.Selection(
        CLIENT_TYPES, "Client Type",
        help="Business clients (B2B) buy for a company and are invoiced; "
        "private clients (B2C) buy for themselves.\n"
        "Leave empty for parties that are not clients.")
    # The kind decides the type (on_change_client_kind): every kind is
    # offered, validate_fields refuses a kind of the other type.
    client_kind = fields.Selection(
        CLIENT_KINDS, "Client Kind",
        states=CLIENT_STATES,
        help="What the client is: a company or its works council buys as "
        "a business; an employee of a client company or an individual "
        "buys privately.")
    employer = fields.Many2One(
        'party.party', "Employer", ondelete='SET NULL',
        domain=[
            ('client_type', '=', 'b2b'),
            ('id', '!=', Eval('id', -1)),
            ],
        states={
            'invisible': Eval('client_kind') != 'employee',
            },
        help="The client company the employee works for.")
    legal_form = fields.Selection(
        LEGAL_FORMS, "Legal Form", sort=False,
        states={
            'invisible': Eval('client_type') != 'b2b',
            },
        help="The legal entity form of the business, as in the commercial "
        "register.")
    industry = fields.Many2One(
        'backoffice.client.industry', "Industry", ondelete='RESTRICT',
        states=CLIENT_STATES,
        help="The trade of the client, to group and filter the clients, "
        "e.g. restaurants or bakeries.")
    client_status = fields.Selection(
        CLIENT_STATUSES, "Client Status", sort=False,
        states={
            'invisible': ~Eval('client_type'),
            'required': Bool(Eval('client_type')),
            },
        help="Prospect: known but not yet a client.\n"
        "Pending Validation: its account request waits for a person.\n"
        "Active: may order.\n"
        "Blocked: may not order (no new quotation).")

    # Billing
    iban = fields.Char(
        "IBAN", strip=True,
        states=CLIENT_STATES,
        help="The bank account of the client, for refunds and direct debit "
        "(checked with its IBAN check digits).")

    # Delivery
    delivery_addresses = fields.Function(fields.One2Many(
            'party.address', 'party', "Delivery Addresses",
            help="The client's addresses with what the driver needs: zone, "
            "coordinates, floor, entrance, access code and instructions."),
        'get_delivery_addresses', setter='set_delivery_addresses')
    handling_instructions = fields.Text(
        "Handling Instructions",
        states=CLIENT_STATES,
        help="How to handle the goods, e.g. cold chain or where to put "
        "them.")
    access_notes = fields.Text(
        "Access Notes",
        states=CLIENT_STATES,
        help="How to reach the client's premises, e.g. parking, ramps or "
        "opening hours of the gate.")

    @classmethod
    def view_attributes(cls):
        client = {'invisible': ~Eval('client_type')}
        return super().view_attributes() + [
            ('/form/notebook/page[@id="client_delivery"]', 'states', client),
            ('/form/notebook/page[@id="client_history"]', 'states', client),
            ('/form/notebook/page[@id="client_insights"]', 'states', client),
            ]

    @classmethod
    def default_client_type(cls):
        # The Clients menu sets it; other party menus create non-clients.
        return Transaction().context.get('backoffice_client_type')

    @classmethod
    def default_client_status(cls):
        if Transaction().context.get('backoffice_client_type'):
            return 'prospect'

    @fields.depends('client_kind', 'client_type', 'client_status')
    def on_change_client_kind(self):
        if self.client_kind:
            self.client_type = KIND_TYPES.get(self.client_kind)
            # the client does not cascade on_change_client_type
            if not self.client_status:
                self.client_status = 'prospect'

    @fields.depends('client_type', 'client_status', 'client_kind')
    def on_change_client_type(self):
        if self.client_type and not self.client_status:
            self.client_status = 'prospect'
        if (self.client_kind
                and KIND_TYPES.get(self.client_kind) != self.client_type):
            self.client_kind = None

    def get_delivery_addresses(self, name):
        return [a.id for a in self.addresses]

    @classmethod
    def set_delivery_addresses(cls, parties, name, value):
        # the same addresses as upstream's list on the General page
        cls.write(parties, {'addresses': value})

    @classmethod
    def search_rec_name(cls, name, clause):
        domain = super().search_rec_name(name, clause)
        _, operator, operand, *extra = clause
        # The office knows a client by its VAT number written in any format
        # and by the people who order for it; only for positive searches:
        # "no contact matches" is not "not the name".
        if domain and domain[0] == 'OR':
            domain.extend([
                    ('vat_code', operator, operand, *extra),
                    ('client_contacts.email', operator, operand, *extra),
                    ('client_contacts.name', operator, operand, *extra),
                    ])
        return domain

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            if values.get('client_type') and not values.get('client_status'):
                values['client_status'] = 'prospect'
        if values.get('iban') and stdnum_iban.is_valid(values['iban']):
            values['iban'] = stdnum_iban.format(values['iban'])
        return values

    @classmethod
    def validate_fields(cls, parties, field_names):
        super().validate_fields(parties, field_names)
        if field_names & {'client_type', 'client_kind'}:
            cls.check_client_kind(parties)
        if 'iban' in field_names:
            cls.check_iban(parties)

    @classmethod
    def check_client_kind(cls, parties):
        "Check that the kind of each client is one of its type"
        for party in parties:
            kind, type_ = party.client_kind, party.client_type
            if kind and KIND_TYPES[kind] != type_:
                raise ClientValidationError(gettext(
                        'backoffice_client.msg_client_kind_type',
                        party=party.rec_name,
                        kind=dict(CLIENT_KINDS)[kind],
                        type=dict(CLIENT_TYPES).get(type_) or ''))

    @classmethod
    def check_iban(cls, parties):
        for party in parties:
            if party.iban and not stdnum_iban.is_valid(party.iban):
                raise IBANError(gettext(
                        'backoffice_client.msg_iban_invalid',
                        party=party.rec_name, iban=party.iban))

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('client_status', lambda data: (
                'prospect' if data.get('client_type') else None))
        return super().copy(parties, default=default)


class Replace(metaclass=PoolMeta):
    __name__ = 'party.replace'

    @classmethod
    def fields_to_replace(cls):
        return super().fields_to_replace() + [
            ('party.party', 'employer'),
            ('backoffice.client.contact', 'party'),
            ('backoffice.client.window', 'party'),
            ('backoffice.client.request', 'party'),
            ]


class Erase(metaclass=PoolMeta):
    __name__ = 'party.erase'

    def to_erase(self, party_id):
        pool = Pool()
        Contact = pool.get('backoffice.client.contact')
        Request = pool.get('backoffice.client.request')
        to_erase = super().to_erase(party_id)
        # The people of a client and what they wrote are personal data;
        # the names are required, so they become empty.
        to_erase.extend([
                (Contact, [('party', '=', party_id)], True,
                    ['name', 'email', 'phone'],
                    ['', None, None]),
                (Request, [('party', '=', party_id)], True,
                    ['contact_name', 'contact_email', 'contact_phone',
                        'street', 'comment'],
                    ['', '', None, None, None]),
                ])
        return to_erase
