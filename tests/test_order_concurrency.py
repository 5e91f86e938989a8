# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Two users move the same orders through a real trytond server

The server runs in its own process against a PostgreSQL test database; each
user logs in through JSON-RPC (common.db.login) and runs the Change Stage
wizard as the web client does. The loser must get the module's message,
not the database's lock error (HTTP 503), and every order is moved once.
"""
import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from trytond import backend
from trytond.modules.backoffice_order.tests.test_module import (
    OrderTestMixin, create_user)
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

ORDERS = 8


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Client:
    "A user of the server, logged in through JSON-RPC"

    def __init__(self, url, login, password):
        self.url = url
        self.login = login
        self.authorization = None
        user_id, session, *_ = self.call(
            'common.db.login', login, {'password': password}, 'en')
        token = base64.b64encode(
            f'{login}:{user_id}:{session}'.encode()).decode()
        self.authorization = f'Session {token}'

    def request(self, method, *params):
        """The JSON-RPC answer of method: {'result': …} or {'error': …},
        or {'http': status} when the server answers with an HTTP error"""
        headers = {'Content-Type': 'application/json'}
        if self.authorization:
            headers['Authorization'] = self.authorization
        data = json.dumps(
            {'id': 1, 'method': method, 'params': list(params)}).encode()
        request = urllib.request.Request(self.url, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            return {'http': error.code, 'body': error.read()[:500]}

    def call(self, method, *params):
        answer = self.request(method, *params)
        if 'result' not in answer:
            raise AssertionError(f"{method}: {answer}")
        return answer['result']


class OrderMoveHTTPTestCase(OrderTestMixin, unittest.TestCase):
    "Moves of the same orders by two users through the server"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if backend.name != 'postgresql':
            raise unittest.SkipTest(
                "needs PostgreSQL: row locks, and a database a second "
                "process (the server) can open while the tests hold theirs")
        drop_db()
        activate_module(['backoffice_order'])
        cls.tmp = tempfile.TemporaryDirectory()
        cls.port = free_port()
        config = os.path.join(cls.tmp.name, 'trytond.conf')
        with open(config, 'w') as file:
            file.write(
                '[database]\n'
                f"uri = {os.environ['TRYTOND_DATABASE_URI']}\n"
                '[web]\n'
                f'listen = 127.0.0.1:{cls.port}\n')
        cls.log = open(os.path.join(cls.tmp.name, 'trytond.log'), 'w+')
        env = {k: v for k, v in os.environ.items()
            if not k.startswith('TRYTOND_')}
        cls.server = subprocess.Popen(
            # -d: the pool of the database is loaded at start (a database
            # met first through a request gets no pool in trytond 8.0)
            [os.path.join(os.path.dirname(sys.executable), 'trytond'),
                '-c', config, '-d', DB_NAME],
            stdout=cls.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 180
        while True:
            try:
                socket.create_connection(('127.0.0.1', cls.port), 1).close()
                break
            except OSError:
                if (time.monotonic() > deadline
                        or cls.server.poll() is not None):
                    cls.tearDownClass()
                    raise
                time.sleep(0.2)
        cls.url = f'http://127.0.0.1:{cls.port}/{DB_NAME}/rpc/'

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        server = getattr(cls, 'server', None)
        if server:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            cls.log.close()
            cls.tmp.cleanup()
        if backend.name == 'postgresql':
            drop_db()

    def server_log(self):
        self.log.seek(0)
        return self.log.read()[-3000:]

    def login(self, login, password):
        try:
            return Client(self.url, login, password)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.server_log()}")

    def setup_committed(self, count):
        """A company, two clerks with passwords and count orders of one
        client, committed"""
        password = secrets.token_urlsafe(16)
        with Transaction().start(DB_NAME, 0) as transaction:
            company = create_company()
            with set_company(company):
                client, product, scheme = self.setup_order(company)
                users = []
                for login in ['anna', 'bruno']:
                    user = create_user(
                        company, f'{login}{company.id}',
                        groups=('sale.group_sale',))
                    user.password = password
                    user.save()
                    users.append(user.login)
                sales = [self.create_sale(client, product)
                    for _ in range(count)]
                stages = {s.code: s.id for s in scheme.stages}
                result = (company.id, users, [s.id for s in sales], stages)
            transaction.commit()
        return result + (password,)

    def move_args(self, company, sale_ids, stages):
        "The context and data of the Change Stage wizard as the client sends"
        context = {
            'company': company,
            'active_model': 'sale.sale',
            'active_id': sale_ids[0],
            'active_ids': sale_ids,
            }
        data = {'start': {
                'company': company,
                'order_count': len(sale_ids),
                'stage': stages['confirmed'],
                'expected': json.dumps(
                    {str(i): stages['new'] for i in sale_ids}),
                }}
        return context, data

    def activities(self, sale_ids):
        "[(old stage, new stage)] of the stage moves of each order"
        with Transaction().start(DB_NAME, 0):
            Sale = Pool(DB_NAME).get('sale.sale')
            return {s.id: [(a.old_value, a.new_value)
                    for a in s.activities if a.kind == 'stage']
                for s in Sale.browse(sale_ids)}

    def test_two_users_race(self):
        "Two users move the same orders at once: one wins, one is told"
        company, logins, sale_ids, stages, password = (
            self.setup_committed(ORDERS))
        clients = [self.login(l, password) for l in logins]
        context, data = self.move_args(company, sale_ids, stages)
        sessions = [c.call('wizard.backoffice.order.change_stage.create',
                context) for c in clients]
        barrier = threading.Barrier(len(clients))
        answers = [None] * len(clients)

        def move(index):
            client = clients[index]
            session_id = sessions[index][0]
            barrier.wait(timeout=60)
            answers[index] = client.request(
                'wizard.backoffice.order.change_stage.execute',
                session_id, data, 'move', context)

        threads = [threading.Thread(target=move, args=(i,))
            for i in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)

        self.assertFalse(
            [a for a in answers if 'http' in a], (answers, self.server_log()))
        winners = [a for a in answers if 'result' in a
            and a['result'].get('view', {}).get('defaults', {}).get(
                'moved') == ORDERS]
        self.assertEqual(len(winners), 1, answers)
        loser, = [a for a in answers if a not in winners]
        # The loser found the orders locked (the module's error) or, when
        # the winner had committed, moved meanwhile (refused per order):
        # either way the module's message, never the database's.
        if 'error' in loser:
            kind, (message, *_) = loser['error']
            self.assertEqual(kind, 'UserError', loser)
        else:
            defaults = loser['result']['view']['defaults']
            self.assertEqual(
                (defaults['moved'], defaults['refused']), (0, ORDERS))
            message = defaults['lines'][0]['message']
        self.assertIn("changed by someone else", message)
        self.assertIn("try again", message)
        self.assertEqual(
            self.activities(sale_ids),
            {i: [(None, 'New'), ('New', 'Confirmed')] for i in sale_ids})

    def test_busy_order(self):
        "A user moves an order another user is moving: the module's error"
        pool = Pool(DB_NAME)
        company, logins, sale_ids, stages, password = (
            self.setup_committed(1))
        client = self.login(logins[1], password)
        context, data = self.move_args(company, sale_ids, stages)
        session_id, _, _ = client.call(
            'wizard.backoffice.order.change_stage.create', context)
        with Transaction().start(DB_NAME, 0):
            # the name the user sees (a confirmed order gets a number)
            name = pool.get('sale.sale')(sale_ids[0]).rec_name
        with Transaction().start(DB_NAME, 0, context={'company': company}
                ) as transaction:
            # the first user is in the middle of the move (in this process:
            # its locks need no restart of the transaction)
            Sale = pool.get('sale.sale')
            Stage = pool.get('backoffice.order.stage')
            Sale.move_to_stage(
                Sale.browse(sale_ids), Stage(stages['confirmed']),
                expected={sale_ids[0]: stages['new']})
            started = time.monotonic()
            answer = client.request(
                'wizard.backoffice.order.change_stage.execute',
                session_id, data, 'move', context)
            duration = time.monotonic() - started
            transaction.commit()
        self.assertIn('error', answer, (answer, self.server_log()))
        kind, (message, *_) = answer['error']
        self.assertEqual(kind, 'UserError')
        self.assertEqual(
            message,
            f'The order "{name}" was changed by someone else meanwhile. '
            'Reload it and try again.')
        # told at once, not after the retries of a lock at the start
        self.assertLess(duration, 5)
        self.assertEqual(
            self.activities(sale_ids),
            {sale_ids[0]: [(None, 'New'), ('New', 'Confirmed')]})
