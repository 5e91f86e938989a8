# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import threading
import time
import unittest
from contextlib import contextmanager
from decimal import Decimal
from unittest.mock import patch

from backoffice_testing import ClientWidgetsTestMixin, count_queries, request

from trytond import backend
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError

from trytond.modules.backoffice_order.exceptions import (
    ChangeStageInputError, DiscountError, LinesLockedError, SchemeError,
    SplitError, StageChangedError, StageGateError, StageInUseError,
    StageMoveError, TransitionError)
from trytond.modules.backoffice_zone.exceptions import ValueCheckError
from trytond.modules.account.tests import create_chart
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, create_employee, set_company)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, ModuleTestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction, TransactionError, check_access


def create_user(company, login='sales', groups=('sale.group_sale',)):
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    user = User(
        login=login, name=login.title(),
        companies=[company], company=company,
        groups=[ModelData.get_id(*g.split('.')) for g in groups])
    user.save()
    return user


@contextmanager
def as_user(user):
    "Act as user through the RPC checks (access rights, groups)"
    transaction = Transaction()
    with transaction.set_user(user.id), check_access():
        yield


class OrderTestMixin:

    def setup_order(self, company):
        "A client, a service product, the default scheme"
        pool = Pool()
        Party = pool.get('party.party')
        Uom = pool.get('product.uom')
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        Scheme = pool.get('backoffice.order.scheme')
        Zone = pool.get('backoffice.zone')
        zone = Zone(
            company=company, name="Centre", code='C',
            weekdays=['0', '1', '2', '3', '4'],
            windows=[{'weekday': '0', 'start': dt.time(8),
                    'end': dt.time(12)}])
        zone.save()
        client = Party(name="Client", addresses=[{'zone': zone.id}])
        client.save()
        ModelData = pool.get('ir.model.data')
        unit = Uom(ModelData.get_id('product', 'uom_unit'))
        template = Template(
            name="Flour", type='service', default_uom=unit, salable=True,
            sale_uom=unit, list_price=Decimal('10'))
        template.save()
        product = Product(template=template)
        product.save()
        scheme = Scheme.get(company)
        return client, product, scheme

    def create_sale(self, client, product, quantity=1, price=None):
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        sale = Sale(party=client)
        sale.on_change_party()
        # no invoice: the tests set up no chart of accounts
        sale.invoice_method = 'manual'
        line = Line(
            type='line', product=product, quantity=quantity,
            unit=product.default_uom,
            unit_price=price if price is not None else Decimal('10'),
            base_price=Decimal('10'))
        sale.lines = [line]
        sale.save()
        return sale

    @staticmethod
    def past_monday():
        "Last week's Monday: a window of its day has begun, whatever the time"
        today = dt.date.today()
        return today - dt.timedelta(days=today.weekday() + 7)

    def stage(self, scheme, code):
        for stage in scheme.stages:
            if stage.code == code:
                return stage


