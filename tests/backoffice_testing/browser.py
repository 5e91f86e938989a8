# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""What the browser tests share: the demo server (built once per run, or
restored from the test-database cache) and a Chromium page as fixtures,
which the root conftest.py loads as a plugin, and the web client's login
and its menu"""
import hashlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

# the repository (the suite is installed in editable mode)
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / 'var' / 'screenshots'

CHROMIUM = '/usr/bin/chromium'
# Without the background-networking flags Chromium keeps dialling out, which
# this closed network refuses.
CHROMIUM_ARGS = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync',
    ]


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_http(url, process, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(1)
    return False


def login(page, demo, user):
    page.goto(demo['url'])
    page.fill('input#login', user)
    page.click('.login-dialog button[type=submit]')
    page.fill('input[type=password]', demo['password'])
    page.keyboard.press('Enter')
    page.wait_for_selector('.login-dialog', state='detached')
    page.wait_for_load_state('networkidle')


def menu_rows(page, name):
    return page.locator('#menu tbody tr').filter(
        has=page.locator(f'.column-char[title="{name}"]'))


def menu_entry(page, *path):
    """Expand the web client's menu tree along path, as a user does, and
    return the cell of its last entry"""
    for parent, child in zip(path, path[1:]):
        shown = menu_rows(page, child).count()
        menu_rows(page, parent).last.locator('.expander').click()
        # A child may share its parent's name (Parties > Parties): wait for
        # the new row, which comes last.
        page.wait_for_function(
            """([name, shown]) => [...document.querySelectorAll(
                '#menu tbody tr .column-char')].filter(
                e => e.title === name).length > shown""",
            arg=[child, shown])
    # The tree redraws once its children are loaded: a double click during
    # the redraw hits a detached row.  SAO opens an entry on a double click
    # of its cell, not of the label.
    page.wait_for_load_state('networkidle')
    return menu_rows(page, path[-1]).last.locator(
        'td', has=page.locator('.column-char'))


def open_menu(page, *path):
    "Open the menu entry at path in a tab of the web client"
    cell = menu_entry(page, *path)
    tab = page.locator('#tabcontent .tab-pane.active')
    # On a loaded machine a redraw may still swallow a double click; a user
    # would double-click again.
    for _ in range(3):
        cell.dblclick()
        try:
            tab.wait_for(timeout=10_000)
            return
        except PlaywrightTimeoutError:
            continue
    tab.wait_for()


DEMO_FILES = ['db/backoffice.sqlite', 'db/backoffice.modules',
    'admin-password']


def demo_cache():
    """The folder keeping the demo built from this code and these demo
    scripts, under the suite's test-database cache (scripts/test sets
    DB_CACHE), or None"""
    if not os.environ.get('DB_CACHE'):
        return None
    digest = hashlib.sha1()
    for path in sorted([*(ROOT / 'scripts').glob('*.py'),
                *(ROOT / 'modules').rglob('*.py'),
                *(ROOT / 'modules').rglob('*.xml')]):
        # the modules' tests build no part of the demo
        if 'tests' not in path.relative_to(ROOT).parts:
            digest.update(path.read_bytes())
    return Path(os.environ['DB_CACHE']) / f'demo-{digest.hexdigest()[:16]}'


def keep_demo(var, cache):
    "Copy the demo just built into the cache, before any test changes it"
    building = cache.with_name(cache.name + '.tmp')
    shutil.rmtree(building, ignore_errors=True)
    (building / 'db').mkdir(parents=True)
    # the server has the database open: SQLite's backup copies it whole
    source = sqlite3.connect(var / DEMO_FILES[0])
    target = sqlite3.connect(building / DEMO_FILES[0])
    with target:
        source.backup(target)
    source.close()
    target.close()
    for name in DEMO_FILES[1:]:
        shutil.copy(var / name, building / name)
    try:
        building.rename(cache)
    except OSError:
        # another run kept it first
        shutil.rmtree(building)


@pytest.fixture(scope='session')
def demo(tmp_path_factory):
    """The demo server, built from scratch in a folder of its own, or the
    one running at BACKOFFICE_DEMO_URL from the folder BACKOFFICE_DEMO_VAR
    (to try the browser tests against a demo at hand)"""
    if os.environ.get('BACKOFFICE_DEMO_URL'):
        var = Path(os.environ['BACKOFFICE_DEMO_VAR'])
        yield {
            'url': os.environ['BACKOFFICE_DEMO_URL'],
            'password': (var / 'admin-password').read_text().strip(),
            'var': var,
            }
        return
    var = tmp_path_factory.mktemp('demo')
    cache = demo_cache()
    if cache and (cache / 'admin-password').exists():
        (var / 'db').mkdir()
        for name in DEMO_FILES:
            shutil.copy(cache / name, var / name)
    port = free_port()
    log = (var / 'demo.log').open('w')
    process = subprocess.Popen(
        [ROOT / 'scripts' / 'demo', '--var', var, '--port', str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f'http://127.0.0.1:{port}/'
    try:
        # a full demo build: a few minutes alone, longer beside the
        # PostgreSQL run of the suite
        if not wait_http(url, process, timeout=1800):
            pytest.fail(
                "the demo server did not come up:\n"
                + (var / 'demo.log').read_text()[-5000:])
        if cache and not (cache / 'admin-password').exists():
            keep_demo(var, cache)
        yield {
            'url': url,
            'password': (var / 'admin-password').read_text().strip(),
            'var': var,
            }
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def page(request):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={'width': 1400, 'height': 900})
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            report = getattr(request.node, 'rep_call', None)
            if report is None or report.failed:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(
                    path=SCREENSHOTS / f'{request.node.name}.png',
                    full_page=True)
            browser.close()
