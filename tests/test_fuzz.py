# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Property-based fuzzing of the suite's models and wizards (hypothesis)

Every example creates or writes one record of one of our models (or runs
one wizard step) with values drawn per field type: plausible values, so that
some are accepted, and bad ones (wrong types, NaN, infinities, 1E+40,
huge integers and strings, NUL characters, links to records that do not
exist, malformed GeoJSON and JSON). It runs in a savepoint, as an RPC
request runs in its transaction, and checks:

- a refusal is a UserError or UserWarning; an error of another type may
  only come from trytond itself for a value of the wrong type, never from
  the modules' code (the innermost frame of the traceback);
- after a refusal, once the savepoint is rolled back, what was stored is
  unchanged and the model's list and search still work (no cache keeps a
  half-written state);
- after an accepted value the model's list (the fields of its list view)
  and its search by name still work.

The counts (examples, accepted, refused, errors by origin) are printed.
The number of examples is bounded for CI (FUZZ_EXAMPLES, 300 by default);
``pytest tests/test_fuzz.py --long`` (or FUZZ_LONG=1) runs 3,000.
"""
import datetime as dt
import decimal
import json
import os
import sys
import time
import traceback
from collections import Counter
from decimal import Decimal

from backoffice_testing import request as rpc_request
import pytest

from trytond.pool import Pool

hypothesis = pytest.importorskip('hypothesis')
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

MODULES = ['backoffice_pricing', 'backoffice_order']
MODULE_PATHS = ('backoffice_zone', 'backoffice_client', 'backoffice_pricing',
    'backoffice_order', 'backoffice_fleet')

# The models and the fields fuzzed, with the values a new record needs
# (callables of the set-up data `w`)
TARGETS = {
    'backoffice.zone': (
        lambda w: {'name': "Fuzz", 'code': 'FZ'},
        ['name', 'code', 'colour', 'priority', 'cutoff_hours', 'weekdays',
            'notes', 'sequence', 'company', 'active']),
    'backoffice.zone.rule': (
        lambda w: {'zone': w.zone.id, 'kind': 'postal', 'pattern': '1999'},
        ['kind', 'pattern', 'city', 'country', 'geojson', 'name', 'sequence',
            'zone']),
    'backoffice.zone.window': (
        lambda w: {'zone': w.zone.id, 'weekday': '1',
            'start': dt.time(13), 'end': dt.time(14)},
        ['weekday', 'start', 'end', 'zone']),
    'party.address': (
        lambda w: {'party': w.party.id},
        ['postal_code', 'city', 'latitude', 'longitude', 'entrance',
            'access_code', 'delivery_instructions', 'zone', 'zone_manual']),
    'party.party': (
        lambda w: {'name': "Fuzz Client"},
        ['name', 'client_type', 'client_kind', 'client_status',
            'billing_scheme', 'iban', 'payment_methods', 'delivery_methods',
            'default_zone', 'handling_instructions', 'access_notes',
            'credit_limit_amount', 'industry', 'price_group', 'legal_form']),
    'backoffice.client.window': (
        lambda w: {'party': w.party.id, 'weekday': '0',
            'start': dt.time(8), 'end': dt.time(9)},
        ['party', 'weekday', 'start', 'end']),
    'backoffice.client.contact': (
        lambda w: {'party': w.party.id, 'name': "Fuzz"},
        ['name', 'email', 'phone', 'roles', 'notify_events', 'party']),
    'backoffice.client.industry': (
        lambda w: {'name': "Fuzz"}, ['name']),
    'backoffice.price.group': (
        lambda w: {'name': "Fuzz"}, ['name', 'code', 'description']),
    'backoffice.price.rule': (
        lambda w: {'price_group': w.group.id, 'level': 'global',
            'percentage': Decimal('3')},
        ['level', 'scope', 'percentage', 'fixed_price', 'min_quantity',
            'category', 'product', 'unit', 'start_date', 'end_date', 'party',
            'price_group']),
    'backoffice.order.scheme': (
        None, ['near_window_hours', 'name', 'auto_confirm']),
    'backoffice.order.stage': (
        None, ['name', 'code', 'colour', 'sequence']),
    'sale.sale': (
        lambda w: {'party': w.party.id},
        ['reference', 'description', 'priority', 'delivery_date',
            'delivery_window', 'comment', 'shipment_address']),
    'sale.line': (
        lambda w: {'sale': w.sale.id, 'type': 'line',
            'product': w.product.id, 'unit': w.product.default_uom.id,
            'quantity': 1.0, 'unit_price': Decimal('10')},
        # product and unit are upstream's: a line without unit fails in
        # upstream sale (its AttributeError is not ours to fix)
        ['quantity', 'unit_price', 'description']),
    }

GEOJSON = [
    '{"type": "Polygon", "coordinates": [[[6.1, 46.1], [6.2, 46.1], '
    '[6.2, 46.2], [6.1, 46.1]]]}',
    '{"type": "FeatureCollection", "features": 5}',
    '{"type": "FeatureCollection", "features": [{"type": "Feature"}]}',
    '{"type": "Feature", "geometry": [1, 2]}',
    '{"type": "Polygon", "coordinates": [[[1e999, 0], [1, 1], [0, 0]]]}',
    '{"type": "Polygon", "coordinates": [[[1%s, 0], [1, 1], [0, 1], '
    '[1, 0]]]}' % ('0' * 500),
    '{"type": "MultiPolygon", "coordinates": 7}',
    '[' * 5000 + ']' * 5000,
    '{"type": null}',
    ]


def nasty():
    "Values no field should choke on"
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-2 ** 70, max_value=2 ** 70),
        st.sampled_from([999999, -1, 0, 2 ** 31, 10 ** 9, -10 ** 18]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([-1e308, 1.5e6, float('nan'), float('inf')]),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.sampled_from([Decimal('1E+40'), Decimal('NaN'), Decimal('-0')]),
        st.text(max_size=40),
        st.sampled_from([
                'abc', '', ' ', 'a\x00b', 'x' * 5000, '9' * 25,
                '10000000000000000000-99999999999999999999', '{not json',
                '[' * 3000]),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        st.dates(),
        st.times(),
        )


def plausible(Model, name, w):
    "Values of the field's type, most of them acceptable"
    field = Model._fields[name]
    type_ = field._type
    if name == 'geojson':
        return st.sampled_from(GEOJSON)
    if name in {'pattern', 'postal_code'}:
        return st.one_of(
            st.from_regex(r'\A[0-9]{4}(-[0-9]{4}|\*)?\Z'),
            st.text(max_size=30))
    if type_ in {'char', 'text'}:
        return st.text(max_size=60)
    if type_ == 'selection':
        selection = field.selection
        if isinstance(selection, str):
            selection = getattr(Model, selection)()
        return st.sampled_from([k for k, _ in selection if k is not None]
            or [None])
    if type_ == 'multiselection':
        selection = field.selection
        if isinstance(selection, str):
            selection = getattr(Model, selection)()
        return st.lists(
            st.sampled_from([k for k, _ in selection]), unique=True,
            max_size=3)
    if type_ == 'integer':
        return st.integers(min_value=-5, max_value=800)
    if type_ == 'float':
        return st.floats(min_value=-1000, max_value=1000)
    if type_ == 'numeric':
        return st.decimals(min_value=-200, max_value=2000, places=2)
    if type_ == 'boolean':
        return st.booleans()
    if type_ == 'date':
        return st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1))
    if type_ == 'time':
        return st.times()
    if type_ == 'many2one':
        return st.sampled_from(w.ids.get(field.model_name) or [None])
    return st.none()


def values_for(Model, fields, w):
    "Some of the fields, each with a plausible or a nasty value"
    return st.fixed_dictionaries({}, optional={
            # mostly plausible, so that some examples are accepted
            name: st.one_of(
                plausible(Model, name, w), plausible(Model, name, w),
                plausible(Model, name, w), nasty())
            for name in fields})


class Stats:
    def __init__(self):
        self.counts = Counter()
        self.errors = []

    def report(self, title, seconds):
        counts = self.counts
        lines = [
            f"{title}: {counts['examples']} examples in {seconds:.1f}s: "
            f"{counts['accepted']} accepted, {counts['refused']} refused "
            f"(UserError/UserWarning), {counts['tryton']} typed errors "
            f"raised by trytond, {counts['module']} internal errors "
            f"raised in module code, {counts['other']} other errors"]
        lines.extend(self.errors[:20])
        return '\n'.join(lines)


def origin(exception):
    """'module' when the innermost frame is in the suite's code, or when
    the database refused a query that the suite's code sent; else 'tryton'"""
    frames = traceback.extract_tb(exception.__traceback__)
    if frames and any(p in frames[-1].filename for p in MODULE_PATHS):
        return 'module'
    database_error = type(exception).__module__.split('.')[0] in {
        'psycopg', 'sqlite3'}
    # (strict: a query refused through any frame of the suite's code)
    if database_error and any(
            p in f.filename for f in frames for p in MODULE_PATHS):
        return 'module'
    return 'tryton'