class BackofficeOrderTestCase(OrderTestMixin, CompanyTestMixin,
        ClientWidgetsTestMixin, ModuleTestCase):
    "Test BackOffice Order module"
    module = 'backoffice_order'

    @with_transaction()
    def test_stage_plans(self):
        "The sale actions of a move are paths over upstream's transitions"
        pool = Pool()
        Sale = pool.get('sale.sale')
        to_confirmed = ['quote', 'confirm']
        to_processing = ['quote', 'confirm', 'process']
        self.assertEqual(Sale._stage_plans, {
                'draft': {
                    'draft': [], 'quotation': ['draft'],
                    'confirmed': ['draft'], 'cancelled': ['draft'],
                    },
                'quotation': {
                    'draft': ['quote'], 'quotation': [],
                    'confirmed': ['draft', 'quote'],
                    'cancelled': ['draft', 'quote'],
                    },
                'confirmed': {
                    'draft': to_confirmed, 'quotation': ['confirm'],
                    'confirmed': [], 'processing': [], 'done': [],
                    'cancelled': ['draft'] + to_confirmed,
                    },
                'processing': {
                    'draft': to_processing,
                    'quotation': ['confirm', 'process'],
                    'confirmed': ['process'], 'processing': [], 'done': [],
                    'cancelled': ['draft'] + to_processing,
                    },
                'done': {
                    'draft': to_processing,
                    'quotation': ['confirm', 'process'],
                    'confirmed': ['process'], 'processing': [], 'done': [],
                    'cancelled': ['draft'] + to_processing,
                    },
                'cancelled': {
                    'draft': ['cancel'], 'quotation': ['cancel'],
                    'confirmed': ['draft', 'cancel'], 'cancelled': [],
                    },
                })

    @with_transaction()
    def test_move_confirmed_to_cancelled(self):
        "A scheme's Confirmed → Cancelled runs upstream's draft and cancel"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Transition = pool.get('backoffice.order.transition')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            confirmed = self.stage(scheme, 'confirmed')
            cancelled = self.stage(scheme, 'cancelled')
            Transition.create([{
                        'scheme': scheme.id,
                        'from_': confirmed.id, 'to': cancelled.id}])
            sale = self.create_sale(client, product)
            Sale.move_to_stage([sale], confirmed)
            Sale.move_to_stage([sale], cancelled)
            sale = Sale(sale.id)
            self.assertEqual(
                (sale.state, sale.stage), ('cancelled', cancelled))

    @with_transaction()
    def test_default_scheme(self):
        "The default scheme is created on first use, once"
        pool = Pool()
        Scheme = pool.get('backoffice.order.scheme')
        company = create_company()
        with set_company(company):
            scheme = Scheme.get()
            self.assertEqual(
                [s.code for s in scheme.stages],
                ['new', 'confirmed', 'preparing', 'ready', 'in_transit',
                    'delivered', 'cancelled'])
            self.assertEqual(scheme.start_stage.code, 'new')
            self.assertEqual(Scheme.get(), scheme)
            self.assertEqual(Scheme.search_count([]), 1)
            self.assertIn(
                (self.stage(scheme, 'new').id,
                    self.stage(scheme, 'confirmed').id),
                scheme.allowed())

    @with_transaction()
    def test_scheme_stage_count(self):
        "A scheme keeps 3 to 8 active stages, a start and an end"
        pool = Pool()
        Scheme = pool.get('backoffice.order.scheme')
        Stage = pool.get('backoffice.order.stage')
        company = create_company()
        with set_company(company):
            scheme = Scheme.get()
            stages = list(scheme.stages)
            with self.assertRaises(SchemeError) as cm, request():
                Stage.write(stages[1:6], {'active': False})
            self.assertIn("2 active stages", cm.exception.message)
            self.assertIn("3 to 8", cm.exception.message)
            self.assertEqual(
                len(Stage.search([('scheme', '=', scheme.id)])), 7)

            with self.assertRaises(SchemeError) as cm, request():
                Stage.create([{
                            'scheme': scheme.id, 'name': "Extra %s" % i,
                            'code': 'extra%s' % i, 'kind': 'processing',
                            } for i in range(2)])
            self.assertIn("9 active stages", cm.exception.message)

            with self.assertRaises(SchemeError) as cm, request():
                Stage.write([self.stage(scheme, 'new')], {'start': False})
            self.assertIn("start stage", cm.exception.message)
            self.assertTrue(self.stage(Scheme(scheme.id), 'new').start)

            with self.assertRaises(SchemeError) as cm, request():
                Stage.write([
                        self.stage(scheme, 'delivered'),
                        self.stage(scheme, 'cancelled')], {'end': False})
            self.assertIn("end stage", cm.exception.message)

    @with_transaction()
    def test_transition_same_stage(self):
        "A transition leads to another stage"
        pool = Pool()
        Scheme = pool.get('backoffice.order.scheme')
        Transition = pool.get('backoffice.order.transition')
        company = create_company()
        with set_company(company):
            scheme = Scheme.get()
            new = self.stage(scheme, 'new')
            with self.assertRaises(TransitionError) as cm, request():
                Transition.create([{
                            'scheme': scheme.id, 'from_': new.id,
                            'to': new.id}])
            self.assertIn('"New" to another stage', cm.exception.message)

    @with_transaction()
    def test_stage_in_use(self):
        "A stage holding orders is neither deleted nor retired"
        pool = Pool()
        Stage = pool.get('backoffice.order.stage')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(client, product)
            new = self.stage(scheme, 'new')
            self.assertEqual(sale.stage, new)
            with self.assertRaises(StageInUseError) as cm, request():
                Stage.delete([new])
            self.assertIn('delete the stage "New"', cm.exception.message)
            with self.assertRaises(StageInUseError) as cm, request():
                Stage.write([new], {'active': False})
            self.assertIn('retire the stage "New"', cm.exception.message)
            self.assertTrue(Stage(new.id).active)

    @with_transaction()
    def test_move_flow(self):
        "Orders move along the transitions, running the sale actions"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            user = create_user(company)
            admin = pool.get('res.user')(Transaction().user)
            sale = self.create_sale(client, product)
            with as_user(user):
                Sale.move_to_stage(
                    [sale], self.stage(scheme, 'confirmed'))
                sale = Sale(sale.id)
                self.assertEqual(sale.stage.code, 'confirmed')
                self.assertIn(sale.state, {'confirmed', 'processing'})
                Sale.move_to_stage(
                    [sale], self.stage(scheme, 'preparing'))
                sale = Sale(sale.id)
                self.assertEqual(sale.stage.code, 'preparing')
                self.assertEqual(sale.state, 'processing')

                with self.assertRaises(StageMoveError) as cm, request():
                    Sale.move_to_stage([sale], self.stage(scheme, 'delivered'))
                self.assertEqual(
                    cm.exception.message,
                    'The order "%s" cannot go from stage "Preparing" to '
                    'stage "Delivered": the scheme has no such '
                    'transition.' % sale.rec_name)
                self.assertEqual(Sale(sale.id).stage.code, 'preparing')

            sale = Sale(sale.id)
            self.assertEqual(
                [(a.kind, a.old_value, a.new_value, a.user)
                    for a in sale.activities],
                [('stage', None, 'New', admin),
                    ('stage', 'New', 'Confirmed', user),
                    ('stage', 'Confirmed', 'Preparing', user)])

    @with_transaction()
    def test_stage_write_refused(self):
        "The stage is not written directly"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(client, product)
            with self.assertRaises(StageMoveError) as cm, request():
                Sale.write([sale], {
                        'stage': self.stage(scheme, 'ready').id})
            self.assertIn('only through "Change Stage"', cm.exception.message)
            self.assertEqual(Sale(sale.id).stage.code, 'new')

    @with_transaction()
    def test_stage_written_back(self):
        "Writing back the stage an order has (Modify Header) is no move"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(client, product)
            other = self.create_sale(client, product)
            Sale.move_to_stage([other], self.stage(scheme, 'confirmed'))
            new = self.stage(scheme, 'new')
            Sale.write([sale], {'stage': new.id, 'priority': 'high'})
            sale = Sale(sale.id)
            self.assertEqual((sale.stage, sale.priority), (new, 'high'))
            # one of the orders would change stage: all are refused
            with self.assertRaises(StageMoveError) as cm, request():
                Sale.write([sale, other], {
                        'stage': new.id, 'priority': 'low'})
            self.assertIn(other.rec_name, cm.exception.message)
            self.assertEqual(
                [(s.stage.code, s.priority)
                    for s in Sale.browse([sale, other])],
                [('new', 'high'), ('confirmed', 'normal')])

    @with_transaction()
    def test_gate(self):
        "Only the members of the approval group enter a gated stage"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Stage = pool.get('backoffice.order.stage')
        Group = pool.get('res.group')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            group = Group(name="Credit Review")
            group.save()
            confirmed = self.stage(scheme, 'confirmed')
            Stage.write([confirmed], {'gate_group': group.id})
            user = create_user(company)
            reviewer = create_user(company, 'reviewer')
            reviewer.groups += (group,)
            reviewer.save()
            sale = self.create_sale(client, product)
            with as_user(user):
                with self.assertRaises(StageGateError) as cm, request():
                    Sale.move_to_stage([sale], confirmed)
                self.assertEqual(
                    cm.exception.message,
                    'Only the members of group "Credit Review" may move '
                    'orders into stage "Confirmed"; the order "%s" stays '
                    'where it is.' % sale.rec_name)
            sale = Sale(sale.id)
            self.assertEqual((sale.stage.code, sale.state), ('new', 'draft'))
            with as_user(reviewer):
                Sale.move_to_stage([sale], confirmed)
            self.assertEqual(Sale(sale.id).stage, confirmed)

    @with_transaction()
    def test_review_written_in_batch(self):
        "The reviews of many orders cost the queries of a few"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)

            def queries(count):
                sales = [self.create_sale(client, product)
                    for _ in range(count)]
                reasons = {s: ["Reason %s" % (i % 2)]
                    for i, s in enumerate(sales)}
                with patch.object(
                        Sale, '_review_reasons', return_value=reasons), \
                        count_queries() as counter:
                    Sale.update_review(sales)
                self.assertEqual(
                    [(s.manual_review, s.review_reasons)
                        for s in Sale.browse(sales)],
                    [(True, "Reason %s" % (i % 2))
                        for i in range(count)])
                return counter[0]
            queries(1)  # what the first write reads, later ones find cached
            self.assertEqual(queries(2), queries(20))

    @with_transaction()
    def test_credit_limit(self):
        "The credit limit refuses the confirmation; the order stays"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            client.credit_limit_amount = Decimal('100')
            client.save()
            user = create_user(company)
            sale = self.create_sale(client, product, quantity=15)
            self.assertTrue(sale.manual_review)
            self.assertIn("Credit limit exceeded", sale.review_reasons)
            self.assertIn("Manual review", sale.labels)
            with as_user(user):
                with self.assertRaises(StageMoveError) as cm, request():
                    Sale.move_to_stage([sale], self.stage(scheme, 'confirmed'))
                # by how much, as the Confirm button says
                self.assertEqual(
                    cm.exception.message,
                    'The order "%s" of "Client" cannot go to stage '
                    '"Confirmed": it would exceed the credit limit of '
                    '"Client" by usd50.00 (limit usd100.00, already used '
                    'usd0.00, this order usd150.00). A credit reviewer must '
                    'approve it.'
                    % sale.rec_name)
                # counting the orders accepted before in the same move
                small = self.create_sale(client, product, quantity=6)
                other = self.create_sale(client, product, quantity=5)
                result = Sale.bulk_move(
                    [small, other], self.stage(scheme, 'confirmed'))
                self.assertIn(
                    'by usd10.00 (limit usd100.00, already used usd60.00, '
                    'this order usd50.00)',
                    result['refused'][other].message)
            sale = Sale(sale.id)
            self.assertEqual((sale.stage.code, sale.state), ('new', 'draft'))

    @with_transaction()
    def test_bulk_move(self):
        "Each order is checked on its own: a refusal does not block others"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            client.credit_limit_amount = Decimal('100')
            client.save()
            user = create_user(company)
            # 40 + 50 pass together; 30 more would pass alone, not with them
            sales = [self.create_sale(client, product, quantity=q)
                for q in [4, 5, 3]]
            moved = self.create_sale(client, product, quantity=1)
            confirmed = self.stage(scheme, 'confirmed')
            with as_user(user):
                Sale.move_to_stage([moved], confirmed)
                moved = Sale(moved.id)
                result = Sale.bulk_move(
                    sales + [moved], confirmed,
                    expected={moved.id: self.stage(scheme, 'new').id})
            self.assertEqual(result['moved'], sales[:2])
            self.assertEqual(
                {s: type(e) for s, e in result['refused'].items()},
                {sales[2]: StageMoveError, moved: StageChangedError})
            self.assertIn(
                'changed by someone else',
                result['refused'][moved].message)
            self.assertEqual(
                [Sale(s.id).stage.code for s in sales],
                ['confirmed', 'confirmed', 'new'])

    @with_transaction()
    def test_upstream_buttons_sync(self):
        "The upstream buttons keep the stage in sync"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(client, product)
            Sale.quote([sale])
            # no stage of kind quotation: the order stays New
            self.assertEqual(Sale(sale.id).stage.code, 'new')
            Sale.confirm([sale])
            sale = Sale(sale.id)
            self.assertEqual(sale.stage.code, 'confirmed')
            self.assertIn('Follows the sale', sale.activities[-1].description)
            sale2 = self.create_sale(client, product)
            Sale.cancel([sale2])
            self.assertEqual(Sale(sale2.id).stage.code, 'cancelled')

    @with_transaction()
    def test_tracked_edits(self):
        "Edits of tracked fields reach the timeline with old and new values"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            driver = create_employee(company, "Dwight")
            sale = self.create_sale(client, product)
            Sale.write([sale], {
                    'priority': 'urgent',
                    'driver': driver.id,
                    'delivery_date': dt.date(2030, 1, 7),
                    })
            sale = Sale(sale.id)
            self.assertEqual(
                sorted((a.kind, a.field, a.old_value, a.new_value)
                    for a in sale.activities if a.kind != 'stage'),
                [('assignment', 'driver', None, 'Dwight'),
                    ('edit', 'delivery_date', None, '2030-01-07'),
                    ('edit', 'priority', 'Normal', 'Urgent')])
            self.assertTrue(sale.label_urgent)
            self.assertEqual(
                Sale.search([('label_urgent', '=', True)]), [sale])
            self.assertEqual(
                Sale.search([('label_urgent', '=', False)]), [])

    @with_transaction()
    def test_lines_locked(self):
        "Lines and delivery date are not edited where the stage forbids it"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            user = create_user(company)
            sale = self.create_sale(client, product)
            with as_user(user):
                Sale.move_to_stage([sale], self.stage(scheme, 'confirmed'))
                with self.assertRaises(LinesLockedError) as cm, request():
                    Sale.write([Sale(sale.id)], {
                            'delivery_date': dt.date(2030, 1, 7)})
                self.assertIn(
                    'cannot be edited in stage "Confirmed"',
                    cm.exception.message)
            self.assertIsNone(Sale(sale.id).delivery_date)

    @with_transaction()
    def test_discount_negative(self):
        "A discount cannot make a line negative; one is recorded"
        pool = Pool()
        Line = pool.get('sale.line')
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(client, product)
            line, = sale.lines
            with self.assertRaises(DiscountError) as cm, request():
                Line.write([line], {'unit_price': Decimal('-1')})
            self.assertIn('negative', cm.exception.message)
            self.assertEqual(Line(line.id).unit_price, Decimal('10'))
            Line.write([line], {
                    'unit_price': Decimal('8'),
                    'discount_reason': "Damaged box"})
            sale = Sale(sale.id)
            activity = sale.activities[-1]
            self.assertEqual(
                (activity.kind, activity.old_value, activity.new_value),
                ('discount', '10', '8'))
            self.assertIn("Damaged box", activity.description)
            self.assertTrue(sale.manual_review)
            self.assertIn("Unit price set by hand", sale.review_reasons)

    @with_transaction()
    def test_delivery_events(self):
        "Delivery events move the orders to the stages that accept them"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(client, product)
            Sale.move_to_stage([sale], self.stage(scheme, 'confirmed'))
            Sale.move_to_stage([sale], self.stage(scheme, 'preparing'))
            Sale.move_to_stage([sale], self.stage(scheme, 'ready'))
            self.assertEqual(Sale.picked_up([sale]), [sale])
            self.assertEqual(Sale(sale.id).stage.code, 'in_transit')
            Sale.failed([sale])
            self.assertEqual(Sale(sale.id).stage.code, 'ready')
            Sale.picked_up([sale])
            Sale.delivered([sale])
            sale = Sale(sale.id)
            self.assertEqual(sale.stage.code, 'delivered')
            self.assertIn('Delivered', sale.activities[-1].description)
            # an end stage is final for the drivers
            self.assertEqual(Sale.failed([sale]), [])

    @with_transaction()
    def test_auto_confirm(self):
        "New orders that pass the checks confirm themselves"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Scheme = pool.get('backoffice.order.scheme')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            Scheme.write([scheme], {'auto_confirm': True})
            ok = self.create_sale(client, product)
            review = self.create_sale(client, product, price=Decimal('7'))
            self.assertEqual(Sale.auto_confirm([ok, review]), [ok])
            self.assertEqual(Sale(ok.id).stage.code, 'confirmed')
            self.assertEqual(Sale(review.id).stage.code, 'new')

    @with_transaction()
    def test_split(self):
        "A split keeps the totals to the cent; bad parts are refused"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(
                client, product, quantity=3, price=Decimal('0.3333'))
            line, = sale.lines
            total = sale.total_amount
            with self.assertRaises(SplitError) as cm, request():
                Sale.split(sale, {line: 4})
            self.assertIn('do not add up', cm.exception.message)
            self.assertEqual(Sale(sale.id).lines[0].quantity, 3)
            with self.assertRaises(SplitError) as cm, request():
                Sale.split(sale, {line: 3})
            self.assertIn('leave something', cm.exception.message)

            part = Sale.split(sale, {line: 1}, dt.date(2030, 1, 8))
            sale = Sale(sale.id)
            self.assertEqual(part.split_from, sale)
            self.assertEqual(sale.split_parts, (part,))
            self.assertEqual(
                (sale.lines[0].quantity, part.lines[0].quantity), (2, 1))
            self.assertEqual(sale.total_amount + part.total_amount, total)
            self.assertEqual(part.stage.code, 'new')
            self.assertEqual(part.delivery_date, dt.date(2030, 1, 8))
            self.assertEqual(sale.activities[-1].kind, 'split')

    @with_transaction()
    def test_search_text_and_labels(self):
        "Orders are found by client, product and note; labels filter"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Note = pool.get('ir.note')
        Stage = pool.get('backoffice.order.stage')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(client, product)
            other = self.create_sale(client, product)
            Note.create([{'resource': str(sale), 'message': "Back door"}])
            self.assertEqual(Sale.search([('text', 'ilike', 'flou')]),
                [other, sale])
            self.assertEqual(Sale.search([('text', 'ilike', 'back door')]),
                [sale])
            # the words in any order: by full-text search where the
            # database has one, not by ILIKE alone
            found = Sale.search([('text', 'ilike', 'door back')])
            if Transaction().database.has_search_full_text():
                self.assertEqual(found, [sale])
            else:
                self.assertEqual(found, [])
            self.assertEqual(
                Sale.search([('text', 'not ilike', 'door back')]),
                [other] if found else [other, sale])
            self.assertEqual(Sale.search([('rec_name', 'ilike', 'client')]),
                [other, sale])
            self.assertEqual(Sale.search([('text', 'ilike', 'nothing')]), [])

            window, = client.addresses[0].zone.windows
            monday = self.past_monday()
            Sale.write([sale], {
                    'delivery_date': monday, 'delivery_window': window.id})
            self.assertTrue(Sale(sale.id).label_near_window)
            self.assertEqual(
                Sale.search([('label_near_window', '=', True)]), [sale])
            self.assertEqual(
                Sale.search([('label_near_window', '=', False)]), [other])
            self.assertEqual(
                Sale.search([('delivery_zone', '=', window.zone.id)]),
                [other, sale])
            Stage.write([self.stage(scheme, 'new')], {'ready': True})
            self.assertFalse(Sale(sale.id).label_near_window)

    @with_transaction()
    def test_bad_input(self):
        "Absurd values and malformed input are refused, lists still work"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        Scheme = pool.get('backoffice.order.scheme')
        ChangeStage = pool.get('backoffice.order.change_stage', type='wizard')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(client, product)
            with self.assertRaises(ValueCheckError) as cm, request():
                Scheme.write([scheme], {'near_window_hours': 10 ** 9})
            self.assertEqual(cm.exception.message,
                'The value 1000000000 of field "Near Window Hours" of '
                '"Fulfilment Scheme" must be 720 or less.')
            self.assertEqual(Scheme(scheme.id).near_window_hours, 4)
            Scheme.write([scheme], {'near_window_hours': 720})
            self.assertEqual(
                Sale.search([('label_near_window', '=', False)]), [sale])

            lines = Line.search_count([])
            with self.assertRaises(ValueCheckError) as cm, request():
                Line.create([{'sale': sale.id, 'type': 'line',
                            'product': product.id,
                            'unit': product.default_uom.id,
                            'quantity': -1e308, 'unit_price': Decimal(1)}])
            self.assertEqual(cm.exception.message,
                'The value -1e+308 of field "Quantity" of "Sale Line" '
                'must be -1000000000000 or more.')
            self.assertEqual(Line.search_count([]), lines)

            # a list of texts finds the orders matching any of them
            self.assertEqual(
                Sale.search([('text', 'in', ['flour', 'nothing'])]), [sale])
            self.assertEqual(
                Sale.search([('text', 'not in', ['flour'])]), [])
            self.assertEqual(Sale.search([('text', 'in', [])]), [])
            self.assertEqual(Sale.search([('text', 'ilike', 42)]), [])

            confirmed = self.stage(scheme, 'confirmed')
            for data, message in [
                    ({'stage': confirmed.id, 'expected': '{not json'},
                        'The stages of the orders when "Change Stage" '
                        'opened are not readable: close it and run it '
                        'again.'),
                    ({'stage': confirmed.id, 'expected': '[1, 2]'},
                        'The stages of the orders when "Change Stage" '
                        'opened are not readable: close it and run it '
                        'again.'),
                    ({'stage': None, 'expected': '{}'},
                        'Choose the stage to move the orders to.'),
                    ]:
                with self.subTest(data=data):
                    session_id, _, _ = ChangeStage.create()
                    with Transaction().set_context(
                            active_model='sale.sale', active_id=sale.id,
                            active_ids=[sale.id]), \
                            self.assertRaises(ChangeStageInputError) as cm, \
                            request():
                        ChangeStage.execute(
                            session_id, {'start': data}, 'move')
                    self.assertEqual(cm.exception.message, message)
                    self.assertEqual(Sale(sale.id).stage.code, 'new')

    @with_transaction()
    def test_assign_driver_wizard(self):
        "The driver of several orders is assigned at once, recorded"
        pool = Pool()
        Sale = pool.get('sale.sale')
        AssignDriver = pool.get(
            'backoffice.order.assign_driver', type='wizard')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            driver = create_employee(company, "Dwight")
            sales = [self.create_sale(client, product) for _ in range(2)]
            session_id, _, _ = AssignDriver.create()
            wizard = AssignDriver(session_id)
            wizard.start.driver = driver
            with Transaction().set_context(
                    active_model='sale.sale',
                    active_ids=[s.id for s in sales]):
                wizard.transition_assign()
            for sale in Sale.browse(sales):
                self.assertEqual(sale.driver, driver)
                self.assertEqual(
                    sale.activities[-1].kind, 'assignment')

    @with_transaction()
    def test_address_change(self):
        "A new delivery address re-derives zone, window and review"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Address = pool.get('party.address')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            window, = client.addresses[0].zone.windows
            sale = self.create_sale(client, product)
            Sale.write([sale], {
                    'delivery_date': dt.date(2030, 1, 7),  # a Monday
                    'delivery_window': window.id})
            self.assertFalse(Sale(sale.id).manual_review)
            elsewhere, = Address.create([{
                        'party': client.id, 'street': "Lake Road 1"}])
            Sale.write([sale], {'shipment_address': elsewhere.id})
            sale = Sale(sale.id)
            self.assertIsNone(sale.delivery_zone)
            self.assertIsNone(sale.delivery_window)
            self.assertTrue(sale.manual_review)
            self.assertIn("without zone", sale.review_reasons)
            self.assertEqual(
                sorted((a.kind, a.field) for a in sale.activities[-2:]),
                [('address', 'shipment_address'),
                    ('edit', 'delivery_window')])

    @with_transaction()
    def test_line_edits_in_timeline(self):
        "Every edit of the lines reaches the timeline with the totals"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        ModelData = pool.get('ir.model.data')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            user = create_user(company)
            template, = Template.copy(
                [product.template], default={'name': "Sugar"})
            sugar, = template.products
            unit = Uom(ModelData.get_id('product', 'uom_unit'))
            box = Uom(
                name="Box", symbol="box", category=unit.category,
                factor=6, rate=round(1 / 6, 12), rounding=1, digits=0)
            box.save()
            sale = self.create_sale(client, product, quantity=1)
            line, = sale.lines
            code = sale.currency.code
            # the lines of a new order are part of its creation
            self.assertEqual(
                [a.kind for a in sale.activities], ['stage'])

            def entries():
                return [(a.kind, a.field, a.old_value, a.new_value,
                        a.user.login if a.user else None, a.description)
                    for a in Sale(sale.id).activities[1:]]

            with as_user(user):
                # through the order
                Sale.write([sale], {'lines': [
                            ('write', [line.id], {'quantity': 3})]})
                # on the line
                Line.write([line], {'quantity': 2})
                Line.write([line], {'product': sugar.id})
                Line.write([line], {'unit': box.id})
                Line.write([line], {'unit_price': Decimal('12')})
                Sale.write([sale], {'lines': [('create', [{
                                    'type': 'line', 'product': product.id,
                                    'quantity': 1, 'unit': product.default_uom,
                                    'unit_price': Decimal('10'),
                                    }])]})
                added, = [l for l in Sale(sale.id).lines if l != line]
                added_name = added.rec_name
                Sale.write([sale], {'lines': [('delete', [added.id])]})
            line_name = Line(line.id).rec_name
            self.maxDiff = None
            self.assertEqual([e[:5] for e in entries()], [
                    ('edit', 'quantity', '1\xa0u', '3\xa0u', 'sales'),
                    ('edit', 'quantity', '3\xa0u', '2\xa0u', 'sales'),
                    ('edit', 'product', 'Flour', 'Sugar', 'sales'),
                    ('edit', 'unit', 'Unit', 'Box', 'sales'),
                    ('discount', 'unit_price', '10', '12', 'sales'),
                    ('edit', 'lines', None, added_name, 'sales'),
                    ('edit', 'lines', added_name, None, 'sales'),
                    ])
            descriptions = [e[5] for e in entries()]
            self.assertEqual(descriptions[0], (
                    'Line "1\xa0u Flour @ {sale}". Order total: 10.00 {code} '
                    'before, 30.00 {code} after.').format(
                    sale=sale.rec_name, code=code))
            self.assertIn(
                'Order total: 30.00 %s before, 20.00 %s after.' % (
                    code, code), descriptions[1])
            self.assertIn(
                'Order total: 20.00 %s before, 24.00 %s after.' % (
                    code, code), descriptions[4])
            self.assertEqual(descriptions[5], (
                    'Line added. Order total: 24.00 {code} before, '
                    '34.00 {code} after.').format(code=code))
            self.assertEqual(descriptions[6], (
                    'Line removed. Order total: 34.00 {code} before, '
                    '24.00 {code} after.').format(code=code))
            self.assertTrue(all(
                    a.date for a in Sale(sale.id).activities))
            self.assertIn('Sugar', line_name)

            # a refused edit records nothing and changes nothing
            count = len(Sale(sale.id).activities)
            Sale.move_to_stage([sale], self.stage(scheme, 'confirmed'))
            count += 1
            with as_user(user):
                with self.assertRaises(LinesLockedError) as cm, request():
                    Line.write([Line(line.id)], {'quantity': 5})
                self.assertIn(
                    'cannot be edited in stage "Confirmed"',
                    cm.exception.message)
            self.assertEqual(Line(line.id).quantity, 2)
            self.assertEqual(len(Sale(sale.id).activities), count)

    @with_transaction()
    def test_split_taxed(self):
        "A split of a taxed price rounds the tax per part and says so"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Tax = pool.get('account.tax')
        company = create_company()
        with set_company(company):
            create_chart(company, tax=True)
            tax, = Tax.search([])
            tax.rate = Decimal('0.081')
            tax.save()
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(
                client, product, quantity=10, price=Decimal('1.04'))
            line, = sale.lines
            line.taxes = [tax]
            line.save()
            sale = Sale(sale.id)
            self.assertEqual(
                (sale.untaxed_amount, sale.tax_amount, sale.total_amount),
                (Decimal('10.40'), Decimal('0.84'), Decimal('11.24')))

            part = Sale.split(sale, {line: 4})
            sale = Sale(sale.id)
            self.assertEqual(
                (sale.lines[0].quantity, part.lines[0].quantity), (6, 4))
            self.assertEqual(
                (sale.untaxed_amount, part.untaxed_amount),
                (Decimal('6.24'), Decimal('4.16')))
            self.assertEqual(
                (sale.tax_amount, part.tax_amount),
                (Decimal('0.51'), Decimal('0.34')))
            code = sale.currency.code
            for order in [sale, part]:
                activity = order.activities[-1]
                self.assertEqual(activity.kind, 'split')
                self.assertIn(
                    'The tax of each part is rounded on its own: the parts '
                    'pay 0.85 {code} of tax, the whole order paid 0.84 '
                    '{code} (+0.01).'.format(code=code),
                    activity.description)

    @with_transaction()
    def test_split_untaxed_rounding(self):
        "A split whose line amounts round apart is refused, nothing changes"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            # 3 × 0.335 = 1.005 -> 1.00; 2 × 0.335 = 0.67, 1 × 0.335 -> 0.34
            sale = self.create_sale(
                client, product, quantity=3, price=Decimal('0.335'))
            line, = sale.lines
            self.assertEqual(sale.untaxed_amount, Decimal('1.00'))
            with self.assertRaises(SplitError) as cm, request():
                Sale.split(sale, {line: 1})
            self.assertEqual(
                cm.exception.message,
                'The parts of order "%s" do not add up: their untaxed '
                'amount would be 1.01 instead of 1.00.' % sale.rec_name)
            sale = Sale(sale.id)
            self.assertEqual(sale.lines[0].quantity, 3)
            self.assertEqual(sale.split_parts, ())
            self.assertEqual(Sale.search_count([]), 1)

    @with_transaction()
    def test_note_in_timeline(self):
        "An internal note appears in the timeline"
        pool = Pool()
        Note = pool.get('ir.note')
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(client, product)
            Note.create([{'resource': str(sale), 'message': "Call first"}])
            activity = Sale(sale.id).activities[-1]
            self.assertEqual(
                (activity.kind, activity.description), ('note', "Call first"))

    @with_transaction()
    def test_create_default_wizard(self):
        "A fulfilment administrator creates the default scheme once"
        pool = Pool()
        Scheme = pool.get('backoffice.order.scheme')
        CreateDefault = pool.get(
            'backoffice.order.scheme.create_default', type='wizard')
        company = create_company()
        with set_company(company):
            clerk = create_user(company)
            admin = create_user(company, login='fulfilment', groups=(
                    'sale.group_sale',
                    'backoffice_order.group_fulfilment_admin'))
            with as_user(clerk):
                with self.assertRaises(AccessError):
                    CreateDefault.check_access()
            with as_user(admin):
                CreateDefault.check_access()
                session_id, _, _ = CreateDefault.create()
                wizard = CreateDefault(session_id)
                wizard.start.company = company
                _, data = wizard.do_create_scheme({})
            scheme, = Scheme.search([])
            self.assertEqual(data, {'res_id': [scheme.id]})
            self.assertEqual(len(scheme.stages), 7)
            with as_user(admin):
                wizard = CreateDefault(CreateDefault.create()[0])
                wizard.start.company = company
                with self.assertRaises(SchemeError) as cm, request():
                    wizard.do_create_scheme({})
            self.assertIn('already has the fulfilment scheme',
                cm.exception.message)
            self.assertEqual(Scheme.search([]), [scheme])
            self.assertEqual(len(scheme.stages), 7)

    def order_tabs(self):
        "{name: domain} of the stage tabs of Orders by Stage in order"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        ActionDomain = pool.get('ir.action.act_window.domain')
        tabs = ActionDomain.search([
                ('act_window', '=', ModelData.get_id(
                        'backoffice_order', 'act_order_form')),
                ], order=[('sequence', 'ASC'), ('id', 'ASC')])
        return [(t.name, t.domain) for t in tabs
            if t.domain and 'stage.code' in t.domain]

    @with_transaction()
    def test_stage_tabs(self):
        "Orders by Stage has a tab per active stage, kept with the stages"
        pool = Pool()
        Scheme = pool.get('backoffice.order.scheme')
        Stage = pool.get('backoffice.order.stage')
        company = create_company()
        with set_company(company):
            self.assertEqual(self.order_tabs(), [])
            scheme = Scheme.get()
            self.assertEqual([n for n, _ in self.order_tabs()], [
                    "New", "Confirmed", "Preparing", "Ready", "In Transit",
                    "Delivered", "Cancelled"])
            quality, = Stage.create([{
                        'scheme': scheme.id, 'name': "Quality Check",
                        'code': 'quality', 'sequence': 35}])
            tabs = self.order_tabs()
            self.assertEqual(tabs[3][0], "Quality Check")
            self.assertIn('"quality"', tabs[3][1])
            Stage.write([quality], {'name': "QC"})
            self.assertEqual(self.order_tabs()[3][0], "QC")
            Stage.write([quality], {'active': False})
            self.assertNotIn("QC", [n for n, _ in self.order_tabs()])
            self.assertEqual(len(self.order_tabs()), 7)

    @with_transaction()
    def test_order_discount(self):
        "A discount per order on every line, with its reason"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            user = create_user(company)
            sale = self.create_sale(client, product, quantity=3)
            Line.create([{
                        'sale': sale.id, 'type': 'line', 'product': product.id,
                        'quantity': 1, 'unit': product.default_uom.id,
                        'unit_price': Decimal('20'),
                        'base_price': Decimal('20')}])
            sale = Sale(sale.id)
            self.assertEqual(sale.untaxed_amount, Decimal('50'))
            before = len(sale.activities)

            with as_user(user):
                for rate in [Decimal('-0.1'), Decimal('1'), None]:
                    with self.assertRaises(DiscountError) as cm, request():
                        Sale.apply_discount(
                            [Sale(sale.id)], rate, "Loyal client")
                    self.assertIn('less than 100 %', cm.exception.message)
                with self.assertRaises(DiscountError) as cm, request():
                    Sale.apply_discount([Sale(sale.id)], Decimal('0.1'), '')
                self.assertIn('reason', cm.exception.message)
            sale = Sale(sale.id)
            self.assertEqual(sale.untaxed_amount, Decimal('50'))
            self.assertEqual(len(sale.activities), before)

            with as_user(user):
                Sale.apply_discount([sale], Decimal('0.1'), "Loyal client")
            sale = Sale(sale.id)
            self.assertEqual(
                sorted(l.unit_price for l in sale.lines),
                [Decimal('9'), Decimal('18')])
            self.assertEqual(
                {l.discount_reason for l in sale.lines}, {"Loyal client"})
            self.assertEqual(sale.untaxed_amount, Decimal('45'))
            activity, = sale.activities[before:]
            self.assertEqual(
                (activity.kind, activity.old_value, activity.new_value),
                ('discount', '50.00', '45.00'))
            self.assertIn("10 %", activity.description)
            self.assertIn("Loyal client", activity.description)

            # a new discount replaces the previous one
            with as_user(user):
                Sale.apply_discount([sale], Decimal('0.05'), "Promotion")
            self.assertEqual(Sale(sale.id).untaxed_amount, Decimal('47.5'))

            with as_user(user):
                Sale.move_to_stage([sale], self.stage(scheme, 'confirmed'))
                with self.assertRaises(LinesLockedError) as cm, request():
                    Sale.apply_discount(
                        [Sale(sale.id)], Decimal('0.2'), "Too late")
            self.assertIn('cannot be edited in stage "Confirmed"',
                cm.exception.message)
            self.assertEqual(Sale(sale.id).untaxed_amount, Decimal('47.5'))

    @with_transaction()
    def test_order_discount_wizard(self):
        "The discount wizard gives the discount to the selected orders"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Discount = pool.get('backoffice.order.discount', type='wizard')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sales = [self.create_sale(client, product) for _ in range(2)]
            session_id, _, _ = Discount.create()
            with Transaction().set_context(
                    active_model='sale.sale',
                    active_ids=[s.id for s in sales],
                    active_id=sales[0].id):
                wizard = Discount(session_id)
                self.assertEqual(
                    wizard.default_start(None), {'order_count': 2})
                wizard.start.rate = Decimal('0.5')
                wizard.start.reason = "Opening"
                self.assertEqual(wizard.transition_apply(), 'end')
            self.assertEqual(
                [s.untaxed_amount for s in Sale.browse(sales)],
                [Decimal('5'), Decimal('5')])

    @with_transaction()
    def test_address_change_window(self):
        "A new address in another zone takes its window of the same day"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Address = pool.get('party.address')
        Zone = pool.get('backoffice.zone')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            window, = client.addresses[0].zone.windows
            other = Zone(
                company=company, name="Lake", code='L',
                weekdays=['0', '1'],
                windows=[
                    {'weekday': '0', 'start': dt.time(6),
                        'end': dt.time(7)},
                    {'weekday': '0', 'start': dt.time(8),
                        'end': dt.time(10)},
                    {'weekday': '1', 'start': dt.time(8),
                        'end': dt.time(10)},
                    ])
            other.save()
            sale = self.create_sale(client, product)
            Sale.write([sale], {
                    'delivery_date': dt.date(2030, 1, 7),  # a Monday
                    'delivery_window': window.id})
            lake, = Address.create([{
                        'party': client.id, 'street': "Lake Road 1",
                        'zone': other.id}])
            Sale.write([sale], {'shipment_address': lake.id})
            sale = Sale(sale.id)
            self.assertEqual(sale.delivery_zone, other)
            self.assertEqual(sale.delivery_window.zone, other)
            self.assertEqual(
                (sale.delivery_window.weekday, sale.delivery_window.start),
                ('0', dt.time(8)))

            # the form proposes the same
            sale.shipment_address = client.addresses[0]
            sale.on_change_shipment_address()
            self.assertEqual(sale.delivery_window, window)

    @with_transaction()
    def test_order_by_zone(self):
        "The list sorts by zone and the graph counts orders"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(client, product)
            self.assertEqual(
                Sale.search([], order=[('delivery_zone', 'ASC')]), [sale])
            self.assertEqual(sale.order_count, 1)
            self.assertEqual(sale.stage_colour, '#9e9e9e')


