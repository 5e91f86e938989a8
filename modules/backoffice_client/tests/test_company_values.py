# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""A company's figures stay in the company: the default zone, the billing
choices and the preferred windows of a client shared by two companies"""
import unittest
from contextlib import contextmanager

from backoffice_testing import request
from sql import Column

from trytond.model.exceptions import DomainValidationError
from trytond.modules.backoffice_client.exceptions import WindowError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction, check_access

from .test_module import create_client, create_user, create_zone, time

# The fields of the client account that are the company's
VALUES = ['billing_scheme', 'payment_methods', 'delivery_methods',
    'default_zone']


@contextmanager
def as_user(user, company):
    "Act as user of company through the RPC checks, as its client does"
    pool = Pool()
    User = pool.get('res.user')
    with Transaction().set_user(user.id), check_access(), \
            Transaction().set_context(
                User.get_preferences(context_only=True),
                company=company.id):
        yield


class ClientCompanyValuesTestCase(unittest.TestCase):
    "The client account values of each company"

    @classmethod
    def setUpClass(cls):
        drop_db()
        activate_module('backoffice_client')
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def setup_companies(self):
        """Two companies with a zone and a sales user each, and a client of
        company 1 (default zone, billing choices, a window)"""
        first = create_company(name="Grossist Zürich")
        second = create_company(name="Grossiste Genève",
            currency=first.currency)
        data = {}
        for key, company, code, windows in [
                (1, first, 'ZH', [('0', 6, 10)]),
                (2, second, 'GE', [('0', 14, 18)])]:
            with set_company(company):
                data[key] = {
                    'company': company,
                    'zone': create_zone(code, windows=windows),
                    'user': create_user(
                        'seller%s' % key, ('sale', 'group_sale')),
                    }
        with set_company(first):
            data['client'] = create_client("Hotel Bellevue",
                default_zone=data[1]['zone'].id, billing_scheme='monthly',
                payment_methods=['invoice'], delivery_methods=['own_route'],
                preferred_windows=[('create', [{
                                'weekday': '0',
                                'start': time(7), 'end': time(9)}])])
        return data

    def read_values(self, party, user, company):
        Party = Pool().get('party.party')
        with as_user(user, company):
            values, = Party.read([party.id], VALUES + ['preferred_windows'])
        return values

    @with_transaction()
    def test_values_per_company(self):
        "Company 2 sets its values of a shared client; company 1 keeps its"
        pool = Pool()
        Party = pool.get('party.party')
        Window = pool.get('backoffice.client.window')
        View = pool.get('ir.ui.view')
        ModelData = pool.get('ir.model.data')
        data = self.setup_companies()
        client = data['client']
        user1, company1, zone1 = (
            data[1]['user'], data[1]['company'], data[1]['zone'])
        user2, company2, zone2 = (
            data[2]['user'], data[2]['company'], data[2]['zone'])

        # company 2 knows nothing of company 1's values
        values = self.read_values(client, user2, company2)
        self.assertEqual(
            (values['default_zone'], values['billing_scheme'],
                values['payment_methods'], values['delivery_methods'],
                values['preferred_windows']),
            (None, 'order', (), (), ()))

        with as_user(user2, company2):
            Party.write([Party(client.id)], {
                    'default_zone': zone2.id,
                    'billing_scheme': 'weekly',
                    'payment_methods': ['card'],
                    'delivery_methods': ['pickup_point'],
                    'preferred_windows': [('create', [{
                                    'weekday': '0',
                                    'start': time(15), 'end': time(17)}])],
                    })

        # the client list of company 1, as the clients read it
        view_id = ModelData.get_id('backoffice_client', 'client_view_list')
        with as_user(user1, company1):
            view = Party.fields_view_get(view_id, 'tree')
            names = list(view['fields'])
            self.assertIn('default_zone', names)
            rows = Party.search_read(
                [('client_type', '!=', None)], fields_names=names + [
                    'default_zone.rec_name'])
            row, = [r for r in rows if r['id'] == client.id]
            self.assertEqual(row['default_zone'], zone1.id)
            self.assertEqual(row['default_zone.']['rec_name'], "Zone ZH")
            Party.read([client.id], names)
            # the search and the order of the list by zone
            self.assertEqual(
                Party.search([('default_zone', '=', zone1.id)]), [client])
            self.assertEqual(
                Party.search([('default_zone', '=', zone2.id)]), [])
            self.assertEqual(
                Party.search([('default_zone.name', 'ilike', '%ZH')]),
                [client])
            Party.search([], order=[('default_zone', 'ASC')])
            # monthly before the others' default, order
            self.assertEqual(Party.search([],
                    order=[('billing_scheme', 'ASC'), ('id', 'ASC')])[0],
                client)
            self.assertEqual(View.search([('id', '=', view_id)]),
                [View(view_id)])
        values = self.read_values(client, user1, company1)
        self.assertEqual(
            (values['default_zone'], values['billing_scheme'],
                values['payment_methods'], values['delivery_methods']),
            (zone1.id, 'monthly', ('invoice',), ('own_route',)))
        with as_user(user1, company1):
            windows = Window.browse(values['preferred_windows'])
            self.assertEqual(
                [(w.start, w.company) for w in windows],
                [(time(7), company1)])
            # no window of company 2 to be found either
            self.assertEqual(
                Window.search([('party', '=', client.id)]), windows)

        values = self.read_values(client, user2, company2)
        self.assertEqual(
            (values['default_zone'], values['billing_scheme'],
                values['payment_methods'], values['delivery_methods']),
            (zone2.id, 'weekly', ('card',), ('pickup_point',)))
        with as_user(user2, company2):
            self.assertEqual(
                [w.start for w in Window.browse(
                        values['preferred_windows'])],
                [time(15)])
            self.assertEqual(
                Party.search([
                        ('billing_scheme', '=', 'weekly'),
                        ('delivery_methods', 'in', ['pickup_point']),
                        ]),
                [client])

        # a party without values in a company has the defaults there
        with set_company(company1):
            other = create_client("Café Odeon")
        with as_user(user2, company2):
            self.assertEqual(
                Party.search([
                        ('id', 'in', [client.id, other.id]),
                        ('billing_scheme', '=', 'order'),
                        ]),
                [other])
            self.assertEqual(
                Party.search([
                        ('id', 'in', [client.id, other.id]),
                        ('default_zone', '=', None),
                        ]),
                [other])

    @with_transaction()
    def test_bad_values_refused(self):
        "The checks of the values hold in each company, nothing is stored"
        pool = Pool()
        Party = pool.get('party.party')
        Value = pool.get('party.party.client_account')
        data = self.setup_companies()
        client = data['client']
        user1, company1, zone1 = (
            data[1]['user'], data[1]['company'], data[1]['zone'])
        user2, company2, zone2 = (
            data[2]['user'], data[2]['company'], data[2]['zone'])
        before = (
            self.read_values(client, user1, company1),
            self.read_values(client, user2, company2))

        with as_user(user2, company2):
            # a zone of the other company
            with self.assertRaises(DomainValidationError), request():
                Party.write([Party(client.id)], {'default_zone': zone1.id})
            # a window outside its zone in company 2
            Party.write([Party(client.id)], {'default_zone': zone2.id})
            with self.assertRaises(WindowError) as cm, request():
                Party.write([Party(client.id)], {
                        'preferred_windows': [('create', [{
                                        'weekday': '0',
                                        'start': time(7),
                                        'end': time(9)}])],
                        })
            self.assertIn('"Zone GE"', cm.exception.message)
            Party.write([Party(client.id)], {'default_zone': None})
        self.assertEqual(before, (
                self.read_values(client, user1, company1),
                self.read_values(client, user2, company2)))

        # company 1's zone cannot move where its window does not fit
        with set_company(company1):
            afternoon = create_zone('PM', windows=[('0', 14, 17)])
        with as_user(user1, company1):
            with self.assertRaises(WindowError), request():
                Party.write([Party(client.id)],
                    {'default_zone': afternoon.id})
            # nor through its values written directly
            value, = Value.search([('party', '=', client.id)])
            with self.assertRaises(WindowError), request():
                Value.write([value], {'default_zone': afternoon.id})
            # nor may a user read or write the other company's values
            self.assertEqual(Value.search([
                        ('party', '=', client.id),
                        ('company', '=', company2.id)]), [])
        self.assertEqual(before[0], self.read_values(client, user1, company1))

    @with_transaction()
    def test_migration_from_party_columns(self):
        "The values of the party's old columns move to each company"
        pool = Pool()
        Party = pool.get('party.party')
        Value = pool.get('party.party.client_account')
        data = self.setup_companies()
        company1, zone1 = data[1]['company'], data[1]['zone']
        company2 = data[2]['company']
        with set_company(company1):
            party = create_client("Old Client")
        # the values of the party before: its own columns
        Value.delete(Value.search([('party', '=', party.id)]))
        # (the column types of the fields: JSONB on PostgreSQL)
        party_h = Party.__table_handler__('backoffice_client')
        old = {
            'billing_scheme': 'weekly',
            'payment_methods': ['invoice', 'deposit'],
            'delivery_methods': ['own_route'],
            'default_zone': zone1.id,
            }
        for name in old:
            party_h.add_column(name, Value._fields[name]._sql_type)
        table = Party.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [Column(table, n) for n in old],
                [Value._fields[n].sql_format(v) for n, v in old.items()],
                where=table.id == party.id))

        Value.__register__('backoffice_client')

        party_h = Party.__table_handler__('backoffice_client')
        for name in VALUES:
            self.assertFalse(party_h.column_exist(name), name)
        found = {}
        for value in Value.search([('party', '=', party.id)]):
            found[value.company] = (
                value.billing_scheme, value.payment_methods,
                value.delivery_methods, value.default_zone)
        self.assertEqual(found, {
                company1: ('weekly', ('deposit', 'invoice'), ('own_route',),
                    zone1),
                company2: ('weekly', ('deposit', 'invoice'), ('own_route',),
                    None),
                })
        # a second update leaves them
        Value.__register__('backoffice_client')
        self.assertEqual(
            Value.search([('party', '=', party.id)], count=True), 2)

    @with_transaction()
    def test_request_grants_in_its_company(self):
        "An approved request grants its choices in the request's company"
        pool = Pool()
        Party = pool.get('party.party')
        Request = pool.get('backoffice.client.request')
        Configuration = pool.get('backoffice.client.configuration')
        data = self.setup_companies()
        company1, company2 = data[1]['company'], data[2]['company']
        with set_company(company2):
            config = Configuration(1)
            config.auto_approve_b2c = False
            config.save()
            request, = Request.create([{
                        'company': company2.id,
                        'client_type': 'b2c',
                        'client_kind': 'individual',
                        'vat_type': None,
                        'contact_name': "Anna Keller",
                        'contact_email': 'anna@mail.example',
                        'payment_methods': ['invoice'],
                        'delivery_methods': ['click_collect'],
                        }])
        # approved from company 1's context
        with set_company(company1):
            Request.approve([request])
            # (the party of the request is read in the request's company)
            party = Party(Request(request.id).party.id)
            self.assertEqual(
                (party.payment_methods, party.delivery_methods), ((), ()))
        with Transaction().set_context(company=company2.id):
            party = Party(party.id)
            self.assertEqual(
                (party.payment_methods, party.delivery_methods),
                (('invoice',), ('click_collect',)))