def list_and_search(Model):
    "What the client does with the model's list: read its fields, search"
    view = Model.fields_view_get(view_type='tree')
    names = [n for n in view['fields'] if n in Model._fields]
    records = Model.search([], limit=200)
    Model.read([r.id for r in records], names + ['rec_name'])
    Model.search([('rec_name', 'ilike', '%a%')], limit=20)
    Model.search_count([])


def snapshot(Model, record, fields):
    names = [n for n in fields if n in Model._fields]
    count = Model.search_count([])
    values = Model.read([record.id], names) if record else None
    return count, values


@pytest.fixture(scope='module')
def world():
    "A database with the suite and a company, clients, orders, prices"
    from trytond.tests.test_tryton import activate_module
    activate_module(MODULES)
    return True


def build_world():
    "A company with a zone, a client, a product, a price group, an order"
    from trytond.modules.company.tests import create_company, set_company
    pool = Pool()
    Zone = pool.get('backoffice.zone')
    Party = pool.get('party.party')
    Uom = pool.get('product.uom')
    Template = pool.get('product.template')
    Category = pool.get('product.category')
    PriceGroup = pool.get('backoffice.price.group')
    Scheme = pool.get('backoffice.order.scheme')
    Sale = pool.get('sale.sale')
    Country = pool.get('country.country')

    w = type('World', (), {})()
    w.company = create_company()
    w.set_company = lambda: set_company(w.company)
    with w.set_company():
        _build(w, Zone, Party, Uom, Template, Category, PriceGroup, Scheme,
            Sale, Country)
    return w


