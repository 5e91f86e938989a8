# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The catalogue importers: product categories (by code, parents first) and
products (a template with its one variant, by code)"""
from load_base import (
    Choice, Flag, Loader, Number, Ref, Refs, Text, chunks)

TYPES = {'goods': "Goods", 'service': "Service", 'assets': "Assets"}
# the categories a product's accounting category is chosen among
ACCOUNTING = [('accounting', '=', True)]


class CategoryLoader(Loader):
    label = 'categories'
    model = 'product.category'
    key_columns = ['code']
    columns = [
        Text('code', required=True, size=100),
        Text('name', required=True, size=200),
        Ref('parent', 'product.category', what='parent category'),
        Flag('accounting'),
        ]

    def batches(self, rows):
        """The rows level by level, parents first: a category may name a
        parent created by an earlier row of the file"""
        parents = {r.cells.get('code'): r.cells.get('parent')
            for r in rows if r.cells}
        levels = {}
        for row in rows:
            levels.setdefault(self.depth(row, parents), []).append(row)
        for depth in sorted(levels):
            yield from chunks(levels[depth], self.session.batch_size)

    @staticmethod
    def depth(row, parents):
        "How many ancestors of the row the file holds (-1: a loop)"
        code, depth, seen = row.cells and row.cells.get('code'), 0, set()
        while parents.get(code) in parents and code not in seen:
            seen.add(code)
            code = parents[code]
            depth += 1
        return -1 if code in seen else depth

    def created(self, rows, ids):
        super().created(rows, ids)
        self.lookups.get('product.category', 'code', ACCOUNTING).remember(
            [{'id': i, 'code': r.cells['code']} for r, i in zip(rows, ids)
                if r.cells.get('accounting', '').lower() in Flag.TRUE])

    def export_order(self):
        return [('parent', 'ASC NULLS FIRST'), ('code', 'ASC')]


class ProductLoader(Loader):
    """Products as templates with one variant: the code is the template's
    (and so the variant's), the cost price the variant's"""
    label = 'products'
    model = 'product.template'
    key_columns = ['code']
    columns = [
        Text('code', required=True, size=100),
        Text('name', required=True, size=200),
        Refs('categories', 'product.category', key='code',
            what='category'),
        Ref('unit', 'product.uom', key='symbol', field='default_uom',
            required=True),
        Number('list_price', required=True, digits=4, minimum=0),
        Number('cost_price', digits=4, minimum=0),
        Choice('type', TYPES),
        Flag('salable', default=True),
        Ref('account_category', 'product.category',
            domain=ACCOUNTING, what='accounting category'),
        ]

    def complete(self, values, row):
        values['type'] = values['type'] or 'goods'
        if values['salable']:
            values['sale_uom'] = values['default_uom']
        return values

    def read_fields(self):
        return [c.field for c in self.columns if c.field != 'cost_price'] + [
            'sale_uom', 'products']

    def read(self, ids):
        records = super().read(ids)
        products = self.proxy('product.product').read(
            [p for r in records for p in r['products']], ['cost_price'],
            self.session.context)
        costs = {p['id']: p['cost_price'] for p in products}
        for record in records:
            record['cost_price'] = (costs[record['products'][0]]
                if record['products'] else None)
        return records

    def create_values(self, values):
        values = super().create_values(values)
        values['products'] = [('create', [
                    {'cost_price': values.pop('cost_price', None)}])]
        return values

    def write_values(self, changes, current):
        changes = super().write_values(changes, current)
        if 'cost_price' in changes:
            changes['products'] = [('write', current['products'],
                    {'cost_price': changes.pop('cost_price')})]
        return changes

    def created(self, rows, ids):
        super().created(rows, ids)
        if self.session.dry_run:
            # the rules of the same run name the variants
            self.lookups.get('product.product', 'code').remember(
                [{'id': i, 'code': r.cells['code']}
                    for r, i in zip(rows, ids)])

    def export_order(self):
        return [('code', 'ASC')]
