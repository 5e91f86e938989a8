# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction


class Line(metaclass=PoolMeta):
    __name__ = 'sale.line'

    # Read-only by their states, not by the field: the clients send the
    # values the on_change of product and quantity computed when the line
    # is saved (they leave out fields read-only by definition).
    price_rule = fields.Many2One(
        'backoffice.price.rule', "Price Rule", ondelete='SET NULL',
        states={
            'readonly': True,
            'invisible': Eval('type') != 'line',
            },
        help="The client price rule that gave the unit price, if any.")
    price_origin = fields.Char(
        "Price Origin",
        states={
            'readonly': True,
            'invisible': Eval('type') != 'line',
            },
        help="Where the unit price comes from: the rule (kept when the "
        "rule is deleted), the list price or a price entered by hand.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'explain_price': {
                    'invisible': (Eval('type') != 'line') | ~Eval('product'),
                    'depends': ['type', 'product'],
                    'icon': 'tryton-search',
                    },
                })

    @fields.depends(
        'type', 'product', 'quantity', 'price_rule', 'price_origin',
        methods=['_get_context_sale_price'])
    def compute_unit_price(self):
        """The unit price of upstream, and with it the rule behind it (the
        on_change of product, quantity, unit and taxes set both)"""
        pool = Pool()
        Product = pool.get('product.product')
        Rule = pool.get('backoffice.price.rule')
        if self.type != 'line' or not self.product:
            self.price_rule = None
            self.price_origin = None
            return super().compute_unit_price()
        with Transaction().set_context(self._get_context_sale_price()):
            prices, rules = Product.get_sale_price_and_rules(
                [self.product], abs(self.quantity or 0))
        match = rules[self.product.id]
        self.price_rule = Rule(match.rule.id) if match else None
        self.price_origin = Rule.format_origin(match)
        return prices[self.product.id]

    @fields.depends('price_rule', 'price_origin')
    def on_change_unit_price(self):
        try:
            super().on_change_unit_price()
        except AttributeError:
            pass
        # A price typed by the user is no rule's
        self.price_rule = None
        self.price_origin = gettext('backoffice_pricing.msg_origin_manual')

    @classmethod
    def create(cls, vlist):
        # The values are compared below: their types first (values.py)
        cls.check_values(vlist)
        cls._price_missing(vlist)
        return super().create(vlist)

    @classmethod
    def _price_missing(cls, vlist):
        """Price the lines created without unit price or origin (by an API
        that did not run the on_change), in batches of the same context"""
        pool = Pool()
        Product = pool.get('product.product')
        Rule = pool.get('backoffice.price.rule')
        Sale = pool.get('sale.sale')
        Uom = pool.get('product.uom')
        todo = [v for v in vlist
            if v.get('type', 'line') == 'line' and v.get('product')
            and v.get('sale')
            and (v.get('unit_price') is None
                or not ({'price_rule', 'price_origin'} & v.keys()))]
        if not todo:
            return
        sales = {s.id: s for s in Sale.browse(list({v['sale'] for v in todo}))}
        products = {p.id: p for p in Product.browse(
                list({v['product'] for v in todo}))}
        groups = defaultdict(list)
        for values in todo:
            line = cls()
            line.type = 'line'
            line.sale = sales[values['sale']]
            line.product = products[values['product']]
            line.quantity = values.get('quantity') or 0
            line.unit = Uom(values['unit']) if values.get('unit') else None
            line.taxes = _tax_ids(values.get('taxes'))
            line.company = line.on_change_with_company()
            context = line._get_context_sale_price()
            key = (_freeze(context), abs(line.quantity))
            groups[key].append((values, line.product))
        for (context, quantity), items in groups.items():
            batch = list({p for _, p in items})
            with Transaction().set_context(dict(context)):
                prices, matches = Product.get_sale_price_and_rules(
                    batch, quantity)
            for values, product in items:
                match, price = matches[product.id], prices[product.id]
                if values.get('unit_price') is None:
                    values['unit_price'] = price
                if values['unit_price'] == price:
                    values['price_rule'] = match.rule.id if match else None
                    values['price_origin'] = Rule.format_origin(match)
                else:
                    values['price_rule'] = None
                    values['price_origin'] = gettext(
                        'backoffice_pricing.msg_origin_manual')

    @classmethod
    @ModelView.button_action('backoffice_pricing.wizard_price_explain')
    def explain_price(cls, lines):
        pass


def _tax_ids(value):
    "Tax ids from a One2Many/Many2Many value of create"
    ids = []
    for item in value or []:
        if isinstance(item, int):
            ids.append(item)
        elif isinstance(item, (list, tuple)) and item[0] == 'add':
            ids.extend(item[1])
    return ids


def _freeze(context):
    return tuple(sorted(
            (k, tuple(v) if isinstance(v, list) else v)
            for k, v in context.items()))
