# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Collect the proteus scenarios (tests/scenario_*.rst) as pytest items.

Tryton's test_scenario.py hands its doctests over through unittest's
load_tests, which pytest never calls: without this hook no scenario would run.
Each scenario runs as Tryton runs it (doctest_setup, doctest_teardown and
doctest_checker, the same option flags), one pytest item per file.
"""
import doctest
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
