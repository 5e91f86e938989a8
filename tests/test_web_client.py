# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The demo as its user meets it: scripts/demo serves Tryton's web client,
the administrator logs in and finds the demo clients under Parties > Parties.
"""
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / 'var' / 'screenshots'
CHROMIUM = '/usr/bin/chromium'
# Without the background-networking flags Chromium keeps dialling out, which
# this closed network refuses.
CHROMIUM_ARGS = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync',
    ]

pytestmark = pytest.mark.browser


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


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    "The demo server, built from scratch in a folder of its own"
    var = tmp_path_factory.mktemp('demo')
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


def login(page, demo):
    page.goto(demo['url'])
    page.fill('input#login', 'admin')
    page.click('.login-dialog button[type=submit]')
    page.fill('input[type=password]', demo['password'])
    page.keyboard.press('Enter')
    page.wait_for_selector('.login-dialog', state='detached')
    page.wait_for_load_state('networkidle')


def menu_rows(page, name):
    return page.locator('#menu tbody tr').filter(
        has=page.locator(f'.column-char[title="{name}"]'))


def open_menu(page, *path):
    "Click through the web client's menu tree, as a user does"
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
    cell = menu_rows(page, path[-1]).last.locator(
        'td', has=page.locator('.column-char'))
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


def test_admin_finds_demo_client_under_parties(demo, page):
    login(page, demo)
    open_menu(page, "Parties", "Parties")
    # The list shows its first rows only: the administrator searches
    tab = page.locator('#tabcontent .tab-pane.active')
    search = tab.locator('input[placeholder="Search"]')
    search.fill("Kronenhalle")
    search.press('Enter')
    rows = tab.locator('table tbody tr')
    client = rows.filter(has_text="Restaurant Kronenhalle")
    client.wait_for()
    assert page.locator('#tabcontent .tab-pane.active .title').first \
        .get_attribute('title') == "Parties"
    assert client.count() == 1
    assert client.is_visible()
