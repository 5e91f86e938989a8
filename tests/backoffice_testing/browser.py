# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""What the browser tests share: Chromium's launch, a free port, the web
client's login and its menu"""
import socket
import time
import urllib.request

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

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
