# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import re
from collections import defaultdict

import stdnum.exceptions
from sql import Cast, Column, Literal, Null
from sql.operators import Exists
from sql.conditionals import Case
from stdnum import get_cc_module
from stdnum import iban as stdnum_iban

from trytond import backend
from trytond.i18n import gettext
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.model.modelsql import convert_from
from trytond.modules.company.model import (
    CompanyMultiValueMixin, CompanyValueMixin)
from trytond.modules.backoffice_zone.company import CompanyContextMixin
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.modules.backoffice_zone.zone import WEEKDAYS, window_name
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, inactive_records, without_check_access)

from .exceptions import (
    ClientValidationError, CreditLimitError, DuplicateVATError, IBANError,
    VATError, WindowError, ZoneWindowWarning)

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
BILLING_SCHEMES = [
    ('order', "Per Order"),
    ('weekly', "Weekly Grouped Invoice"),
    ('monthly', "Monthly Grouped Invoice"),
    ]
PAYMENT_METHODS = [
    ('invoice', "On Invoice"),
    ('card', "Card"),
    ('deposit', "Deposit / Prepayment"),
    ]
DELIVERY_METHODS = [
    ('own_route', "Own Delivery Route"),
    ('logistics', "Logistics Provider"),
    ('click_collect', "Click & Collect"),
    ('pickup_point', "Pickup Point"),
    ]

# The fields of the client account that are the company's (see
# ClientAccount)
CLIENT_ACCOUNT_FIELDS = [
    'billing_scheme', 'payment_methods', 'delivery_methods', 'default_zone']

# What the Swiss VAT number adds to the UID of the same company
_CH_VAT_SUFFIX = re.compile(r'(MWST|TVA|IVA)$')


def query_batch_size():
    """How many ids or codes a query takes at once: grouped_slice needs it
    (without a size it slices one by one, a query per record)"""
    # half the limit: the queries have parameters of their own
    return backend.MAX_QUERY_PARAMS // 2


def vat_types():
    "The identifier types that hold a VAT or business number of a client"
    Party = Pool().get('party.party')
    # The Swiss UID is the VAT number without its suffix: a company has
    # both, and two clients sharing either are the same company.
    return set(Party.tax_identifier_types()) | {'ch_uid'}


def vat_key(type_, code):
    """The number of a VAT/UID identifier without its format, to compare
    identifiers of any type: the key of CHE-116.281.710 (ch_uid) and of
    CHE-116.281.710 MWST (ch_vat) is CHE116281710, the key of a national
    VAT number starts with its country code like an EU VAT number."""
    if not type_ or not code or '_' not in type_:
        return None
    country, name = type_.split('_', 1)
    compact = code
    module = get_cc_module(country, name)
    if module is not None and hasattr(module, 'compact'):
        try:
            compact = module.compact(code)
        except stdnum.exceptions.ValidationError:
            pass
    compact = re.sub(r'[\W_]', '', compact).upper()
    if country == 'ch':
        return _CH_VAT_SUFFIX.sub('', compact)
    if country != 'eu' and not compact.startswith(country.upper()):
        compact = country.upper() + compact
    return compact


def vat_candidates(key):
    "The code_compact values under which an identifier of key is stored"
    candidates = {key}
    if key.startswith('CHE'):
        candidates.update(key + suffix for suffix in ['MWST', 'TVA', 'IVA'])
    elif len(key) > 2 and key[:2].isalpha():
        # a national type stores the number without its country code
        candidates.add(key[2:])
    return candidates


def vat_valid(type_, code):
    "Whether python-stdnum accepts code for type_ (True when it cannot tell)"
    if not type_ or not code or '_' not in type_:
        return True
    module = get_cc_module(*type_.split('_', 1))
    if module is None or not hasattr(module, 'is_valid'):
        return True
    return module.is_valid(code)


