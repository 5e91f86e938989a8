# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Demo orders for the demo database, created with proteus"""
import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

from demo_sales import create_sales
from proteus import Model, Wizard
from proteus.config import get_config
from trytond.exceptions import UserWarning

__all__ = ['load_orders', 'STAGE_WEIGHTS']

# stage code of the default scheme: share of the orders that end there
STAGE_WEIGHTS = {
    'new': 18,
    'confirmed': 14,
    'preparing': 14,
    'ready': 12,
    'in_transit': 10,
    'delivered': 24,
    'cancelled': 8,
    }
# the moves from New that reach each stage, through the default transitions
PATHS = {
    'new': [],
    'confirmed': ['confirmed'],
    'preparing': ['confirmed', 'preparing'],
    'ready': ['confirmed', 'preparing', 'ready'],
    'in_transit': ['confirmed', 'preparing', 'ready', 'in_transit'],
    'delivered': [
        'confirmed', 'preparing', 'ready', 'in_transit', 'delivered'],
    'cancelled': ['cancelled'],
    }
# days from today of the delivery date of the orders of each stage
DAYS = {
    'new': (1, 14),
    'confirmed': (0, 10),
    'preparing': (0, 3),
    'ready': (0, 2),
    'in_transit': (0, 0),
    'delivered': (-30, -1),
    'cancelled': (-20, 10),
    }
PRIORITIES = [('low', 15), ('normal', 55), ('high', 20), ('urgent', 10)]
QUANTITIES = [1, 2, 3, 5, 6, 10, 12, 20, 24]
NOTES = [
    "Client called: deliver before 9:00 if possible.",
    "Ring at the delivery entrance, not at the shop.",
    "Check the expiry dates with the chef on delivery.",
    "Pallet to be taken back.",
    ]
DISCOUNT_REASONS = [
    "Loyal client: 5 % on this order",
    "Damaged packaging on the last delivery",
    ]
# the products a client usually orders
BASKET = 5
# orders per change of stage: the wizard checks and moves them together
BATCH = 200


def _windows_by_zone(config):
    "{zone id: {weekday: [window]}} of the zones of the company"
    Window = Model.get('backoffice.zone.window', config=config)
    result = defaultdict(lambda: defaultdict(list))
    for window in Window.find([], order=[('start', 'ASC')]):
        result[window.zone.id][window.weekday].append(window)
    return result


def _delivery(rng, today, days, windows):
    """A delivery date days (from, to) from today and a window of the
    zone that day, when the zone has windows on some day near it"""
    first, last = days
    dates = [today + dt.timedelta(days=d) for d in range(first, last + 1)]
    if windows:
        # the delivery days of the zone, looking a week further if needed
        delivering = [d for d in dates if str(d.weekday()) in windows]
        while not delivering:
            last += 7
            delivering = [
                today + dt.timedelta(days=d) for d in range(first, last + 1)
                if str((today + dt.timedelta(days=d)).weekday()) in windows]
        date = rng.choice(delivering)
        return date, rng.choice(windows[str(date.weekday())])
    return rng.choice(dates), None


def _move(sales, stage, config):
    """Move sales to stage with the change-stage wizard of the module;
    returns {sale id: message} of the refused ones

    A confirmation beyond a credit limit warns the members of the credit
    limit group: the loader approves it as a reviewer would."""
    Warning_ = Model.get('res.user.warning', config=config)
    refused = {}
    for i in range(0, len(sales), BATCH):
        batch = sales[i:i + BATCH]
        for _ in range(len(batch) + 1):
            wizard = Wizard(
                'backoffice.order.change_stage', batch, config=config)
            wizard.form.stage = stage
            try:
                wizard.execute('move')
            except UserWarning as warning:
                Warning_.skip(
                    warning.name, False, (config or get_config()).context)
                continue
            break
        for line in wizard.form.lines:
            if not line.moved:
                refused[line.sale.id] = line.message
    return refused


