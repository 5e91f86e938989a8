# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The demo data loaders of scripts/ (demo_clients.py, demo_orders.py)

They fill the demo database with proteus, as demo_setup.py runs them; here
each runs on a small scale in a database of the module it loads for (a
company, its chart of accounts and a fiscal year, as the scenarios start)
and what it created is checked.
"""
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / 'scripts'


@pytest.fixture
def demo_database(monkeypatch):
    """activate(module): the module activated with a company, its chart of
    accounts and a fiscal year, returning the company and the accounts;
    scripts/ is importable, as for demo_setup.py; the database is dropped
    at the end"""
    from trytond.tests.test_tryton import drop_db
    monkeypatch.syspath_prepend(str(SCRIPTS))

    def activate(module):
        from trytond.modules.account.tests.tools import (
            create_chart, create_fiscalyear, get_accounts)
        from trytond.modules.account_invoice.tests.tools import (
            set_fiscalyear_invoice_sequences)
        from trytond.modules.company.tests.tools import (
            create_company, get_company)
        from trytond.tests import tools

        # the root conftest.py's activation, from the scenarios' cache
        tools.activate_modules(module, create_company, create_chart)
        fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear())
        fiscalyear.click('create_period')
        return get_company(), get_accounts()

    yield activate
    drop_db()


def create_products(accounts, products):
    "The products of (name, unit name, type, list price), salable"
    from proteus import Model
    Category = Model.get('product.category')
    Uom = Model.get('product.uom')
    Template = Model.get('product.template')
    category = Category(name="Food", accounting=True,
        account_revenue=accounts['revenue'],
        account_expense=accounts['expense'])
    category.save()
    result = []
    for name, unit_name, type_, price in products:
        unit, = Uom.find([('name', '=', unit_name)])
        template = Template(name=name, type=type_, salable=True,
            default_uom=unit, sale_uom=unit, list_price=Decimal(price),
            account_category=category)
        template.save()
        result.extend(template.products)
    return result


def test_load_clients(demo_database):
    """Business clients with contacts in every role, private clients,
    account requests to verify and their past sales; the clients of a zone
    get a preferred window in it"""
    from demo_clients import load_clients
    from proteus import Model

    company, accounts = demo_database('backoffice_client')
    Zone = Model.get('backoffice.zone')
    zurich = Zone(name="Zürich City", code='ZH', weekdays=['0', '2'])
    zurich.rules.new(kind='postal', pattern='8000-8099')
    for weekday in ['0', '2']:
        zurich.windows.new(
            weekday=weekday, start=dt.time(6, 0), end=dt.time(10, 0))
    zurich.save()
    milk, cheese = create_products(accounts, [
            ("Whole milk 1 l", "Unit", 'goods', '1.60'),
            ("Gruyère AOP", "Kilogram", 'goods', '24.50'),
            ])

    demo = load_clients(
        company, products=[milk, cheese], business=4, private=2,
        requests=2, sales_per_client=1)

    assert (len(demo['business']), len(demo['private']),
        len(demo['requests'])) == (4, 2, 2)
    assert all(sorted(r for c in p.client_contacts for r in c.roles)
        == ['admin', 'buyer', 'receiver', 'viewer']
        for p in demo['business'])
    assert all(c.web_user for p in demo['business']
        if p.client_status == 'active'
        for c in p.client_contacts if 'admin' in c.roles)
    assert {r.state for r in demo['requests']} == {'to_verify'}
    assert {s.state for s in demo['sales']} == {'processing'}
    clients = demo['business'] + demo['private']
    zurich_clients = [p for p in clients
        if p.addresses[0].postal_code.startswith('80')]
    assert zurich_clients
    assert all(p.default_zone == zurich and p.preferred_windows
        for p in zurich_clients)


def test_load_orders(demo_database):
    """Orders over every stage of the default scheme, with priorities,
    delivery dates and the windows of the client's zone, moved by the
    change-stage wizard"""
    from demo_orders import load_orders
    from proteus import Model

    company, accounts = demo_database('backoffice_order')
    Zone = Model.get('backoffice.zone')
    zone = Zone(name="Centre", code='C', weekdays=['0', '2', '4'])
    zone.windows.new(weekday='0', start=dt.time(8), end=dt.time(12))
    zone.save()
    Party = Model.get('party.party')
    client = Party(name="Café du Lac")
    address, = client.addresses
    address.zone = zone
    client.save()
    product, = create_products(accounts, [
            ("Flour Delivery", "Unit", 'service', '100')])

    demo = load_orders(company, [client], [product], count=21, seed=7)

    assert len(demo['orders']) == 21
    assert demo['refused'] == {}
    assert sorted(demo['by_stage']) == [
        'cancelled', 'confirmed', 'delivered', 'in_transit', 'new',
        'preparing', 'ready']
    assert {s.state for s in demo['by_stage']['delivered']} == {'processing'}
    assert {s.state for s in demo['by_stage']['cancelled']} == {'cancelled'}
    assert all(s.delivery_window.weekday == str(s.delivery_date.weekday())
        for s in demo['orders'])
    assert [a.new_value
        for a in demo['by_stage']['delivered'][0].activities
        if a.kind == 'stage'] == [
        'New', 'Confirmed', 'Preparing', 'Ready', 'In Transit', 'Delivered']
    assert not any(s.manual_review for s in demo['orders'])
