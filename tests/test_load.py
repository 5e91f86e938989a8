# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The data loads of scripts/load.py: the samples imported into a database
with the pricing module (so clients and zones too), re-run, edited, refused
row by row, dry-run and exported back.

One database serves the module (activating it is the slow part); each test
works on rows of its own or restores what it changed.
"""
import csv
import io
import shutil
import sys
from decimal import Decimal
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / 'scripts'
SAMPLES = SCRIPTS / 'samples'
sys.path.insert(0, str(SCRIPTS))


@pytest.fixture(scope='module')
def config():
    """The pricing module activated with a company in Switzerland's cantons,
    the samples not loaded yet; dropped at the end"""
    from demo_data import switzerland
    from trytond.modules.company.tests.tools import create_company
    from trytond.tests.test_tryton import drop_db
    from trytond.tests.tools import activate_modules

    # the root conftest.py's activation, from the scenarios' cache
    config = activate_modules('backoffice_pricing', create_company)
    switzerland()
    yield config
    drop_db()


class Run:
    "A run of load.py: its exit status, summary (out) and errors (err)"

    def __init__(self, config, *argv):
        from load import main
        out, err = io.StringIO(), io.StringIO()
        self.status = main(list(map(str, argv)), config=config, out=out,
            err=err)
        self.out, self.err = out.getvalue(), err.getvalue()

    def counts(self, label):
        "{created: n, ...} of the summary line of label"
        line, = [l for l in self.out.splitlines()
            if l.startswith(label + ' (')]
        counts = line.split(': ', 1)[1].split(' (')[0]
        return {name: int(count) for count, name in (
                c.split(' ', 1) for c in counts.split(', ')[:4])}


@pytest.fixture(scope='module')
def loaded(config):
    "The samples loaded once, in the order of `load.py all`"
    run = Run(config, 'all', SAMPLES)
    assert run.status == 0, run.err
    return run


def write_rows(path, rows):
    with open(path, 'w', newline='', encoding='utf-8') as file:
        csv.writer(file).writerows(rows)


def sample_rows(name):
    with open(SAMPLES / name, newline='', encoding='utf-8') as file:
        return list(csv.reader(file))


def find(model, domain):
    from proteus import Model
    return Model.get(model).find(domain)


def test_load_samples(loaded):
    "Every sample row is created, with its links and the zones it implies"
    assert loaded.counts('zones') == {
        'created': 11, 'updated': 0, 'unchanged': 0, 'failed': 0}
    assert loaded.counts('clients')['created'] == 9
    assert loaded.counts('addresses')['created'] == 10
    assert loaded.counts('contacts')['created'] == 12
    assert loaded.counts('price rules')['created'] == 12
    assert 'rows/s' in loaded.err
    assert "clients: new tag 'Canteens', 'Hotels', 'Restaurants', 'Retail', " \
        "'VIP' created" in loaded.out

    kronenhalle, = find('party.party', [('code', '=', 'C1001')])
    assert kronenhalle.client_type == 'b2b'
    assert kronenhalle.vat_code == 'CHE-800.594.940 MWST'
    assert sorted(t.name for t in kronenhalle.categories) == [
        'Restaurants', 'VIP']
    assert kronenhalle.price_group.code == 'HORECA'
    assert kronenhalle.credit_limit_amount == Decimal('25000.00')
    assert kronenhalle.default_zone.code == 'ZH-CITY'
    address, = kronenhalle.addresses
    assert (address.zone.code, address.zone_manual) == ('ZH-CITY', False)
    assert address.access_code == '2407#'
    assert sorted((c.name, list(c.roles))
        for c in kronenhalle.client_contacts) == [
        ("Anna Frei", ['buyer']), ("Gustav Zumsteg", ['admin']),
        ("Luca Bianchi", ['receiver'])]
    second = find('party.address', [('party.code', '=', 'C1005')])[1]
    assert (second.zone.code, second.zone_manual) == ('BS', True)
    geneva, = find('backoffice.zone', [('code', '=', 'GE')])
    assert [r.kind for r in geneva.rules] == ['polygon']
    favre, = find('party.address', [('party.code', '=', 'C1008')])
    assert favre.zone == geneva
    gruyere, = find('product.product', [('code', '=', 'C-GRUYERE')])
    assert gruyere.cost_price == Decimal('14.70')
    assert [c.code for c in gruyere.categories] == ['CHEESE']
    assert gruyere.categories[0].parent.code == 'DAIRY'
    rules = find('backoffice.price.rule', [('party.code', '=', 'C1001')])
    assert sorted((r.level, r.fixed_price or r.percentage) for r in rules) \
        == [('category', Decimal('-18')), ('product', Decimal('20.50')),
            ('product', Decimal('21.90'))]


def test_rerun_unchanged(config, loaded):
    "Loading the samples again changes nothing and duplicates nothing"
    run = Run(config, 'all', SAMPLES)
    assert run.status == 0, run.err
    for label in ['zones', 'categories', 'products', 'price groups',
            'clients', 'addresses', 'contacts', 'price rules']:
        assert run.counts(label) == {
            'created': 0, 'updated': 0, 'unchanged': run.counts(label)[
                'unchanged'], 'failed': 0}, label
        assert run.counts(label)['unchanged'] > 0
    assert len(find('party.party', [('code', 'like', 'C10%')])) == 9
    assert len(find('party.address', [('party.code', 'like', 'C10%')])) == 10


def test_edit_updates(config, loaded, tmp_path):
    "An edited row is updated, the others are unchanged"
    rows = sample_rows('clients.csv')
    header = rows[0]
    rows[2][header.index('credit_limit')] = '45000'
    rows[2][header.index('tags')] = 'Hotels;VIP'
    write_rows(tmp_path / 'clients.csv', rows)
    addresses = sample_rows('addresses.csv')
    addresses[1][addresses[0].index('street')] = 'Rämistrasse 6'
    addresses[1][addresses[0].index('zone')] = 'ZH'
    write_rows(tmp_path / 'addresses.csv', addresses)

    run = Run(config, 'clients', tmp_path / 'clients.csv',
        '--addresses', tmp_path / 'addresses.csv')

    assert run.status == 0, run.err
    assert run.counts('clients') == {
        'created': 0, 'updated': 1, 'unchanged': 8, 'failed': 0}
    assert run.counts('addresses') == {
        'created': 0, 'updated': 1, 'unchanged': 9, 'failed': 0}
    bellevue, = find('party.party', [('code', '=', 'C1002')])
    assert bellevue.credit_limit_amount == Decimal('45000')
    assert sorted(t.name for t in bellevue.categories) == ['Hotels', 'VIP']
    address, = find('party.address', [('party.code', '=', 'C1001')])
    assert (address.street, address.zone.code, address.zone_manual) == (
        'Rämistrasse 6', 'ZH', True)

    # back to the samples: the zone returns to the rules
    run = Run(config, 'clients', SAMPLES / 'clients.csv',
        '--addresses', SAMPLES / 'addresses.csv')
    assert run.counts('addresses')['updated'] == 1
    address, = find('party.address', [('party.code', '=', 'C1001')])
    assert (address.zone.code, address.zone_manual) == ('ZH-CITY', False)


def test_partial_columns(config, loaded, tmp_path):
    "The columns a file leaves out are left as stored"
    path = tmp_path / 'clients.csv'
    write_rows(path, [['code', 'name', 'kind', 'status', 'credit_limit'],
            ['C1007', 'Anna Keller', 'individual', 'active', '1500']])

    run = Run(config, 'clients', path)

    assert run.status == 0, run.err
    assert run.counts('clients')['updated'] == 1
    keller, = find('party.party', [('code', '=', 'C1007')])
    assert keller.credit_limit_amount == Decimal('1500')
    assert list(keller.payment_methods) == ['card']
    keller.credit_limit_amount = None
    keller.save()


CLIENT = ['code', 'name', 'kind', 'status', 'credit_limit']
ADDRESS = ['client', 'number', 'street', 'postal_code', 'city', 'country',
    'zone']
RULE = ['price_group', 'client', 'product', 'category', 'percentage',
    'fixed_price']


@pytest.mark.parametrize('kind,header,bad,column,reason', [
        ('clients', CLIENT, ['', 'No Code', 'company', 'active', ''],
            'code', "a value is required"),
        ('clients', CLIENT, ['X9', 'Bad Limit', 'company', 'active', 'abc'],
            'credit_limit', "'abc' is not a number"),
        ('clients', CLIENT, ['X9', 'Bad Kind', 'shop', 'active', ''],
            'kind', "unknown value 'shop'"),
        ('addresses', ADDRESS, ['C1007', '2', 'Weg 1', '80011', 'Zürich',
                'CH', ''],
            'postal_code', "not a Swiss postal code"),
        ('addresses', ADDRESS, ['C1007', '2', 'Weg 1', '8001', 'Zürich',
                'CH', 'MARS'],
            'zone', "unknown zone 'MARS'"),
        ('addresses', ADDRESS, ['X404', '1', 'Weg 1', '8001', 'Zürich',
                'CH', ''],
            'client', "unknown client 'X404'"),
        ('price-rules', RULE, ['RETAIL', '', 'NOPE', '', '', '3.10'],
            'product', "unknown product 'NOPE'"),
        ('price-rules', RULE, ['RETAIL', '', '', 'DAIRY', '-5%', ''],
            'percentage', "'-5%' is not a number"),
        ])
def test_bad_row(config, loaded, tmp_path, kind, header, bad, column,
        reason):
    """A bad row is reported with its file, line, column and reason, the
    exit status is 1 and nothing of its batch is stored"""
    good = {
        'clients': [['X1', 'Good One', 'company', 'active', '100']],
        'addresses': [['C1007', '3', 'Seestrasse 1', '8002', 'Zürich', 'CH',
                '']],
        'price-rules': [['RETAIL', '', '', 'DAIRY', '-3', '']],
        }[kind]
    path = tmp_path / f'{kind}.csv'
    write_rows(path, [header] + good + [bad])

    run = Run(config, kind, path)

    assert run.status == 1
    assert f"{path}:3: column {column}: " in run.err
    assert reason in run.err
    assert run.counts(kind.replace('-', ' '))['failed'] == 1
    assert not find('party.party', [('code', 'in', ['X1', 'X9'])])
    assert not find('party.address', [('street', '=', 'Seestrasse 1')])
    assert not find('backoffice.price.rule', [
            ('price_group.code', '=', 'RETAIL'),
            ('category.code', '=', 'DAIRY')])


def test_server_refusal(config, loaded, tmp_path):
    """A row the server refuses (a rule contradicting a stored one) rolls
    its whole batch back and is reported with the batch's lines"""
    path = tmp_path / 'rules.csv'
    write_rows(path, [
            ['client', 'category', 'percentage', 'start_date'],
            ['C1002', 'DAIRY', '-4', ''],
            ['C1001', 'MEAT', '-20', '2026-06-01'],
            ])

    run = Run(config, 'price-rules', path)

    assert run.status == 1
    assert f"{path}:2-3: the server refused this batch" in run.err
    assert not find('backoffice.price.rule', [('party.code', '=', 'C1002')])


