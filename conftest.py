# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Collect the proteus scenarios (tests/scenario_*.rst) as pytest items.

Tryton's test_scenario.py hands its doctests over through unittest's
load_tests, which pytest never calls: without this hook no scenario would run.
Each scenario runs as Tryton runs it (doctest_setup, doctest_teardown and
doctest_checker, the same option flags), one pytest item per file.

Activating modules is the slow part of a cold run (minutes a set on
SQLite): a scenario's set-up (create_company, create_chart) starts from the
cached activation of its modules, which the module's test case shares,
instead of activating them once more.
"""
import doctest
import functools
import os
import unittest

import pytest

os.environ.setdefault('TRYTOND_DATABASE_URI', 'sqlite://')


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


def pytest_configure(config):
    from trytond.tests import tools
    tools.activate_modules = activate_once(tools.activate_modules)


def activate_once(activate_modules):
    """activate_modules that activates a set of modules once per test-database
    cache: with set-up functions, it restores the cached activation (the
    database ModuleTestCase caches under the same name), runs them and caches
    the result under the name upstream gives it"""
    from proteus import config as proteus_config
    from trytond.tests import tools
    from trytond.tests.test_tryton import backup_db_cache, restore_db_cache

    @functools.wraps(activate_modules)
    def wrapper(modules, *setup):
        if isinstance(modules, str):
            modules = [modules]
        if not setup:
            return activate_modules(modules)
        # upstream's cache name, so that its own activate_modules finds it
        name = '-'.join(sorted(modules)) + '--' + '|'.join(
            tools._func_name(f) for f in setup)
        if restore_db_cache(name):
            return proteus_config.set_trytond()
        config = activate_modules(modules)
        for func in setup:
            func(config=config)
        backup_db_cache(name)
        return config
    return wrapper