def _build(w, Zone, Party, Uom, Template, Category, PriceGroup, Scheme,
        Sale, Country):
    w.country, = Country.create([{'name': "Switzerland", 'code': 'CH'}])
    w.zone, = Zone.create([{
                'name': "Centre", 'code': 'C',
                'windows': [('create', [{'weekday': '0',
                                'start': dt.time(8), 'end': dt.time(12)}])],
                'rules': [('create', [{'kind': 'postal',
                                'pattern': '8000-8099'}])],
                }])
    w.party, = Party.create([{
                'name': "Client", 'client_type': 'b2b',
                'addresses': [('create', [{'postal_code': '8001'}])]}])
    unit, = Uom.search([('name', '=', "Unit")])
    w.category, = Category.create([{'name': "Dairy"}])
    template, = Template.create([{
                'name': "Flour", 'type': 'service', 'default_uom': unit.id,
                'salable': True, 'sale_uom': unit.id,
                'list_price': Decimal('10'),
                'categories': [('add', [w.category.id])],
                'products': [('create', [{}])]}])
    w.product, = template.products
    w.group, = PriceGroup.create([{'name': "Restaurants"}])
    w.scheme = Scheme.get()
    w.sale, = Sale.create([{'party': w.party.id, 'invoice_method': 'manual',
                'lines': [('create', [{'type': 'line',
                                'product': w.product.id, 'unit': unit.id,
                                'quantity': 1.0,
                                'unit_price': Decimal('10')}])]}])
    w.ids = {
        'company.company': [w.company.id, 999999],
        'backoffice.zone': [w.zone.id, 999999],
        'country.country': [w.country.id],
        'party.party': [w.party.id],
        'party.address': [a.id for a in w.party.addresses],
        'product.product': [w.product.id],
        'product.category': [w.category.id, 999999],
        'product.uom': [unit.id],
        'backoffice.price.group': [w.group.id],
        'backoffice.zone.window': [z.id for z in w.zone.windows],
        'sale.sale': [w.sale.id],
        }
    # The record each model's writes go to
    w.records = {
        'backoffice.zone': w.zone,
        'backoffice.zone.rule': w.zone.rules[0],
        'backoffice.zone.window': w.zone.windows[0],
        'party.address': w.party.addresses[0],
        'party.party': w.party,
        'backoffice.price.group': w.group,
        'backoffice.order.scheme': w.scheme,
        'backoffice.order.stage': w.scheme.stages[0],
        'sale.sale': w.sale,
        'sale.line': w.sale.lines[0],
        }
    return w


