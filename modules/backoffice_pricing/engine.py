# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The pricing engine: pure Python, no database.

The Tryton models (rule_loader.py) load, in a few SQL queries, every rule
that can apply to a batch of clients and products, the clients' price group
and tags, the products' categories, units and list prices; `PricingEngine`
then answers any number of (client, product, quantity, unit) questions with
dict lookups.  The unit tests and scripts/bench_pricing.py use it directly.
One file above the house's 400 lines: the specs, the precedence key and the
engine that walks its indexes by that key are read together.

Precedence (see PRICING.md, which the project README quotes):

1. Level, the product dimension first: a fixed product price beats a
   category percentage, which beats a global percentage.
2. Scope, at the same level: the client's own rule beats a rule of one of
   its tags, which beats its price group's rule.  Between two tags of the
   client, the tag pricing listed first wins: the lower sequence (an empty
   sequence first, as Tryton sorts them), then the one created first.
3. Inside the same level and scope:
   - category: the category nearest to the product in the tree wins
     (distance 0 = a category of the product, 1 = its parent, ...); at equal
     distance the deeper category, then the one created first;
   - fixed price: a rule in the unit of the line beats a rule without unit
     (expressed in the product's sale unit), then the highest minimum
     quantity not above the line quantity wins.
4. Validity dates only make a rule applicable or not; rules that could
   compete at the same date are refused when saved (see `find_overlaps`),
   so the winner never depends on the order of loading.
"""
import datetime
from collections import namedtuple
from decimal import Decimal

from trytond.modules.product.uom import Uom as _Uom

__all__ = [
    'LEVEL_PRODUCT', 'LEVEL_CATEGORY', 'LEVEL_GLOBAL', 'LEVELS',
    'SCOPE_CLIENT', 'SCOPE_TAG', 'SCOPE_GROUP', 'SCOPES',
    'PERCENTAGE_MIN', 'PERCENTAGE_MAX',
    'RuleSpec', 'ClientSpec', 'TagSpec', 'ProductSpec', 'UnitCategorySpec',
    'UnitSpec', 'Match', 'Candidate', 'Explanation', 'PricingEngine',
    'precedence_key', 'dates_overlap', 'find_overlaps', 'overlap_key',
    'bulk_adjust']

LEVEL_PRODUCT, LEVEL_CATEGORY, LEVEL_GLOBAL = range(3)
LEVELS = {'product': LEVEL_PRODUCT, 'category': LEVEL_CATEGORY,
    'global': LEVEL_GLOBAL}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
SCOPE_CLIENT, SCOPE_TAG, SCOPE_GROUP = range(3)
SCOPES = {'client': SCOPE_CLIENT, 'tag': SCOPE_TAG, 'group': SCOPE_GROUP}
SCOPE_NAMES = {v: k for k, v in SCOPES.items()}

# A percentage below -100 would make prices negative; above +1000 (eleven
# times the list price) it is a typing error far more often than a price.
PERCENTAGE_MIN = Decimal(-100)
PERCENTAGE_MAX = Decimal(1000)
# Quantities are floats in Tryton: 10 kg converted from grams may come out
# as 9.999999999; a minimum quantity is reached within this tolerance.
QUANTITY_EPSILON = 1e-9

RuleSpec = namedtuple('RuleSpec', [
        'id', 'level', 'scope', 'owner', 'target', 'value', 'unit',
        'min_quantity', 'start_date', 'end_date'],
    defaults=[None, 0.0, None, None])
RuleSpec.__doc__ = """One rule as the engine needs it.

level: LEVEL_*; scope: SCOPE_*; owner: the party, tag pricing or price group
id; target: the product id (fixed price), the category id (category) or
None (global); value: the fixed price (Decimal, in the company currency,
per `unit` or per the product's sale unit) or the percentage (Decimal, -10
for 10 % off); min_quantity: fixed prices only, in `unit` or the sale unit.
"""

# tags: the ids of the tag pricings (TagSpec) matching the client's tags
ClientSpec = namedtuple('ClientSpec', ['id', 'price_group', 'tags'],
    defaults=[None, ()])
# sequence: None sorts before every number, as Tryton lists sequence_ordered
# records (ASC NULLS FIRST, then id)
TagSpec = namedtuple('TagSpec', ['id', 'sequence'], defaults=[None])
# categories: the product's own categories; list_price: per default unit,
# in the company currency (None when the engine only adjusts given prices)
ProductSpec = namedtuple('ProductSpec', [
        'id', 'categories', 'default_uom', 'sale_uom', 'list_price'],
    defaults=[None])
# A unit as product.uom's compute_qty and compute_price read it (class
# methods that only read these attributes): category: a UnitCategorySpec;
# accurate_field: 'factor' or 'rate', as product.uom computes it
UnitCategorySpec = namedtuple('UnitCategorySpec', ['id'])
UnitSpec = namedtuple('UnitSpec', [
        'id', 'category', 'factor', 'rate', 'accurate_field'])

# The winner of a resolution: the rule, the category through which a
# category rule applies and its distance, the position of the tag in the
# client's chain (0 for client and group scopes)
Match = namedtuple('Match', ['rule', 'category', 'distance', 'position'],
    defaults=[None, None, 0])
# status: 'winner', 'beaten' or 'inapplicable'; reason: why the winner
# beats this candidate ('level', 'scope', 'tag', 'distance', 'depth',
# 'category', 'unit', 'min_quantity', 'id') or why it does not apply
# ('date', 'min_quantity', 'unit'); category/distance/position as in Match
Candidate = namedtuple('Candidate', [
        'rule', 'status', 'reason', 'category', 'distance', 'position',
        'depth'])
# match: the winning Match or None (list price); chain: the client's scopes
# in precedence order as (scope, owner); candidates: sorted, winner first
# among the applicable ones
Explanation = namedtuple('Explanation', ['match', 'chain', 'candidates'])

# What each item of precedence_key() compares, the reasons of explain()
_KEY_NAMES = (
    'level', 'scope', 'tag', 'distance', 'depth', 'category', 'unit',
    'min_quantity', 'id')


def precedence_key(rule, position=0, distance=None, depth=None,
        category=None, unit=None):
    """The precedence of an applicable rule: the lowest key wins.

    position: the rank of the rule's tag among the client's tags (0 for the
    other scopes); distance, depth, category: of the category through which
    a category rule applies; unit: the unit of the line. Resolving and
    explaining both pick the winner by this key (PRICING.md's table)."""
    return (rule.level, rule.scope, position,
        distance if distance is not None else 0,
        -depth if depth is not None else 0,
        category if category is not None else 0,
        0 if rule.unit == unit else 1,
        -(rule.min_quantity or 0), rule.id)


def dates_overlap(start1, end1, start2, end2):
    "Whether two validity periods (None = unbounded, ends inclusive) meet"
    start1 = start1 or datetime.date.min
    start2 = start2 or datetime.date.min
    end1 = end1 or datetime.date.max
    end2 = end2 or datetime.date.max
    return start1 <= end2 and start2 <= end1


def overlap_key(rule):
    """The rules that compete for the same prices share this key.

    Different minimum quantities or units are quantity breaks and per-unit
    prices, not conflicts."""
    if rule.level == LEVEL_PRODUCT:
        return (rule.level, rule.scope, rule.owner, rule.target, rule.unit,
            float(rule.min_quantity or 0))
    return (rule.level, rule.scope, rule.owner, rule.target)


def find_overlaps(rules, existing=()):
    """Pairs (rule, other) of rules with the same overlap key whose validity
    periods meet: `rules` are checked against each other and `existing`;
    rules of `existing` are never compared among themselves."""
    by_key = {}
    for rule in existing:
        by_key.setdefault(overlap_key(rule), []).append(rule)
    pairs = []
    for rule in rules:
        others = by_key.setdefault(overlap_key(rule), [])
        for other in others:
            if dates_overlap(rule.start_date, rule.end_date,
                    other.start_date, other.end_date):
                pairs.append((rule, other))
                break
        others.append(rule)
    return pairs


def bulk_adjust(rule, percentage, rounding):
    """The value of `rule` after moving every price it yields by
    `percentage` (5 = 5 % dearer): a fixed price is multiplied, a
    percentage is compounded: -10 % then +5 % gives -5.5 %."""
    factor = (100 + percentage) / 100
    if rule.level == LEVEL_PRODUCT:
        return (rule.value * factor).quantize(rounding)
    return ((100 + rule.value) * factor - 100).quantize(Decimal('0.01'))


_MISSING = object()


class _ScopeRules:
    "The rules of one scope (client, tag pricing or price group)"
    __slots__ = ('product', 'category', 'global_', 'nearest')

    def __init__(self):
        self.product = {}   # product id -> [RuleSpec]
        self.category = {}  # category id -> RuleSpec
        self.global_ = None
        # category id -> (RuleSpec, its category, distance, depth, Match,
        # precedence key) of the category rule that wins for it (itself or
        # above), for every category under a rule of the scope: one lookup
        # per product
        self.nearest = {}


class PricingEngine:
    """Resolve client prices from preloaded rules.

    rules: RuleSpecs; clients: ClientSpecs; tags: TagSpecs; products:
    ProductSpecs; parents: {category id: parent id or None} (the whole tree,
    or at least every ancestor of the products' categories); units: UnitSpecs;
    date: the day the prices are for (rules not valid then are kept only for
    explanations); rounding: the quantum of prices (Decimal('0.0001') for
    Tryton's 4 price digits); convert: an optional function turning an
    amount of the company currency into the currency of the prices asked
    (fixed prices only; percentages apply to a base price already in it);
    Uom: the product.uom model whose compute_qty and compute_price convert
    between the UnitSpecs (default: upstream's).
    """

    def __init__(self, rules, clients=(), tags=(), products=(), parents=None,
            units=(), date=None, rounding=Decimal('0.0001'), convert=None,
            Uom=_Uom):
        self.Uom = Uom
        self.date = date or datetime.date.today()
        self.rounding = rounding
        self.convert = convert
        self.clients = {c.id: c for c in clients}
        self.tags = {t.id: t for t in tags}
        self.products = {p.id: p for p in products}
        self.parents = dict(parents or {})
        self.units = {u.id: u for u in units}
        self.rules = {}
        self._scopes = {}
        self._by_owner = {}
        self._chains = {}
        self._indexes = {}
        # 1 + percentage / 100 of each percentage rule, computed once
        self._factors = {}
        self._ancestors = {}
        self._own_categories = {}
        self._product_categories = {}
        self._depths = {}
        self._base_prices = {}
        for rule in rules:
            self.rules[rule.id] = rule
            self._by_owner.setdefault(
                (rule.scope, rule.owner), []).append(rule)
            if not self.valid(rule):
                continue
            scope = self._scopes.get((rule.scope, rule.owner))
            if scope is None:
                scope = self._scopes[(rule.scope, rule.owner)] = _ScopeRules()
            if rule.level == LEVEL_PRODUCT:
                scope.product.setdefault(rule.target, []).append(rule)
            else:
                self._factors[rule.id] = (100 + rule.value) / 100
            # Saved rules never overlap; rows written behind the ORM might:
            # the precedence decides, whatever the order of loading.
            if rule.level == LEVEL_CATEGORY:
                other = scope.category.get(rule.target)
                if other is None or (
                        precedence_key(rule) < precedence_key(other)):
                    scope.category[rule.target] = rule
            elif rule.level == LEVEL_GLOBAL:
                if scope.global_ is None or (
                        precedence_key(rule) < precedence_key(scope.global_)):
                    scope.global_ = rule
        children = {}
        for category, parent in self.parents.items():
            if parent is not None:
                children.setdefault(parent, []).append(category)
        for scope in self._scopes.values():
            if scope.category:
                self._fill_nearest(scope, children)

    # --- the structure of clients and products

    def valid(self, rule, date=None):
        "Whether the rule is valid at date (default: the engine's date)"
        date = date or self.date
        return ((rule.start_date is None or rule.start_date <= date)
            and (rule.end_date is None or date <= rule.end_date))

    def chain(self, client_id):
        """The scopes of a client in precedence order: [(scope, owner,
        position)] with position the rank of a tag among the client's tags"""
        chain = self._chains.get(client_id)
        if chain is None:
            client = self.clients.get(client_id)
            chain = [(SCOPE_CLIENT, client_id, 0)]
            if client is not None:
                tags = sorted(
                    (self.tags[t] for t in client.tags if t in self.tags),
                    key=self.tag_order)
                chain.extend(
                    (SCOPE_TAG, t.id, i) for i, t in enumerate(tags))
                if client.price_group is not None:
                    chain.append((SCOPE_GROUP, client.price_group, 0))
            self._chains[client_id] = chain
        return chain

    @staticmethod
    def tag_order(tag):
        """Tag pricings of one client in the order of their list: lower
        sequence first (empty first), then the one created first"""
        return (tag.sequence is not None, tag.sequence or 0, tag.id)

    def _client_index(self, client_id):
        """What resolve() needs of a client, computed once: the product and
        category rules of its scopes that hold some, in precedence order,
        and the Match of its global rule (it does not depend on the
        product)"""
        index = self._indexes.get(client_id)
        if index is None:
            products, categories, global_ = [], [], None
            for scope, owner, position in self.chain(client_id):
                rules = self._scopes.get((scope, owner))
                if rules is None:
                    continue
                if rules.product:
                    products.append((rules.product, position))
                if rules.category:
                    categories.append((rules.nearest, position))
                if global_ is None and rules.global_ is not None:
                    global_ = Match(rules.global_, None, None, position)
            index = self._indexes[client_id] = (
                products, categories, global_)
        return index

    def depth(self, category):
        depth = self._depths.get(category)
        if depth is None:
            depth, seen, parent = 0, {category}, self.parents.get(category)
            while parent is not None and parent not in seen:
                seen.add(parent)
                depth += 1
                parent = self.parents.get(parent)
            self._depths[category] = depth
        return depth

    def ancestors(self, category):
        "[(category, distance)] from the category up to its root"
        result = self._ancestors.get(category)
        if result is None:
            result, seen, distance = [], set(), 0
            current = category
            # seen: a parent loop (impossible through the ORM) ends the walk
            while current is not None and current not in seen:
                seen.add(current)
                result.append((current, distance))
                current = self.parents.get(current)
                distance += 1
            self._ancestors[category] = result
        return result

    def product_categories(self, product_id):
        """[(category, distance, depth)] of a product, nearest first: its
        own categories (0), their parents (1)...; at equal distance the
        deeper category first, then the lower id"""
        result = self._product_categories.get(product_id)
        if result is None:
            product = self.products.get(product_id)
            distances = {}
            for category in (product.categories if product else ()):
                for ancestor, distance in self.ancestors(category):
                    if distance < distances.get(ancestor, distance + 1):
                        distances[ancestor] = distance
            result = sorted(
                ((c, d, self.depth(c)) for c, d in distances.items()),
                key=lambda i: (i[1], -i[2], i[0]))
            self._product_categories[product_id] = result
        return result

    # --- units

    def line_unit(self, product, unit_id):
        """The unit prices are asked in: the given one if it is of the
        product's unit category, else the sale unit (as upstream)"""
        if unit_id is not None:
            unit = self.units.get(unit_id)
            default = self.units.get(product.default_uom)
            if unit and default and unit.category == default.category:
                return unit_id
        return product.sale_uom or product.default_uom

    def compute_qty(self, from_id, qty, to_id):
        "product.uom's compute_qty, without rounding, between unit ids"
        return self.Uom.compute_qty(
            self.units[from_id], qty, self.units[to_id], round=False)

    def compute_price(self, from_id, price, to_id):
        "product.uom's compute_price between unit ids"
        return self.Uom.compute_price(
            self.units[from_id], price, self.units[to_id])

    # --- resolution

    def _pick_fixed(self, rules, product, unit, quantity):
        """The winning fixed price among the rules of one scope for a line
        in `unit`: those in the line unit or without unit (per sale unit)
        whose minimum quantity is reached"""
        sale_quantity = None
        applicable = []
        for rule in rules:
            if rule.unit == unit:
                reached = quantity
            elif rule.unit is None:
                if sale_quantity is None:
                    sale_quantity = self.compute_qty(
                        unit, quantity, product.sale_uom or unit)
                reached = sale_quantity
            else:
                continue
            if rule.min_quantity <= reached + QUANTITY_EPSILON:
                applicable.append(rule)
        if len(applicable) > 1:
            return min(applicable, key=lambda r: precedence_key(r, unit=unit))
        elif applicable:
            return applicable[0]

    def resolve(self, client_id, product_id, quantity=0, unit=None):
        """The winning Match for the question, or None (no rule: list price).

        The hot path of batches: a few dict lookups per scope of the client
        and level; the Match objects of category and global rules are built
        once. Levels, then the client's scopes, are walked in the order of
        the first items of precedence_key(): the first scope of a level with
        an applicable rule holds the winner, picked by that key."""
        index = self._indexes.get(client_id)
        if index is None:
            index = self._client_index(client_id)
        products, categories, global_ = index
        if products:
            for rules_by_product, position in products:
                rules = rules_by_product.get(product_id)
                if rules:
                    product = self.products[product_id]
                    rule = self._pick_fixed(rules, product,
                        self.line_unit(product, unit), abs(quantity or 0))
                    if rule is not None:
                        return Match(rule, None, None, position)
        if categories:
            own = self._own_categories.get(product_id, _MISSING)
            if own is _MISSING:
                own = self._own_category(product_id)
            if own.__class__ is int:
                for nearest, position in categories:
                    hit = nearest.get(own)
                    if hit is not None:
                        if position:
                            return Match(hit[0], hit[1], hit[2], position)
                        return hit[4]
            elif own:
                for nearest, position in categories:
                    hits = [nearest[c] for c in own if c in nearest]
                    if hits:
                        best = min(hits, key=lambda h: h[5])
                        return Match(best[0], best[1], best[2], position)
        return global_

    def _own_category(self, product_id):
        """The category of the product (an int, the common case), a tuple of
        its categories or None"""
        product = self.products.get(product_id)
        categories = product.categories if product else ()
        if len(categories) == 1:
            own = categories[0]
        else:
            own = tuple(categories) or None
        self._own_categories[product_id] = own
        return own

    def _fill_nearest(self, scope, children):
        """Map every category under a category rule of the scope to the rule
        that wins for it: of the rules above it, the lowest precedence key
        (the nearest)"""
        nearest = scope.nearest
        for category, rule in scope.category.items():
            depth = self.depth(category)
            stack, seen = [(category, 0)], set()
            while stack:
                current, distance = stack.pop()
                if current in seen:
                    continue
                seen.add(current)
                key = precedence_key(rule, 0, distance, depth, category)
                other = nearest.get(current)
                if other is None or key < other[5]:
                    # the Match for client and group scopes (position 0),
                    # built once: most resolutions return it as is
                    nearest[current] = (rule, category, distance, depth,
                        Match(rule, category, distance, 0), key)
                stack.extend(
                    (c, distance + 1) for c in children.get(current, ()))

    def _entries(self, client_id, product_id, unit, quantity):
        """(precedence key, rule, reason it does not apply or None,
        category, distance, position, depth) of every rule of the client's
        scopes that targets the product, valid or not"""
        product = self.products[product_id]
        sale_quantity = self.compute_qty(
            unit, quantity, product.sale_uom or unit)
        categories = {c: (d, depth)
            for c, d, depth in self.product_categories(product_id)}
        entries = []
        for scope, owner, position in self.chain(client_id):
            for rule in self._by_owner.get((scope, owner), ()):
                category = distance = depth = reason = None
                if rule.level == LEVEL_PRODUCT:
                    if rule.target != product_id:
                        continue
                    if rule.unit is None:
                        reached = sale_quantity
                    elif rule.unit == unit:
                        reached = quantity
                    else:
                        reached, reason = None, 'unit'
                    if (reached is not None and rule.min_quantity
                            > reached + QUANTITY_EPSILON):
                        reason = 'min_quantity'
                elif rule.level == LEVEL_CATEGORY:
                    if rule.target not in categories:
                        continue
                    category = rule.target
                    distance, depth = categories[category]
                if not self.valid(rule):
                    reason = 'date'
                key = precedence_key(
                    rule, position, distance, depth, category, unit)
                entries.append((key, rule, reason, category, distance,
                        position, depth))
        return entries

    def explain(self, client_id, product_id, quantity=0, unit=None):
        """Every rule that targets the client and the product, valid or not,
        with why the winner beats it or why it does not apply"""
        unit = self.line_unit(self.products[product_id], unit)
        quantity = abs(quantity or 0)
        entries = self._entries(client_id, product_id, unit, quantity)
        entries.sort(key=lambda e: (e[2] is not None, e[0]))
        match = self.resolve(client_id, product_id, quantity, unit)
        winner_key = entries[0][0] if entries and entries[0][2] is None \
            else None
        candidates = []
        for key, rule, reason, category, distance, position, depth in entries:
            if reason is not None:
                status = 'inapplicable'
            elif key == winner_key:
                status = 'winner'
            else:
                status = 'beaten'
                reason = next(name
                    for name, a, b in zip(_KEY_NAMES, winner_key, key)
                    if a != b)
            candidates.append(Candidate(rule, status, reason, category,
                    distance, position, depth))
        # The slow path must agree with resolve(), the one prices come from
        assert (match.rule if match else None) == (
            candidates[0].rule if candidates
            and candidates[0].status == 'winner' else None), (
            match, candidates[:1])
        return Explanation(
            match, [(s, o) for s, o, _ in self.chain(client_id)], candidates)

    # --- prices

    def unit_price(self, match, product_id, unit, base_price):
        """The price a Match gives, per `unit` (None: the sale unit):
        `base_price` (the list price in that unit and the currency asked)
        adjusted by a percentage, or the fixed price converted"""
        if match is None:
            return base_price
        rule = match.rule
        if rule.level == LEVEL_PRODUCT:
            product = self.products[product_id]
            unit = self.line_unit(product, unit)
            price = self.compute_price(
                rule.unit or product.sale_uom or unit, rule.value, unit)
            if self.convert is not None:
                price = self.convert(price)
        else:
            if base_price is None:
                return None
            price = base_price * self._factors[rule.id]
        return price.quantize(self.rounding)

    def base_price(self, product_id, unit=None):
        """The list price of the product per `unit` (None: the sale unit),
        rounded as product.product.get_sale_price does"""
        key = product_id if unit is None else (product_id, unit)
        price = self._base_prices.get(key, False)
        if price is False:
            product = self.products[product_id]
            price = product.list_price
            if price is not None:
                price = self.compute_price(
                    product.default_uom, price,
                    self.line_unit(product, unit))
                if self.convert is not None:
                    price = self.convert(price)
                price = price.quantize(self.rounding)
            self._base_prices[key] = price
        return price

    def price(self, client_id, product_id, quantity=0, unit=None):
        "(unit price, Match) from the engine's own list prices"
        match = self.resolve(client_id, product_id, quantity, unit)
        return (self.unit_price(match, product_id, unit,
                self.base_price(product_id, unit)), match)

    def prices(self, questions):
        """[(unit price, Match)] for [(client, product, quantity, unit)], the
        batch form of price(), with unit_price() inlined for percentages
        (the hot path of price sheets)"""
        resolve = self.resolve
        base_prices = self._base_prices
        factors = self._factors
        rounding = self.rounding
        result = []
        append = result.append
        for client, product, quantity, unit in questions:
            match = resolve(client, product, quantity, unit)
            base = base_prices.get(
                product if unit is None else (product, unit), False)
            if base is False:
                base = self.base_price(product, unit)
            if match is None:
                append((base, None))
            elif match.rule.level != LEVEL_PRODUCT:
                append((None if base is None else
                        (base * factors[match.rule.id]).quantize(rounding),
                        match))
            else:
                append((self.unit_price(match, product, unit, base), match))
        return result
