# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""A database of the previous main, updated by the current code

Issue #19 renamed the models of the fulfilment scheme from
backoffice.fulfilment.* to backoffice.order.*. A database built with the
code of the main before it (PREVIOUS, run by migration_previous.py in a
process of its own) is updated with trytond-admin -u, as a supplier
updates: its data and the records of ir that name those models must be
found under the new names, none left under the old ones nor duplicated,
and a second update must change nothing.

The database of the previous code is built once per commit, backend,
trytond version and version of migration_previous.py into the suite's
DB_CACHE (a file on SQLite, a template database on the PostgreSQL server):
a warm run copies it and runs the two updates.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import trytond
from sql import Column, Table
from sql.aggregate import Count
from sql.operators import Or
from trytond import backend, config
from trytond.model import ModelSQL, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_CACHE
from trytond.tools import cursor_dict
from trytond.transaction import Transaction, TransactionError, check_access

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILDER = os.path.join(ROOT, 'tests', 'migration_previous.py')
# the main before the models of the fulfilment scheme took the prefix of
# backoffice_order
PREVIOUS = 'f3e4cdf'
RENAMED = {
    'backoffice.fulfilment.scheme': 'backoffice.order.scheme',
    'backoffice.fulfilment.stage': 'backoffice.order.stage',
    'backoffice.fulfilment.transition': 'backoffice.order.transition',
    'backoffice.fulfilment.scheme.create_default':
    'backoffice.order.scheme.create_default',
    'backoffice.fulfilment.scheme.create_default.start':
    'backoffice.order.scheme.create_default.start',
    }
OLD_PREFIX = 'backoffice.fulfilment.'
NEW_NAMES = set(RENAMED.values())
# {new table: old table}
TABLES = {new.replace('.', '_'): old.replace('.', '_')
    for old, new in RENAMED.items() if old.count('.') == 2}
# The rows that the update must leave as they were but for the model
# names: the data of the supplier and the records of ir that name the
# models (ir.model and its fields get new ids: compared without them)
KEPT = [
    'backoffice_order_scheme', 'backoffice_order_stage',
    'backoffice_order_transition', 'sale_sale', 'sale_line',
    'backoffice_order_activity', 'ir_note',
    'ir_ui_view_search', 'ir_ui_view_tree_width', 'ir_model_data',
    'ir_ui_view', 'ir_model_access',
    'ir_rule_group', 'ir_rule', 'ir_action', 'ir_action_keyword',
    'ir_action_act_window', 'ir_action_wizard', 'ir_ui_menu',
    ]
IR_MODEL = ['name', 'string', 'module', 'global_search_p']
IR_FIELD = ['model', 'name', 'ttype', 'relation', 'module', 'access']
# The price rules of backoffice_pricing, updated at the same time
RULES = 'backoffice_price_rule'
# What a second update would change: the above and all that ir keeps of
# models, ids included
AGAIN = KEPT + [RULES,
    'ir_model', 'ir_model_field', 'ir_translation', 'ir_email_template']


def renamed(value):
    "value with an old model name (alone or before a comma) replaced"
    if isinstance(value, str):
        for old, new in RENAMED.items():
            if value == old or value.startswith(old + ','):
                return new + value[len(old):]
    return value


def concerned(tables):
    """{table: rows} of the KEPT tables that the rename concerns: the
    supplier's data whole, of ir the rows naming a renamed model and the
    rules, actions and menus of those (the rest of ir follows the other
    changes of the code since the previous main)"""
    def naming(rows):
        return [r for r in rows if any(renamed(v) != v for v in r.values())]
    result = {t: tables[t] for t in KEPT if not t.startswith('ir_')}
    result['ir_note'] = tables['ir_note']
    for table in KEPT:
        if table.startswith('ir_') and table not in result:
            result[table] = naming(tables[table])
    groups = {r['id'] for r in result['ir_rule_group']}
    result['ir_rule'] = [
        r for r in tables['ir_rule'] if r['rule_group'] in groups]
    actions = {r['action'] for r in result['ir_action_act_window']
        + result['ir_action_wizard']}
    result['ir_action'] = [
        r for r in tables['ir_action'] if r['id'] in actions]
    menus = {f'ir.ui.menu,{r["id"]}' for r in tables['ir_ui_menu']}
    result['ir_action_keyword'] = [r for r in tables['ir_action_keyword']
        if r['action'] in actions or renamed(r['model']) != r['model']]
    menu_ids = {int(r['model'].split(',')[1])
        for r in result['ir_action_keyword'] if r['model'] in menus}
    result['ir_ui_menu'] = [
        r for r in tables['ir_ui_menu'] if r['id'] in menu_ids]
    return result


