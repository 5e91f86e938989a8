# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Demo clients for the demo database, created with proteus"""
import datetime as dt
import random

from demo_sales import create_sales
from proteus import Model
from stdnum.ch import uid

__all__ = ['load_clients', 'swiss_vat_numbers']

# city, postal code, canton
CITIES = [
    ("Zürich", '8001', 'CH-ZH'), ("Zürich", '8004', 'CH-ZH'),
    ("Winterthur", '8400', 'CH-ZH'), ("Bern", '3011', 'CH-BE'),
    ("Genève", '1204', 'CH-GE'), ("Lausanne", '1003', 'CH-VD'),
    ("Vevey", '1800', 'CH-VD'), ("Basel", '4051', 'CH-BS'),
    ("Luzern", '6003', 'CH-LU'), ("Zug", '6300', 'CH-ZG'),
    ("Lugano", '6900', 'CH-TI'), ("St. Gallen", '9000', 'CH-SG'),
    ("Aarau", '5000', 'CH-AG'), ("Sion", '1950', 'CH-VS'),
    ]
STREETS = [
    "Bahnhofstrasse", "Hauptgasse", "Rue du Marché", "Marktgasse",
    "Seestrasse", "Via Nassa", "Rue de la Gare", "Kirchweg", "Dorfstrasse",
    "Avenue de la Paix",
    ]
# name pattern, kind, industry, tag
BUSINESSES = [
    ("Restaurant %s", 'company', "Restaurant", "Restaurants"),
    ("Hotel %s", 'company', "Hotel", "Hotels"),
    ("Café %s", 'company', "Café", "Restaurants"),
    ("Bäckerei %s", 'company', "Bakery", "Retail"),
    ("Kantine %s", 'company', "Canteen", "Canteens"),
    ("Comité d'entreprise %s", 'works_council', "Works Council",
        "Canteens"),
    ("Quartierladen %s", 'company', "Retail Shop", "Retail"),
    ]
SURNAMES = [
    "Keller", "Favre", "Meier", "Bernasconi", "Dubois", "Brunner", "Weber",
    "Rochat", "Huber", "Rossi", "Schmid", "Gerber", "Morel", "Frei",
    "Baumann", "Fontana",
    ]
GIVEN_NAMES = [
    "Anna", "Luc", "Sophie", "Marco", "Claire", "Thomas", "Lea", "Nicolas",
    "Sara", "Jonas", "Elena", "David", "Julie", "Reto", "Chiara", "Urs",
    ]
PLACES = [
    "Sonne", "Krone", "Bellevue", "du Lac", "Central", "Schiff", "Rössli",
    "Bahnhof", "Alpenblick", "Bären", "Engel", "Lion d'Or", "Post", "Adler",
    ]


def swiss_vat_numbers(rng, count):
    "count distinct valid Swiss VAT numbers (CHE-123.456.789 MWST)"
    numbers = set()
    while len(numbers) < count:
        base = '%08d' % rng.randrange(10_000_000, 99_999_999)
        check = uid.calc_check_digit(base)
        if len(check) == 1:
            numbers.add(uid.format('CHE' + base + check) + ' MWST')
    return sorted(numbers)


def _get_or_create(model, name, config=None, **values):
    Model_ = Model.get(model, config=config)
    records = Model_.find([('name', '=', name)])
    if records:
        return records[0]
    record = Model_(name=name, **values)
    record.save()
    return record


