# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The client account values that are a company's: billing scheme, payment
and delivery methods and default zone, stored per company in
party.party.client_account (parties are shared between companies, as
upstream stores a party's accounts and payment terms), searched and sorted
in the context company"""
from collections import defaultdict

from sql import Cast, Column, Literal, Null
from sql.conditionals import Case
from sql.operators import Exists

from trytond.model import ModelSQL, fields
from trytond.model.modelsql import convert_from
from trytond.modules.backoffice_zone.company import CompanyContextMixin
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.modules.company.model import CompanyValueMixin
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .party import CLIENT_STATES

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


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    billing_scheme = fields.MultiValue(fields.Selection(
            BILLING_SCHEMES, "Billing Scheme",
            states=CLIENT_STATES,
            help="Invoice each order, or group the orders of a week or a "
            "month into one invoice (in the current company)."))
    payment_methods = fields.MultiValue(fields.MultiSelection(
            PAYMENT_METHODS, "Payment Methods", sort=False,
            states=CLIENT_STATES,
            help="How the client may pay its orders to the current "
            "company."))

    # Delivery
    default_zone = fields.MultiValue(fields.Many2One(
            'backoffice.zone', "Default Delivery Zone", ondelete='SET NULL',
            domain=[
                ('company', '=', Eval('context', {}).get('company', -1)),
                ],
            states=CLIENT_STATES,
            help="The zone of the current company the client is delivered "
            "in. Left empty, it is taken from the zone of the main delivery "
            "address when the address is saved."))
    client_accounts = fields.One2Many(
        'party.party.client_account', 'party', "Client Accounts",
        help="The billing scheme, payment and delivery methods and default "
        "zone of the client in each company.")
    delivery_methods = fields.MultiValue(fields.MultiSelection(
            DELIVERY_METHODS, "Delivery Methods", sort=False,
            states=CLIENT_STATES,
            help="How the client may receive its orders from the current "
            "company."))

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
        depends={'company'})
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

    # A zone written through the party is checked by the party once its
    # windows, which may change in the same write, are stored (window.py);
    # the party saves its values without access check. Written directly
    # by a client (import, scripts), it is checked here: validate_fields
    # cannot tell the two apart.

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Party = pool.get('party.party')
        transaction = Transaction()
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
                (w, zone) for party, company, zone in entries
                if zone is not None
                for w in party.company_windows(int(company))])
