# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The price group of an account request is the approver's choice"""
import unittest

from backoffice_testing import request

from trytond.model.exceptions import AccessError
from trytond.modules.backoffice_client.tests.test_module import create_user
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction, check_access


class PricingAccessTestCase(unittest.TestCase):
    "Who chooses the price group of an account request"

    @classmethod
    def setUpClass(cls):
        drop_db()
        activate_module('backoffice_pricing')
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    @with_transaction()
    def test_request_price_group_approver(self):
        "A Sales user cannot choose a price group; the approver grants it"
        pool = Pool()
        Request = pool.get('backoffice.client.request')
        PriceGroup = pool.get('backoffice.price.group')
        Configuration = pool.get('backoffice.client.configuration')
        company = create_company()
        with set_company(company):
            config = Configuration(1)
            config.auto_approve_b2c = False
            config.save()
            group, = PriceGroup.create([{'name': "Restaurants"}])
            clerk = create_user('clerk', ('sale', 'group_sale'))
            admin = create_user('sabine', ('sale', 'group_sale_admin'))
            values = {
                'client_type': 'b2c', 'vat_type': None,
                'contact_name': "Anna", 'contact_email': 'anna@mail.example',
                }
            with Transaction().set_user(clerk.id), check_access():
                count = Request.search_count([])
                with self.assertRaises(AccessError) as cm, request():
                    Request.create([{**values, 'price_group': group.id}])
                self.assertEqual(
                    cm.exception.message,
                    'You are not allowed to access '
                    '"Account Request.Price Group".')
                self.assertEqual(Request.search_count([]), count)
                record, = Request.create([values])
                with self.assertRaises(AccessError), request():
                    Request.write([record], {'price_group': group.id})
            self.assertIsNone(Request(record.id).price_group)
            with Transaction().set_user(admin.id), check_access():
                Request.write([record], {'price_group': group.id})
                Request.approve([record])
            record = Request(record.id)
            self.assertEqual(record.party.price_group, group)
