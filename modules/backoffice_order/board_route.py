# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The order board's page, served under the database's path

The web client's session cookie is scoped to /<database>, so the page
shares it: no second login. The page holds no data; its script reads and
moves orders through JSON-RPC (board.py), as the web client does."""
import html
import json
import os
from http import HTTPStatus
from urllib.parse import quote

from werkzeug.utils import redirect

from trytond import config
from trytond.i18n import gettext
from trytond.protocols.wrappers import Response, abort, with_pool
from trytond.transaction import Transaction
from trytond.wsgi import app

FILES = {
    'board.js': 'text/javascript; charset=utf-8',
    'board.css': 'text/css; charset=utf-8',
    }
FOLDER = os.path.join(os.path.dirname(__file__), 'board_page')
# The page's words, translated into the user's language
TEXTS = {
    'title': 'backoffice_order.msg_board_title',
    'search': 'backoffice_order.msg_board_search',
    'client': 'backoffice_order.msg_board_client',
    'zone': 'backoffice_order.msg_board_zone',
    'driver': 'backoffice_order.msg_board_driver',
    'priority': 'backoffice_order.msg_board_priority',
    'label': 'backoffice_order.msg_board_label',
    'from': 'backoffice_order.msg_board_from',
    'to': 'backoffice_order.msg_board_to',
    'any': 'backoffice_order.msg_board_any',
    'clear': 'backoffice_order.msg_board_clear',
    'move_to': 'backoffice_order.msg_board_move_to',
    'more': 'backoffice_order.msg_board_more',
    'orders': 'backoffice_order.msg_board_orders',
    'untaxed': 'backoffice_order.msg_board_untaxed',
    'selected': 'backoffice_order.msg_board_selected',
    'urgent': 'backoffice_order.msg_label_urgent',
    'near_window': 'backoffice_order.msg_label_near_window',
    'manual_review': 'backoffice_order.msg_label_manual_review',
    }


def _page_values(pool, user):
    """The page's words in the language of user, and whether the page
    follows the others through the bus (else it polls)"""
    User = pool.get('res.user')
    with Transaction().start(
            pool.database_name, user, readonly=True) as transaction:
        language = User(user).language
        code = language.code if language else None
        with Transaction().set_context(language=code):
            texts = {key: gettext(message) for key, message in TEXTS.items()}
        bus = (config.getboolean('bus', 'allow_subscribe', default=False)
            and transaction.database.has_channel())
    return texts, bus


@app.route('/<database_name>/backoffice/board', methods=['GET'])
@with_pool
def board(request, pool):
    user = request.user_id
    if not user:
        # the web client's login, which then opens the board again
        page = json.dumps(request.full_path.rstrip('?'))
        return redirect('/#%s/url;url=%s' % (
                quote(pool.database_name), quote(page)))
    texts, bus = _page_values(pool, user)
    with open(os.path.join(FOLDER, 'board.html'), encoding='utf-8') as file:
        page = file.read()
    page = page.replace('{title}', html.escape(texts['title'])).replace(
        '{bus}', 'true' if bus else 'false').replace(
        # JSON in a script element: "<" escaped, so no text can close it
        '{texts}', json.dumps(texts).replace('<', '\\u003c'))
    return Response(page, content_type='text/html; charset=utf-8',
        headers={'Cache-Control': 'no-store'})


@app.route('/<database_name>/backoffice/board/<name>', methods=['GET'])
def board_file(request, database_name, name):
    if name not in FILES:
        abort(HTTPStatus.NOT_FOUND, "The board has no file %r." % name)
    with open(os.path.join(FOLDER, name), 'rb') as file:
        return Response(file.read(), content_type=FILES[name])