def load_clients(
        company, products=None, business=28, private=14, requests=6,
        sales_per_client=3, seed=20261123, confirm=True, config=None):
    """Create business clients with contacts in every role (the Admin and
    the Buyer with a portal login), private clients, account requests to
    verify and, with products, past sales of each client, confirmed
    unless confirm is false (for a loader that completes them first)

    Returns {'business': [...], 'private': [...], 'requests': [...],
    'sales': [...]}. The zones, if any, are assigned from the postal codes;
    a client whose zone has windows gets a preferred window inside one."""
    rng = random.Random(seed)
    Party = Model.get('party.party', config=config)
    Country = Model.get('country.country', config=config)
    Subdivision = Model.get('country.subdivision', config=config)
    Request = Model.get('backoffice.client.request', config=config)
    Contact = Model.get('backoffice.client.contact', config=config)
    Category = Model.get('party.category', config=config)

    countries = Country.find([('code', '=', 'CH')])
    switzerland = countries[0] if countries else None
    cantons = {}
    if switzerland:
        cantons = {s.code: s for s in Subdivision.find(
                [('country', '=', switzerland.id)])}
    industries = {}
    tags = {}
    for _, _, industry, tag in BUSINESSES:
        if industry not in industries:
            industries[industry] = _get_or_create(
                'backoffice.client.industry', industry, config=config)
        if tag not in tags:
            tags[tag] = _get_or_create('party.category', tag, config=config)
    tags["VIP"] = _get_or_create('party.category', "VIP", config=config)
    vat_numbers = iter(swiss_vat_numbers(rng, business + requests))

    def person():
        return "%s %s" % (rng.choice(GIVEN_NAMES), rng.choice(SURNAMES))

    def email(name, domain):
        return '%s@%s.example' % (
            name.lower().replace(' ', '.').replace("'", ''), domain)

    def domain_of(name):
        return ''.join(c for c in name.lower() if c.isalnum())[:20]

    def set_address(address, city):
        name, postal_code, canton = city
        address.street = "%s %d" % (rng.choice(STREETS), rng.randint(1, 80))
        address.postal_code = postal_code
        address.city = name
        address.country = switzerland
        if canton in cantons:
            address.subdivision = cantons[canton]

    parties, business_clients, private_clients = [], [], []
    names = set()
    while len(business_clients) < business:
        pattern, kind, industry, tag = rng.choice(BUSINESSES)
        city = rng.choice(CITIES)
        name = pattern % (
            city[0] if kind == 'works_council' else rng.choice(PLACES))
        if name in names:
            name = "%s %s" % (name, city[0])
        if name in names:
            continue
        names.add(name)
        party = Party(name=name)
        party.client_kind = kind
        party.client_status = rng.choice(['active'] * 8 + ['prospect'])
        party.legal_form = rng.choice(['corporation', 'llc', 'sole'])
        party.industry = industries[industry]
        # a fresh instance per list: proteus keeps the list of a record
        party.categories.append(Category(tags[tag].id))
        if rng.random() < 0.2:
            party.categories.append(Category(tags["VIP"].id))
        identifier = party.identifiers.new(type='ch_vat')
        identifier.code = next(vat_numbers)
        set_address(party.addresses[0], city)
        party.billing_scheme = rng.choice(['order', 'weekly', 'monthly'])
        party.payment_methods = ['invoice'] + (
            ['deposit'] if rng.random() < 0.3 else [])
        party.delivery_methods = ['own_route'] + (
            ['click_collect'] if rng.random() < 0.3 else [])
        party.handling_instructions = rng.choice([
                None, "Fresh products to the cold room",
                "Deliver to the kitchen door, never to the restaurant"])
        party.access_notes = rng.choice([
                None, "Delivery entrance at the back, ring twice",
                "Loading bay open 6:00-10:00"])
        domain = domain_of(name)
        for roles in [['admin'], ['buyer'], ['viewer'], ['receiver']]:
            name_ = person()
            party.client_contacts.new(
                name=name_, email=email(name_, domain), roles=roles,
                phone='+41 %02d %03d %02d %02d' % (
                    rng.randint(21, 91), rng.randint(100, 999),
                    rng.randint(10, 99), rng.randint(10, 99)),
                notify_events=(['order_confirmed', 'invoice']
                    if 'viewer' in roles else
                    ['order_confirmed', 'out_for_delivery', 'delivered']))
        business_clients.append(party)
    while len(private_clients) < private:
        name = person()
        if name in names:
            continue
        names.add(name)
        party = Party(name=name)
        party.client_kind = rng.choice(['individual'] * 3 + ['employee'])
        party.client_status = 'active'
        set_address(party.addresses[0], rng.choice(CITIES))
        party.payment_methods = ['card']
        party.delivery_methods = [rng.choice(
                ['own_route', 'click_collect', 'pickup_point'])]
        party.contact_mechanisms.new(
            type='email', value=email(name, 'mail'))
        party.client_contacts.new(
            name=name, email=email(name, 'mail'), roles=['admin'],
            notify_events=['order_confirmed', 'out_for_delivery'])
        private_clients.append(party)
    parties = business_clients + private_clients
    Party.save(parties)

    # Employees of a client company order privately.
    companies = [p for p in business_clients if p.client_kind == 'company']
    for party in private_clients:
        if party.client_kind == 'employee' and companies:
            party.employer = rng.choice(companies)

    # A preferred window inside a window of the zone they got.
    for party in parties:
        zone = party.default_zone
        if zone and zone.windows:
            window = rng.choice(zone.windows)
            start = dt.datetime.combine(dt.date.min, window.start)
            end = dt.datetime.combine(dt.date.min, window.end)
            if end - start > dt.timedelta(hours=1):
                start += dt.timedelta(minutes=30)
            party.preferred_windows.new(
                weekday=window.weekday, start=start.time(), end=end.time())
    Party.save(parties)

    # Portal logins for the Admin and the Buyer of the active businesses
    logins = [c for p in business_clients if p.client_status == 'active'
        for c in p.client_contacts if set(c.roles) & {'admin', 'buyer'}]
    admins = [c for c in logins if 'admin' in c.roles]
    buyers = [c for c in logins if 'admin' not in c.roles]
    if admins:
        Contact.click(admins, 'create_portal_login')
    if buyers:
        Contact.click(buyers, 'create_portal_login')

    # Account requests waiting for a sales administrator
    pending = []
    for _ in range(requests):
        pattern, kind, _, _ = rng.choice(BUSINESSES)
        city = rng.choice(CITIES)
        company_name = pattern % rng.choice(PLACES) + " " + city[0]
        contact_name = person()
        request = Request(client_type='b2b')
        request.client_kind = kind
        request.company_name = company_name
        request.vat_type = 'ch_vat'
        request.vat_code = next(vat_numbers)
        request.contact_name = contact_name
        request.contact_email = email(contact_name, domain_of(company_name))
        request.contact_phone = '+41 44 555 %02d %02d' % (
            rng.randint(10, 99), rng.randint(10, 99))
        request.street = "%s %d" % (rng.choice(STREETS), rng.randint(1, 80))
        request.postal_code = city[1]
        request.city = city[0]
        request.country = switzerland
        request.delivery_methods = ['own_route']
        request.comment = "We would like to order weekly."
        pending.append(request)
    Request.save(pending)

    sales = []
    if products:
        Sale = Model.get('sale.sale', config=config)
        today = dt.date.today()
        buying = [p for p in parties if p.client_status == 'active']
        orders = []
        for party in buying:
            for _ in range(sales_per_client):
                sale_date = today - dt.timedelta(days=rng.randint(1, 180))
                lines = [(product, rng.choice([1, 2, 3, 5, 10, 12, 20]))
                    for product in rng.sample(
                        products, min(len(products), rng.randint(1, 5)))]
                orders.append((party, {'sale_date': sale_date}, lines))
        sales = create_sales(orders, config)
        if confirm:
            Sale.click(sales, 'quote')
            Sale.click(sales, 'confirm')
    return {
        'business': business_clients,
        'private': private_clients,
        'requests': pending,
        'sales': sales,
        }