class BackofficeOrderConcurrencyTestCase(OrderTestMixin, unittest.TestCase):
    """Two users at once, each on a real connection (PostgreSQL only: it
    has row locks; SQLite serialises whole transactions)"""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if backend.name != 'postgresql':
            raise unittest.SkipTest("needs PostgreSQL row locks")
        drop_db()
        activate_module(['backoffice_order'])

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if backend.name == 'postgresql':
            drop_db()

    def setup_committed(self, quantities, credit_limit=None):
        "A company, a clerk and sales of one client, committed"
        with Transaction().start(DB_NAME, 0) as transaction:
            company = create_company()
            with set_company(company):
                client, product, scheme = self.setup_order(company)
                if credit_limit is not None:
                    client.credit_limit_amount = credit_limit
                    client.save()
                user = create_user(company, 'clerk%s' % company.id)
                sales = [self.create_sale(client, product, quantity=q)
                    for q in quantities]
                stages = {s.code: s.id for s in scheme.stages}
                result = (
                    company.id, user.id, [s.id for s in sales], stages)
            transaction.commit()
        return result

    def run_concurrently(self, user_id, company_id, calls):
        """Run each call(Sale) in its own thread and transaction, as the
        RPC dispatcher does: restart on lock requests and lock conflicts.
        Returns the result or the UserError of each call."""
        pool = Pool(DB_NAME)
        barrier = threading.Barrier(len(calls))
        results = [None] * len(calls)

        def run(index, call):
            extras = {}
            waited = False
            for attempt in range(100):
                try:
                    with Transaction().start(
                            DB_NAME, user_id, context={
                                'company': company_id},
                            **extras) as transaction:
                        if not waited:
                            # both users act at the same time
                            waited = True
                            barrier.wait(timeout=30)
                        try:
                            with check_access():
                                results[index] = call(pool.get('sale.sale'))
                            transaction.commit()
                            return
                        except TransactionError as exception:
                            transaction.rollback()
                            exception.fix(extras)
                            continue
                        except UserError as exception:
                            transaction.rollback()
                            results[index] = exception
                            return
                except backend.DatabaseOperationalError:
                    # the other user holds the lock: retry as the
                    # dispatcher does
                    time.sleep(0.05)
            results[index] = RuntimeError("never got the lock")

        threads = [threading.Thread(target=run, args=(i, c))
            for i, c in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return results

    def test_same_order_moved_twice(self):
        "Two users move the same order at once: one wins"
        pool = Pool(DB_NAME)
        company, user, (sale_id,), stages = self.setup_committed([1])

        def move(Sale):
            Sale.move_to_stage(
                [Sale(sale_id)], pool.get('backoffice.order.stage')(
                    stages['confirmed']),
                expected={sale_id: stages['new']})
            return 'moved'

        results = self.run_concurrently(user, company, [move, move])
        self.assertEqual(results.count('moved'), 1, results)
        error, = [r for r in results if r != 'moved']
        self.assertIsInstance(error, StageChangedError)
        self.assertIn("changed by someone else", error.message)
        with Transaction().start(DB_NAME, 0):
            sale = pool.get('sale.sale')(sale_id)
            self.assertEqual(sale.stage.code, 'confirmed')
            self.assertEqual(
                [(a.old_value, a.new_value) for a in sale.activities],
                [(None, 'New'), ('New', 'Confirmed')])

    def test_credit_limit_concurrent(self):
        "Two orders of a client confirmed at once stay within its limit"
        pool = Pool(DB_NAME)
        company, user, sale_ids, stages = self.setup_committed(
            [6, 6], credit_limit=Decimal('100'))

        def confirm(sale_id):
            def call(Sale):
                Sale.move_to_stage(
                    [Sale(sale_id)],
                    pool.get('backoffice.order.stage')(
                        stages['confirmed']))
                return 'moved'
            return call

        results = self.run_concurrently(
            user, company, [confirm(i) for i in sale_ids])
        self.assertEqual(results.count('moved'), 1, results)
        error, = [r for r in results if r != 'moved']
        self.assertIn('would exceed the credit limit', error.message)
        with Transaction().start(DB_NAME, 0):
            Sale = pool.get('sale.sale')
            self.assertEqual(
                sorted(Sale(i).stage.code for i in sale_ids),
                ['confirmed', 'new'])


del ModuleTestCase
