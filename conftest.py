# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Collect the proteus scenarios (tests/scenario_*.rst) as pytest items.

Tryton's test_scenario.py hands its doctests over through unittest's
load_tests, which pytest never calls: without this hook no scenario would run.
Each scenario runs as Tryton runs it (doctest_setup, doctest_teardown and
doctest_checker, the same option flags), one pytest item per file.

Activating modules is the slow part of a cold run, so each set of modules
is activated once per test-database cache and in layers: a set with no
cached database starts from the cached database of the largest of our
modules (or of the whole suite) that it contains and activates only the
rest, as an administrator adds a module to a running database; a
scenario's set-up (create_company, create_chart) starts from the cached
activation of its modules, which the module's test case shares.
"""
import doctest
import functools
import os
import unittest

import pytest

# the browser tests' fixtures (the demo server, a Chromium page)
pytest_plugins = ['backoffice_testing.browser']

os.environ.setdefault('TRYTOND_DATABASE_URI', 'sqlite://')
if os.environ['TRYTOND_DATABASE_URI'].startswith('sqlite'):
    # Every clean_timeout seconds trytond 8.0 syncs its caches through the
    # SQLite connection of the transaction that starts, which switches it to
    # autocommit: what that transaction writes is never rolled back (a
    # test's data stays for the next tests). A test database has one process
    # at a time, with nothing to sync; the servers the tests start inherit it.
    os.environ.setdefault('TRYTOND_CACHE__CLEAN_TIMEOUT', str(10 ** 9))


def pytest_collect_file(parent, file_path):
    if (file_path.name.startswith('scenario_')
            and file_path.suffix == '.rst'
            and file_path.parent.name == 'tests'):
        return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):

    def collect(self):
        yield ScenarioItem.from_parent(self, name=self.path.name)


class ScenarioFailure(Exception):
    pass


def run_scenario(path):
    """Run the doctest scenario at path as Tryton runs it; raise
    ScenarioFailure with the failed examples"""
    from trytond import backend
    from trytond.tests.test_tryton import (
        STRIP_DECIMAL, doctest_checker, doctest_setup, doctest_teardown)

    optionflags = (
        doctest.REPORT_ONLY_FIRST_FAILURE
        | doctest.ELLIPSIS
        | doctest.IGNORE_EXCEPTION_DETAIL)
    if backend.name == 'sqlite':
        optionflags |= STRIP_DECIMAL
    suite = doctest.DocFileSuite(
        str(path), module_relative=False,
        setUp=doctest_setup, tearDown=doctest_teardown,
        encoding='utf-8', checker=doctest_checker,
        optionflags=optionflags)
    result = unittest.TestResult()
    suite.run(result)
    problems = result.errors + result.failures
    if problems:
        raise ScenarioFailure('\n'.join(text for _, text in problems))
    if not result.testsRun:
        raise ScenarioFailure(f"{os.path.basename(path)} ran no example")


@pytest.fixture
def scenario_runner():
    "run_scenario(path) for tests that run scenarios of their own choice"
    return run_scenario


class ScenarioItem(pytest.Item):

    def runtest(self):
        run_scenario(self.path)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ScenarioFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"scenario: {self.name}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    "Keep each phase's report on the item, for fixtures that act on failure"
    outcome = yield
    report = outcome.get_result()
    setattr(item, f'rep_{report.when}', report)


def pytest_addoption(parser):
    parser.addoption(
        '--long', action='store_true', default=False,
        help="run the fuzz tests (tests/test_fuzz.py) with 3,000 examples "
        "instead of the bounded CI count")


# Our modules, each after those it needs (pricing and order both build on
# client, fleet on order): the layers that sets of modules are activated on
SUITE = ['backoffice_zone', 'backoffice_client', 'backoffice_pricing',
    'backoffice_order', 'backoffice_fleet']


def pytest_configure(config):
    speed_up_trytond_tests()


def speed_up_trytond_tests():
    """Install the speed-ups below; also called by the processes that the
    tests start to build a database (tests/access_matrix_setup.py)"""
    reuse_pools()
    import_modules_once()
    if os.environ['TRYTOND_DATABASE_URI'].startswith('sqlite'):
        no_lock_restarts()
    # before anything imports activate_module by name
    from trytond.tests import test_tryton
    test_tryton.activate_module = activate_on_layers(
        test_tryton.activate_module)
    from trytond.tests import tools
    tools.activate_modules = activate_modules_once


def import_modules_once():
    """Remember which package each Tryton module name resolves to

    Upstream's import_module selects the module's entry point among every
    installed one at each call, 0.45 ms; ModuleTestCase's checks resolve
    the classes of every module for each of the 360 models (isregisteredby),
    190,000 calls per test case: a third of a module's test time."""
    from trytond.tools import misc

    misc.import_module = functools.cache(misc.import_module)