def test_dry_run(config, loaded, tmp_path):
    """A dry run reports what would change and saves nothing, even rows
    naming what an earlier file of the run would create"""
    clients = sample_rows('clients.csv')
    clients[1][clients[0].index('credit_limit')] = '1'
    clients.append(['X2', 'Neuer Kunde', 'company', 'active'])
    write_rows(tmp_path / 'clients.csv', clients)
    write_rows(tmp_path / 'addresses.csv', [ADDRESS,
            ['X2', '1', 'Marktgasse 1', '3011', 'Bern', 'CH', 'BE']])

    run = Run(config, '--dry-run', 'clients', tmp_path / 'clients.csv',
        '--addresses', tmp_path / 'addresses.csv')

    assert run.status == 0, run.err
    assert run.counts('clients') == {
        'created': 1, 'updated': 1, 'unchanged': 8, 'failed': 0}
    assert run.counts('addresses')['created'] == 1
    assert 'dry run: nothing saved' in run.out
    assert not find('party.party', [('code', '=', 'X2')])
    kronenhalle, = find('party.party', [('code', '=', 'C1001')])
    assert kronenhalle.credit_limit_amount == Decimal('25000')


def test_export_round_trip(config, loaded, tmp_path, monkeypatch):
    """What is exported loads back unchanged; the command line opens the
    database it is given"""
    from load import KINDS
    from proteus import config as proteus_config
    opened = []

    def set_trytond(database, **kwargs):
        # the test database, whose name trytond's SQLite backend keeps
        opened.append((database, kwargs))
        return config
    monkeypatch.setattr(proteus_config, 'set_trytond', set_trytond)

    run = Run(None, '--database', 'suppliers', '--config', 'trytond.conf',
        'export', 'all', tmp_path)
    assert run.status == 0, run.err
    assert opened == [
        ('suppliers', {'user': 'admin', 'config_file': 'trytond.conf'})]
    for name in ['clients.csv', 'zones.csv', 'price_rules.csv']:
        assert sample_rows(name)[0] == list(csv.reader(
                open(tmp_path / name, encoding='utf-8')))[0]

    run = Run(config, 'all', tmp_path)

    assert run.status == 0, run.err
    for kind, (loader, _) in KINDS.items():
        counts = run.counts(loader.label)
        assert counts['unchanged'] > 0, kind
        assert counts['created'] == counts['updated'] == 0, (kind, run.out)


def test_missing_file_column(config, loaded, tmp_path):
    "A file with an unknown column is refused before any row (status 2)"
    path = tmp_path / 'zones.csv'
    shutil.copy(SAMPLES / 'zones.csv', path)
    path.write_text(path.read_text().replace('cantons', 'kantone', 1))

    run = Run(config, 'zones', path)

    assert run.status == 2
    assert f"{path}:1: unknown columns kantone" in run.err
