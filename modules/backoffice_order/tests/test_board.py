# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The board's RPC methods, as the board page calls them (the page itself
is driven in a real browser by tests/test_board_browser.py)"""
import datetime as dt
import unittest
from decimal import Decimal
from unittest.mock import patch

from backoffice_testing import count_queries, request

from trytond.model.exceptions import AccessError
from trytond.modules.backoffice_order.exceptions import BoardRequestError
from trytond.modules.backoffice_order.tests.test_module import (
    OrderTestMixin, as_user, create_user)
from trytond.modules.company.tests import (
    create_company, create_employee, set_company)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, drop_db, with_transaction
from trytond.transaction import Transaction


class BoardTestCase(OrderTestMixin, unittest.TestCase):
    "The order board's reads and moves"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['backoffice_order'])

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def stored(self, sales):
        "What a move may change: the stage and state of each sale"
        Sale = Pool().get('sale.sale')
        return [(s.stage.code, s.state) for s in Sale.browse(sales)]

    @with_transaction()
    def test_load(self):
        "Columns in order with exact counts, totals and the first cards"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sales = [self.create_sale(client, product, quantity=q)
                for q in [1, 2, 3]]
            Sale.write([sales[2]], {'priority': 'urgent'})
            Sale.move_to_stage([sales[0]], self.stage(scheme, 'confirmed'))
            board = Sale.board_load()

            self.assertEqual([s['name'] for s in board['stages']],
                [s.name for s in scheme.stages if s.active])
            new, confirmed = board['stages'][:2]
            self.assertEqual((new['count'], new['total']),
                (2, Decimal('50')))
            self.assertEqual((confirmed['count'], confirmed['total']),
                (1, Decimal('10')))
            self.assertEqual(new['colour'], self.stage(scheme, 'new').colour)
            # the urgent order first
            self.assertEqual([c['id'] for c in new['cards']],
                [sales[2].id, sales[1].id])
            card = new['cards'][0]
            self.assertEqual(card['number'], sales[2].number)
            self.assertEqual(card['client'], "Client")
            self.assertEqual(card['untaxed'], Decimal('30'))
            self.assertEqual(card['currency'], company.currency.code)
            self.assertEqual(card['labels'], ['urgent'])
            self.assertEqual(card['stage'], self.stage(scheme, 'new').id)
            self.assertEqual(card['priority'], 'urgent')

    @with_transaction()
    def test_more_cards(self):
        "A column shows PAGE cards, then the next ones on request"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company), patch(
                'trytond.modules.backoffice_order.board.PAGE', 2):
            client, product, scheme = self.setup_order(company)
            sales = [self.create_sale(client, product) for _ in range(5)]
            new_id = self.stage(scheme, 'new').id
            new = Sale.board_load()['stages'][0]
            self.assertEqual((new['count'], len(new['cards'])), (5, 2))
            self.assertEqual(
                [c['id'] for c in Sale.board_cards(new_id, None, 2)],
                [s.id for s in sales[2:4]])
            self.assertEqual(
                [c['id'] for c in Sale.board_cards(new_id, None, 4)],
                [sales[4].id])
            # a reload keeps what the user had loaded
            new = Sale.board_load(None, {str(new_id): 4})['stages'][0]
            self.assertEqual(len(new['cards']), 4)

    @with_transaction()
    def test_filters(self):
        "Each filter narrows every column, counts and totals included"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            other = Party(name="Bakery Zurich", addresses=[{}])
            other.save()
            driver = create_employee(company, "Driver")
            sales = [self.create_sale(client, product) for _ in range(3)]
            bakery = self.create_sale(other, product, quantity=7)
            window, = client.addresses[0].zone.windows
            monday = self.past_monday()
            Sale.write([sales[0]], {
                    'delivery_date': monday, 'delivery_window': window.id,
                    'priority': 'urgent', 'driver': driver.id})
            Sale.write([sales[1]], {
                    'delivery_date': monday + dt.timedelta(days=7)})

            def found(**filters):
                board = Sale.board_load(filters)
                return sorted(c['id'] for s in board['stages']
                    for c in s['cards'])
            self.assertEqual(found(), sorted(s.id for s in sales + [bakery]))
            self.assertEqual(found(party=other.id), [bakery.id])
            self.assertEqual(found(text='zurich'), [bakery.id])
            self.assertEqual(found(priority='urgent'), [sales[0].id])
            self.assertEqual(found(label='urgent'), [sales[0].id])
            self.assertEqual(found(label='near_window'), [sales[0].id])
            self.assertEqual(found(driver=driver.id), [sales[0].id])
            self.assertEqual(found(zone=window.zone.id),
                sorted(s.id for s in sales))
            self.assertEqual(found(date_from=str(monday + dt.timedelta(1))),
                [sales[1].id])
            self.assertEqual(found(date_to=monday.isoformat()), [sales[0].id])
            self.assertEqual(found(text='', party=None), found())
            new = Sale.board_load({'party': other.id})['stages'][0]
            self.assertEqual((new['count'], new['total']),
                (1, Decimal('70')))

    @with_transaction()
    def test_move(self):
        "A move is checked as Change Stage checks it, each order alone"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Group = pool.get('res.group')
        Stage = pool.get('backoffice.order.stage')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            client.credit_limit_amount = Decimal('25')
            client.save()
            user = create_user(company)
            sales = [self.create_sale(client, product, quantity=q)
                for q in [1, 1, 1]]
            new, confirmed, delivered = (self.stage(scheme, c).id
                for c in ['new', 'confirmed', 'delivered'])
            with as_user(user):
                result = Sale.board_move(
                    [s.id for s in sales], confirmed,
                    {str(s.id): new for s in sales})
            self.assertEqual(list(result), [s.id for s in sales])
            self.assertEqual(result[sales[0].id], None)
            self.assertEqual(result[sales[1].id], None)
            self.assertIn('credit limit', result[sales[2].id])
            self.assertEqual(self.stored(sales), [
                    ('confirmed', 'confirmed'), ('confirmed', 'confirmed'),
                    ('new', 'draft')])

            # no transition New → Delivered
            with as_user(user):
                result = Sale.board_move([sales[2].id], delivered)
            self.assertIn('cannot go from', result[sales[2].id])
            # moved meanwhile by someone else
            with as_user(user):
                result = Sale.board_move(
                    [sales[0].id], new, {sales[0].id: new})
            self.assertIn('changed by someone else', result[sales[0].id])
            # an approval group the user is not in
            group = Group(name="Credit Review")
            group.save()
            Stage.write([Stage(confirmed)], {'gate_group': group.id})
            client.credit_limit_amount = None
            client.save()
            with as_user(user):
                result = Sale.board_move([sales[2].id], confirmed)
            self.assertIn('Only the members of group "Credit Review"',
                result[sales[2].id])
            self.assertEqual(self.stored(sales)[2], ('new', 'draft'))

    @with_transaction()
    def test_bad_requests(self):
        "Malformed or foreign requests are refused, nothing changes"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        other_company = create_company("Other")
        with set_company(other_company):
            client, product, scheme = self.setup_order(other_company)
            foreign = self.create_sale(client, product)
            foreign_stage = self.stage(scheme, 'confirmed').id
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            user = create_user(company)
            sale = self.create_sale(client, product)
            confirmed = self.stage(scheme, 'confirmed').id
            unknown = max(foreign.id, sale.id) + 100
            refusals = [
                ([foreign.id], confirmed, None,
                    'they do not exist or are not orders of your company'),
                ([unknown], confirmed, None,
                    'they do not exist or are not orders of your company'),
                ([sale.id], foreign_stage, None,
                    'not one of the active stages'),
                ([sale.id], 'x', None, 'not one of the active stages'),
                ([sale.id], True, None, 'not one of the active stages'),
                ([], confirmed, None, 'no list of order ids'),
                ('1', confirmed, None, 'no list of order ids'),
                ([sale.id], confirmed, {'a': 1}, 'not readable'),
                ([sale.id], confirmed, {sale.id: 'x'}, 'not readable'),
                ([sale.id], confirmed, [1], 'not readable'),
                ]
            for ids, stage, expected, message in refusals:
                with self.subTest(ids=ids, stage=stage, expected=expected):
                    with self.assertRaises(BoardRequestError) as cm, \
                            request(), as_user(user):
                        Sale.board_move(ids, stage, expected)
                    self.assertIn(message, cm.exception.message)
            self.assertEqual(self.stored([sale]), [('new', 'draft')])
            self.assertEqual(self.stored([foreign]), [('new', 'draft')])

            reads = [
                (lambda: Sale.board_load({'nope': 1}),
                    'the filters are: date_from, date_to, driver'),
                (lambda: Sale.board_load([]), 'not readable'),
                (lambda: Sale.board_load({'party': 'x'}), '"party"'),
                (lambda: Sale.board_load({'date_from': '2026-13-01'}),
                    '"date_from"'),
                (lambda: Sale.board_load({'label': 'x'}), '"label"'),
                (lambda: Sale.board_load({'priority': 'x'}), '"priority"'),
                (lambda: Sale.board_load({'text': 3}), '"text"'),
                (lambda: Sale.board_load(None, {'a': 'b'}),
                    'not numbers'),
                (lambda: Sale.board_cards(confirmed, None, -1),
                    'not a number of cards'),
                (lambda: Sale.board_cards(foreign_stage, None, 0),
                    'not one of the active stages'),
                ]
            for call, message in reads:
                with self.subTest(message=message):
                    with self.assertRaises(BoardRequestError) as cm, \
                            as_user(user):
                        call()
                    self.assertIn(message, cm.exception.message)

    @with_transaction()
    def test_access(self):
        "A user without sales sees no board; the board shows only his company"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(client, product)
            nobody = create_user(company, 'nobody', groups=())
            confirmed = self.stage(scheme, 'confirmed').id
            with self.assertRaises(AccessError), as_user(nobody):
                Sale.board_load()
            with self.assertRaises(AccessError), as_user(nobody):
                Sale.board_cards(confirmed)
            with self.assertRaises(AccessError), request(), as_user(nobody):
                Sale.board_move([sale.id], confirmed)
            self.assertEqual(self.stored([sale]), [('new', 'draft')])
        other_company = create_company("Other")
        with set_company(other_company):
            self.setup_order(other_company)
            board = Sale.board_load()
            self.assertEqual(sum(s['count'] for s in board['stages']), 0)

    @with_transaction()
    def test_load_queries(self):
        "A load takes as many queries at 8 orders as at 12"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            confirmed = self.stage(scheme, 'confirmed')
            counts = []
            for _ in range(3):
                sales = [self.create_sale(client, product)
                    for _ in range(4)]
                Sale.move_to_stage(sales[:2], confirmed)
                Transaction().cache.clear()
                with count_queries() as queries:
                    Sale.board_load()
                counts.append(queries[0])
            # the first load fills the caches of the transaction
            self.assertEqual(counts[1], counts[2])

    @with_transaction()
    def test_stamp(self):
        """The stamp changes with every created or deleted order (an edit
        changes it from the next transaction on: tests/test_board_browser.py
        sees a board follow one)"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            stamps = [Sale.board_stamp()]
            first = self.create_sale(client, product)
            stamps.append(Sale.board_stamp())
            self.create_sale(client, product)
            stamps.append(Sale.board_stamp())
            Sale.delete([first])
            stamps.append(Sale.board_stamp())
            self.assertEqual(len(set(stamps)), 4, stamps)

    @with_transaction()
    def test_menu_url(self):
        "The menu opens the board under the database's path"
        pool = Pool()
        Action = pool.get('ir.action')
        ModelData = pool.get('ir.model.data')
        action_id = ModelData.get_id('backoffice_order', 'url_order_board')
        values, = Action.get_action_values('ir.action.url', [action_id])
        self.assertEqual(values['url'],
            '/%s/backoffice/board' % Transaction().database.name)
