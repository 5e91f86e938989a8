# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Account requests on every path: the fields of the workflow, automatic
approval and the approver's choices, as real users over the RPC checks"""
import unittest
from contextlib import contextmanager

from backoffice_testing import request

from trytond.model.exceptions import AccessError
from trytond.modules.backoffice_client.exceptions import ServerFieldError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction, check_access

from .test_module import create_client, create_user


@contextmanager
def as_user(user):
    "Act as user through the RPC checks (access rights, groups)"
    with Transaction().set_user(user.id), check_access():
        yield


def snapshot(records, names):
    return [tuple(getattr(r.__class__(r.id), n) for n in names)
        for r in records]


class ClientAccessTestCase(unittest.TestCase):
    "Account requests: what only the server or the approver sets"

    @classmethod
    def setUpClass(cls):
        drop_db()
        activate_module('backoffice_client')
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def private_request(self, **values):
        return {
            'client_type': 'b2c',
            'client_kind': 'individual',
            'vat_type': None,
            'contact_name': "Anna Keller",
            'contact_email': 'anna@mail.example',
            **values,
            }

    @with_transaction()
    def test_request_workflow_fields(self):
        "A Sales user cannot write the state or the validation of a request"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        Configuration = pool.get('backoffice.client.configuration')
        company = create_company()
        with set_company(company):
            config = Configuration(1)
            config.auto_approve_b2c = False
            config.save()
            clerk = create_user('clerk', ('sale', 'group_sale'))
            admin = create_user('sabine', ('sale', 'group_sale_admin'))
            with as_user(clerk):
                record, = Request.create([self.private_request()])
            names = ['state', 'validated_by', 'validated_date', 'contact']
            before = snapshot([record], names)
            for user in [clerk, admin]:
                for values in [
                        {'state': 'approved', 'validated_by': admin.id},
                        {'validated_date': None, 'contact': None,
                            'state': 'refused'}]:
                    with as_user(user):
                        with self.assertRaises(ServerFieldError) as cm, \
                                request():
                            Request.write([record], values)
                    self.assertRegex(
                        cm.exception.message,
                        r'^The field "(State|Validated By|Validated On|'
                        r'Contact)" of Account Request "Anna Keller '
                        r'<anna@mail.example>" is set by the server only')
                    self.assertEqual(snapshot([record], names), before)
            # nor in a new request, nor in a copy
            with as_user(clerk):
                count = Request.search_count([])
                with self.assertRaises(ServerFieldError) as cm, request():
                    Request.create([self.private_request(
                                contact_email='eve@mail.example',
                                state='approved')])
                self.assertEqual(
                    cm.exception.message,
                    'The field "State" of a new Account Request is set by '
                    'the server only (computed or set by its workflow): it '
                    'cannot be given.')
                with self.assertRaises(ServerFieldError), request():
                    Request.copy([record], default={'state': 'approved'})
                self.assertEqual(Request.search_count([]), count)
            # the approver's button still sets them
            with as_user(admin):
                Request.approve([record])
            record = Request(record.id)
            self.assertEqual(
                (record.state, record.validated_by), ('approved', admin))

    @with_transaction()
    def test_auto_approval_not_existing_client(self):
        "Automatic approval never reaches an existing (blocked) client"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            clerk = create_user('clerk', ('sale', 'group_sale'))
            blocked = create_client(
                "Anna Keller", client_type='b2c', status='blocked',
                payment_methods=['card'])
            with as_user(clerk):
                record, = Request.create([self.private_request(
                            party=blocked.id)])
            self.assertEqual(Request(record.id).state, 'to_verify')
            blocked = Party(blocked.id)
            self.assertEqual(
                (blocked.client_status, blocked.payment_methods),
                ('blocked', ('card',)))

    @with_transaction()
    def test_auto_approval_configured_values(self):
        "Automatic approval grants what the configuration says, not the ask"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        Configuration = pool.get('backoffice.client.configuration')
        company = create_company()
        with set_company(company):
            admin = create_user('sabine', ('sale', 'group_sale_admin'))
            config = Configuration(1)
            self.assertEqual(list(config.auto_payment_methods), ['card'])
            config.auto_delivery_methods = ['pickup_point']
            config.save()
            # even entered by an approver: nobody approved it
            with as_user(admin):
                record, = Request.create([self.private_request(
                            payment_methods=['invoice', 'deposit'],
                            delivery_methods=['own_route'],
                            billing_scheme='monthly')])
            record = Request(record.id)
            self.assertEqual(record.state, 'approved')
            party = record.party
            self.assertEqual(party.payment_methods, ('card',))
            self.assertEqual(party.delivery_methods, ('pickup_point',))
            self.assertNotEqual(party.billing_scheme, 'monthly')

    @with_transaction()
    def test_payment_methods_approver(self):
        "Only the approver's group chooses the payment methods of a request"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        Configuration = pool.get('backoffice.client.configuration')
        company = create_company()
        with set_company(company):
            config = Configuration(1)
            config.auto_approve_b2c = False
            config.save()
            clerk = create_user('clerk', ('sale', 'group_sale'))
            admin = create_user('sabine', ('sale', 'group_sale_admin'))
            with as_user(clerk):
                count = Request.search_count([])
                with self.assertRaises(AccessError) as cm, request():
                    Request.create([self.private_request(
                                payment_methods=['invoice'])])
                self.assertIn('Payment Methods', cm.exception.message)
                self.assertEqual(Request.search_count([]), count)
                record, = Request.create([self.private_request()])
                with self.assertRaises(AccessError), request():
                    Request.write([record], {'payment_methods': ['invoice']})
            self.assertEqual(Request(record.id).payment_methods, ())
            with as_user(admin):
                Request.write([record], {'payment_methods': ['invoice']})
                Request.approve([record])
            record = Request(record.id)
            self.assertEqual(record.party.payment_methods, ('invoice',))
