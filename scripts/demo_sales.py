# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Demo sales created in one call from prototypes, with proteus

A sale entered through proteus runs the on_change of the sale for its client
and of each line for its product, one RPC each: most of a demo build. The
values they give depend only on the client and the product, so they are
computed once per client (the sale) and per client and product (the line)
and copied into every sale.
"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from proteus import Model
from trytond.modules.product import round_price

__all__ = ['create_sales', 'sale_prototypes']


def sale_prototypes(clients, baskets, config=None):
    """({client id: sale values}, {(client id, product id): line values}):
    what the sale's on_change fills for the client (addresses, payment
    term, methods) on a sale that is never saved, and the client's prices
    of the products of its basket, read as the sale line computes them
    (product's sale price in the context of the customer)"""
    Sale = Model.get('sale.sale', config=config)
    Line = Model.get('sale.line', config=config)
    Product = Model.get('product.product', config=config)
    Category = Model.get('product.category', config=config)
    context = Sale._config.context
    # sale_discount's price before discount, when it is activated
    base_price = 'base_price' in Line._fields
    today = dt.date.today()
    # the customer taxes of the products (the tax rules of the clients are
    # not applied: the demo has none)
    products = {p.id: p for b in baskets.values() for p in b}
    categories = {r['id']: (r.get('template.') or {}).get('account_category')
        for r in Product._proxy.read(
            list(products), ['template.account_category'], context)}
    category_taxes = {r['id']: r['customer_taxes_used']
        for r in Category._proxy.read(
            list({c for c in categories.values() if c}),
            ['customer_taxes_used'], context)}
    taxes = {p: category_taxes.get(c) for p, c in categories.items()}
    sale_values, line_values = {}, {}
    for client in clients:
        values = Sale(party=client)._get_values()
        values.pop('lines', None)
        sale_values[client.id] = values
        by_unit = defaultdict(list)
        for product in baskets[client.id]:
            by_unit[product.sale_uom.id].append(product)
        for unit, products in by_unit.items():
            rows = Product._proxy.read(
                [p.id for p in products],
                ['sale_price_uom'],
                dict(context, customer=client.id,
                    currency=values.get('currency'), uom=unit,
                    sale_date=today))
            for row in rows:
                price = round_price(row['sale_price_uom'] or Decimal(0))
                line = {
                    'type': 'line',
                    'product': row['id'],
                    'unit': unit,
                    'unit_price': price,
                    }
                if base_price:
                    line['base_price'] = price
                if taxes.get(row['id']):
                    line['taxes'] = [('add', taxes[row['id']])]
                line_values[client.id, row['id']] = line
    return sale_values, line_values


def create_sales(orders, config=None):
    """Create in one call the sales of orders, [(client, {field: value},
    [(product, quantity)])], from the prototypes of their clients and
    products, the fields given overriding them; returns the sales, in order
    """
    Sale = Model.get('sale.sale', config=config)
    clients, baskets = {}, defaultdict(dict)
    for client, _, lines in orders:
        clients[client.id] = client
        for product, _ in lines:
            baskets[client.id][product.id] = product
    sale_values, line_values = sale_prototypes(
        list(clients.values()),
        {c: list(products.values()) for c, products in baskets.items()},
        config)
    vlist = []
    for client, values, lines in orders:
        values = dict(sale_values[client.id], **values)
        values['lines'] = [('create', [
                    dict(line_values[client.id, product.id],
                        quantity=quantity)
                    for product, quantity in lines])]
        vlist.append(values)
    context = Sale._config.context
    return [Sale(id_) for id_ in Sale._proxy.create(vlist, context)]
