# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import csv
import datetime as dt
import io
from decimal import Decimal

from backoffice_testing import ClientWidgetsTestMixin, count_queries, request

from trytond.model.exceptions import AccessError, ValidationError
from trytond.model.modelview import AccessButtonError
from trytond.modules.backoffice_client.exceptions import (
    ClientBlockedError, ClientValidationError, ContactAdminError,
    ContactError, CreditLimitError, CreditLimitExceededError,
    DuplicateVATError, IBANError, PortalLoginError, RequestDuplicateWarning,
    RequestError, RequestStateError, VATError, WindowError,
    ZoneWindowWarning)
from trytond.modules.backoffice_zone.exceptions import ValueCheckError
from trytond.modules.company.tests import (
    CompanyTestMixin, PartyCompanyCheckEraseMixin, create_company,
    set_company)
from trytond.modules.currency.tests import (
    add_currency_rate, create_currency)
from trytond.modules.party.tests import PartyCheckReplaceMixin
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

VAT = 'CHE-116.281.710 MWST'
UID = 'CHE-116.281.710'
OTHER_VAT = 'CHE-100.000.006 MWST'
BAD_VAT = 'CHE-123.456.789 MWST'


def time(hour, minute=0):
    return dt.time(hour, minute)


def create_zone(code='ZH', windows=(('0', 6, 10), ('2', 6, 10))):
    "A zone of the context company delivered in windows (day, from, to)"
    pool = Pool()
    Zone = pool.get('backoffice.zone')
    zone, = Zone.create([{
                'name': "Zone %s" % code,
                'code': code,
                'weekdays': sorted({w[0] for w in windows}) or ['0'],
                'windows': [('create', [{
                                'weekday': day,
                                'start': time(start),
                                'end': time(end),
                                } for day, start, end in windows])],
                }])
    return zone


def create_client(name="Café du Lac", client_type='b2b', status='active',
        **values):
    pool = Pool()
    Party = pool.get('party.party')
    party, = Party.create([{
                'name': name,
                'client_type': client_type,
                'client_status': status,
                **values,
                }])
    return party


def create_user(login, *groups):
    "A real user of the context company in the groups (module, xml id)"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    company = Transaction().context['company']
    user, = User.create([{
                'name': login.title(),
                'login': login,
                'companies': [('add', [company])],
                'company': company,
                'groups': [('add', [
                            ModelData.get_id(*g) for g in groups])],
                }])
    return user


def create_product(name, price, unit='Unit', type_='goods'):
    pool = Pool()
    Uom = pool.get('product.uom')
    Template = pool.get('product.template')
    uom, = Uom.search([('name', '=', unit)])
    template, = Template.create([{
                'name': name,
                'type': type_,
                'salable': True,
                'default_uom': uom.id,
                'sale_uom': uom.id,
                'list_price': Decimal(price),
                'products': [('create', [{}])],
                }])
    product, = template.products
    return product


def create_sale(company, party, date, lines, state='confirmed'):
    "A sale of lines (product, quantity, unit price) in state"
    pool = Pool()
    Sale = pool.get('sale.sale')
    address = party.addresses[0].id if party.addresses else None
    sale, = Sale.create([{
                'company': company.id,
                'currency': company.currency.id,
                'party': party.id,
                'invoice_address': address,
                'shipment_address': address,
                'sale_date': date,
                'lines': [('create', [{
                                'type': 'line',
                                'product': product.id,
                                'unit': product.sale_uom.id,
                                'quantity': quantity,
                                'unit_price': Decimal(price),
                                } for product, quantity, price in lines])],
                }])
    if state != 'draft':
        Sale.write([sale], {'state': state})
    return sale