def no_lock_restarts():
    """On SQLite, grant every lock a transaction asks for at once

    Upstream's transaction refuses a lock it did not take at its start,
    and with_transaction (as the dispatcher) runs the whole test again
    with it; SQLite's lock and lock_records do nothing (one writer at a
    time), so the runs before the last were only time: a test confirming
    orders under a credit limit ran ten times as long (test_bulk_move
    16.6 s, 1.8 s with this). PostgreSQL keeps upstream's way, where the
    locks are real."""
    from trytond.transaction import Transaction

    Transaction.lock_table = lambda self, table: None
    Transaction.lock_records = lambda self, table, ids: None


def reuse_pools():
    """Make Pool.start and Pool.init reuse what they built before

    Upstream restarts the pool (imports and registers every module) and
    builds it again (about 6 seconds for our modules) at each restore of a
    cached database and again in proteus' set_trytond: a third of a warm
    run's time.  The classes a pool builds depend only on the code and on
    the set of activated modules, so a pool that only loads (no update) is
    built once per set of modules and handed to the next database that has
    the same set; the database's own state lives in the caches, which
    drop_db clears."""
    from sql import Table

    from trytond.pool import Pool
    from trytond.transaction import Transaction

    start, init = Pool.start.__func__, Pool.init
    built = {}

    def start_once(cls):
        # the registered classes change only with the code
        if not cls._started:
            start(cls)

    def module_states(database_name):
        ir_module = Table('ir_module')
        transaction = Transaction()
        if transaction.connection:
            context = transaction.new_transaction(readonly=True)
        else:
            context = transaction.start(database_name, 0, readonly=True)
        with context as transaction, \
                transaction.connection.cursor() as cursor:
            cursor.execute(*ir_module.select(
                    ir_module.name, ir_module.state,
                    where=ir_module.state != 'not activated'))
            return frozenset(cursor)

    def init_or_reuse(self, update=None, lang=None, activatedeps=False,
            indexes=None):
        if update or indexes:
            return init(self, update=update, lang=lang,
                activatedeps=activatedeps, indexes=indexes)
        key = (self.database_name, module_states(self.database_name))
        if key not in built:
            init(self)
            built[key] = self._pool, self._modules
            return
        with self._lock:
            self._pool, self._modules = built[key]
            self._pools[self.database_name] = self._pool
            self._pool_modules[self.database_name] = self._modules
            # other instances rebind to this pool on their next Pool()
            self._pool_instances.clear()
            self._pool_instances.add(self)
            self.ready = True

    Pool.start = classmethod(start_once)
    Pool.init = init_or_reuse


@functools.cache
def _closure(modules):
    from trytond.modules import get_module_info
    seen = set()
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(get_module_info(name).get('depends', []))
    return frozenset(seen)


def module_closure(modules):
    "The modules and every module they depend on"
    return _closure(tuple(sorted(modules)))


def layer_below(modules):
    """The largest of our modules (or the whole suite) whose activation
    modules contain and add to, or None"""
    needed = module_closure(modules)
    layers = [[m] for m in SUITE] + [SUITE]
    below = [l for l in layers if module_closure(l) < needed]
    return max(below, key=lambda l: len(module_closure(l)), default=None)


def activate_on_layers(activate_module):
    """test_tryton.activate_module that, when modules have no cached
    database, starts from the layer below them (restored from the cache, or
    activated and cached the same way) instead of an empty database"""
    from trytond.tests import test_tryton

    @functools.wraps(activate_module)
    def wrapper(modules, lang='en'):
        if isinstance(modules, str):
            modules = [modules]
        if test_tryton.DB_CACHE and not test_tryton.db_exist():
            name = '-'.join(modules) + ('' if lang == 'en' else '--' + lang)
            if test_tryton.restore_db_cache(name):
                return
            base = layer_below(modules)
            if base:
                # leaves the base activated in the test database
                wrapper(base, lang)
        return activate_module(modules, lang)
    return wrapper


def activate_modules_once(modules, *setup):
    """Upstream's activate_modules, once per test-database cache: it restores
    the cached activation (the database ModuleTestCase caches under the same
    name) or activates the modules on their layer, runs the set-up functions
    and caches the result under the name upstream gives it"""
    from proteus import config as proteus_config
    from trytond.tests import test_tryton, tools

    if isinstance(modules, str):
        modules = [modules]
    # upstream's cache names, so that its own activate_modules finds them
    name = '-'.join(sorted(modules))
    if setup:
        name += '--' + '|'.join(tools._func_name(f) for f in setup)
    # the database of the tests before, whose connections a restore on
    # PostgreSQL could not drop (drop_db closes them first)
    test_tryton.drop_db()
    if test_tryton.restore_db_cache(name):
        return proteus_config.set_trytond()
    test_tryton.activate_module(sorted(modules))
    config = proteus_config.set_trytond()
    for func in setup:
        func(config=config)
    if setup:
        test_tryton.backup_db_cache(name)
    return config