def examples():
    if os.environ.get('FUZZ_EXAMPLES'):
        return int(os.environ['FUZZ_EXAMPLES'])
    if os.environ.get('FUZZ_LONG'):
        return 3000
    return 300


def fuzz_settings(config, share=1):
    count = examples()
    if config.getoption('--long', default=False):
        count = max(count, 3000)
    return settings(
        max_examples=max(1, count // share), deadline=None, database=None,
        derandomize=False, print_blob=True,
        suppress_health_check=list(HealthCheck))


def classify(stats, exception, label):
    from trytond.exceptions import UserError, UserWarning
    if isinstance(exception, (UserError, UserWarning)):
        stats.counts['refused'] += 1
        return 'refused'
    where = origin(exception)
    # trytond refuses a value of the wrong type for a field with these
    # (Many2One.__set__ asserts its value is a record, an id or a dict of
    # field values, and then sets the dict's keys as attributes)
    typed = isinstance(exception, (
            TypeError, ValueError, AssertionError, AttributeError,
            decimal.InvalidOperation))
    frames = traceback.extract_tb(exception.__traceback__)
    if frames and '/trytond/model/fields/' in frames[-1].filename:
        # a field converting the value it is given (OverflowError of a
        # date from a huge integer, ...)
        typed = True
    if where == 'module':
        stats.counts['module'] += 1
    elif typed:
        stats.counts['tryton'] += 1
    else:
        stats.counts['other'] += 1
    frame = traceback.extract_tb(exception.__traceback__)[-1]
    stats.errors.append(
        f"  {where} {type(exception).__name__}: {str(exception)[:120]} "
        f"at {frame.filename.rsplit('/', 2)[-2:]}:{frame.lineno} "
        f"({label})")
    if where == 'module':
        return 'module'
    return 'tryton' if typed else 'other'


def test_fuzz_models(world, request):
    "Create and write every fuzzed field of our models"
    from trytond.tests.test_tryton import CONTEXT, DB_NAME, USER
    from trytond.transaction import Transaction

    stats = Stats()
    start = time.perf_counter()
    with Transaction().start(DB_NAME, USER, context=CONTEXT) as transaction:
        pool = Pool()
        w = build_world()
        with w.set_company():

            @fuzz_settings(request.config)
            @given(st.data())
            def run(data):
                model = data.draw(st.sampled_from(sorted(TARGETS)))
                make, fields = TARGETS[model]
                Model = pool.get(model)
                mode = 'write' if make is None else data.draw(
                    st.sampled_from(['create', 'write']))
                if mode == 'write' and model not in w.records:
                    mode = 'create'
                values = data.draw(values_for(Model, fields, w))
                record = w.records.get(model)
                label = f"{model} {mode} {values!r}"[:300]
                stats.counts['examples'] += 1
                before = snapshot(Model, record, fields)
                outcome = None
                with rpc_request(undo=True):
                    try:
                        if mode == 'create':
                            Model.create([dict(make(w), **values)])
                        else:
                            Model.write([record], values)
                    except Exception as exception:
                        outcome = classify(stats, exception, label)
                    else:
                        stats.counts['accepted'] += 1
                        try:
                            list_and_search(Model)
                        except Exception as exception:
                            stats.counts['broken'] += 1
                            outcome = classify(
                                stats, exception, 'list after ' + label)
                if outcome in {'module', 'other'}:
                    raise AssertionError(stats.errors[-1])
                # after the refused (or accepted and undone) request
                with rpc_request(undo=True):
                    assert snapshot(Model, record, fields) == before, label
                    list_and_search(Model)

            run()
        transaction.rollback()
    seconds = time.perf_counter() - start
    print('\n' + stats.report('models', seconds), file=sys.stderr)
    assert stats.counts['module'] == 0
    assert stats.counts['other'] == 0
    assert stats.counts['accepted'] and stats.counts['refused']


WIZARDS = {
    'backoffice.price.explain': ('ask', 'explain', [
            'company', 'party', 'product', 'quantity', 'unit', 'date',
            'currency'], 'backoffice.price.explain.start', None),
    'backoffice.order.change_stage': ('start', 'move', [
            'stage', 'expected', 'company'],
        'backoffice.order.change_stage.start', 'sale.sale'),
    'backoffice.price.rule.bulk_update': ('start', 'preview', [
            'percentage'], 'backoffice.price.rule.bulk_update.start',
        'backoffice.price.rule'),
    }


def test_fuzz_wizards(world, request):
    "Our wizards' steps given fuzzed form values"
    from trytond.tests.test_tryton import CONTEXT, DB_NAME, USER
    from trytond.transaction import Transaction

    stats = Stats()
    start = time.perf_counter()
    with Transaction().start(DB_NAME, USER, context=CONTEXT) as transaction:
        pool = Pool()
        w = build_world()
        with w.set_company():
            Rule = pool.get('backoffice.price.rule')
            rule, = Rule.create([{'price_group': w.group.id,
                        'level': 'global', 'percentage': Decimal('3')}])
            active = {'sale.sale': [w.sale.id],
                'backoffice.price.rule': [rule.id]}
            w.ids['backoffice.order.stage'] = [
                s.id for s in w.scheme.stages] + [999999]
            w.ids['currency.currency'] = [w.company.currency.id]
            valid = {
                'backoffice.price.explain': {
                    'company': w.company.id, 'party': w.party.id,
                    'product': w.product.id, 'quantity': 1.0,
                    'date': dt.date.today()},
                'backoffice.order.change_stage': {
                    'stage': w.scheme.stages[1].id,
                    'expected': json.dumps({str(w.sale.id): None})},
                'backoffice.price.rule.bulk_update': {
                    'percentage': Decimal('5')},
                }

            @fuzz_settings(request.config, share=3)
            @given(st.data())
            def run(data):
                name = data.draw(st.sampled_from(sorted(WIZARDS)))
                state, button, fields, start_model, model = WIZARDS[name]
                Start = pool.get(start_model)
                Wizard = pool.get(name, type='wizard')
                values = data.draw(values_for(Start, fields, w))
                if 'expected' in values or name.endswith('change_stage'):
                    values.setdefault('expected', data.draw(st.one_of(
                                st.sampled_from([
                                        '{not json', '[1]', '{"a": 1}',
                                        '{"%s": "x"}' % w.sale.id, '5',
                                        '[' * 3000, 'null']),
                                st.text(max_size=20))))
                label = f"{name} {values!r}"[:300]
                stats.counts['examples'] += 1
                outcome = None
                context = {}
                if model:
                    context = {'active_model': model,
                        'active_ids': active[model],
                        'active_id': active[model][0]}
                with rpc_request(undo=True), \
                        Transaction().set_context(context):
                    session_id, _, _ = Wizard.create()
                    try:
                        Wizard.execute(session_id,
                            {state: dict(valid[name], **values)}, button)
                    except Exception as exception:
                        outcome = classify(stats, exception, label)
                    else:
                        stats.counts['accepted'] += 1
                if outcome in {'module', 'other'}:
                    raise AssertionError(stats.errors[-1])

            run()
        transaction.rollback()
    seconds = time.perf_counter() - start
    print('\n' + stats.report('wizards', seconds), file=sys.stderr)
    assert stats.counts['module'] == 0
    assert stats.counts['other'] == 0
    assert stats.counts['accepted'] and stats.counts['refused']
