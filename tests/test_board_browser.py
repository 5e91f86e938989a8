# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The order board as the office uses it, in Chromium against the demo
server (SQLite: the board follows other users by polling)

Opened from the web client's menu with no second login; demo orders in
their columns with exact counts; a drag and drop that persists; refused
moves (no transition, a gated stage, the credit limit, an order moved
by someone else) that snap back with the server's message; a keyboard
move; filters kept in the URL; a move by another user shown without
reload; a user without sales sees no order; malformed requests get a
4xx."""
import json
import re
from pathlib import Path

import pytest
from backoffice_testing.browser import (
    CHROMIUM, CHROMIUM_ARGS, login, menu_entry)

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / 'var' / 'screenshots'
DATABASE = 'backoffice'

pytestmark = pytest.mark.browser


def rpc(board, method, *params):
    "Call method over JSON-RPC from the board page, with its user's session"
    return board.evaluate("""async ([database, method, params]) => {
            const call = async (method, params, context) => {
                const response = await fetch(`/${database}/rpc/`, {
                    method: 'POST',
                    headers: {'Content-Type': 'application/json'},
                    body: JSON.stringify({
                        id: 0, method: method,
                        params: [...params, context]})});
                return [response.status, await response.json()];
            };
            const [, preferences] = await call(
                'model.res.user.get_preferences', [true], {});
            return call(method, params, preferences.result);
        }""", [DATABASE, method, list(params)])


def result(board, method, *params):
    status, answer = rpc(board, method, *params)
    assert status == 200 and 'result' in answer, answer
    return answer['result']


def column(board, name):
    return board.locator('.column', has=board.locator('h2', has_text=name))


def count(board, name):
    return int(column(board, name).locator('.count').inner_text())


def open_board(page, demo, user):
    "Log in to the web client and open Sales > Order Board"
    login(page, demo, user)
    cell = menu_entry(page, "Sales", "Order Board")
    with page.context.expect_page() as opened:
        cell.dblclick()
    board = opened.value
    board.wait_for_selector('.column .card')
    return board


def wait_idle(board):
    board.wait_for_load_state('networkidle')
    board.wait_for_function("() => !document.querySelector('.moving')")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser):
    page = browser.new_context(
        viewport={'width': 1600, 'height': 900}).new_page()
    page.set_default_timeout(30_000)
    return page


def refused_with(board, order, stage, text):
    "The card of order stands in the column of stage with the message text"
    card = column(board, stage).locator(f'.card[data-id="{order}"]')
    assert text in card.locator('.error').inner_text()


def search(board, text):
    "Type text in the search box and wait for the board it filters"
    board.fill('input[name=text]', text)
    board.wait_for_url(re.compile(r'[?&]text='))
    board.wait_for_function(
        "(n) => [...document.querySelectorAll('.card .number')]"
        ".every(e => e.innerText.includes(n))", arg=text)


def test_board_daily_path(demo, browser):
    """The office opens the board, finds the demo orders in their columns,
    drags one to Confirmed, is refused a move New → Delivered, moves one
    with the keyboard and filters by a number"""
    board = open_board(new_page(browser), demo, 'office')
    errors = []
    board.on('pageerror', lambda error: errors.append(str(error)))
    stages = result(board, 'model.sale.sale.board_load', {}, None)['stages']
    for stage in stages:
        cards = column(board, stage['name']).locator('.card')
        # the exact count of the stage's orders
        assert count(board, stage['name']) == result(
            board, 'model.sale.sale.search_count',
            [['stage', '=', stage['id']]])
        ids = [int(i) for i in cards.evaluate_all(
                "cards => cards.map(c => c.dataset.id)")]
        assert len(ids) == min(50, stage['count'])
        read = result(board, 'model.sale.sale.read', ids, ['stage'])
        assert {r['stage'] for r in read} <= {stage['id']}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    board.screenshot(path=SCREENSHOTS / 'board.png')

    new = {s['name']: s for s in stages}
    before = (count(board, "New"), count(board, "Confirmed"))
    card = column(board, "New").locator('.card').first
    order = int(card.get_attribute('data-id'))
    card.drag_to(column(board, "Confirmed").locator('.cards'))
    wait_idle(board)
    assert (count(board, "New"), count(board, "Confirmed")) == (
        before[0] - 1, before[1] + 1)
    board.reload()
    board.wait_for_selector('.column .card')
    assert count(board, "Confirmed") == before[1] + 1
    stage, = result(board, 'model.sale.sale.read', [order], ['stage'])
    assert stage['stage'] == new["Confirmed"]['id']

    # no transition New → Delivered: back in New, the server's message on it
    card = column(board, "New").locator('.card').first
    order = card.get_attribute('data-id')
    card.drag_to(column(board, "Delivered").locator('.cards'))
    wait_idle(board)
    refused_with(board, order, "New",
        'cannot go from stage "New" to stage "Delivered"')
    assert count(board, "New") == before[0] - 1

    # the keyboard: "Move to…" of the card, first choice Confirmed
    menu = column(board, "New").locator(
        f'.card[data-id="{order}"] select')
    menu.focus()
    board.keyboard.press('ArrowDown')
    wait_idle(board)
    stage, = result(board, 'model.sale.sale.read', [int(order)], ['stage'])
    assert stage['stage'] == new["Confirmed"]['id']

    # a search kept in the URL, so the board can be bookmarked
    number = column(board, "Confirmed").locator('.card .number').first
    text = number.inner_text()
    search(board, text)
    board.reload()
    board.wait_for_selector('.column .card')
    assert board.input_value('input[name=text]') == text
    assert sum(count(board, s['name']) for s in stages) >= 1
    assert not errors, errors


def test_board_refusals(demo, browser):
    """Moves the server refuses snap back with its message on the card: into
    a stage gated for a group the user is not in, over the client's credit
    limit, and of an order another user moved meanwhile"""
    admin = open_board(new_page(browser), demo, 'admin')
    stages = {s['name']: s['id'] for s in result(
            admin, 'model.sale.sale.board_load', {}, None)['stages']}
    group, = result(admin, 'model.res.group.search',
        [['name', '=', "Sales Administrator"]], 0, None, None)
    page = new_page(browser)
    # the board's poll runs on timers the test stops for the last move
    page.context.clock.install()
    office = open_board(page, demo, 'office')
    errors = []
    office.on('pageerror', lambda error: errors.append(str(error)))
    shown = [int(i) for i in column(office, "New").locator('.card')
        .evaluate_all("cards => cards.map(c => c.dataset.id)")]
    # the credit limit holds for the orders that ship on confirmation
    credit = next(r['id'] for r in result(admin, 'model.sale.sale.read',
            shown, ['shipment_method']) if r['shipment_method'] == 'order')
    gated, stale = [i for i in shown if i != credit][:2]
    client, = result(admin, 'model.sale.sale.read', [credit],
        ['party', 'party.credit_limit_amount'])
    party, limit = client['party'], client['party.']['credit_limit_amount']
    # only the office's managers cancel an order, as a supplier may decide
    result(admin, 'model.backoffice.order.stage.write',
        [stages["Cancelled"]], {'gate_group': group})
    try:
        # by the card's menu: a drag to a column out of view would scroll
        # the board under the mouse
        card = column(office, "New").locator(f'.card[data-id="{gated}"]')
        card.locator('select').select_option(label="Cancelled")
        wait_idle(office)
        refused_with(office, gated, "New",
            'Only the members of group "Sales Administrator" may move '
            'orders into stage "Cancelled"')

        result(admin, 'model.party.party.write', [party],
            {'credit_limit_amount': {'__class__': 'Decimal', 'decimal': '1'}})
        card = column(office, "New").locator(f'.card[data-id="{credit}"]')
        card.drag_to(column(office, "Confirmed").locator('.cards'))
        wait_idle(office)
        refused_with(office, credit, "New", "would exceed the credit limit")

        # the office's board shows the order in New while the admin moves it
        search(office, column(office, "New").locator(
                f'.card[data-id="{stale}"] .number').inner_text())
        office.clock.pause_at(office.evaluate("Date.now()") + 1000)
        wait_idle(office)
        moved = result(admin, 'model.sale.sale.board_move', [stale],
            stages["Confirmed"], {str(stale): stages["New"]})
        assert moved == {str(stale): None}
        card = column(office, "New").locator(f'.card[data-id="{stale}"]')
        card.locator('select').select_option(label="Cancelled")
        wait_idle(office)
        refused_with(office, stale, "Confirmed",
            "was changed by someone else meanwhile")
        assert not errors, errors
    finally:
        result(admin, 'model.backoffice.order.stage.write',
            [stages["Cancelled"]], {'gate_group': None})
        result(admin, 'model.party.party.write', [party],
            {'credit_limit_amount': limit})


def test_board_follows_another_user(demo, browser):
    """What the manager moves on his board shows on the office's board,
    without reload, within the poll"""
    office = open_board(new_page(browser), demo, 'office')
    manager = open_board(new_page(browser), demo, 'manager')
    card = column(manager, "New").locator('.card').first
    order = card.get_attribute('data-id')
    card.locator('select').select_option(label="Confirmed")
    wait_idle(manager)
    office.wait_for_selector(
        f'.column:has(h2:text("New")) .card[data-id="{order}"]',
        state='detached', timeout=10_000)


def test_board_without_sales(demo, browser):
    """A user without access to sales opens the board: the server refuses
    its data, the page says so and shows no order"""
    admin = open_board(new_page(browser), demo, 'admin')
    result(admin, 'model.res.user.create', [{
                'login': 'nosales', 'name': "No Sales",
                'password': demo['password']}])
    page = new_page(browser)
    login(page, demo, 'nosales')
    page.goto(demo['url'] + DATABASE + '/backoffice/board')
    page.wait_for_selector('#message:not([hidden])')
    assert 'access' in page.inner_text('#message').lower()
    assert page.locator('.card').count() == 0


def test_board_bad_requests(demo, browser):
    """Without a session the board sends to the web client's login and
    back; malformed requests are refused with a message, never a 500"""
    page = new_page(browser)
    url = demo['url'] + DATABASE + '/backoffice/board'
    response = page.request.get(url + '?text=x', max_redirects=0)
    assert response.status == 302
    location = response.headers['location']
    assert location.startswith(f'/#{DATABASE}/url;url=')
    page.goto(url)
    login_form = page.locator('input#login')
    login_form.wait_for()
    page.fill('input#login', 'office')
    page.click('.login-dialog button[type=submit]')
    page.fill('input[type=password]', demo['password'])
    with page.context.expect_page() as opened:
        page.keyboard.press('Enter')
    board = opened.value
    board.wait_for_selector('.column .card')

    missing = board.request.get(url + '/nothing.js')
    assert missing.status == 404 and 'no file' in missing.text()
    assert board.request.post(url).status == 405
    for method, params in [
            ('model.sale.sale.board_move', ['x', 'y', None]),
            ('model.sale.sale.board_move', [[10 ** 9], 1, None]),
            ('model.sale.sale.board_load', [{'nope': 1}, None]),
            ('model.sale.sale.board_cards', [1, None, 'x']),
            ]:
        status, answer = rpc(board, method, *params)
        assert status == 200, (method, params, status)
        assert answer['error'][0].startswith('UserError'), answer
        assert json.dumps(answer['error']).find('Traceback') < 0