def read(database, tables, columns=None):
    """{table: [row as a dict]} of the tables, in the order of their ids,
    with only columns when given"""
    result = {}
    with Transaction().start(database, 0, readonly=True) as transaction:
        cursor = transaction.connection.cursor()
        for name in tables:
            table = Table(name)
            cursor.execute(*table.select(order_by=[table.id]))
            result[name] = [
                {c: r[c] for c in (columns or r)} for r in cursor_dict(cursor)]
    return result


def in_transaction(database, func):
    """func(transaction) in a transaction of database, started again with
    the locks it asks for (as trytond runs a request), rolled back"""
    extras = {}
    while True:
        with Transaction().start(database, 0, **extras) as transaction:
            try:
                return func(transaction)
            except TransactionError as error:
                error.fix(extras)
            finally:
                transaction.rollback()


def previous_commit():
    try:
        return subprocess.run(
            ['git', 'rev-parse', '--verify', '--quiet',
                PREVIOUS + '^{commit}'],
            cwd=ROOT, check=True, capture_output=True, text=True
            ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        raise AssertionError(
            f"commit {PREVIOUS} (the main before issue #19) is not in the "
            f"clone at {ROOT}: the migration test builds its database with "
            "that code; fetch the history (git fetch --unshallow)") from None


class PreviousDatabase:
    """The database of the previous main under a name of its own, built by
    migration_previous.py or copied from DB_CACHE"""

    def __init__(self, commit):
        self.commit = commit
        # what the database is made of: a cached one from other code or
        # data is not found
        with open(BUILDER, 'rb') as builder:
            data = hashlib.sha1(builder.read()).hexdigest()[:8]
        self.key = f'migration-{commit[:12]}-{trytond.__version__}-{data}'
        self.env = dict(os.environ)
        self.tmp = tempfile.mkdtemp(prefix='backoffice-migration-')
        if backend.name == 'sqlite':
            self.name = 'migration'
            self.path = os.path.join(self.tmp, self.name + '.sqlite')
            self.env['TRYTOND_DATABASE__PATH'] = self.tmp
            self.saved_path = config.get('database', 'path')
            config.set('database', 'path', self.tmp)
        else:
            self.name = f'test_migration_{os.getpid()}'
            self.drop()

    def _exists(self, name):
        "Whether the PostgreSQL server has the database name"
        database = Table('pg_database')
        with Transaction().start(
                None, 0, close=True, autocommit=True) as transaction:
            cursor = transaction.connection.cursor()
            cursor.execute(*database.select(
                    database.datname, where=database.datname == name))
            return bool(cursor.fetchone())

    def _copy(self, source, target):
        with Transaction().start(
                None, 0, close=True, autocommit=True) as transaction:
            transaction.database.create(
                transaction.connection, target, source)

    def restore(self):
        "Copy the cached database; False without one"
        if not DB_CACHE:
            return False
        if backend.name == 'sqlite':
            cached = os.path.join(DB_CACHE, self.key + '.sqlite')
            if not os.path.exists(cached):
                return False
            shutil.copyfile(cached, self.path)
        else:
            if not self._exists('test-' + self.key):
                return False
            self._copy('test-' + self.key, self.name)
        return True

    def build(self):
        "Build it with the modules of the commit, and cache it"
        with tempfile.TemporaryDirectory() as tmp:
            archive = subprocess.run(
                ['git', 'archive', '--format=tar', self.commit, 'modules'],
                cwd=ROOT, check=True, capture_output=True).stdout
            subprocess.run(
                ['tar', '-x', '-C', tmp], input=archive, check=True)
            self.run([sys.executable, BUILDER,
                    os.path.join(tmp, 'modules'), self.name])
        if not DB_CACHE:
            return
        if backend.name == 'sqlite':
            # whole or not at all, for runs that read it meanwhile
            os.makedirs(DB_CACHE, exist_ok=True)
            cached = os.path.join(DB_CACHE, self.key + '.sqlite')
            shutil.copyfile(self.path, f'{cached}.{os.getpid()}')
            os.replace(f'{cached}.{os.getpid()}', cached)
        elif not self._exists('test-' + self.key):
            self._copy(self.name, 'test-' + self.key)

    def update(self):
        "Update it with the current code, as trytond-admin -u does"
        admin = os.path.join(os.path.dirname(sys.executable), 'trytond-admin')
        self.run([admin, '-d', self.name,
                '-u', 'backoffice_order', 'backoffice_pricing'])

    def run(self, args):
        process = subprocess.run(
            args, env=self.env, capture_output=True, text=True)
        if process.returncode:
            raise AssertionError(
                f"{' '.join(args)} failed:\n{process.stdout[-3000:]}"
                f"{process.stderr[-5000:]}")

    def drop(self):
        backend.Database(self.name).close()
        if backend.name == 'sqlite':
            config.set('database', 'path', self.saved_path)
        elif self._exists(self.name):
            with Transaction().start(
                    None, 0, close=True, autocommit=True) as transaction:
                transaction.database.drop(transaction.connection, self.name)
        shutil.rmtree(self.tmp, ignore_errors=True)


class MigrationTestCase(unittest.TestCase):
    "A database of the previous main updated by trytond-admin -u"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start = time.monotonic()
        cls.database = database = PreviousDatabase(previous_commit())
        cls.addClassCleanup(database.drop)
        warm = database.restore()
        if not warm:
            database.build()
        ready = time.monotonic()
        before = read(
            database.name, [TABLES.get(t, t) for t in KEPT + [RULES]])
        cls.before = {t: before[TABLES.get(t, t)] for t in KEPT + [RULES]}
        cls.before_ir = read(database.name, ['ir_model'], IR_MODEL)
        cls.before_ir.update(
            read(database.name, ['ir_model_field'], IR_FIELD))
        database.update()
        updated = time.monotonic()
        cls.after = read(database.name, AGAIN)
        database.update()
        cls.again = read(database.name, AGAIN)
        end = time.monotonic()
        print(f"\nmigration test on {backend.name}: previous database "
            f"{'copied from the cache' if warm else 'built'} in "
            f"{ready - start:.1f} s, update {updated - ready:.1f} s, second "
            f"update {end - updated:.1f} s, {end - start:.1f} s in all")
        Pool(database.name).init()
        cls.addClassCleanup(Pool.stop, database.name)

    def test_rows_kept(self):
        "The supplier's data and the records of ir naming the models stay"
        kept = concerned(self.before)
        for table in KEPT:
            with self.subTest(table=table):
                after = {r['id']: r for r in self.after[table]}
                self.assertEqual(
                    [{c: after.get(r['id'], {}).get(c) for c in r}
                        for r in kept[table]],
                    [{c: renamed(v) for c, v in r.items()}
                        for r in kept[table]])
        # what the test relies on: the old database had them
        stages = {s['code']: s for s in self.after['backoffice_order_stage']}
        self.assertEqual(stages['ready']['colour'], '#123456')
        self.assertEqual(
            [(s['stage'], s['state']) for s in self.after['sale_sale']],
            [(stages['cancelled']['id'], 'cancelled'),
                (stages['new']['id'], 'draft')])
        waiting = self.after['sale_sale'][1]
        self.assertEqual(
            [n['resource'] for n in self.after['ir_note']],
            [f"backoffice.order.stage,{stages['ready']['id']}",
                f"sale.sale,{waiting['id']}"])

    def test_price_rule_kept(self):
        "The client's price rule is still there, its unit under the new name"
        before, = self.before[RULES]
        after, = self.after[RULES]
        for column in [
                'id', 'company', 'scope', 'party', 'level', 'product',
                'fixed_price']:
            with self.subTest(column=column):
                self.assertEqual(after[column], before[column])
        self.assertIsNotNone(before['uom'])
        self.assertEqual(after['unit'], before['uom'])
        self.assertNotIn('uom', after)

    def test_ir_model_moved(self):
        """The models and their fields are found under the new names only,
        and what points to them by id follows them"""
        for table, columns in [
                ('ir_model', IR_MODEL), ('ir_model_field', IR_FIELD)]:
            with self.subTest(table=table):
                self.assertEqual(
                    sorted((tuple(r[c] for c in columns)
                            for r in self.after[table]
                            if NEW_NAMES & {r.get('name'), r.get('model'),
                                r.get('relation')}), key=repr),
                    sorted((tuple(renamed(r[c]) for c in columns)
                            for r in self.before_ir[table]
                            if RENAMED.keys() & {r.get('name'),
                                r.get('model'), r.get('relation')}),
                        key=repr))
        model_ids = {r['name']: r['id'] for r in self.after['ir_model']}
        self.assertEqual(
            [t['model'] for t in self.after['ir_email_template']],
            [model_ids['backoffice.order.stage']])

    def test_no_old_name(self):
        "No stored text of any model names an old model; no old table"
        pool = Pool(self.database.name)
        found = {}
        with Transaction().start(self.database.name, 0, readonly=True):
            cursor = Transaction().connection.cursor()
            for _, Model in pool.iterobject():
                if (not issubclass(Model, ModelSQL)
                        or callable(Model.table_query)):
                    continue
                table = Model.__table__()
                columns = [n for n, f in Model._fields.items()
                    if isinstance(f, (fields.Char, fields.Selection,
                            fields.Reference))]
                if not columns:
                    continue
                cursor.execute(*table.select(Count(table.id), where=Or([
                                Column(table, c).like('%' + OLD_PREFIX + '%')
                                for c in columns])))
                count, = cursor.fetchone()
                if count:
                    found[Model.__name__] = count
            for old in TABLES.values():
                self.assertFalse(
                    backend.TableHandler.table_exist(old), msg=old)
            if backend.name == 'postgresql':
                # the constraints named after the old tables went, the
                # register of the models named them after the new ones
                # (the primary keys keep their names, as those of the
                # tables upstream renames do)
                constraint = Table('table_constraints', 'information_schema')
                cursor.execute(*constraint.select(constraint.constraint_name,
                        where=constraint.constraint_name.like(
                            'backoffice_fulfilment_%')
                        & (constraint.constraint_type != 'PRIMARY KEY')))
                self.assertEqual(cursor.fetchall(), [])
        self.assertEqual(found, {})

    def test_translation_moved(self):
        "The French name of a stage is read through the new model"
        pool = Pool(self.database.name)
        with Transaction().start(self.database.name, 0, readonly=True,
                context={'language': 'fr'}):
            Stage = pool.get('backoffice.order.stage')
            stage, = Stage.search([('code', '=', 'ready')])
            self.assertEqual(stage.name, "Prête")

    def test_sales_user(self):
        """A Sales user reads the stages and moves an order (the access
        rules moved with the models), and may not change a stage"""
        pool = Pool(self.database.name)
        User = pool.get('res.user')
        Sale = pool.get('sale.sale')
        Stage = pool.get('backoffice.order.stage')
        ChangeStage = pool.get('backoffice.order.change_stage', type='wizard')

        def move(transaction):
            clerk, = User.search([('login', '=', 'clerk')])
            waiting, = Sale.search([('stage.code', '=', 'new')])
            with transaction.set_user(clerk.id), \
                    transaction.set_context(
                        User.get_preferences(context_only=True)), \
                    check_access():
                stages = Stage.search([])
                self.assertEqual(len(Stage.read(
                            [s.id for s in stages], ['name', 'colour'])), 7)
                cancelled, = [s for s in stages if s.code == 'cancelled']
                session_id, _, _ = ChangeStage.create()
                with transaction.set_context(active_model='sale.sale',
                        active_id=waiting.id, active_ids=[waiting.id]):
                    view = ChangeStage.execute(session_id, {}, 'start')['view']
                    # without the rec_name of company. the client shows
                    values = {k: v for k, v in view['defaults'].items()
                        if '.' not in k}
                    values['stage'] = cancelled.id
                    ChangeStage.execute(
                        session_id, {'start': values}, 'move')
                self.assertEqual(Sale(waiting.id).stage, cancelled)
                with self.assertRaises(AccessError):
                    Stage.write([cancelled], {'colour': '#000000'})
        in_transaction(self.database.name, move)

    def test_second_update(self):
        "A second update changes nothing"
        for table in AGAIN:
            with self.subTest(table=table):
                self.assertEqual(self.again[table], self.after[table])
