# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The texts of price rules: values, names of many rules at once, the
origin of a price and why a rule wins"""
from decimal import Decimal

from trytond import backend
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .engine import (
    LEVEL_CATEGORY, LEVEL_GLOBAL, LEVEL_PRODUCT, SCOPE_CLIENT, SCOPE_GROUP,
    SCOPE_TAG)


def to_decimal(value):
    # SQLite may hand NUMERIC columns back as float or int
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def format_percentage(value):
    "-10 → '-10%', 5.5 → '+5.5%', in the language of the user"
    pool = Pool()
    Lang = pool.get('ir.lang')
    lang = Lang.get()
    value = Decimal(value)
    digits = max(0, -value.normalize().as_tuple().exponent)
    text = lang.format_number(value, digits)
    if value > 0:
        text = '+' + text
    return text + '%'


def format_price(value, currency=None):
    "A price with the digits it has, at least those of the currency"
    pool = Pool()
    Lang = pool.get('ir.lang')
    lang = Lang.get()
    if value is None:
        return ''
    value = Decimal(value)
    digits = max(currency.digits if currency else 2,
        -value.normalize().as_tuple().exponent)
    if currency:
        return lang.currency(value, currency, digits=digits)
    return lang.format_number(value, digits)


def format_quantity(value):
    pool = Pool()
    Lang = pool.get('ir.lang')
    lang = Lang.get()
    value = Decimal(str(value or 0)).normalize()
    return lang.format_number(
        value, max(0, -value.as_tuple().exponent))


def format_value(level, percentage, fixed_price, unit, min_quantity, currency):
    "The value of a rule in words: '-10%' or 'CHF 7.50 per kg from 10'"
    if level == 'product':
        if fixed_price is None:
            return ''
        text = gettext('backoffice_pricing.msg_summary_fixed',
            price=format_price(fixed_price, currency),
            unit=unit.symbol if unit else '')
        if min_quantity:
            text = gettext('backoffice_pricing.msg_summary_min_quantity',
                value=text, quantity=format_quantity(min_quantity))
        return text
    if percentage is None:
        return ''
    return format_percentage(percentage)


class _Unit:
    "The symbol of a unit read by SQL, as format_value reads a unit"
    def __init__(self, symbol):
        self.symbol = symbol or ''


class PriceRule(metaclass=PoolMeta):
    __name__ = 'backoffice.price.rule'

    @classmethod
    def describe(cls, rule_ids):
        """{id: name} of many rules, as rec_name says them, in a few queries
        (names in the language of the database): for exports, where reading
        the rec_name of thousands of rules record by record is too slow"""
        pool = Pool()
        Company = pool.get('company.company')
        rows = cls._describe_rows(rule_ids)
        paths = {}
        if any(r[6] == 'category' for r in rows):
            paths = cls._category_paths()
        currencies, result = {}, {}
        for (id_, company, scope, party_name, group_name, tag_name,
                level, code, product_name, category_id, percentage,
                fixed_price, symbol, sale_symbol, min_quantity
                ) in rows:
            if company not in currencies:
                currencies[company] = Company(company).currency
            owner = {'client': party_name, 'group': group_name,
                'tag': tag_name}.get(scope) or '?'
            if level == 'product':
                target = f'[{code}] {product_name}' if code \
                    else product_name
            elif level == 'category':
                target = paths.get(category_id, '?')
            else:
                target = gettext('backoffice_pricing.msg_target_all')
            value = format_value(
                level, to_decimal(percentage), to_decimal(fixed_price),
                _Unit(symbol or sale_symbol), min_quantity,
                currencies[company])
            result[id_] = gettext('backoffice_pricing.msg_rule_rec_name',
                owner=owner, target=target, value=value)
        return result

    @classmethod
    def _describe_rows(cls, rule_ids):
        "The rows describe() names: the rules with their owners and targets"
        pool = Pool()
        Party = pool.get('party.party')
        PriceGroup = pool.get('backoffice.price.group')
        PriceTag = pool.get('backoffice.price.tag')
        PartyCategory = pool.get('party.category')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        cursor = Transaction().connection.cursor()
        rule = cls.__table__()
        party = Party.__table__()
        group = PriceGroup.__table__()
        tag = PriceTag.__table__()
        party_category = PartyCategory.__table__()
        product = Product.__table__()
        template = Template.__table__()
        unit = Uom.__table__()
        sale_unit = Uom.__table__()
        query = (rule
            .join(party, 'LEFT', condition=rule.party == party.id)
            .join(group, 'LEFT', condition=rule.price_group == group.id)
            .join(tag, 'LEFT', condition=rule.price_tag == tag.id)
            .join(party_category, 'LEFT',
                condition=tag.tag == party_category.id)
            .join(product, 'LEFT', condition=rule.product == product.id)
            .join(template, 'LEFT',
                condition=product.template == template.id)
            .join(unit, 'LEFT', condition=rule.unit == unit.id)
            .join(sale_unit, 'LEFT',
                condition=template.sale_uom == sale_unit.id))
        rows = []
        for sub_ids in grouped_slice(rule_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*query.select(rule.id, rule.company, rule.scope,
                    party.name, group.name, party_category.name, rule.level,
                    product.code, template.name, rule.category,
                    rule.percentage, rule.fixed_price, unit.symbol,
                    sale_unit.symbol, rule.min_quantity,
                    where=fields.SQL_OPERATORS['in'](rule.id, list(sub_ids))))
            rows.extend(cursor)
        return rows

    @classmethod
    def _category_paths(cls):
        "{category id: 'Parent / Child'} of every category, in one query"
        pool = Pool()
        Category = pool.get('product.category')
        category = Category.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*category.select(
                category.id, category.name, category.parent))
        categories = {i: (n, p) for i, n, p in cursor}

        def path(category_id):
            names, seen = [], set()
            while category_id is not None and category_id not in seen:
                seen.add(category_id)
                name, category_id = categories.get(category_id, ('?', None))
                names.append(name)
            return ' / '.join(reversed(names))
        return {i: path(i) for i in categories}

    # --- explanations

    @classmethod
    def format_origin(cls, match):
        "The short origin of a price shown on a sale line"
        if match is None:
            return gettext('backoffice_pricing.msg_origin_list_price')
        return gettext('backoffice_pricing.msg_origin_rule',
            level=cls.level_name(match.rule.level),
            rule=cls.describe([match.rule.id])[match.rule.id])

    @classmethod
    def level_name(cls, level):
        return {
            LEVEL_PRODUCT: gettext('backoffice_pricing.msg_level_product'),
            LEVEL_CATEGORY: gettext('backoffice_pricing.msg_level_category'),
            LEVEL_GLOBAL: gettext('backoffice_pricing.msg_level_global'),
            }[level]

    @classmethod
    def scope_name(cls, scope):
        return {
            SCOPE_CLIENT: gettext('backoffice_pricing.msg_scope_client'),
            SCOPE_TAG: gettext('backoffice_pricing.msg_scope_tag'),
            SCOPE_GROUP: gettext('backoffice_pricing.msg_scope_group'),
            }[scope]

    @classmethod
    def owner_label(cls, scope, owner):
        "'client \"Le Bistro\"', 'tag \"HoReCa\"', 'price group \"...\"'"
        pool = Pool()
        model = {
            SCOPE_CLIENT: 'party.party',
            SCOPE_TAG: 'backoffice.price.tag',
            SCOPE_GROUP: 'backoffice.price.group',
            }[scope]
        name = pool.get(model)(owner).rec_name
        return gettext('backoffice_pricing.msg_owner_label',
            scope=cls.scope_name(scope), name=name)

    @classmethod
    def format_reason(cls, candidate, winner, engine, unit=None, quantity=0):
        "Why the winner beats the candidate, or why it does not apply"
        if candidate.status == 'winner':
            return gettext('backoffice_pricing.msg_reason_winner')
        if candidate.status == 'inapplicable':
            return cls._inapplicable_reason(
                candidate.rule, candidate.reason, engine, unit, quantity)
        return cls._beaten_reason(candidate, winner)

    @classmethod
    def _inapplicable_reason(cls, rule, reason, engine, unit, quantity):
        pool = Pool()
        Uom = pool.get('product.uom')
        Lang = pool.get('ir.lang')
        if reason == 'date':
            lang = Lang.get()
            return gettext('backoffice_pricing.msg_reason_date',
                date=lang.strftime(engine.date),
                start=lang.strftime(rule.start_date)
                if rule.start_date else '…',
                end=lang.strftime(rule.end_date)
                if rule.end_date else '…')
        elif reason == 'min_quantity':
            return gettext('backoffice_pricing.msg_reason_not_reached',
                min=format_quantity(rule.min_quantity),
                quantity=format_quantity(quantity))
        return gettext('backoffice_pricing.msg_reason_other_unit',
            unit=Uom(rule.unit).rec_name,
            line_unit=Uom(unit).rec_name if unit else '')

    @classmethod
    def _beaten_reason(cls, candidate, winner):
        "The first item of the precedence key that differs, in words"
        pool = Pool()
        Category = pool.get('product.category')
        Uom = pool.get('product.uom')
        rule, reason, win = candidate.rule, candidate.reason, winner.rule
        if reason == 'level':
            return gettext('backoffice_pricing.msg_reason_level',
                winner=cls.level_name(win.level),
                other=cls.level_name(rule.level))
        elif reason == 'scope':
            return gettext('backoffice_pricing.msg_reason_scope',
                winner=cls.owner_label(win.scope, win.owner),
                other=cls.owner_label(rule.scope, rule.owner))
        elif reason == 'tag':
            return cls._tag_reason(win.owner, rule.owner)
        elif reason == 'distance':
            return gettext('backoffice_pricing.msg_reason_distance',
                winner=Category(winner.category).rec_name,
                other=Category(candidate.category).rec_name,
                winner_distance=winner.distance,
                other_distance=candidate.distance)
        elif reason == 'depth':
            return gettext('backoffice_pricing.msg_reason_depth',
                winner=Category(winner.category).rec_name,
                other=Category(candidate.category).rec_name)
        elif reason == 'category':
            return gettext('backoffice_pricing.msg_reason_category',
                winner=Category(winner.category).rec_name,
                other=Category(candidate.category).rec_name)
        elif reason == 'unit':
            return gettext('backoffice_pricing.msg_reason_unit',
                unit=Uom(win.unit).rec_name if win.unit else '')
        elif reason == 'min_quantity':
            return gettext('backoffice_pricing.msg_reason_min_quantity',
                winner=format_quantity(win.min_quantity),
                other=format_quantity(rule.min_quantity))
        return gettext('backoffice_pricing.msg_reason_id')

    @classmethod
    def _tag_reason(cls, winner_tag, other_tag):
        pool = Pool()
        PriceTag = pool.get('backoffice.price.tag')
        win_tag, other_tag = PriceTag(winner_tag), PriceTag(other_tag)
        if win_tag.sequence == other_tag.sequence:
            return gettext(
                'backoffice_pricing.msg_reason_tag_same_sequence',
                winner=win_tag.rec_name, other=other_tag.rec_name,
                sequence=win_tag.sequence
                if win_tag.sequence is not None else '-')
        return gettext('backoffice_pricing.msg_reason_tag',
            winner=win_tag.rec_name, other=other_tag.rec_name,
            winner_sequence=win_tag.sequence
            if win_tag.sequence is not None else '-',
            other_sequence=other_tag.sequence
            if other_tag.sequence is not None else '-')

    @classmethod
    def format_chain(cls, explanation):
        return ' > '.join(
            cls.owner_label(s, o) for s, o in explanation.chain)
