# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The database of the access matrix test (tests/test_access_matrix.py)

Run in a process of its own (DB_NAME, TRYTOND_DATABASE_URI and, for SQLite,
TRYTOND_DATABASE__PATH in the environment; DB_CACHE reuses Tryton's cache of
test databases): activates the modules, creates a company, one user per
role with a password, and for each role the records its actions work on.
Prints the ids as JSON.

The database built is kept in DB_CACHE under a name that holds this file's
text: a later run copies it instead of building it again (the test's
set-up 35 s → 7 s on PostgreSQL) and reads the ids from the table that
keeps them."""
import datetime as dt
import hashlib
import json
import sys
from decimal import Decimal
from pathlib import Path

from sql import Table

# the suite's conftest: modules activated on the cached database of those
# they build on, as the tests in the suite's process do
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import speed_up_trytond_tests  # noqa: E402,I001
speed_up_trytond_tests()
from trytond.tests import test_tryton  # noqa: E402,I001
from trytond.tests.test_tryton import (  # noqa: E402,I001
    DB_NAME, backup_db_cache, restore_db_cache)
from trytond.modules.company.tests import (  # noqa: E402
    create_company, set_company)
from trytond.pool import Pool  # noqa: E402
from trytond.transaction import (  # noqa: E402
    Transaction, TransactionError)

MODULES = [
    'backoffice_zone', 'backoffice_client', 'backoffice_pricing',
    'backoffice_order', 'backoffice_fleet']
PASSWORD = 'Matrix-Access-2026!'
# DB_CACHE is per version of the modules; this file's version is named
CACHE_NAME = 'access-matrix-' + hashlib.sha1(
    Path(__file__).read_bytes()).hexdigest()
FIXTURES = Table('matrix_fixtures')

# role: the groups (module, xml id) of its user; "none" has no group.
# Every group the modules define, the upstream groups their access rules
# name, and the gate group of a stage (data: "Credit Review").
ROLES = {
    'none': [],
    'sales': [('sale', 'group_sale')],
    'sales_admin': [('sale', 'group_sale_admin')],
    'credit': [('account_credit_limit', 'group_credit_limit')],
    'reviewer': [('sale', 'group_sale'), 'Credit Review'],
    'fulfilment_admin': [('backoffice_order', 'group_fulfilment_admin')],
    'pricing_admin': [('backoffice_pricing', 'group_pricing_admin')],
    'delivery': [('backoffice_zone', 'group_delivery')],
    'zone_admin': [('backoffice_zone', 'group_zone_admin')],
    }


def main():
    if not restore_db_cache(CACHE_NAME):
        test_tryton.activate_module(MODULES)
        extras = {}
        while True:
            # as trytond's dispatcher: a transaction that needs a table
            # lock starts again with it
            with Transaction().start(DB_NAME, 0, **extras) as transaction:
                try:
                    keep(build())
                except TransactionError as error:
                    transaction.rollback()
                    error.fix(extras)
                    continue
                transaction.commit()
                break
        backup_db_cache(CACHE_NAME)
    with Transaction().start(DB_NAME, 0, readonly=True) as transaction:
        cursor = transaction.connection.cursor()
        cursor.execute(*FIXTURES.select(FIXTURES.data))
        sys.stdout.write(cursor.fetchone()[0])


def keep(data):
    "Store the ids of the fixtures in the database, for the copies of it"
    cursor = Transaction().connection.cursor()
    cursor.execute('CREATE TABLE matrix_fixtures (data TEXT)')
    cursor.execute(*FIXTURES.insert(
            [FIXTURES.data], [[json.dumps(data)]]))


def build():
    pool = Pool()
    User = pool.get('res.user')
    Group = pool.get('res.group')
    ModelData = pool.get('ir.model.data')
    Party = pool.get('party.party')
    Uom = pool.get('product.uom')
    Template = pool.get('product.template')
    Product = pool.get('product.product')
    Scheme = pool.get('backoffice.order.scheme')
    Stage = pool.get('backoffice.order.stage')
    Zone = pool.get('backoffice.zone')
    Sale = pool.get('sale.sale')
    Request = pool.get('backoffice.client.request')
    PriceGroup = pool.get('backoffice.price.group')
    Note = pool.get('ir.note')
    Activity = pool.get('backoffice.order.activity')
    Configuration = pool.get('backoffice.client.configuration')

    company = create_company()
    with set_company(company):
        review, = Group.create([{'name': "Credit Review"}])
        users = {}
        for role, groups in ROLES.items():
            ids = [review.id if g == 'Credit Review'
                else ModelData.get_id(*g) for g in groups]
            user, = User.create([{
                        'login': role, 'name': role.replace('_', ' ').title(),
                        'password': PASSWORD,
                        'companies': [('add', [company.id])],
                        'company': company.id,
                        'groups': [('add', ids)],
                        }])
            users[role] = user.id

        zone = Zone(
            company=company, name="Centre", code='C',
            weekdays=['0', '1', '2', '3', '4'],
            windows=[{'weekday': '0', 'start': dt.time(8),
                    'end': dt.time(12)}])
        zone.save()
        client = Party(name="Client", addresses=[{'zone': zone.id}])
        client.save()
        blocked = Party(
            name="Blocked Client", client_type='b2c',
            client_status='blocked', active=True)
        blocked.save()
        unit = Uom(ModelData.get_id('product', 'uom_unit'))
        template = Template(
            name="Flour", type='service', default_uom=unit, salable=True,
            sale_uom=unit, list_price=Decimal('10'))
        template.save()
        product = Product(template=template)
        product.save()
        price_group, = PriceGroup.create([{'name': "Restaurants"}])
        scheme = Scheme.get(company)
        stages = {s.code: s for s in scheme.stages}
        # Confirmed is gated: only the "Credit Review" group enters it
        Stage.write([stages['confirmed']], {'gate_group': review.id})

        def sale(state='draft', quantity=1):
            record = Sale(party=client)
            record.on_change_party()
            record.invoice_method = 'manual'
            record.lines = [{
                    'type': 'line', 'product': product.id,
                    'quantity': quantity,
                    'unit': unit.id, 'unit_price': Decimal('10'),
                    'base_price': Decimal('10')}]
            record.save()
            if state == 'quotation':
                Sale.quote([record])
            return record.id

        def request(**values):
            values = {
                'client_type': 'b2c',
                'vat_code': None, 'vat_type': None,
                'contact_name': "Paul", 'contact_email':
                'paul%s@bakery.example' % len(requests),
                **values}
            record, = Request.create([values])
            requests.append(record)
            return record.id

        # The requests of the fixtures wait for a person; private clients
        # are approved on arrival again afterwards (the default).
        config = Configuration(1)
        config.auto_approve_b2c = False
        config.save()
        requests = []
        fixtures = {}
        for role in ROLES:
            order = sale()
            note, = Note.create([{
                        'resource': 'sale.sale,%s' % order,
                        'message': "Secret: the client pays late"}])
            activity, = Activity.search([
                    ('sale', '=', order), ('kind', '=', 'note')])
            fixtures[role] = {
                'order': order,
                'activity': activity.id,
                'quote': sale(),
                'confirm': sale('quotation'),
                'cancel': sale(),
                'move': sale(),
                'board': sale(),
                'discount': sale(),
                'split': sale(quantity=4),
                'approve': request(),
                'refuse': request(refusal_reason="No VAT number"),
                'request': request(),
                }
        config.auto_approve_b2c = True
        config.save()
        template_sale = Sale(fixtures['none']['order'])
        order_values = {
            'party': client.id,
            'invoice_address': template_sale.invoice_address.id,
            'shipment_address': template_sale.shipment_address.id,
            'invoice_method': 'manual',
            }
        return {
            'company': company.id,
            'users': users,
            'password': PASSWORD,
            'client': client.id,
            'blocked': blocked.id,
            'product': product.id,
            'unit': unit.id,
            'price_group': price_group.id,
            'scheme': scheme.id,
            'stages': {c: s.id for c, s in stages.items()},
            'zone': zone.id,
            'order_values': order_values,
            'fixtures': fixtures,
            }


if __name__ == '__main__':
    main()