class BackofficeClientTestCase(
        PartyCompanyCheckEraseMixin, PartyCheckReplaceMixin,
        CompanyTestMixin, ClientWidgetsTestMixin, ModuleTestCase):
    "Test BackOffice Client module"
    module = 'backoffice_client'

    # Profile -------------------------------------------------------------

    @with_transaction()
    def test_client_kind_sets_type(self):
        "The kind of a client gives its type"
        pool = Pool()
        Party = pool.get('party.party')

        party = Party(client_kind='works_council')
        party.on_change_client_kind()
        self.assertEqual(party.client_type, 'b2b')
        party.client_kind = 'employee'
        party.on_change_client_kind()
        self.assertEqual(party.client_type, 'b2c')

        new = Party(client_type='b2c')
        new.on_change_client_type()
        self.assertEqual(new.client_status, 'prospect')

    @with_transaction()
    def test_client_kind_type_mismatch(self):
        "A kind of the other type is refused and nothing changes"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            party = create_client("Hotel Bellevue", client_kind='company')

            with self.assertRaises(ClientValidationError) as cm, request():
                Party.write([party], {'client_kind': 'individual'})
            self.assertIn('"Hotel Bellevue"', cm.exception.message)
            self.assertIn('Individual', cm.exception.message)
            self.assertEqual(Party(party.id).client_kind, 'company')

    @with_transaction()
    def test_new_client_is_prospect(self):
        "A client created without status is a prospect"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            party, = Party.create([{'name': "Anna", 'client_type': 'b2c'}])
            self.assertEqual(party.client_status, 'prospect')
            supplier, = Party.create([{'name': "Supplier"}])
            self.assertIsNone(supplier.client_status)

            with Transaction().set_context(backoffice_client_type='b2b'):
                self.assertEqual(Party.default_client_type(), 'b2b')
                self.assertEqual(Party.default_client_status(), 'prospect')

    @with_transaction()
    def test_vat_identifier(self):
        "The VAT number is an identifier, formatted and searchable"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            party = create_client(identifiers=[('create', [{
                                'type': 'ch_vat',
                                'code': 'CHE116281710MWST',
                                }])])
            self.assertEqual(party.vat_code, VAT)
            self.assertEqual(
                Party.search([('vat_code', 'ilike', '%116.281.710%')]),
                [party])
            self.assertEqual(
                Party.search([('vat_code', '=', 'CHE116281710MWST')]),
                [party])
            self.assertEqual(
                Party.search([('rec_name', 'ilike', '%116281710%')]),
                [party])

    @with_transaction()
    def test_vat_invalid(self):
        "A VAT number with a wrong checksum is refused and nothing changes"
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        company = create_company()
        with set_company(company):
            party = create_client("Café du Lac")

            with self.assertRaises(VATError) as cm, request():
                Identifier.create([{
                            'party': party.id,
                            'type': 'ch_vat',
                            'code': BAD_VAT,
                            }])
            self.assertEqual(
                cm.exception.message,
                'The Swiss VAT Number "CHE-123.456.789 MWST" of client '
                '"Café du Lac" is not valid: check its digits (a Swiss VAT '
                'number looks like CHE-116.281.710 MWST, an EU one like '
                'DE136695976).')
            self.assertEqual(Party(party.id).identifiers, ())

            identifier, = Identifier.create([{
                        'party': party.id,
                        'type': 'eu_vat',
                        'code': 'DE136695976',
                        }])
            with self.assertRaises(VATError) as cm, request():
                Identifier.write([identifier], {'code': 'DE136695977'})
            self.assertIn('"DE136695977"', cm.exception.message)
            self.assertIn('European VAT Number', cm.exception.message)
            self.assertEqual(Identifier(identifier.id).code, 'DE136695976')

    @with_transaction()
    def test_vat_duplicate(self):
        "The VAT number of an active client cannot be another client's"
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        company = create_company()
        with set_company(company):
            create_client("Kronenhalle AG", identifiers=[('create', [{
                                'type': 'ch_vat', 'code': VAT}])])
            prospect = create_client("Kronenhalle", status='prospect')

            # the UID is the same number as the VAT number
            with self.assertRaises(DuplicateVATError) as cm, request():
                Identifier.create([{
                            'party': prospect.id,
                            'type': 'ch_uid',
                            'code': UID,
                            }])
            self.assertEqual(
                cm.exception.message,
                'The VAT/UID number "CHE-116.281.710" of client '
                '"Kronenhalle" is already the number of client '
                '"Kronenhalle AG": two clients sharing a VAT number cannot '
                'be active. Merge them, or deactivate the other client '
                'first.')
            self.assertEqual(Party(prospect.id).identifiers, ())

            # a party that is no client may share it (e.g. the supplier
            # side of the same company)
            supplier, = Party.create([{
                        'name': "Kronenhalle (supplier)",
                        'identifiers': [('create', [{
                                        'type': 'ch_vat', 'code': VAT}])],
                        }])
            self.assertEqual(supplier.vat_code, VAT)

    @with_transaction()
    def test_vat_duplicate_on_activation(self):
        "Two prospects may share a VAT number until one is activated"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            first = create_client("Grotto A", status='prospect',
                identifiers=[('create', [{'type': 'ch_vat', 'code': VAT}])])
            second = create_client("Grotto B", status='prospect',
                identifiers=[('create', [{'type': 'ch_uid', 'code': UID}])])

            with self.assertRaises(DuplicateVATError) as cm, request():
                Party.write([first], {'client_status': 'active'})
            self.assertIn('"Grotto A"', cm.exception.message)
            self.assertIn('"Grotto B"', cm.exception.message)
            self.assertEqual(Party(first.id).client_status, 'prospect')

            Party.write([second], {'active': False})
            Party.write([first], {'client_status': 'active'})
            self.assertEqual(first.client_status, 'active')

            # a copy is a new prospect without the VAT number
            copy, = Party.copy([first])
            self.assertEqual(copy.client_status, 'prospect')
            self.assertIsNone(copy.vat_code)

    @with_transaction()
    def test_search_clients(self):
        "Clients are found by name, code, VAT, tag, zone, email, status"
        pool = Pool()
        Party = pool.get('party.party')
        Category = pool.get('party.category')
        company = create_company()
        with set_company(company):
            zone = create_zone()
            hotels, = Category.create([{'name': "Hotels"}])
            hotel = create_client("Hotel Bellevue",
                categories=[('add', [hotels.id])], default_zone=zone.id,
                identifiers=[('create', [{'type': 'ch_vat', 'code': VAT}])],
                client_contacts=[('create', [{
                                'name': "Eva Buyer",
                                'email': 'eva@bellevue.example',
                                'roles': ['buyer'],
                                }])])
            other = create_client("Pizzeria Mario", status='blocked')

            for domain, result in [
                    ([('rec_name', 'ilike', '%bellevue.example%')], [hotel]),
                    ([('rec_name', 'ilike', '%Eva%')], [hotel]),
                    ([('rec_name', 'ilike', hotel.code)], [hotel]),
                    ([('vat_code', 'ilike', '%116.281%')], [hotel]),
                    ([('categories', '=', hotels.id)], [hotel]),
                    ([('default_zone', '=', zone.id)], [hotel]),
                    ([('client_status', '=', 'blocked')], [other]),
                    ([('client_contacts.email', '=',
                                'eva@bellevue.example')], [hotel]),
                    ]:
                with self.subTest(domain=domain):
                    self.assertEqual(Party.search(domain), result)
            # a negative search still finds the parties without contact
            self.assertIn(other, Party.search(
                    [('rec_name', 'not ilike', '%Bellevue%')]))

    # Billing -------------------------------------------------------------

    @with_transaction()
    def test_credit_limit_negative(self):
        "A negative credit limit is refused and nothing changes"
        pool = Pool()
        Party = pool.get('party.party')
        CreditLimit = pool.get('party.party.credit_limit_amount')
        company = create_company()
        with set_company(company):
            party = create_client("Spital Aarau",
                credit_limit_amount=Decimal(1000))

            with self.assertRaises(CreditLimitError) as cm, request():
                Party.write([party], {'credit_limit_amount': Decimal(-50)})
            self.assertEqual(
                cm.exception.message,
                'The "Credit Limit Amount" of client "Spital Aarau" cannot '
                'be negative (-50): use 0 to allow no credit, or leave it '
                'empty for no limit.')
            self.assertEqual(
                Party(party.id).credit_limit_amount, Decimal(1000))

            value, = CreditLimit.search([('party', '=', party.id)])
            with self.assertRaises(CreditLimitError), request():
                CreditLimit.write([value], {
                        'credit_limit_amount': Decimal(-1)})
            self.assertEqual(
                CreditLimit(value.id).credit_limit_amount, Decimal(1000))

            with self.assertRaises(CreditLimitError), request():
                create_client("New", credit_limit_amount=Decimal(-1))
            self.assertFalse(Party.search([('name', '=', "New")]))

    @with_transaction()
    def test_credit_limit_exceeded_message(self):
        "The credit limit error says by how much the limit is exceeded"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            party = create_client("Le Bistro",
                credit_limit_amount=Decimal(100))
            party.check_credit_limit(Decimal(100), company)
            with self.assertRaises(CreditLimitExceededError) as cm:
                party.check_credit_limit(Decimal(130), company)
            self.assertRegex(cm.exception.message,
                r'^This would exceed the credit limit of "Le Bistro" by '
                r'\S*30\.00 \(limit \S*100\.00, already used \S*0\.00, '
                r'this order \S*130\.00\)\.$')
            self.assertEqual(
                Party(party.id).credit_limit_amount, Decimal(100))

    @with_transaction()
    def test_credit_limit_excess_of_batch(self):
        "Each order of a batch counts the orders of its client accepted before"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            bistro = create_client("Le Bistro",
                credit_limit_amount=Decimal(100))
            hotel = create_client("Seehotel")
            spital = create_client("Spital", credit_limit_amount=Decimal(0))
            D = Decimal
            excess = Party.credit_limit_excess([
                    (bistro, D(60)),   # accepted: 60 used
                    (hotel, D(10 ** 6)),  # no limit
                    (bistro, D(50)),   # 110 > 100: refused, not counted
                    (bistro, D(40)),   # 100: accepted
                    (spital, D(0)),    # nothing asked
                    (spital, D('0.01')),
                    ], company)
            self.assertEqual(excess, {
                    2: (D(100), D(60), D(50), D(10)),
                    5: (D(0), D(0), D('0.01'), D('0.01')),
                    })

    @with_transaction()
    def test_bad_client_values(self):
        "Absurd credit limits, wrong types and dangling links are refused"
        pool = Pool()
        Party = pool.get('party.party')
        CreditLimit = pool.get('party.party.credit_limit_amount')
        Window = pool.get('backoffice.client.window')
        company = create_company()
        with set_company(company):
            party = create_client("Spital Aarau",
                credit_limit_amount=Decimal(1000),
                payment_methods=['invoice'])
            for values, message in [
                    ({'credit_limit_amount': Decimal('1E+40')},
                        'The value 1E+40 of field "Credit Limit Amount" of '
                        '"Party" must be 1000000000000 or less.'),
                    ({'credit_limit_amount': 'abc'},
                        'The value "abc" of field "Credit Limit Amount" of '
                        '"Party" is not of the field\'s type.'),
                    ({'client_status': 5},
                        'The value "5" of field "Client Status" of "Party" '
                        'is not of the field\'s type.'),
                    ({'payment_methods': 'invoice'},
                        'The value "invoice" of field "Payment Methods" of '
                        '"Party" is not of the field\'s type.'),
                    ({'default_zone': 999999},
                        'Field "Default Delivery Zone" of "Party" links to '
                        'the Delivery Zone with id 999999, which does not '
                        'exist.'),
                    ]:
                with self.subTest(values=values):
                    with self.assertRaises(ValueCheckError) as cm, request():
                        Party.write([party], values)
                    self.assertEqual(cm.exception.message, message)
                    party = Party(party.id)
                    self.assertEqual(
                        (party.credit_limit_amount, party.client_status,
                            party.payment_methods, party.default_zone),
                        (Decimal(1000), 'active', ('invoice',), None))
            value, = CreditLimit.search([('party', '=', party.id)])
            with self.assertRaises(ValueCheckError), request():
                CreditLimit.write([value], {
                        'credit_limit_amount': Decimal('1E+40')})
            with self.assertRaises(ValueCheckError), request():
                create_client("New", credit_limit_amount=Decimal('1E+40'))
            self.assertFalse(Party.search([('name', '=', "New")]))
            with self.assertRaises(ValueCheckError) as cm, request():
                Window.create([{'party': 999999, 'weekday': '0',
                            'start': time(6), 'end': time(8)}])
            self.assertIn('Party with id 999999', cm.exception.message)
            # a kind outside the selection: the ORM refuses it
            # (not an internal error of the kind and type check)
            with self.assertRaises(ValidationError) as cm, \
                    request():
                Party.write([party], {'client_kind': '0'})
            self.assertIn('"Client Kind"', cm.exception.message)
            self.assertEqual(Party(party.id).client_kind, party.client_kind)
            self.assertEqual(
                CreditLimit(value.id).credit_limit_amount, Decimal(1000))
            # the limit itself is accepted
            Party.write([party], {'credit_limit_amount': Decimal(10 ** 12)})

    @with_transaction()
    def test_credit_limit_permission(self):
        "Only a sales administrator changes credit limits"
        pool = Pool()
        Party = pool.get('party.party')
        CreditLimit = pool.get('party.party.credit_limit_amount')
        company = create_company()
        with set_company(company):
            party = create_client("Seehotel", credit_limit_amount=Decimal(500))
            seller = create_user('seller', ('sale', 'group_sale'))
            admin = create_user('sales_admin', ('sale', 'group_sale_admin'))

            with Transaction().set_user(seller.id), check_access():
                # the seller manages the client
                Party.write([party], {'billing_scheme': 'monthly'})
                with self.assertRaises(AccessError):
                    Party.write([party], {
                            'credit_limit_amount': Decimal(5000)})
                with self.assertRaises(AccessError):
                    CreditLimit.create([{
                                'party': party.id,
                                'company': company.id,
                                'credit_limit_amount': Decimal(5000),
                                }])
                with self.assertRaises(AccessError):
                    Party.write([party], {
                            'credit_limit_amounts': [('delete', [
                                        v.id for v in
                                        party.credit_limit_amounts])],
                            })
                # copying a client does not need the right
                copy, = Party.copy([party])
                self.assertIsNone(copy.credit_limit_amount)
            self.assertEqual(
                Party(party.id).credit_limit_amount, Decimal(500))
            self.assertEqual(Party(party.id).billing_scheme, 'monthly')

            with Transaction().set_user(admin.id), check_access():
                Party.write([party], {'credit_limit_amount': Decimal(5000)})
            self.assertEqual(
                Party(party.id).credit_limit_amount, Decimal(5000))

    @with_transaction()
    def test_client_fields_need_client_role(self):
        "Only Sales, Sales Administrator and Party Administration users"
        pool = Pool()
        Party = pool.get('party.party')
        Window = pool.get('backoffice.client.window')
        company = create_company()
        with set_company(company):
            party = create_client("Seehotel", payment_methods=['invoice'])
            nobody = create_user('nobody')
            seller = create_user('seller', ('sale', 'group_sale'))
            party_admin = create_user(
                'party_admin', ('party', 'group_party_admin'))

            def check(user, read=(), refused_read=(), write=None,
                    refused_write=()):
                with Transaction().set_user(user.id), check_access():
                    for name in refused_read:
                        with self.subTest(user=user.login, read=name):
                            with self.assertRaises(AccessError):
                                Party.read([party.id], [name])
                    for name in read:
                        Party.read([party.id], [name])
                    for values in refused_write:
                        with self.subTest(user=user.login, write=values):
                            with self.assertRaises(AccessError), request():
                                Party.write([party], values)
                    if write:
                        Party.write([party], write)

            insights = ['lifetime_revenue', 'top_products_quantity',
                'top_products_revenue', 'order_count', 'history_sales']
            check(nobody,
                refused_read=insights + [
                    'client_status', 'payment_methods', 'default_zone',
                    'access_notes'],
                refused_write=[
                    {'client_status': 'blocked'},
                    {'payment_methods': ['invoice', 'deposit']},
                    {'preferred_windows': [('create', [{
                                        'weekday': '0', 'start': time(6),
                                        'end': time(8)}])]},
                    ])
            with Transaction().set_user(nobody.id), check_access():
                with self.assertRaises(AccessError), request():
                    Window.create([{'party': party.id, 'weekday': '0',
                                'start': time(6), 'end': time(8)}])
            party = Party(party.id)
            self.assertEqual(
                (party.client_status, party.payment_methods,
                    party.preferred_windows),
                ('active', ('invoice',), ()))
            # the party itself stays readable, as upstream
            with Transaction().set_user(nobody.id), check_access():
                Party.read([party.id], ['name', 'rec_name'])
            check(party_admin, read=['client_status', 'payment_methods'],
                refused_read=insights,
                write={'payment_methods': ['invoice', 'deposit']})
            check(seller, read=insights + ['client_status'],
                write={'client_status': 'blocked'})
            party = Party(party.id)
            self.assertEqual(
                (party.client_status, set(party.payment_methods)),
                ('blocked', {'invoice', 'deposit'}))
            with Transaction().set_user(seller.id), check_access():
                copy, = Party.copy([party])
            self.assertEqual(copy.client_status, 'prospect')

    @with_transaction()
    def test_iban(self):
        "The IBAN is checked and formatted"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            party = create_client("Café", iban='ch9300762011623852957')
            self.assertEqual(party.iban, 'CH93 0076 2011 6238 5295 7')

            with self.assertRaises(IBANError) as cm, request():
                Party.write([party], {'iban': 'CH93 0076 2011 6238 5295 8'})
            self.assertIn('"CH93 0076 2011 6238 5295 8"', cm.exception.message)
            self.assertIn('"Café"', cm.exception.message)
            self.assertEqual(
                Party(party.id).iban, 'CH93 0076 2011 6238 5295 7')

    @with_transaction()
    def test_payment_and_delivery_methods(self):
        "The methods are multi-selections searched by value"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            party = create_client(
                payment_methods=['invoice', 'deposit'],
                delivery_methods=['own_route', 'click_collect'])
            self.assertEqual(party.payment_methods, ('deposit', 'invoice'))
            self.assertEqual(
                Party.search([('delivery_methods', 'in', ['click_collect'])]),
                [party])

    # Delivery ------------------------------------------------------------

    @with_transaction()
    def test_preferred_window_fits_zone(self):
        "A preferred window must lie within a window of the zone"
        pool = Pool()
        Window = pool.get('backoffice.client.window')
        company = create_company()
        with set_company(company):
            zone = create_zone(windows=[('0', 6, 10), ('2', 14, 17)])
            party = create_client("Kronenhalle", default_zone=zone.id)

            window, = Window.create([{
                        'party': party.id, 'weekday': '0',
                        'start': time(7), 'end': time(9)}])

            with self.assertRaises(WindowError) as cm, request():
                Window.create([{
                            'party': party.id, 'weekday': '0',
                            'start': time(9), 'end': time(11)}])
            self.assertEqual(
                cm.exception.message,
                'The preferred delivery window "Monday 09:00-11:00" of '
                'client "Kronenhalle" is not within a delivery window of '
                'zone "Zone ZH" on that day (the zone delivers: Monday '
                '06:00-10:00).')
            with self.assertRaises(WindowError) as cm, request():
                Window.create([{
                            'party': party.id, 'weekday': '1',
                            'start': time(7), 'end': time(9)}])
            self.assertIn('not on that day', cm.exception.message)
            with self.assertRaises(WindowError) as cm, request():
                Window.write([window], {'weekday': '2'})
            self.assertIn('Wednesday 14:00-17:00', cm.exception.message)
            with self.assertRaises(WindowError) as cm, request():
                Window.write([window], {'start': time(9, 30)})
            self.assertIn('must start before it ends', cm.exception.message)

            self.assertEqual(Window.search([('party', '=', party.id)]),
                [window])
            window = Window(window.id)
            self.assertEqual(
                (window.weekday, window.start, window.end),
                ('0', time(7), time(9)))

    @with_transaction()
    def test_preferred_window_zone_change(self):
        "A client cannot move to a zone its windows do not fit"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            morning = create_zone('AM', windows=[('0', 6, 10)])
            afternoon = create_zone('PM', windows=[('0', 14, 17)])
            party = create_client("Kronenhalle", default_zone=morning.id,
                preferred_windows=[('create', [{
                                'weekday': '0',
                                'start': time(7), 'end': time(9)}])])

            with self.assertRaises(WindowError) as cm, request():
                Party.write([party], {'default_zone': afternoon.id})
            self.assertIn('"Zone PM"', cm.exception.message)
            self.assertEqual(Party(party.id).default_zone, morning)

            # moving with new windows that fit is fine
            Party.write([party], {
                    'default_zone': afternoon.id,
                    'preferred_windows': [
                        ('delete', [w.id for w in party.preferred_windows]),
                        ('create', [{
                                    'weekday': '0',
                                    'start': time(15), 'end': time(16)}]),
                        ],
                    })
            self.assertEqual(party.default_zone, afternoon)

            # without zone there is nothing to fit; the zone proposed later
            # is checked
            with self.assertRaises(WindowError), request():
                Party.write([party], {
                        'default_zone': morning.id,
                        'preferred_windows': [('create', [{
                                        'weekday': '0', 'start': time(18),
                                        'end': time(19)}])],
                        })

    @with_transaction()
    def test_zone_window_change_warns(self):
        "Shrinking or removing a window of the zone warns about clients"
        pool = Pool()
        ZoneWindow = pool.get('backoffice.zone.window')
        company = create_company()
        with set_company(company):
            zone = create_zone(windows=[('0', 6, 10), ('2', 6, 10)])
            create_client("Kronenhalle", default_zone=zone.id,
                preferred_windows=[('create', [{
                                'weekday': '0',
                                'start': time(7), 'end': time(9)}])])
            monday, wednesday = zone.windows

            # what leaves the client's window inside is fine
            ZoneWindow.write([monday], {'start': time(7)})
            ZoneWindow.delete([wednesday])

            with self.assertRaises(ZoneWindowWarning) as cm:
                ZoneWindow.write([monday], {'end': time(8, 30)})
            self.assertEqual(
                cm.exception.message,
                'After this change of the delivery windows of zone "Zone '
                'ZH", the preferred windows of 1 clients no longer fit: '
                'Kronenhalle. Their windows must be changed when they are '
                'saved again.')
            self.assertEqual(ZoneWindow(monday.id).end, time(10))
            with self.assertRaises(ZoneWindowWarning):
                ZoneWindow.delete([monday])

            with Transaction().set_context(_skip_warnings=True):
                ZoneWindow.delete([monday])
            self.assertFalse(ZoneWindow.search([('zone', '=', zone.id)]))

    @with_transaction()
    def test_default_zone_proposed(self):
        "The default zone comes from the main delivery address"
        pool = Pool()
        Party = pool.get('party.party')
        Zone = pool.get('backoffice.zone')
        Country = pool.get('country.country')
        company = create_company()
        with set_company(company):
            switzerland, = Country.create([{'name': "Switzerland",
                        'code': 'CH'}])
            zurich, geneva = Zone.create([{
                        'name': "Zürich", 'code': 'ZH',
                        'rules': [('create', [{
                                        'kind': 'postal',
                                        'pattern': '8000-8099'}])],
                        }, {
                        'name': "Genève", 'code': 'GE',
                        'rules': [('create', [{
                                        'kind': 'postal',
                                        'pattern': '1200-1299'}])],
                        }])
            party, = Party.create([{
                        'name': "Café",
                        'client_type': 'b2b',
                        'addresses': [('create', [{
                                        'postal_code': '1204',
                                        'country': switzerland.id,
                                        'delivery': False,
                                        }, {
                                        'postal_code': '8001',
                                        'country': switzerland.id,
                                        'delivery': True,
                                        }])],
                        }])
            self.assertEqual(party.default_zone, zurich)

            # the zone chosen by the office stays
            Party.write([party], {'default_zone': geneva.id})
            Party.write([party], {'addresses': [('create', [{
                                'postal_code': '8002',
                                'country': switzerland.id}])]})
            self.assertEqual(Party(party.id).default_zone, geneva)

            # no zone for who is not a client
            supplier, = Party.create([{
                        'name': "Supplier",
                        'addresses': [('create', [{'postal_code': '8001',
                                        'country': switzerland.id}])],
                        }])
            self.assertIsNone(supplier.default_zone)

    # Contacts ------------------------------------------------------------

    @with_transaction()
    def test_contact_admin_kept(self):
        "A client with portal logins keeps an active Admin contact"
        pool = Pool()
        Contact = pool.get('backoffice.client.contact')
        WebUser = pool.get('web.user')
        company = create_company()
        with set_company(company):
            party = create_client("Kantine Campus")
            admin, buyer = Contact.create([{
                        'party': party.id,
                        'name': "Ada Admin",
                        'email': 'ada@campus.example',
                        'roles': ['admin', 'buyer'],
                        }, {
                        'party': party.id,
                        'name': "Bob Buyer",
                        'email': 'bob@campus.example',
                        'roles': ['buyer', 'receiver'],
                        }])
            Contact.create_portal_login([buyer])
            self.assertEqual(buyer.web_user.email, 'bob@campus.example')
            self.assertEqual(buyer.web_user.party, party)

            with self.assertRaises(ContactAdminError) as cm, request():
                Contact.write([admin], {'roles': ['buyer']})
            self.assertEqual(
                cm.exception.message,
                'You cannot change the "Roles" of contact "Ada Admin": '
                'client "Kantine Campus" has portal logins '
                '(bob@campus.example) and would be left without an active '
                'contact with the role "Admin".')
            self.assertEqual(Contact(admin.id).roles, ('admin', 'buyer'))

            with self.assertRaises(ContactAdminError) as cm, request():
                Contact.write([admin], {'active': False})
            self.assertIn('"Active"', cm.exception.message)
            self.assertTrue(Contact(admin.id).active)

            with self.assertRaises(ContactAdminError) as cm, request():
                Contact.delete([admin])
            self.assertEqual(
                cm.exception.message,
                'You cannot delete contact "Ada Admin": client "Kantine '
                'Campus" has portal logins (bob@campus.example) and would '
                'be left without an active contact with the role "Admin".')
            self.assertEqual(
                Contact.search([('party', '=', party.id)]), [admin, buyer])

            # with another Admin, the first may go
            Contact.write([buyer], {'roles': ['admin']})
            Contact.delete([admin])
            self.assertEqual(Contact(buyer.id).roles, ('admin',))

            # a login for a client without Admin is refused
            other = create_client("Quartierladen")
            with self.assertRaises(ContactAdminError) as cm, request():
                WebUser.create([{
                            'email': 'shop@laden.example',
                            'party': other.id,
                            }])
            self.assertIn('"Quartierladen"', cm.exception.message)

    @with_transaction()
    def test_contact_roles_and_email(self):
        "A contact needs a role and a valid email"
        pool = Pool()
        Contact = pool.get('backoffice.client.contact')
        company = create_company()
        with set_company(company):
            party = create_client("Grotto")
            with self.assertRaises(ContactError) as cm, request():
                Contact.create([{
                            'party': party.id, 'name': "Carla",
                            'email': 'carla(at)grotto', 'roles': ['buyer']}])
            self.assertIn('"carla(at)grotto"', cm.exception.message)
            with self.assertRaises(ContactError) as cm, request():
                Contact.create([{
                            'party': party.id, 'name': "Carla",
                            'roles': []}])
            self.assertIn('at least one role', cm.exception.message)

            contact, = Contact.create([{
                        'party': party.id, 'name': "Carla",
                        'email': 'carla@grotto.example',
                        'roles': ['viewer'],
                        'notify_events': ['delivered', 'invoice'],
                        }])
            self.assertTrue(contact.has_role('viewer'))
            self.assertFalse(contact.has_role('buyer'))
            self.assertEqual(Contact.to_notify([party], 'invoice'), [contact])
            self.assertEqual(
                Contact.to_notify([party], 'out_for_delivery'), [])

    @with_transaction()
    def test_portal_login(self):
        "A portal login is a web user of the client with the contact email"
        pool = Pool()
        Contact = pool.get('backoffice.client.contact')
        WebUser = pool.get('web.user')
        company = create_company()
        with set_company(company):
            party = create_client("Hotel des Alpes")
            admin, receiver, nomail = Contact.create([{
                        'party': party.id, 'name': "Hélène",
                        'email': 'Helene@Alpes.example', 'roles': ['admin'],
                        }, {
                        'party': party.id, 'name': "Rolf",
                        'email': 'rolf@alpes.example', 'roles': ['receiver'],
                        }, {
                        'party': party.id, 'name': "Nomail",
                        'roles': ['viewer'],
                        }])
            Contact.create_portal_login([admin, receiver])
            user = admin.web_user
            self.assertEqual(user.email, 'helene@alpes.example')
            self.assertEqual(user.client_contact, admin)
            self.assertTrue(user.client_has_role('buyer'))
            self.assertTrue(receiver.web_user.client_has_role('receiver'))
            self.assertFalse(receiver.web_user.client_has_role('buyer'))
            self.assertEqual(
                WebUser.search([('client_contact', '=', receiver.id)]),
                [receiver.web_user])

            # the login follows the email the office keeps
            Contact.write([receiver], {'email': 'rolf.k@alpes.example'})
            self.assertEqual(
                WebUser(receiver.web_user.id).email, 'rolf.k@alpes.example')

            with self.assertRaises(PortalLoginError) as cm:
                Contact.create_portal_login([nomail])
            self.assertIn('needs an email', cm.exception.message)

            other = create_client("Other")
            stranger, = Contact.create([{
                        'party': other.id, 'name': "Stranger",
                        'email': 'helene@alpes.example', 'roles': ['admin'],
                        }])
            with self.assertRaises(PortalLoginError):
                Contact.create_portal_login([stranger])
            self.assertIsNone(Contact(stranger.id).web_user)

    # Account requests ----------------------------------------------------

    def _request_values(self, **values):
        return {
            'client_type': 'b2b',
            'client_kind': 'company',
            'company_name': "Boulangerie de la Gare",
            'vat_type': 'ch_vat',
            'vat_code': VAT,
            'contact_name': "Paul Favre",
            'contact_email': 'paul@boulangerie.example',
            'contact_phone': '+41 21 555 12 34',
            'street': "Place de la Gare 9",
            'postal_code': '1003',
            'city': "Lausanne",
            'payment_methods': ['invoice'],
            'delivery_methods': ['own_route', 'pickup_point'],
            'billing_scheme': 'monthly',
            **values,
            }

    @with_transaction()
    def test_request_approve(self):
        "Approving a request creates an active client"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            request, = Request.create([self._request_values()])
            # businesses are verified by a person (default configuration)
            self.assertEqual(request.state, 'to_verify')
            self.assertEqual(request.duplicates, ())

            Request.approve([request])
            self.assertEqual(request.state, 'approved')
            party = request.party
            self.assertEqual(party.name, "Boulangerie de la Gare")
            self.assertEqual(
                (party.client_type, party.client_kind, party.client_status),
                ('b2b', 'company', 'active'))
            self.assertEqual(party.vat_code, VAT)
            self.assertEqual(party.payment_methods, ('invoice',))
            self.assertEqual(
                party.delivery_methods, ('own_route', 'pickup_point'))
            self.assertEqual(party.billing_scheme, 'monthly')
            address, = party.addresses
            self.assertEqual(
                (address.street, address.postal_code, address.city),
                ("Place de la Gare 9", '1003', "Lausanne"))
            contact, = party.client_contacts
            self.assertEqual(request.contact, contact)
            self.assertEqual(
                (contact.name, contact.email, contact.roles),
                ("Paul Favre", 'paul@boulangerie.example', ('admin',)))
            self.assertEqual(request.validated_by.id, Transaction().user)
            self.assertTrue(request.validated_date)
            self.assertEqual(
                Party.search([('name', '=', "Boulangerie de la Gare")]),
                [party])

    @with_transaction()
    def test_request_twice(self):
        "Validating a request twice is refused and nothing changes"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            request, = Request.create([self._request_values()])
            Request.approve([request])
            count = Party.search_count([])
            validated = request.validated_date

            for button in [Request.approve, Request.refuse]:
                with self.subTest(button=button.__name__):
                    with self.assertRaises(RequestStateError) as cm:
                        button([request])
                    self.assertTrue(cm.exception.message.startswith(
                            'The account request "Boulangerie de la Gare '
                            '<paul@boulangerie.example>" is already '
                            '"Approved" (by Administrator on '))
            self.assertEqual(Party.search_count([]), count)
            request = Request(request.id)
            self.assertEqual(request.state, 'approved')
            self.assertEqual(request.validated_date, validated)

    @with_transaction()
    def test_request_auto_approve(self):
        "The configuration approves private clients at once"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        Configuration = pool.get('backoffice.client.configuration')
        company = create_company()
        with set_company(company):
            request, = Request.create([self._request_values(
                        client_type='b2c', client_kind='individual',
                        company_name=None, vat_code=None,
                        contact_name="Anna Keller",
                        contact_email='anna@mail.example',
                        payment_methods=['card'])])
            self.assertEqual(request.state, 'approved')
            party = request.party
            self.assertEqual(party.name, "Anna Keller")
            self.assertEqual(party.client_type, 'b2c')
            self.assertEqual(party.email, 'anna@mail.example')

            # unless it matches an existing client
            again, = Request.create([self._request_values(
                        client_type='b2c', client_kind='individual',
                        company_name=None, vat_code=None,
                        contact_name="Anna Keller",
                        contact_email='ANNA@mail.example')])
            self.assertEqual(again.state, 'to_verify')
            self.assertEqual(again.duplicates, (party,))

            config = Configuration(1)
            config.auto_approve_b2b = True
            config.save()
            business, = Request.create([self._request_values()])
            self.assertEqual(business.state, 'approved')

    @with_transaction()
    def test_request_duplicates(self):
        "A request matching clients warns and activates the same client"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            existing = create_client("Boulangerie SA", status='prospect',
                active=False, identifiers=[('create', [{
                                'type': 'ch_uid', 'code': UID}])],
                client_contacts=[('create', [{
                                'name': "Marie", 'roles': ['admin'],
                                'email': 'marie@boulangerie.example'}])])
            by_email = create_client("Other", client_contacts=[('create', [{
                                'name': "Paul", 'roles': ['buyer'],
                                'email': 'Paul@Boulangerie.example'}])])
            request, = Request.create([self._request_values()])
            self.assertEqual(
                sorted(request.duplicates), sorted([existing, by_email]))

            with self.assertRaises(RequestDuplicateWarning) as cm:
                Request.approve([request])
            self.assertIn('"Boulangerie de la Gare', cm.exception.message)
            self.assertIn('Boulangerie SA', cm.exception.message)
            self.assertEqual(Request(request.id).state, 'to_verify')

            with Transaction().set_context(_skip_warnings=True):
                Request.approve([request])
            self.assertEqual(request.party, existing)
            existing = Party(existing.id)
            self.assertTrue(existing.active)
            self.assertEqual(existing.client_status, 'active')
            # the VAT number it had (as UID) is not added twice
            self.assertEqual(len(existing.identifiers), 1)
            # the newcomer orders: the account has its Admin
            paul, = [c for c in existing.client_contacts
                if c.name == "Paul Favre"]
            self.assertEqual(paul.roles, ('buyer',))
            self.assertEqual(request.contact, paul)

    @with_transaction()
    def test_request_refuse(self):
        "A request is refused with a reason"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            prospect = create_client("Boulangerie", status='prospect')
            request, = Request.create([self._request_values(
                        party=prospect.id)])
            self.assertEqual(Party(prospect.id).client_status, 'pending')

            with self.assertRaises(RequestError) as cm:
                Request.refuse([request])
            self.assertIn('"Refusal Reason"', cm.exception.message)
            self.assertEqual(Request(request.id).state, 'to_verify')

            Request.write([request], {'refusal_reason': "Outside our area"})
            Request.refuse([request])
            self.assertEqual(request.state, 'refused')
            self.assertEqual(Party(prospect.id).client_status, 'prospect')
            with self.assertRaises(RequestStateError):
                Request.approve([request])

            Request.reset([request])
            self.assertEqual(request.state, 'to_verify')
            Request.approve([request])
            self.assertEqual(request.party, prospect)
            self.assertEqual(Party(prospect.id).client_status, 'active')

    @with_transaction()
    def test_request_invalid(self):
        "A request with an invalid VAT number or email is refused"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        company = create_company()
        with set_company(company):
            with self.assertRaises(RequestError) as cm:
                Request.create([self._request_values(vat_code=BAD_VAT)])
            self.assertIn('"CHE-123.456.789 MWST"', cm.exception.message)
            with self.assertRaises(RequestError) as cm:
                Request.create([self._request_values(
                            contact_email='paul at boulangerie')])
            self.assertIn('"paul at boulangerie"', cm.exception.message)

    @with_transaction()
    def test_request_client_values_hook(self):
        "The party values of an approval come from one overridable method"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        company = create_company()
        with set_company(company):
            request = Request(**self._request_values(
                    country=None, subdivision=None, party=None))
            values = Request._client_values(request)
            self.assertEqual(values['client_status'], 'active')
            self.assertEqual(values['name'], "Boulangerie de la Gare")
            self.assertIn('client_contacts', values)
            self.assertIn('identifiers', values)

    @with_transaction()
    def test_request_permission(self):
        "A seller records requests; only a sales administrator validates"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        company = create_company()
        with set_company(company):
            seller = create_user('seller', ('sale', 'group_sale'))
            admin = create_user('sales_admin', ('sale', 'group_sale_admin'))

            # the payment methods are the approver's to choose
            values = self._request_values()
            del values['payment_methods']
            with Transaction().set_user(seller.id), check_access():
                request, = Request.create([values])
                with self.assertRaises(AccessButtonError):
                    Request.approve([request])
                with self.assertRaises(AccessButtonError):
                    Request.refuse([request])
                with self.assertRaises(AccessError):
                    Request.delete([request])
            self.assertEqual(Request(request.id).state, 'to_verify')
            self.assertIsNone(Request(request.id).party)

            with Transaction().set_user(admin.id), check_access():
                Request.approve([request])
            self.assertEqual(Request(request.id).state, 'approved')
            self.assertEqual(Request(request.id).validated_by, admin)

    # Sales, history and insights -----------------------------------------

    def _sales(self, company):
        "A client with three confirmed orders, a draft and a cancelled one"
        milk = create_product("Milk", '1.60')
        cheese = create_product("Gruyère", '24.50', unit='Kilogram')
        party = create_client("Kronenhalle",
            addresses=[('create', [{'street': "Rämistrasse 4"}])])
        sales = [
            create_sale(company, party, dt.date(2026, 1, 10),
                [(milk, 10, '1.50'), (cheese, 1, '20.00')]),
            create_sale(company, party, dt.date(2026, 1, 20),
                [(milk, 5, '1.60')], state='processing'),
            create_sale(company, party, dt.date(2026, 3, 1),
                [(cheese, 2, '21.00')], state='done'),
            create_sale(company, party, dt.date(2026, 3, 5),
                [(milk, 100, '1.00')], state='draft'),
            create_sale(company, party, dt.date(2026, 3, 6),
                [(cheese, 100, '1.00')], state='cancelled'),
            ]
        return party, milk, cheese, sales

    @with_transaction()
    def test_insights(self):
        "The insights count the confirmed orders only"
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('backoffice.client.product')
        company = create_company()
        with set_company(company):
            party, milk, cheese, _ = self._sales(company)
            empty = create_client("New client")

            party = Party(party.id)
            self.assertEqual(party.order_count, 3)
            # 15 + 20, 8, 42
            self.assertEqual(party.lifetime_revenue, Decimal('85.00'))
            self.assertEqual(party.average_order_value, Decimal('28.33'))
            self.assertEqual(party.first_order_date, dt.date(2026, 1, 10))
            self.assertEqual(party.last_order_date, dt.date(2026, 3, 1))
            # 50 days for 2 gaps; 3 orders in 3 months
            self.assertEqual(party.order_frequency, 25.0)
            self.assertEqual(party.orders_per_month, 1.0)
            self.assertEqual(party.insight_currency, company.currency)

            by_quantity = [p.product for p in party.top_products_quantity]
            self.assertEqual(by_quantity, [milk, cheese])
            by_revenue = [p.product for p in party.top_products_revenue]
            self.assertEqual(by_revenue, [cheese, milk])
            with Transaction().set_context(backoffice_client=party.id):
                milk_row, = Product.search([('product', '=', milk.id)])
            self.assertEqual(milk_row.quantity, 15)
            self.assertEqual(milk_row.revenue, Decimal('23.00'))
            self.assertEqual(milk_row.line_count, 2)
            self.assertIsInstance(milk_row.line_count, int)
            self.assertEqual(milk_row.last_order_date, dt.date(2026, 1, 20))

            empty = Party(empty.id)
            self.assertEqual(empty.order_count, 0)
            self.assertEqual(empty.lifetime_revenue, Decimal(0))
            self.assertIsNone(empty.average_order_value)
            self.assertEqual(empty.top_products_quantity, ())

    @with_transaction()
    def test_insights_unit_conversion(self):
        "Quantities add up in the default unit of the product"
        pool = Pool()
        Party = pool.get('party.party')
        Uom = pool.get('product.uom')
        Product = pool.get('backoffice.client.product')
        company = create_company()
        with set_company(company):
            cheese = create_product("Gruyère", '24.50', unit='Kilogram')
            party = create_client("Kronenhalle",
                addresses=[('create', [{'street': "Rämistrasse 4"}])])
            sale = create_sale(
                company, party, dt.date(2026, 1, 10), [(cheese, 2, '20')])
            gram, = Uom.search([('name', '=', 'Gram')])
            line, = sale.lines
            line.unit = gram
            line.quantity = 500
            line.unit_price = Decimal('0.02')
            line.save()
            with Transaction().set_context(backoffice_client=party.id):
                row, = Product.search([])
            self.assertEqual(row.quantity, 0.5)
            self.assertEqual(row.unit.name, 'Kilogram')
            self.assertEqual(
                Party(party.id).lifetime_revenue, Decimal('10.00'))

    @with_transaction()
    def test_insights_currency(self):
        "A sale in another currency counts at the rate of its date"
        pool = Pool()
        Party = pool.get('party.party')
        Currency = pool.get('currency.currency')
        Monthly = pool.get('backoffice.client.monthly')
        Product = pool.get('backoffice.client.product')
        company = create_company()
        with set_company(company):
            eur, = Currency.create([{
                        'name': "Euro", 'symbol': "€", 'code': 'EUR',
                        'rates': [('create', [
                                    {'date': dt.date(2026, 1, 1),
                                        'rate': Decimal('0.5')},
                                    {'date': dt.date(2026, 2, 1),
                                        'rate': Decimal('0.25')},
                                    ])],
                        }])
            milk = create_product("Milk", '1.60')
            party = create_client("Hotel",
                addresses=[('create', [{'street': "Seestrasse 1"}])])
            create_sale(company, party, dt.date(2026, 1, 10),
                [(milk, 1, 5)])
            for date in [dt.date(2026, 1, 20), dt.date(2026, 2, 10)]:
                sale = create_sale(company, party, date, [(milk, 1, 10)])
                sale.currency = eur
                sale.save()

            # 5 + 10 EUR at 0.5 + 10 EUR at 0.25 (company currency at 1)
            party = Party(party.id)
            self.assertEqual(party.lifetime_revenue, Decimal('65.00'))
            months = Monthly.search(
                [('party', '=', party.id)], order=[('month', 'ASC')])
            self.assertEqual(
                [(m.order_count, m.revenue) for m in months],
                [(2, Decimal('25.00')), (1, Decimal('40.00'))])
            with Transaction().set_context(backoffice_client=party.id):
                row, = Product.search([])
            self.assertEqual(row.revenue, Decimal('65.00'))
            self.assertEqual(row.quantity, 3)
            self.assertEqual(row.line_count, 3)

    @with_transaction()
    def test_insights_queries(self):
        "The insights cost the same queries for 1 or 12 orders"
        pool = Pool()
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            milk = create_product("Milk", '1.60')
            small = create_client("Small",
                addresses=[('create', [{'street': "A"}])])
            big = create_client("Big",
                addresses=[('create', [{'street': "B"}])])
            create_sale(company, small, dt.date(2026, 1, 1), [(milk, 1, 1)])
            for day in range(1, 13):
                create_sale(company, big, dt.date(2026, 1, day),
                    [(milk, day, 1)])

            # the company and its currency are read once, not counted
            Party.compute_insights([small.id], company)
            with count_queries() as small_count:
                Party.compute_insights([small.id], company)
            with count_queries() as big_count:
                big_figures = Party.compute_insights([big.id], company)
            with count_queries() as both_count:
                both = Party.compute_insights([small.id, big.id], company)
            self.assertEqual(small_count[0], 2)
            self.assertEqual(big_count[0], small_count[0])
            self.assertEqual(both_count[0], small_count[0])
            self.assertEqual(big_figures[big.id]['order_count'], 12)
            self.assertEqual(both[big.id]['lifetime_revenue'], Decimal(78))
            self.assertEqual(both[small.id]['lifetime_revenue'], Decimal(1))

    @with_transaction()
    def test_monthly_statistics(self):
        "The orders of a client per month"
        pool = Pool()
        Monthly = pool.get('backoffice.client.monthly')
        company = create_company()
        with set_company(company):
            party, _, _, _ = self._sales(company)
            months = Monthly.search(
                [('party', '=', party.id)], order=[('month', 'ASC')])
            self.assertEqual(
                [(m.month, type(m.order_count), m.revenue) for m in months],
                [(dt.date(2026, 1, 1), int, Decimal('43.00')),
                    (dt.date(2026, 3, 1), int, Decimal('42.00'))])
            self.assertEqual(
                [(m.month, m.order_count, m.revenue) for m in months],
                [(dt.date(2026, 1, 1), 2, Decimal('43.00')),
                    (dt.date(2026, 3, 1), 1, Decimal('42.00'))])
            with Transaction().set_context(backoffice_client=party.id):
                self.assertEqual(len(Monthly.search([])), 2)

    @with_transaction()
    def test_history(self):
        "Sales, notes and attachments of a client in one place"
        pool = Pool()
        Party = pool.get('party.party')
        Note = pool.get('ir.note')
        Attachment = pool.get('ir.attachment')
        company = create_company()
        with set_company(company):
            party, _, _, sales = self._sales(company)
            note, = Note.create([{
                        'resource': str(party), 'message': "Called"}])
            attachment, = Attachment.create([{
                        'resource': str(party), 'name': 'contract.txt',
                        'data': b'signed'}])
            party = Party(party.id)
            self.assertEqual(
                list(party.history_sales),
                [sales[4], sales[3], sales[2], sales[1], sales[0]])
            self.assertEqual(party.client_notes, (note,))
            self.assertEqual(party.client_attachments, (attachment,))
            self.assertEqual(party.history_invoices, ())

    @with_transaction()
    def test_sales_history_csv(self):
        "The CSV of the sales lines, filtered"
        pool = Pool()
        Report = pool.get(
            'backoffice.client.sales_history.csv', type='report')
        company = create_company()
        with set_company(company):
            party, milk, cheese, sales = self._sales(company)

            oext, content, _, name = Report.execute([party.id], {
                    'states': ['confirmed', 'processing', 'done'],
                    })
            self.assertEqual(oext, 'csv')
            self.assertEqual(name, 'Sales History (CSV)')
            rows = list(csv.reader(io.StringIO(content.decode('utf-8-sig'))))
            self.assertEqual(rows[0][:3], ['Client Code', 'Client', 'Sale'])
            self.assertEqual(rows[0][14:], [
                    'Sale Untaxed', 'Sale Tax', 'Sale Total',
                    'Client Currency'])
            self.assertEqual(len(rows), 1 + 4 + 1)
            self.assertEqual(
                [(r[4], r[7], r[9]) for r in rows[1:-1]],
                [('2026-01-10', 'Milk', '10.0'),
                    ('2026-01-10', 'Gruyère', '1.0'),
                    ('2026-01-20', 'Milk', '5.0'),
                    ('2026-03-01', 'Gruyère', '2.0')])
            # each sale's amounts once, on its first row; then the totals
            self.assertEqual([r[14:] for r in rows[1:]], [
                    ['35.00', '0.00', '35.00', 'usd'],
                    ['', '', '', ''],
                    ['8.00', '0.00', '8.00', 'usd'],
                    ['42.00', '0.00', '42.00', 'usd'],
                    ['85.00', '0.00', '85.00', 'usd'],
                    ])
            self.assertEqual(rows[-1][:3], [
                    party.code or '', 'Total of Kronenhalle', ''])

            _, content, _, _ = Report.execute([party.id], {
                    'from_date': dt.date(2026, 1, 15),
                    'products': [cheese.id],
                    })
            rows = list(csv.reader(io.StringIO(content.decode('utf-8-sig'))))
            self.assertEqual(
                [(r[4], r[5], r[11]) for r in rows[1:-1]],
                [('2026-03-01', 'Done', '21.00'),
                    ('2026-03-06', 'Cancelled', '1.00')])
            self.assertEqual(
                rows[-1][14:], ['142.00', '0.00', '142.00', 'usd'])

            # in the currency of the client, at the rate of the sale date
            chf = create_currency('chf')
            add_currency_rate(chf, Decimal('2'), dt.date(2026, 1, 1))
            add_currency_rate(chf, Decimal('3'), dt.date(2026, 3, 1))
            party.customer_currency = chf
            party.save()
            _, content, _, _ = Report.execute([party.id], {
                    'states': ['confirmed', 'processing', 'done'],
                    })
            rows = list(csv.reader(io.StringIO(content.decode('utf-8-sig'))))
            self.assertEqual([r[14:] for r in rows[1:] if r[14]], [
                    ['70.00', '0.00', '70.00', 'chf'],
                    ['16.00', '0.00', '16.00', 'chf'],
                    ['126.00', '0.00', '126.00', 'chf'],
                    ['212.00', '0.00', '212.00', 'chf'],
                    ])

    @with_transaction()
    def test_blocked_client(self):
        "A blocked client gets no quotation"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            service = create_product("Delivery", '10', type_='service')
            party = create_client("Pizzeria", status='blocked',
                addresses=[('create', [{'street': "Marktgasse 40"}])])
            sale = create_sale(company, party, None, [(service, 1, 10)],
                state='draft')
            with self.assertRaises(ClientBlockedError) as cm:
                Sale.quote([sale])
            self.assertEqual(
                cm.exception.message,
                'Client "Pizzeria" is blocked: sale "%s" cannot be quoted '
                'or confirmed.' % sale.rec_name)
            self.assertEqual(Sale(sale.id).state, 'draft')

            Party.write([party], {'client_status': 'active'})
            Sale.quote([sale])
            self.assertEqual(sale.state, 'quotation')

    @with_transaction()
    def test_party_erase(self):
        "Erasing a client erases its contacts"
        pool = Pool()
        Party = pool.get('party.party')
        Contact = pool.get('backoffice.client.contact')
        Erase = pool.get('party.erase', type='wizard')
        Session = pool.get('ir.session.wizard')
        company = create_company()
        with set_company(company):
            party = create_client("Luc Favre", client_type='b2c',
                client_contacts=[('create', [{
                                'name': "Luc Favre", 'roles': ['admin'],
                                'email': 'luc@mail.example'}])])
            Party.write([party], {'active': False})
            session = Session()
            session.save()
            erase = Erase(session.id)
            erase.ask.party = party
            erase.transition_erase()
            contact, = Contact.search(
                [('party', '=', party.id), ('active', 'in', [True, False])])
            self.assertEqual((contact.name, contact.email), ('', None))


del ModuleTestCase