class Industry(ValueCheckMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'backoffice.client.industry'

    name = fields.Char(
        "Name", required=True, translate=True,
        help="The trade of the client, e.g. restaurant, hotel or bakery.")
    code = fields.Char(
        "Code", strip=True,
        help="A short code, e.g. a NOGA or NACE code.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('code', operator, operand, *extra),
            ]


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

    _client_states = {
        'invisible': ~Eval('client_type'),
        }

    # Profile
    client_type = fields.Selection(
        CLIENT_TYPES, "Client Type",
        help="Business clients (B2B) buy for a company and are invoiced; "
        "private clients (B2C) buy for themselves.\n"
        "Leave empty for parties that are not clients.")
    client_kind = fields.Selection(
        CLIENT_KINDS, "Client Kind",
        domain=[If(Eval('client_type') == 'b2b',
                ('client_kind', 'in', [None, 'company', 'works_council']),
                If(Eval('client_type') == 'b2c',
                    ('client_kind', 'in', [None, 'employee', 'individual']),
                    ())),
            ],
        states=_client_states,
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
        help="The legal entity form of the business.")
    industry = fields.Many2One(
        'backoffice.client.industry', "Industry", ondelete='RESTRICT',
        states=_client_states,
        help="The trade of the client.")
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
    vat_code = fields.Function(fields.Char(
            "VAT/UID Number",
            help="The VAT or business number of the client, from its "
            "identifiers; search it with or without dots and spaces."),
        'get_vat_code', searcher='search_vat_code')

    # Billing
    # The billing and delivery terms are the company's (parties are shared
    # between companies): stored per company in party.party.client_account,
    # as upstream stores a party's accounts and payment terms.
    billing_scheme = fields.MultiValue(fields.Selection(
            BILLING_SCHEMES, "Billing Scheme",
            states=_client_states,
            help="Invoice each order, or group the orders of a week or a "
            "month into one invoice (in the current company)."))
    iban = fields.Char(
        "IBAN", strip=True,
        states=_client_states,
        help="The bank account of the client, for refunds and direct debit "
        "(checked with its IBAN check digits).")
    payment_methods = fields.MultiValue(fields.MultiSelection(
            PAYMENT_METHODS, "Payment Methods", sort=False,
            states=_client_states,
            help="How the client may pay its orders to the current "
            "company."))

    # Delivery
    default_zone = fields.MultiValue(fields.Many2One(
            'backoffice.zone', "Default Delivery Zone", ondelete='SET NULL',
            domain=[
                ('company', '=', Eval('context', {}).get('company', -1)),
                ],
            states=_client_states,
            help="The zone of the current company the client is delivered "
            "in. Left empty, it is taken from the zone of the main delivery "
            "address when the address is saved."))
    client_accounts = fields.One2Many(
        'party.party.client_account', 'party', "Client Accounts",
        help="The billing scheme, payment and delivery methods and default "
        "zone of the client in each company.")
    delivery_addresses = fields.Function(fields.One2Many(
            'party.address', 'party', "Delivery Addresses",
            help="The client's addresses with what the driver needs: zone, "
            "coordinates, floor, entrance, access code and instructions."),
        'get_delivery_addresses', setter='set_delivery_addresses')
    # Like upstream's product suppliers: a plain One2Many whose targets
    # belong to a company, the record rule shows the user's company's.
    preferred_windows = fields.One2Many(
        'backoffice.client.window', 'party', "Preferred Delivery Windows",
        states={
            'invisible': (~Eval('client_type')
                | ~Eval('context', {}).get('company')),
            },
        help="When the client wants to be delivered by the current company; "
        "each window must lie within a delivery window of its default "
        "zone.")
    handling_instructions = fields.Text(
        "Handling Instructions",
        states=_client_states,
        help="How to handle the goods, e.g. cold chain or where to put "
        "them.")
    access_notes = fields.Text(
        "Access Notes",
        states=_client_states,
        help="How to reach the client's premises, e.g. parking, ramps or "
        "opening hours of the gate.")
    delivery_methods = fields.MultiValue(fields.MultiSelection(
            DELIVERY_METHODS, "Delivery Methods", sort=False,
            states=_client_states,
            help="How the client may receive its orders from the current "
            "company."))

    del _client_states

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

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field in CLIENT_ACCOUNT_FIELDS:
            return pool.get('party.party.client_account')
        return super().multivalue_model(field)

    @classmethod
    def default_billing_scheme(cls, **pattern):
        return cls.multivalue_model(
            'billing_scheme').default_billing_scheme()

    @classmethod
    def default_payment_methods(cls, **pattern):
        return cls.multivalue_model(
            'payment_methods').default_payment_methods()

    @classmethod
    def default_delivery_methods(cls, **pattern):
        return cls.multivalue_model(
            'delivery_methods').default_delivery_methods()

    # Searching and sorting the values of the context company. A MultiValue
    # field is computed, so without these the client list could neither be
    # filtered nor sorted by zone as before.

    @classmethod
    def _client_account_query(cls):
        """Each party with its client account values in the context company:
        the stored ones, the defaults where it has none (as get_multivalue
        reads them)"""
        pool = Pool()
        Value = pool.get('party.party.client_account')
        party = cls.__table__()
        # the company's values, else those of no company (written without
        # company: upstream's values for every company)
        value = Value.__table__()
        value_all = Value.__table__()
        company = cls._context_company()
        columns = [party.id.as_('party')]
        for name in CLIENT_ACCOUNT_FIELDS:
            field = Value._fields[name]
            default = field.sql_format(
                getattr(cls, 'default_' + name, lambda: None)())
            columns.append(Case(
                    (value.id != Null, Column(value, name)),
                    (value_all.id != Null, Column(value_all, name)),
                    else_=Cast(Literal(default), field.sql_type().base)
                    ).as_(name))
        return (party
            .join(value, 'LEFT', condition=(value.party == party.id)
                & (value.company == company))
            .join(value_all, 'LEFT', condition=(value_all.party == party.id)
                & (value_all.company == Null))
            .select(*columns))

    @classmethod
    def _context_company(cls):
        company = Transaction().context.get('company')
        if not isinstance(company, int) or isinstance(company, bool):
            company = -1
        return company

    @classmethod
    def _client_account_value(cls, tables, name):
        """The subquery of the value name of the party in the context company,
        as _client_account_query gives it"""
        table, _ = tables[None]
        query = cls._client_account_query()
        return query.select(
            Column(query, name), where=query.party == table.id)

    @classmethod
    def _domain_client_account(cls, domain, tables):
        pool = Pool()
        Value = pool.get('party.party.client_account')
        table, _ = tables[None]
        name = domain[0].split('.', 1)[0]
        query = cls._client_account_query()
        value_tables = {None: (query, None)}
        expression = Value._fields[name].convert_domain(
            domain, value_tables, Value)
        from_ = convert_from(None, value_tables)
        return table.id.in_(from_.select(query.party, where=expression))

    domain_billing_scheme = _domain_client_account
    domain_payment_methods = _domain_client_account
    domain_delivery_methods = _domain_client_account
    domain_default_zone = _domain_client_account

    @classmethod
    def order_billing_scheme(cls, tables):
        return [cls._client_account_value(tables, 'billing_scheme')]

    @classmethod
    def order_default_zone(cls, tables):
        "Sort by the name of the zone in the context company"
        pool = Pool()
        Zone = pool.get('backoffice.zone')
        zone = Zone.__table__()
        return [zone.select(zone.name, where=zone.id
                == cls._client_account_value(tables, 'default_zone'))]

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

    @classmethod
    def _vat_identifier(cls, party):
        types = vat_types()
        # tax types first: the VAT number of a Swiss company, not its UID
        tax_types = set(cls.tax_identifier_types())
        identifiers = [
            i for i in party.identifiers if i.active and i.type in types]
        identifiers.sort(key=lambda i: i.type not in tax_types)
        return identifiers[0] if identifiers else None

    def get_delivery_addresses(self, name):
        return [a.id for a in self.addresses]

    @classmethod
    def set_delivery_addresses(cls, parties, name, value):
        # the same addresses as upstream's list on the General page
        cls.write(parties, {'addresses': value})

    def get_vat_code(self, name):
        identifier = self._vat_identifier(self)
        return identifier.code if identifier else None

    @classmethod
    def search_vat_code(cls, name, clause):
        _, operator, value = clause[:3]
        compact = value
        if isinstance(value, str):
            # "CHE-116.281.710" finds CHE116281710MWST
            compact = re.sub(r'[^\w%_]', '', value).upper()
        return [('identifiers', 'where', [
                    ('type', 'in', list(vat_types())),
                    ['OR',
                        ('code', operator, value),
                        ('code_compact', operator, compact),
                        ],
                    ]),
            ]

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

    # Validation ---------------------------------------------------------

    @classmethod
    def create(cls, vlist):
        # Before the INSERT: a refused value leaves nothing half-written.
        cls.check_values(vlist)
        cls._check_client_values([(None, v) for v in vlist])
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, parties, values=None, external=False):
        super().check_modification(
            mode, parties, values=values, external=external)
        if mode == 'write':
            cls._check_client_values([(p, values) for p in parties])
            if values.keys() & {'client_type', 'client_status', 'active'}:
                cls._check_vat_states(parties, values)
            if ('default_zone' in values
                    and 'preferred_windows' not in values):
                # With new windows in the same write, validate_fields
                # checks them once they are stored. The zone is the
                # context company's: so are the windows it must hold.
                Window = Pool().get('backoffice.client.window')
                Window.check_fit([
                        (p, w.weekday, w.start, w.end, w.rec_name,
                            values['default_zone'])
                        for p in parties
                        for w in p.company_windows()])

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
    def _check_client_values(cls, items):
        """Check the values about to be stored: items are (party or None,
        values) couples, values overriding what party stores"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = None
        for party, values in items:
            def get(name, default=None):
                if name in values:
                    return values[name]
                return getattr(party, name, default) if party else default

            def party_name():
                return get('name') or (party.rec_name if party else '')

            amount = values.get('credit_limit_amount')
            if amount is not None and amount < 0:
                lang = lang or Lang.get()
                raise CreditLimitError(gettext(
                        'backoffice_client.msg_credit_limit_negative',
                        party=party_name(),
                        amount=lang.format_number(amount),
                        field=cls.fields_get(['credit_limit_amount'])[
                            'credit_limit_amount']['string']))
            iban = values.get('iban')
            if iban and not stdnum_iban.is_valid(iban):
                raise IBANError(gettext(
                        'backoffice_client.msg_iban_invalid',
                        party=party_name(), iban=iban))
            if values.keys() & {'client_type', 'client_kind'}:
                kind, type_ = get('client_kind'), get('client_type')
                # a value outside the selection is refused by the ORM's own
                # check of the selection, after this one
                if kind in KIND_TYPES and KIND_TYPES[kind] != type_:
                    raise ClientValidationError(gettext(
                            'backoffice_client.msg_client_kind_type',
                            party=party_name(),
                            kind=dict(CLIENT_KINDS)[kind],
                            type=dict(CLIENT_TYPES).get(type_) or ''))

    @classmethod
    def _check_vat_states(cls, parties, values):
        "Check the VAT numbers of parties about to become (active) clients"
        types = vat_types()
        entries, states = [], {}
        for party in parties:
            states[party.id] = (
                values.get('client_type', party.client_type),
                values.get('client_status', party.client_status),
                values.get('active', party.active))
            for identifier in party.identifiers:
                if identifier.active and identifier.type in types:
                    entries.append((
                            party.id, vat_key(identifier.type,
                                identifier.code), identifier.code))
        cls.check_vat_conflicts(entries, states)

    @classmethod
    def check_vat_conflicts(cls, entries, states=None, exclude=()):
        """Raise when a VAT number would be shared by two clients of which
        one is active

        entries: (party id, vat key, code) about to be stored; states:
        {party id: (client type, client status, active)} overriding what is
        stored; exclude: identifier ids whose stored codes are replaced.
        One query for all the entries."""
        pool = Pool()
        Identifier = pool.get('party.identifier')
        entries = [e for e in entries if e[0] and e[1]]
        if not entries:
            return
        states = dict(states or {})
        missing = {e[0] for e in entries} - states.keys()
        with without_check_access(), inactive_records():
            for party in cls.browse(list(missing)):
                states[party.id] = (
                    party.client_type, party.client_status, party.active)

        def is_client(state):
            return bool(state[0]) and bool(state[2])

        def is_active_client(state):
            return is_client(state) and state[1] == 'active'

        entries = [e for e in entries if is_client(states[e[0]])]
        if not entries:
            return

        identifier = Identifier.__table__()
        party = cls.__table__()
        cursor = Transaction().connection.cursor()
        candidates = set().union(*(vat_candidates(e[1]) for e in entries))
        holders = defaultdict(set)
        for sub_codes in grouped_slice(sorted(candidates), query_batch_size()):
            where = (identifier.code_compact.in_(list(sub_codes))
                & identifier.type.in_(sorted(vat_types()))
                & (identifier.active == Literal(True))
                & (party.active == Literal(True))
                & (party.client_type != Null))
            if exclude:
                where &= ~identifier.id.in_(list(exclude))
            cursor.execute(*identifier.join(
                    party, condition=identifier.party == party.id).select(
                    party.id, identifier.type, identifier.code_compact,
                    party.client_type, party.client_status, party.active,
                    where=where))
            for party_id, type_, code, client_type, status, active in cursor:
                holders[vat_key(type_, code)].add(party_id)
                states.setdefault(party_id, (client_type, status, active))
        for party_id, key, _ in entries:
            holders[key].add(party_id)

        for party_id, key, code in entries:
            rivals = sorted(
                (p for p in holders[key]
                    if p != party_id and is_client(states[p])),
                # name an active client first: it is why the VAT is taken
                key=lambda p: (not is_active_client(states[p]), p))
            for rival in rivals:
                if (is_active_client(states[party_id])
                        or is_active_client(states[rival])):
                    with without_check_access(), inactive_records():
                        party_name = cls(party_id).rec_name
                        rival_name = cls(rival).rec_name
                    raise DuplicateVATError(gettext(
                            'backoffice_client.msg_vat_duplicate',
                            party=party_name, code=code, other=rival_name))

    @classmethod
    def validate_fields(cls, parties, field_names):
        super().validate_fields(parties, field_names)
        if field_names & {'client_type', 'client_kind'}:
            cls._check_client_values([
                    (p, {'client_type': p.client_type}) for p in parties])
        if field_names & {'default_zone'}:
            # The windows must still fit the windows of the new zone.
            Window = Pool().get('backoffice.client.window')
            Window.check_fit([
                    (p, w.weekday, w.start, w.end, w.rec_name,
                        p.default_zone)
                    for p in parties for w in p.company_windows()])

    def company_windows(self, company=None):
        """The preferred windows of the client in company (default: the
        context company), whoever reads them: the server's own reads are
        not filtered by the record rule"""
        if company is None:
            company = Transaction().context.get('company')
        company = int(company) if company is not None else None
        return [w for w in self.preferred_windows
            if w.company and w.company.id == company]

    @classmethod
    def copy(cls, parties, default=None):
        pool = Pool()
        FieldAccess = pool.get('ir.model.field.access')
        default = default.copy() if default is not None else {}
        types = vat_types()
        # The copy of a client is a new prospect: it cannot carry the VAT
        # number of the client it was copied from.
        vat_ids = {
            i.id for p in parties if p.client_type
            for i in p.identifiers if i.type in types}
        default.setdefault('identifiers', lambda data: [
                i for i in (data.get('identifiers') or [])
                if i not in vat_ids])
        default.setdefault('client_status', lambda data: (
                'prospect' if data.get('client_type') else None))
        # Who may not set a credit limit may still copy a client.
        if not FieldAccess.check(
                cls.__name__, ['credit_limit_amount'], 'write',
                raise_exception=False):
            default.setdefault('credit_limit_amounts', None)
            default.setdefault('credit_limit_amount', None)
        return super().copy(parties, default=default)

    @classmethod
    def propose_default_zones(cls, parties):
        """Set the default zone of the clients without one from the zone of
        their main delivery address (one search for all)"""
        pool = Pool()
        Address = pool.get('party.address')
        company = Transaction().context.get('company')
        # The default zone is the context company's: only a zone of that
        # company may become it.
        if company is None:
            return
        parties = [p for p in parties if p.client_type and not p.default_zone]
        if not parties:
            return
        addresses = Address.search([
                ('party', 'in', [p.id for p in parties]),
                ('zone', '!=', None),
                ('zone.company', '=', company),
                ],
            # a delivery address first, then the order of the form
            order=[
                ('party', 'ASC'), ('delivery', 'DESC'),
                ('sequence', 'ASC NULLS FIRST'), ('id', 'ASC')])
        zones = {}
        for address in addresses:
            zones.setdefault(address.party.id, address.zone.id)
        by_zone = defaultdict(list)
        for party in parties:
            if party.id in zones:
                by_zone[zones[party.id]].append(party)
        to_write = []
        for zone, zone_parties in by_zone.items():
            to_write.extend([zone_parties, {'default_zone': zone}])
        if to_write:
            cls.write(*to_write)


class Address(metaclass=PoolMeta):
    __name__ = 'party.address'

    @classmethod
    def on_modification(cls, mode, addresses, field_names=None):
        pool = Pool()
        Party = pool.get('party.party')
        # After super: the zone module has assigned the zones.
        super().on_modification(mode, addresses, field_names=field_names)
        if mode == 'delete':
            return
        if mode == 'create' or field_names & {
                'zone', 'delivery', 'party', 'active'}:
            with without_check_access():
                Party.propose_default_zones(
                    Party.browse(list({a.party.id for a in addresses})))


class Identifier(metaclass=PoolMeta):
    __name__ = 'party.identifier'

    @classmethod
    def create(cls, vlist):
        # Check before the INSERT, with a message naming the client.
        cls._check_vat([
                (v.get('party'), v.get('type'), v.get('code'),
                    v.get('active', True), None)
                for v in vlist])
        return super().create(vlist)

    @classmethod
    def check_modification(
            cls, mode, identifiers, values=None, external=False):
        super().check_modification(
            mode, identifiers, values=values, external=external)
        if mode == 'write' and values.keys() & {
                'party', 'type', 'code', 'active'}:
            cls._check_vat([
                    (values.get('party', i.party.id),
                        values.get('type', i.type),
                        values.get('code', i.code),
                        values.get('active', i.active), i.id)
                    for i in identifiers])

    @classmethod
    def _check_vat(cls, items):
        "items: (party id, type, code, active, identifier id or None)"
        pool = Pool()
        Party = pool.get('party.party')
        types = vat_types()
        items = [i for i in items if i[1] in types and i[2]]
        if not items:
            return
        type_strings = dict(cls.get_types())
        for party_id, type_, code, _, _ in items:
            if not vat_valid(type_, code):
                party_name = ''
                if party_id is not None:
                    with without_check_access(), inactive_records():
                        party_name = Party(party_id).rec_name
                raise VATError(gettext(
                        'backoffice_client.msg_vat_invalid',
                        party=party_name, code=code,
                        type=type_strings.get(type_, type_)))
        Party.check_vat_conflicts(
            [(p, vat_key(t, c), c) for p, t, c, a, _ in items if a],
            exclude=[i[4] for i in items if i[4] is not None])


class PartyCreditLimitAmount(
        CompanyContextMixin, ValueCheckMixin, metaclass=PoolMeta):
    __name__ = 'party.party.credit_limit_amount'
    _value_checked = {'party', 'company', 'credit_limit_amount'}

    # The party checks the values written through it; these checks cover
    # the values written directly (import, scripts).

    @classmethod
    def create(cls, vlist):
        cls.check_values(vlist)
        cls._check_amounts([
                (v.get('party'), v.get('credit_limit_amount'))
                for v in vlist])
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if mode == 'write' and 'credit_limit_amount' in values:
            cls._check_amounts([
                    (r.party.id if r.party else None,
                        values['credit_limit_amount'])
                    for r in records])

    @classmethod
    def _check_amounts(cls, items):
        pool = Pool()
        Party = pool.get('party.party')
        Lang = pool.get('ir.lang')
        for party_id, amount in items:
            if amount is not None and amount < 0:
                party_name = ''
                if party_id is not None:
                    with without_check_access(), inactive_records():
                        party_name = Party(party_id).rec_name
                raise CreditLimitError(gettext(
                        'backoffice_client.msg_credit_limit_negative',
                        party=party_name,
                        amount=Lang.get().format_number(amount),
                        field=Party.fields_get(['credit_limit_amount'])[
                            'credit_limit_amount']['string']))


class ClientAccount(
        CompanyContextMixin, ValueCheckMixin, ModelSQL, CompanyValueMixin):
    "The client account values of a party that belong to one company"
    __name__ = 'party.party.client_account'
    __string__ = "Client Account"

    party = fields.Many2One(
        'party.party', "Party", ondelete='CASCADE', required=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="The client.")
    billing_scheme = fields.Selection(
        BILLING_SCHEMES, "Billing Scheme",
        help="Invoice each order, or group the orders of a week or a month "
        "into one invoice.")
    payment_methods = fields.MultiSelection(
        PAYMENT_METHODS, "Payment Methods", sort=False,
        help="How the client may pay its orders to the company.")
    delivery_methods = fields.MultiSelection(
        DELIVERY_METHODS, "Delivery Methods", sort=False,
        help="How the client may receive its orders from the company.")
    default_zone = fields.Many2One(
        'backoffice.zone', "Default Delivery Zone", ondelete='SET NULL',
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        help="The zone of the company the client is delivered in.")

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        Party = pool.get('party.party')
        Company = pool.get('company.company')
        Zone = pool.get('backoffice.zone')
        cursor = Transaction().connection.cursor()

        super().__register__(module)

        # Migration from the party's own columns (one value for every
        # company): each company gets the client's billing scheme and
        # methods, the default zone only its company (a zone is one
        # company's).
        party_h = Party.__table_handler__(module)
        columns = [
            n for n in CLIENT_ACCOUNT_FIELDS if party_h.column_exist(n)]
        if not columns:
            return
        table = cls.__table__()
        party = Party.__table__()
        company = Company.__table__()
        zone = Zone.__table__()
        values = [party.id, company.id]
        for name in columns:
            if name == 'default_zone':
                values.append(Case(
                        (zone.company == company.id, party.default_zone),
                        else_=Null))
            else:
                values.append(Column(party, name))
        if 'default_zone' in columns:
            zone_condition = zone.id == party.default_zone
        else:
            zone_condition = Literal(False)
        has_value = Literal(False)
        for name in columns:
            has_value |= Column(party, name) != Null
        cursor.execute(*table.insert(
                [table.party, table.company]
                + [Column(table, n) for n in columns],
                party.join(company, 'CROSS').join(zone, 'LEFT',
                    condition=zone_condition).select(
                    *values,
                    # not again for a company that has its values
                    where=has_value & ~Exists(table.select(Literal(1),
                            where=(table.party == party.id)
                            & (table.company == company.id))))))
        for name in columns:
            party_h.drop_column(name)

    @classmethod
    def default_billing_scheme(cls):
        return 'order'

    @classmethod
    def default_payment_methods(cls):
        return []

    @classmethod
    def default_delivery_methods(cls):
        return []

    # A zone written through the party is checked by the party (its windows
    # may change in the same write; the party saves its values without
    # access check); written directly by a client (import, scripts), here,
    # before the row is stored.

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Party = pool.get('party.party')
        transaction = Transaction()
        cls.check_values(vlist)
        if transaction.user and transaction.check_access:
            vlist_zone = [v for v in vlist
                if v.get('default_zone') and v.get('party')
                and v.get('company')]
            with without_check_access():
                cls._check_windows([
                        (Party(v['party']), v['company'], v['default_zone'])
                        for v in vlist_zone])
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if (mode == 'write' and external
                and values.keys() & {'default_zone', 'party', 'company'}):
            entries = []
            for record in records:
                party = record.party
                if 'party' in values:
                    party = party.__class__(values['party'])
                entries.append((party,
                        values.get('company', record.company),
                        values.get('default_zone', record.default_zone)))
            cls._check_windows(entries)

    @classmethod
    def _check_windows(cls, entries):
        "entries: (party, company, zone) about to be stored"
        Window = Pool().get('backoffice.client.window')
        Window.check_fit([
                (party, w.weekday, w.start, w.end, w.rec_name, zone)
                for party, company, zone in entries
                if zone is not None
                for w in party.company_windows(int(company))])


class ClientWindow(ValueCheckMixin, ModelSQL, ModelView):
    __name__ = 'backoffice.client.window'

    party = fields.Many2One(
        'party.party', "Client", required=True, ondelete='CASCADE',
        # the client as the window's company sees it (its default zone)
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="The client that wants to be delivered in this window.")
    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='CASCADE',
        help="The company that delivers the client in this window: the "
        "window must fit the client's default zone in this company.")
    weekday = fields.Selection(
        WEEKDAYS, "Day", required=True, sort=False,
        help="The day of the week.")
    start = fields.Time(
        "Start", required=True, format='%H:%M',
        help="From when the client can receive the delivery.")
    end = fields.Time(
        "End", required=True, format='%H:%M',
        help="Until when the client can receive the delivery.")
    weekday_string = weekday.translated('weekday')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('party')
        cls._order = [
            ('party', 'ASC'),
            ('weekday', 'ASC'),
            ('start', 'ASC'),
            ('id', 'ASC'),
            ]

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        Company = pool.get('company.company')
        Value = pool.get('party.party.client_account')
        cursor = Transaction().connection.cursor()
        migrate = False
        if backend.TableHandler.table_exist(cls._table):
            table_h = cls.__table_handler__(module)
            migrate = not table_h.column_exist('company')
            if migrate:
                # Filled before the ORM makes it required
                table_h.add_column('company', 'INTEGER')

        # Migration to windows per company: a window belongs to the
        # company of the client's default zone (the one it was checked
        # against); the windows of a client without zone to each company.
        if migrate:
            table = cls.__table__()
            value = Value.__table__()
            company = Company.__table__()
            cursor.execute(*company.select(
                    company.id, order_by=[company.id.asc]))
            companies = [c for c, in cursor]
            for company_id in companies:
                cursor.execute(*table.update([table.company],
                        [Literal(company_id)],
                        where=(table.company == Null)
                        & table.party.in_(value.select(value.party,
                                where=(value.company == company_id)
                                & (value.default_zone != Null)))))
            if companies:
                columns = [table.party, table.weekday, table.start, table.end,
                    table.create_uid, table.create_date]
                for other in companies[1:]:
                    cursor.execute(*table.insert(
                            columns + [table.company],
                            table.select(*columns, Literal(other),
                                where=table.company == Null)))
                cursor.execute(*table.update([table.company],
                        [Literal(companies[0])],
                        where=table.company == Null))

        super().__register__(module)

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_rec_name(self, name):
        return window_name(
            self.weekday_string, self.start, self.end)

    @classmethod
    def _zone(cls, party, company):
        "The default zone of party in company, against which windows fit"
        if company is None:
            return None
        return party.get_multivalue('default_zone', company=int(company))

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Party = pool.get('party.party')
        cls.check_values(vlist)
        # Before the INSERT, so a refused window leaves nothing behind
        weekdays = dict(WEEKDAYS)
        default_company = cls.default_company()
        with without_check_access():
            parties = {p.id: p for p in Party.browse(
                    list({v['party'] for v in vlist if v.get('party')}))}
            cls.check_fit([
                    (parties[v['party']], v.get('weekday'), v.get('start'),
                        v.get('end'),
                        window_name(
                            weekdays.get(v.get('weekday')), v.get('start'),
                            v.get('end')),
                        cls._zone(parties[v['party']],
                            v.get('company', default_company)))
                    for v in vlist if v.get('party')])
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, windows, values=None, external=False):
        pool = Pool()
        Party = pool.get('party.party')
        super().check_modification(
            mode, windows, values=values, external=external)
        if mode == 'write' and values.keys() & {
                'party', 'company', 'weekday', 'start', 'end'}:
            weekdays = dict(WEEKDAYS)
            entries = []
            for window in windows:
                party = (Party(values['party']) if 'party' in values
                    else window.party)
                company = values.get('company', window.company)
                weekday = values.get('weekday', window.weekday)
                start = values.get('start', window.start)
                end = values.get('end', window.end)
                entries.append((
                        party, weekday, start, end,
                        window_name(weekdays.get(weekday), start, end),
                        cls._zone(party, company)))
            cls.check_fit(entries)

    @classmethod
    def validate_fields(cls, windows, field_names):
        super().validate_fields(windows, field_names)
        cls.check_fit([
                (w.party, w.weekday, w.start, w.end, w.rec_name,
                    cls._zone(w.party, w.company))
                for w in windows])

    @classmethod
    def check_fit(cls, entries):
        """Check that each window lies within a window of the zone on the
        same day

        entries: (party, weekday, start, end, name, zone or zone id) about
        to be stored. One search for the windows of all the zones. A client
        without zone has nothing to fit in: its windows are checked when it
        gets one."""
        pool = Pool()
        Zone = pool.get('backoffice.zone')
        ZoneWindow = pool.get('backoffice.zone.window')
        entries = [e for e in entries if e[1] and e[2] and e[3]]
        for party, weekday, start, end, name, zone in entries:
            if start >= end:
                raise WindowError(gettext(
                        'backoffice_client.msg_window_start_end',
                        window=name, party=party.rec_name))
        zone_ids = {int(e[5]) for e in entries if e[5] is not None}
        if not zone_ids:
            return
        with without_check_access():
            zone_windows = ZoneWindow.search([
                    ('zone', 'in', list(zone_ids)),
                    ])
        by_day = defaultdict(list)
        for zone_window in zone_windows:
            by_day[zone_window.zone.id, zone_window.weekday].append(
                zone_window)
        for party, weekday, start, end, name, zone in entries:
            if zone is None:
                continue
            day = by_day.get((int(zone), weekday), [])
            if any(w.start <= start and end <= w.end for w in day):
                continue
            zone = Zone(int(zone))
            raise WindowError(gettext(
                    'backoffice_client.msg_window_outside_zone',
                    window=name, party=party.rec_name, zone=zone.rec_name,
                    zone_windows=', '.join(w.rec_name for w in day)
                    or gettext('backoffice_client.msg_window_zone_none')))


class ZoneWindow(metaclass=PoolMeta):
    __name__ = 'backoffice.zone.window'

    @classmethod
    def check_modification(cls, mode, windows, values=None, external=False):
        super().check_modification(
            mode, windows, values=values, external=external)
        # Adding a window never leaves a client out; changing or removing
        # one may. A warning: the planner decides, the clients are told
        # when their windows are saved again.
        if mode == 'delete' or (mode == 'write' and values.keys() & {
                    'zone', 'weekday', 'start', 'end'}):
            cls.check_client_windows(
                windows, values if mode == 'write' else None)

    @classmethod
    def check_client_windows(cls, windows, values=None):
        """Warn when the preferred windows of clients would no longer fit
        the windows of their zone once windows are written with values (or
        deleted when values is None)"""
        pool = Pool()
        ClientWindow = pool.get('backoffice.client.window')
        ClientAccount = pool.get('party.party.client_account')
        Warning = pool.get('res.user.warning')
        zones = {w.zone.id for w in windows}
        if values and values.get('zone'):
            zones.add(values['zone'])
        changed = {w.id for w in windows}
        with without_check_access():
            fits = defaultdict(list)
            for window in cls.search([('zone', 'in', list(zones))]):
                if window.id in changed:
                    if values is None:
                        continue
                    key = (values.get('zone', window.zone.id),
                        values.get('weekday', window.weekday))
                    start = values.get('start', window.start)
                    end = values.get('end', window.end)
                else:
                    key = (window.zone.id, window.weekday)
                    start, end = window.start, window.end
                fits[key].append((start, end))
            # The clients of these zones, in the zones' companies: the
            # windows of a client in a company fit its zone there.
            client_zones = {
                (v.party.id, v.company.id): v.default_zone.id
                for v in ClientAccount.search([
                        ('default_zone', 'in', list(zones)),
                        ])}
            client_windows = ClientWindow.search([
                    ('party.client_accounts.default_zone', 'in',
                        list(zones)),
                    ])
            misfits = [w for w in client_windows
                if (w.party.id, w.company.id) in client_zones
                and not any(start <= w.start and w.end <= end
                    for start, end in fits[
                        client_zones[w.party.id, w.company.id],
                        w.weekday])]
            if not misfits:
                return
            key = Warning.format(
                'backoffice_client.zone_window_clients', windows)
            if Warning.check(key):
                parties = sorted({w.party.rec_name for w in misfits})
                raise ZoneWindowWarning(key, gettext(
                        'backoffice_client.msg_zone_window_clients',
                        zone=windows[0].zone.rec_name,
                        count=len(parties),
                        clients=', '.join(parties[:10])))


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
