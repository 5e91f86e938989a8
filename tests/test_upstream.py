# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Tryton's own scenarios of the modules we extend, with our modules on

A user who activates our suite keeps every stock flow of sale, its
discounts, price lists and credit limit, and of party. Each upstream 8.0
scenario runs as upstream runs it, except that trytond.tests.tools.
activate_modules also activates our five modules (and their dependencies).
"""
import importlib.util
import time
import unittest.mock
from pathlib import Path

import pytest
from conftest import SUITE, module_closure

from trytond import backend

UPSTREAM = ['sale', 'sale_discount', 'sale_price_list', 'sale_credit_limit',
    'party']

# Scenarios that fail on stock Tryton as well, for a reason outside our
# modules: {file name: (condition, reason)}
SKIPS = {
    'scenario_party_phone_number.rst': (
        lambda: importlib.util.find_spec('phonenumbers') is None,
        "needs the phonenumbers package, not installed "
        "(party's optional dependency): fails on stock Tryton too"),
    }


def _scenarios():
    for module in UPSTREAM:
        spec = importlib.util.find_spec(f'trytond.modules.{module}')
        directory = Path(spec.origin).parent / 'tests'
        # sale_credit_limit ships no scenario
        for path in sorted(directory.glob('scenario_*.rst')):
            yield pytest.param(path, id=f'{module}/{path.name}')


@pytest.fixture
def with_our_modules():
    "Make activate_modules activate our modules too"
    from trytond.tests import tools
    original = tools.activate_modules
    ours_closure = module_closure(SUITE)

    def activate_modules(modules, *setup):
        if isinstance(modules, str):
            modules = [modules]
        # The modules our suite brings anyway are left out of the list, so
        # the scenarios of sale, sale_discount and party share one cached
        # database per set-up (DB_CACHE keys on the list).
        extra = sorted(set(modules) - ours_closure)
        return original(SUITE + extra, *setup)

    with unittest.mock.patch.object(
            tools, 'activate_modules', activate_modules):
        yield


# Measured on SQLite (2 shared cores): 9-20 s a scenario once its database
# is cached, about 16 min for the first run, which activates the modules for
# 4 set-ups (2-4 min each); on PostgreSQL an activation took about 6 min.
@pytest.mark.skipif(
    backend.name != 'sqlite',
    reason="run on SQLite only: the stock flows do not depend on the "
    "backend, and on PostgreSQL their 4 activations (about 6 min each) "
    "would add about half an hour to a cold run")
@pytest.mark.parametrize('path', list(_scenarios()))
def test_upstream_scenario(path, with_our_modules, scenario_runner):
    condition, reason = SKIPS.get(path.name, (lambda: False, None))
    if condition():
        pytest.skip(reason)
    started = time.monotonic()
    scenario_runner(path)
    print(f"{path.name}: {time.monotonic() - started:.1f} s")