def load_orders(
        company, clients, products, count=300, seed=20261124, config=None):
    """Create count orders of clients for products, spread over the stages
    of the default scheme (New, Confirmed, Preparing, Ready, In Transit,
    Delivered, Cancelled), the priorities and delivery dates from a month
    ago to two weeks ahead, each in a window of the zone of the client's
    delivery address when the zone has one that day

    The orders are created in New and moved by the module's change-stage
    wizard, a batch per stage, so their sale state, timeline and labels
    are what the office would see; a few get an internal note or a discount
    on the whole order. Returns {'orders': [sale], 'by_stage': {code:
    [sale]}, 'refused': {sale id: message}} (orders a move refused, e.g.
    by a credit limit, stay in their stage)."""
    rng = random.Random(seed)
    Sale = Model.get('sale.sale', config=config)
    Stage = Model.get('backoffice.order.stage', config=config)
    Scheme = Model.get('backoffice.order.scheme', config=config)
    Note = Model.get('ir.note', config=config)
    Address = Model.get('party.address', config=config)
    Product = Model.get('product.product', config=config)
    Party = Model.get('party.party', config=config)

    clients = [Party(c.id) for c in clients]
    products = [Product(p.id) for p in products]
    # every stage once, then by their weights
    codes = list(STAGE_WEIGHTS)
    targets = codes[:count] + rng.choices(
        codes, weights=list(STAGE_WEIGHTS.values()),
        k=max(count - len(codes), 0))
    rng.shuffle(targets)

    windows = _windows_by_zone(config)
    addresses = {}
    for address in Address.find([
                ('party', 'in', [c.id for c in clients])],
            order=[('sequence', 'ASC NULLS FIRST'), ('id', 'ASC')]):
        addresses.setdefault(address.party.id, address)
    today = dt.date.today()

    baskets = {c.id: rng.sample(products, min(len(products), BASKET))
        for c in clients}

    # A client without delivery zone has no window to deliver in: its
    # orders wait in New (for the office to review) or are cancelled.
    zoned = [c for c in clients if addresses.get(c.id)
        and addresses[c.id].zone and windows.get(addresses[c.id].zone.id)]
    orders = []
    for target in targets:
        client = rng.choice(
            clients if target in {'new', 'cancelled'} or not zoned
            else zoned)
        address = addresses.get(client.id)
        zone = address.zone if address else None
        date, window = _delivery(
            rng, today, DAYS[target], windows.get(zone.id) if zone else None)
        values = {}
        if address:
            values['shipment_address'] = address.id
        values['sale_date'] = min(
            today, date - dt.timedelta(days=rng.randint(1, 5)))
        values['priority'] = rng.choices(
            [p for p, _ in PRIORITIES], [w for _, w in PRIORITIES])[0]
        values['delivery_date'] = date
        values['delivery_window'] = window.id if window else None
        basket = baskets[client.id]
        lines = [(product, rng.choice(QUANTITIES))
            for product in rng.sample(
                basket, min(len(basket), rng.randint(1, 4)))]
        orders.append((client, values, lines))
    sales = create_sales(orders, config)

    # Some new orders get a discount on the whole order, while they may.
    scheme, = Scheme.find([('company', '=', company.id)])
    stages = {s.code: Stage(s.id) for s in scheme.stages}
    discounted = [s for s, t in zip(sales, targets)
        if t in {'new', 'confirmed'} and rng.random() < 0.08]
    if discounted:
        wizard = Wizard('backoffice.order.discount', discounted,
            config=config)
        wizard.form.rate = Decimal('0.05')
        wizard.form.reason = rng.choice(DISCOUNT_REASONS)
        wizard.execute('apply')

    # The moves, wave after wave: a stage takes the orders going further.
    refused = {}
    depth = max(len(p) for p in PATHS.values())
    for step in range(depth):
        waves = defaultdict(list)
        for sale, target in zip(sales, targets):
            path = PATHS[target]
            if step < len(path) and sale.id not in refused:
                waves[path[step]].append(sale)
        for code, wave in waves.items():
            refused.update(_move(wave, stages[code], config))

    notes = [Note(resource=sale, message=rng.choice(NOTES))
        for sale in sales if rng.random() < 0.1]
    if notes:
        Note.save(notes)

    sales = Sale.find([('id', 'in', [s.id for s in sales])],
        order=[('id', 'ASC')])
    by_stage = defaultdict(list)
    for sale in sales:
        by_stage[sale.stage.code].append(sale)
    return {
        'orders': sales,
        'by_stage': dict(by_stage),
        'refused': refused,
        }


def deliver_past_sales(company, sales, config=None):
    """Give draft past sales the delivery that followed them: a date one to
    three days after the sale, a window of the client's zone that day when
    it has one, then their confirmation and the moves of the scheme up to
    Delivered"""
    Sale = Model.get('sale.sale', config=config)
    Scheme = Model.get('backoffice.order.scheme', config=config)
    Stage = Model.get('backoffice.order.stage', config=config)
    rng = random.Random(len(sales))
    windows = _windows_by_zone(config)
    context = Sale._config.context
    # Written in one call, without the on_change of each date and window:
    # a window is chosen for the date of its own zone, nothing to adjust.
    rows = Sale._proxy.search_read(
        [('id', 'in', [s.id for s in sales])], 0, None, None,
        ['sale_date', 'shipment_address.zone'], context)
    delivery = []
    for row in rows:
        values = {'delivery_date': row['sale_date'] + dt.timedelta(
                days=rng.randint(1, 3))}
        zone = (row.get('shipment_address.') or {}).get('zone')
        weekday = windows.get(zone, {}).get(
            str(values['delivery_date'].weekday()))
        if weekday:
            values['delivery_window'] = rng.choice(weekday).id
        delivery.extend([[row['id']], values])
    Sale._proxy.write(*delivery, context)
    sales = [Sale(row['id']) for row in rows]
    Sale.click(sales, 'quote')
    Sale.click(sales, 'confirm')
    scheme, = Scheme.find([('company', '=', company.id)])
    stages = {s.code: Stage(s.id) for s in scheme.stages}
    refused = {}
    for code in PATHS['delivered'][1:]:
        refused.update(_move(
                [s for s in sales if s.id not in refused], stages[code],
                config))
    return refused
