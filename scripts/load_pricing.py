# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The pricing importers: price groups (by code) and price rules, keyed by
what makes two rules compete (owner, level, target, unit, minimum quantity,
start date), so that their value and end date are what a re-run updates"""
from load_base import (
    LOOKUP_SIZE, Day, Loader, Number, Ref, RowError, Text, chunks)

# The fields of a rule that make its key (backoffice_pricing/rule_check.py
# refuses two rules of one key valid on the same day)
KEY_FIELDS = ['scope', 'party', 'price_tag', 'price_group', 'level',
    'product', 'category', 'unit', 'min_quantity', 'start_date']
OWNERS = {'client': 'party', 'tag': 'price_tag', 'group': 'price_group'}


class PriceGroupLoader(Loader):
    label = 'price groups'
    model = 'backoffice.price.group'
    key_columns = ['code']
    columns = [
        Text('code', required=True, size=100),
        Text('name', required=True, size=200),
        Text('description'),
        ]

    def __init__(self, session):
        super().__init__(session)
        self.domain = [('company', '=', session.context.get('company'))]

    def export_order(self):
        return [('code', 'ASC')]


class MinQuantity(Number):
    "The minimum quantity of a fixed price, empty for none (0)"

    def format(self, value, loader):
        return super().format(value, loader) if value else ''


class TagRef(Ref):
    """The tag pricing of a client tag, given by the tag's name; a tag
    without pricing in the company gets one"""

    def __init__(self):
        super().__init__('tag', 'party.category', key='name',
            field='price_tag')

    def parse(self, row, loader):
        tag = super().parse(row, loader)
        return loader.price_tags[tag] if tag is not None else None

    def format(self, value, loader):
        if value is None:
            return ''
        return self.lookup(loader).code(loader.tag_of[value])


class RuleLoader(Loader):
    label = 'price rules'
    model = 'backoffice.price.rule'
    # the columns of KEY_FIELDS (the scope and level follow from them)
    key_columns = ['price_group', 'client', 'tag', 'product', 'category',
        'unit', 'min_quantity', 'start_date']
    columns = [
        Ref('price_group', 'backoffice.price.group', what='price group'),
        Ref('client', 'party.party', field='party'),
        TagRef(),
        Ref('product', 'product.product'),
        Ref('category', 'product.category'),
        Number('percentage', digits=2, minimum=-100, maximum=1000),
        Number('fixed_price', digits=4, minimum=0),
        Ref('unit', 'product.uom', key='symbol'),
        MinQuantity('min_quantity', digits=None, minimum=0, as_float=True),
        Day('start_date'),
        Day('end_date'),
        ]

    def __init__(self, session):
        super().__init__(session)
        self.company = session.context.get('company')
        self.domain = [('company', '=', self.company)]
        # {tag id: tag pricing id} and back
        self.price_tags, self.tag_of = {}, {}

    def prepare(self, rows):
        super().prepare(rows)
        tags = self.column('tag').lookup(self).ids
        names = {r.cells.get('tag') for r in rows if r.cells}
        self.load_price_tags([tags[n] for n in names if n in tags])

    def load_price_tags(self, tags):
        "The tag pricings of tags, those missing created (by batch)"
        proxy = self.proxy('backoffice.price.tag')
        context = self.session.context
        for sub in chunks(sorted(set(tags)), LOOKUP_SIZE):
            ids = proxy.search(self.domain + [('tag', 'in', sub)],
                0, None, None, context)
            self.remember_tags(proxy.read(ids, ['tag'], context))
        missing = [t for t in set(tags) if t not in self.price_tags]
        if self.session.dry_run:
            ids = self.session.placeholders(len(missing))
        elif missing:
            ids = proxy.create([{'company': self.company, 'tag': t}
                    for t in missing], context)
        else:
            ids = []
        self.remember_tags([{'id': i, 'tag': t}
                for i, t in zip(ids, missing)])

    def remember_tags(self, records):
        for record in records:
            self.price_tags[record['tag']] = record['id']
            self.tag_of[record['id']] = record['tag']

    def complete(self, values, row):
        owners = [s for s, f in OWNERS.items() if values[f] is not None]
        if len(owners) != 1:
            raise RowError('price_group',
                "one of price_group, client or tag is required, not "
                + (' and '.join(owners) or "none"))
        values['scope'], = owners
        values['company'] = self.company
        if values['product'] is not None and values['category'] is not None:
            raise RowError('category', "a rule prices a product or a "
                "category, not both")
        values['level'] = ('product' if values['product'] is not None
            else 'category' if values['category'] is not None else 'global')
        self.check_value(values)
        if values['min_quantity'] is None:
            values['min_quantity'] = 0.0
        if (values['start_date'] and values['end_date']
                and values['end_date'] < values['start_date']):
            raise RowError('end_date', "the end date is before the start")
        return values

    @staticmethod
    def check_value(values):
        "A fixed price for a product, a percentage otherwise"
        if values['level'] == 'product':
            needed, other = 'fixed_price', 'percentage'
        else:
            needed, other = 'percentage', 'fixed_price'
            for field in ['unit', 'min_quantity']:
                if values[field]:
                    raise RowError(field, "only a fixed product price has "
                        f"a {field.replace('_', ' ')}")
        if values[needed] is None:
            raise RowError(needed, f"a {values['level']} rule needs a "
                f"{needed.replace('_', ' ')}")
        if values[other] is not None:
            raise RowError(other, f"a {values['level']} rule has no "
                f"{other.replace('_', ' ')}")

    def key(self, values):
        return tuple(values[f] for f in KEY_FIELDS)

    def read_fields(self):
        return super().read_fields() + ['scope', 'level', 'company']

    def existing(self, keys):
        "The stored rules of the batch's owners, by their key"
        result = {}
        proxy = self.proxy()
        for index, field in enumerate(['party', 'price_tag', 'price_group'],
                start=1):
            owners = sorted({k[index] for k in keys if k[index] is not None})
            for sub in chunks(owners, LOOKUP_SIZE):
                ids = proxy.search(self.domain + [(field, 'in', sub)],
                    0, None, None, self.session.context)
                for record in self.read(ids):
                    result[self.stored_key(record)] = record
        return result

    def stored_key(self, record):
        return tuple(self.by_field[f].normal(record[f], self)
            if f in self.by_field else record[f] for f in KEY_FIELDS)

    def prefetch(self, records):
        "The tags of the tag pricings too, as the tag column names them"
        proxy = self.proxy('backoffice.price.tag')
        ids = sorted({r['price_tag'] for r in records if r['price_tag']})
        self.remember_tags(proxy.read(ids, ['tag'], self.session.context))
        self.column('tag').lookup(self).fetch_codes(self.tag_of.values())
        super().prefetch([{k: v for k, v in r.items() if k != 'price_tag'}
                for r in records])

    def export_order(self):
        return [('scope', 'ASC'), ('price_group', 'ASC'), ('party', 'ASC'),
            ('price_tag', 'ASC'), ('level', 'ASC'), ('id', 'ASC')]
