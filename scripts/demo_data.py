# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Demo data for the BackOffice suite, loaded with proteus.

Deterministic (seeded), so every demo database shows the same clients and
orders.  Each load_* function adds one concern; later modules add theirs.
"""
import datetime as dt
import json
import random
from decimal import Decimal

from proteus import Model

CANTONS = [
    ('CH-AG', "Aargau"), ('CH-AI', "Appenzell Innerrhoden"),
    ('CH-AR', "Appenzell Ausserrhoden"), ('CH-BE', "Bern"),
    ('CH-BL', "Basel-Landschaft"), ('CH-BS', "Basel-Stadt"),
    ('CH-FR', "Fribourg"), ('CH-GE', "Genève"), ('CH-GL', "Glarus"),
    ('CH-GR', "Graubünden"), ('CH-JU', "Jura"), ('CH-LU', "Luzern"),
    ('CH-NE', "Neuchâtel"), ('CH-NW', "Nidwalden"), ('CH-OW', "Obwalden"),
    ('CH-SG', "Sankt Gallen"), ('CH-SH', "Schaffhausen"),
    ('CH-SO', "Solothurn"), ('CH-SZ', "Schwyz"), ('CH-TG', "Thurgau"),
    ('CH-TI', "Ticino"), ('CH-UR', "Uri"), ('CH-VD', "Vaud"),
    ('CH-VS', "Valais"), ('CH-ZG', "Zug"), ('CH-ZH', "Zürich"),
    ]

# category: [(product, unit, list price CHF)]
CATALOGUE = {
    "Dairy": [
        ("Whole milk 1 l", 'u', '1.60'), ("Cream 35% 0.5 l", 'u', '4.20'),
        ("Butter 250 g", 'u', '3.90'), ("Natural yoghurt 180 g", 'u', '0.85'),
        ],
    "Cheese": [
        ("Gruyère AOP 1 kg", 'kg', '24.50'), ("Emmentaler AOP 1 kg", 'kg',
            '19.80'), ("Vacherin Fribourgeois 1 kg", 'kg', '27.00'),
        ("Tête de Moine 800 g", 'u', '23.40'),
        ],
    "Bakery": [
        ("Zopf 500 g", 'u', '4.80'), ("Ruchbrot 1 kg", 'u', '5.20'),
        ("Gipfeli (10)", 'u', '7.50'),
        ],
    "Beverages": [
        ("Mineral water 1.5 l (6)", 'u', '5.40'),
        ("Apple juice 1 l", 'u', '2.40'), ("Espresso beans 1 kg", 'kg',
            '28.00'),
        ],
    "Fruit & Vegetables": [
        ("Apples Gala", 'kg', '3.80'), ("Potatoes", 'kg', '1.90'),
        ("Carrots", 'kg', '2.10'), ("Lettuce", 'u', '1.70'),
        ],
    "Meat": [
        ("Beef entrecôte", 'kg', '58.00'), ("Chicken breast", 'kg', '29.50'),
        ("Cervelat (2)", 'u', '3.20'),
        ],
    "Dry goods": [
        ("Flour white 1 kg", 'u', '1.80'), ("Risotto rice 1 kg", 'u', '4.60'),
        ("Olive oil 1 l", 'u', '12.90'),
        ],
    }

# name, B2B?, street, postal code, city, canton, email, latitude, longitude
CLIENTS = [
    ("Restaurant Kronenhalle", True, "Rämistrasse 4", "8001", "Zürich",
        'CH-ZH', "office@kronenhalle.example",
        47.3668, 8.5458),
    ("Hotel Bellevue Bern", True, "Kochergasse 3", "3011", "Bern", 'CH-BE',
        "einkauf@bellevue-bern.example",
        46.9466, 7.4446),
    ("Café du Bourg-de-Four", True, "Place du Bourg-de-Four 13", "1204",
        "Genève", 'CH-GE', "commandes@bourgdefour.example",
        46.201, 6.1481),
    ("Boulangerie Lausanne Gare", True, "Place de la Gare 9", "1003",
        "Lausanne", 'CH-VD', "achats@boulangerie-gare.example",
        46.5167, 6.6291),
    ("Kantine Novartis Campus", True, "Fabrikstrasse 2", "4056", "Basel",
        'CH-BS', "kantine@campus.example",
        47.57, 7.57),
    ("Seehotel Luzern", True, "Haldenstrasse 8", "6006", "Luzern", 'CH-LU',
        "kueche@seehotel-luzern.example",
        47.0537, 8.315),
    ("Grotto Ticinese", True, "Via Nassa 22", "6900", "Lugano", 'CH-TI',
        "ordini@grotto.example",
        46.0036, 8.951),
    ("Quartierladen St. Gallen", True, "Marktgasse 10", "9000",
        "St. Gallen", 'CH-SG', "laden@quartier-sg.example",
        47.4245, 9.3767),
    ("Spital Aarau Gastronomie", True, "Tellstrasse 25", "5001", "Aarau",
        'CH-AG', "gastro@spital-aarau.example",
        47.3937, 8.053),
    ("Hôtel des Alpes Sion", True, "Rue du Rhône 5", "1950", "Sion",
        'CH-VS', "reception@alpes-sion.example",
        46.2311, 7.3606),
    ("Comité d'entreprise Nestlé Vevey", True, "Avenue Nestlé 55", "1800",
        "Vevey", 'CH-VD', "ce@vevey.example",
        46.4603, 6.8489),
    ("Pizzeria Da Mario Winterthur", True, "Marktgasse 40", "8400",
        "Winterthur", 'CH-ZH', "mario@pizzeria.example",
        47.4997, 8.7302),
    ("Anna Keller", False, "Seefeldstrasse 120", "8008", "Zürich", 'CH-ZH',
        "anna.keller@mail.example",
        47.3547, 8.5534),
    ("Luc Favre", False, "Rue de Carouge 48", "1205", "Genève", 'CH-GE',
        "luc.favre@mail.example",
        46.1935, 6.1428),
    ("Sophie Meier", False, "Zähringerstrasse 30", "3012", "Bern", 'CH-BE',
        "sophie.meier@mail.example",
        46.956, 7.4343),
    ("Marco Bernasconi", False, "Via Cantonale 3", "6500", "Bellinzona",
        'CH-TI', "marco.b@mail.example",
        46.193, 9.021),
    ("Claire Dubois", False, "Rue du Seyon 12", "2000", "Neuchâtel",
        'CH-NE', "claire.dubois@mail.example",
        46.992, 6.931),
    ("Thomas Brunner", False, "Bahnhofstrasse 5", "6300", "Zug", 'CH-ZG',
        "t.brunner@mail.example",
        47.1709, 8.517),
    ]


# Geneva's urban area, drawn around the city (lon/lat)
GENEVA = {"type": "Polygon", "coordinates": [[
    [6.0850, 46.1850], [6.1150, 46.1620], [6.1700, 46.1650],
    [6.2150, 46.1850], [6.2200, 46.2150], [6.1850, 46.2400],
    [6.1300, 46.2450], [6.0900, 46.2250], [6.0850, 46.1850]]]}

MORNING = [('06:00', '10:00')]
TWO_ROUNDS = [('06:00', '10:00'), ('14:00', '17:00')]

# code, name, colour, priority, weekdays, windows, cut-off hours,
# rules: (kind, value)
ZONES = [
    ('ZH-CITY', "Zürich City", '#1f77b4', 10, '012345', TWO_ROUNDS, 12,
        [('postal', '8000-8099')]),
    ('ZH-WIN', "Winterthur", '#aec7e8', 0, '13', MORNING, 18,
        [('postal', '84*')]),
    ('ZH', "Canton of Zürich", '#17becf', 0, '024', MORNING, 18,
        [('subdivision', 'CH-ZH')]),
    ('BE', "Bern", '#d62728', 0, '14', MORNING, 24,
        [('postal', '3000-3030'), ('city', "Bern")]),
    ('BS', "Basel", '#9467bd', 0, '03', MORNING, 24,
        [('postal', '4000-4059')]),
    ('GE', "Genève", '#2ca02c', 0, '024', [('05:30', '09:30')], 24,
        [('polygon', GENEVA)]),
    ('LS', "Lausanne", '#98df8a', 5, '13', MORNING, 24,
        [('postal', '1000-1018')]),
    ('VD', "Vaud", '#bcbd22', 0, '3', MORNING, 36,
        [('subdivision', 'CH-VD')]),
    ('CENTRAL', "Central Switzerland", '#ff7f0e', 0, '2', MORNING, 36,
        [('subdivision', c) for c in ['CH-LU', 'CH-ZG', 'CH-SZ', 'CH-NW',
                'CH-OW', 'CH-UR']]),
    ('TI', "Ticino", '#e377c2', 0, '3', MORNING, 48,
        [('subdivision', 'CH-TI')]),
    ('EAST', "Eastern Switzerland", '#8c564b', 0, '1', MORNING, 36,
        [('subdivision', c) for c in ['CH-SG', 'CH-TG', 'CH-AR', 'CH-AI']]),
    ]


def switzerland():
    "Switzerland and its 26 cantons (ISO 3166-2), created once"
    Country = Model.get('country.country')
    Subdivision = Model.get('country.subdivision')
    countries = Country.find([('code', '=', 'CH')])
    if countries:
        return countries[0]
    country = Country(name="Switzerland", code='CH', code3='CHE',
        code_numeric='756')
    country.save()
    Subdivision.save([
            Subdivision(country=country, code=code, name=name, type='canton')
            for code, name in CANTONS])
    return country


def load_products(company):
    "The catalogue: products in categories, with their revenue account"
    from trytond.modules.account.tests.tools import get_accounts
    Category = Model.get('product.category')
    Template = Model.get('product.template')
    Uom = Model.get('product.uom')
    units = {
        'u': Uom.find([('name', '=', "Unit")])[0],
        'kg': Uom.find([('name', '=', "Kilogram")])[0],
        }
    accounts = get_accounts(company)
    food = Category(name="Food and beverages", accounting=True,
        account_revenue=accounts['revenue'],
        account_expense=accounts['expense'])
    food.save()
    dairy = None
    templates = []
    for name, items in CATALOGUE.items():
        category = Category(name=name, parent=dairy if name == "Cheese"
            else None)
        category.save()
        if name == "Dairy":
            dairy = category
        for product, unit, price in items:
            template = Template(name=product, type='goods', salable=True,
                default_uom=units[unit], sale_uom=units[unit],
                list_price=Decimal(price), account_category=food)
            template.categories.append(Category(category.id))
            template.products[0].cost_price = (
                Decimal(price) * Decimal('0.6')).quantize(Decimal('0.0001'))
            templates.append(template)
    Template.save(templates)
    Product = Model.get('product.product')
    return Product.find([('salable', '=', True)])


def load_zones(company):
    """The supplier's delivery zones; Aargau, Valais and Neuchâtel are left
    without one, so the office finds addresses no zone covers"""
    Zone = Model.get('backoffice.zone')
    Subdivision = Model.get('country.subdivision')
    country = switzerland()
    cantons = {s.code: s for s in Subdivision.find([('country', '=', country)])}
    zones = []
    for sequence, (code, name, colour, priority, days, windows, cutoff,
            rules) in enumerate(ZONES):
        zone = Zone(code=code, name=name, colour=colour, priority=priority,
            sequence=sequence, cutoff_hours=cutoff, weekdays=list(days))
        for day in days:
            for start, end in windows:
                zone.windows.new(weekday=day,
                    start=dt.time.fromisoformat(start),
                    end=dt.time.fromisoformat(end))
        for kind, value in rules:
            rule = zone.rules.new(kind=kind)
            if kind == 'postal':
                rule.pattern = value
                rule.country = country
            elif kind == 'city':
                rule.city = value
                rule.country = country
            elif kind == 'subdivision':
                rule.subdivision = cantons[value]
            else:
                rule.geojson = json.dumps(value)
        zones.append(zone)
    Zone.save(zones)
    return zones


def load_clients():
    """The well-known business and private clients, active, with their
    delivery address on the map"""
    Party = Model.get('party.party')
    Subdivision = Model.get('country.subdivision')
    country = switzerland()
    cantons = {s.code: s for s in Subdivision.find([('country', '=', country)])}
    parties = []
    for (name, business, street, postal_code, city, canton, email,
            latitude, longitude) in CLIENTS:
        party = Party(name=name)
        if not business:
            party.client_kind = 'individual'
        elif name.startswith("Comité d'entreprise"):
            party.client_kind = 'works_council'
        else:
            party.client_kind = 'company'
        party.client_status = 'active'
        address, = party.addresses
        address.street = street
        address.postal_code = postal_code
        address.city = city
        address.country = country
        address.subdivision = cantons[canton]
        address.latitude = latitude
        address.longitude = longitude
        party.contact_mechanisms.new(type='email', value=email)
        parties.append(party)
    Party.save(parties)
    return parties


# The flagship clients a visitor opens first, complete on every page:
# name, credit limit, contacts (name, roles), delivery floor, entrance,
# access code, instructions
FLAGSHIPS = [
    ("Restaurant Kronenhalle", 25000, [
            ("Gustav Zumsteg", ['admin']), ("Anna Frei", ['buyer']),
            ("Marc Weber", ['viewer']), ("Luca Bianchi", ['receiver'])],
        "Basement", "Kitchen door, Rämistrasse side", "2407#",
        "Fresh goods to the cold room; the chef signs the delivery note."),
    ("Hotel Bellevue Bern", 40000, [
            ("Sandra Keller", ['admin', 'buyer']), ("Peter Moser", ['buyer']),
            ("Nina Graf", ['viewer']), ("Urs Baumann", ['receiver'])],
        "Ground floor", "Goods entrance, Kochergasse 3a", "1848",
        "Ring at the goods lift; deliveries before 10:00 only."),
    ]


def payment_terms():
    "Net 30 for the businesses, direct for the others"
    PaymentTerm = Model.get('account.invoice.payment_term')
    net30 = PaymentTerm(name="30 days net")
    line = net30.lines.new(type='remainder')
    line.relativedeltas.new(days=30)
    direct = PaymentTerm(name="Direct")
    direct.lines.new(type='remainder')
    PaymentTerm.save([net30, direct])
    return net30, direct


def complete_flagships(company, products, net30):
    """The flagship clients with contacts in every role and portal logins,
    a payment term and a credit limit, preferred windows inside their
    zone's, the driver's details on their address and half a year of
    delivered orders, so every page of their form shows something"""
    from demo_orders import deliver_past_sales
    from demo_sales import create_sales
    Party = Model.get('party.party')
    Contact = Model.get('backoffice.client.contact')
    rng = random.Random(20261129)
    parties = []
    for (name, limit, contacts, floor, entrance, code,
            instructions) in FLAGSHIPS:
        party, = Party.find([('name', '=', name)])
        party.legal_form = 'corporation'
        party.customer_payment_term = net30
        party.credit_limit_amount = Decimal(limit)
        party.billing_scheme = 'monthly'
        party.payment_methods = ['invoice']
        party.delivery_methods = ['own_route']
        domain = name.split()[-1].lower()
        for contact, roles in contacts:
            party.client_contacts.new(
                name=contact, roles=roles,
                email=f"{contact.split()[0].lower()}@{domain}.example",
                notify_events=['order_confirmed', 'out_for_delivery',
                    'delivered'])
        address = party.addresses[0]
        address.floor = floor
        address.entrance = entrance
        address.access_code = code
        address.delivery_instructions = instructions
        zone = party.default_zone
        for window in (zone.windows if zone else [])[:3]:
            party.preferred_windows.new(
                weekday=window.weekday, start=window.start, end=window.end)
        parties.append(party)
    Party.save(parties)
    logins = [c for p in parties for c in p.client_contacts
        if set(c.roles) & {'admin', 'buyer'}]
    Contact.click([c for c in logins if 'admin' in c.roles],
        'create_portal_login')
    Contact.click([c for c in logins if 'admin' not in c.roles],
        'create_portal_login')

    # two orders a month for half a year, so the monthly graph has bars
    today = dt.date.today()
    orders = []
    for party in parties:
        for days in range(7, 190, 15):
            sale_date = today - dt.timedelta(days=days + rng.randint(0, 4))
            lines = [(product, rng.choice([2, 5, 10, 12, 20]))
                for product in rng.sample(products, 4)]
            orders.append((party, {'sale_date': sale_date}, lines))
    deliver_past_sales(company, create_sales(orders))


# price group: global percentage, {category: percentage}, the client tags
# whose clients are in the group
PRICE_GROUPS = [
    ("Restaurants", '-8', {"Dairy": '-12', "Cheese": '-15'},
        ["Restaurants", "Hotels"]),
    ("Retail", '-5', {"Bakery": '-10'}, ["Retail"]),
    ("Canteens", '-10', {"Meat": '-14', "Fruit & Vegetables": '-12'},
        ["Canteens"]),
    ]


def load_pricing(products):
    """Price groups for the client tags, a VIP tag rule and the rules of one
    client of its own, so every level of the engine shows in the demo"""
    PriceGroup = Model.get('backoffice.price.group')
    PriceTag = Model.get('backoffice.price.tag')
    Category = Model.get('product.category')
    Party = Model.get('party.party')
    categories = {c.name: c for c in Category.find([])}
    groups = {}
    for name, percentage, by_category, _ in PRICE_GROUPS:
        group = PriceGroup(name=name)
        rule = group.rules.new(level='global')
        rule.percentage = Decimal(percentage)
        for category, percentage in by_category.items():
            rule = group.rules.new(
                level='category', category=categories[category])
            rule.percentage = Decimal(percentage)
        groups[name] = group
    PriceGroup.save(list(groups.values()))

    vip, = Model.get('party.category').find([('name', '=', "VIP")])
    beverages = PriceTag(tag=vip, sequence=10)
    rule = beverages.rules.new(
        level='category', category=categories["Beverages"])
    rule.percentage = Decimal('-5')
    beverages.save()

    by_tag = {tag: groups[name]
        for name, _, _, tags in PRICE_GROUPS for tag in tags}
    clients = Party.find([('client_status', '=', 'active')])
    for client in clients:
        for tag in client.categories:
            if tag.name in by_tag:
                client.price_group = by_tag[tag.name]
                break
        else:
            if client.client_type == 'b2b':
                client.price_group = groups["Restaurants"]
    Party.save(clients)

    by_name = {p.name: p for p in products}
    kronenhalle, = Party.find([('name', '=', "Restaurant Kronenhalle")])
    rule = kronenhalle.pricing_rules.new(
        level='product', product=by_name["Gruyère AOP 1 kg"])
    rule.fixed_price = Decimal('21.90')
    rule = kronenhalle.pricing_rules.new(
        level='category', category=categories["Meat"])
    rule.percentage = Decimal('-18')
    kronenhalle.save()
    return groups


def load(company):
    from demo_clients import load_clients as load_more_clients
    from demo_orders import deliver_past_sales, load_orders
    products = load_products(company)
    load_zones(company)
    load_clients()
    # more clients for the lists and the insights: contacts in every role,
    # account requests to verify and half a year of past sales, delivered
    more = load_more_clients(company, products,
        business=26, private=10, requests=5, sales_per_client=4,
        confirm=False)
    deliver_past_sales(company, more['sales'])
    net30, _ = payment_terms()
    complete_flagships(company, products, net30)
    load_pricing(products)
    # the orders of the office's days, over every stage of the scheme
    Party = Model.get('party.party')
    load_orders(company, Party.find([('client_status', '=', 'active')]),
        products, count=300)
