# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The scheme and the timeline on every path: upstream sale buttons, direct
writes of workflow fields and of the timeline, as real users over the RPC
checks (access rights, groups)"""
import unittest

from backoffice_testing import request

from trytond.model.exceptions import AccessError
from trytond.modules.backoffice_client.exceptions import ServerFieldError
from trytond.modules.backoffice_order.exceptions import (
    ActivityReadOnlyError, StageGateError, StageMoveError)
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)

from .test_module import OrderTestMixin, as_user, create_user

STATE = ['state', 'stage', 'number', 'manual_review', 'review_reasons']


def snapshot(records, names=STATE):
    return [tuple(getattr(r.__class__(r.id), n) for n in names)
        for r in records]


class OrderAccessTestCase(OrderTestMixin, unittest.TestCase):
    "The scheme is the only way into a stage; the timeline is the server's"

    @classmethod
    def setUpClass(cls):
        drop_db()
        activate_module('backoffice_order')
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def gate(self, scheme, code='confirmed'):
        "Gate the stage code by a new group Credit Review"
        pool = Pool()
        Group = pool.get('res.group')
        Stage = pool.get('backoffice.order.stage')
        group, = Group.create([{'name': "Credit Review"}])
        stage = self.stage(scheme, code)
        Stage.write([stage], {'gate_group': group.id})
        return group, stage

    @with_transaction()
    def test_upstream_buttons_gate(self):
        "Quote then Confirm cannot bring a Sales user into a gated stage"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            group, confirmed = self.gate(scheme)
            clerk = create_user(company)
            reviewer = create_user(company, 'reviewer')
            reviewer.groups += (group,)
            reviewer.save()
            sale = self.create_sale(client, product)
            with as_user(clerk):
                Sale.quote([sale])
                before = snapshot([sale])
                self.assertEqual(before[0][:2], ('quotation', sale.stage))
                with self.assertRaises(StageGateError) as cm, request():
                    Sale.confirm([sale])
                self.assertEqual(
                    cm.exception.message,
                    'Only the members of group "Credit Review" may move '
                    'orders into stage "Confirmed"; the order "%s" stays '
                    'where it is.' % Sale(sale.id).rec_name)
                self.assertEqual(snapshot([sale]), before)
            with as_user(reviewer):
                Sale.confirm([sale])
            sale = Sale(sale.id)
            self.assertEqual(
                (sale.state, sale.stage), ('confirmed', confirmed))
            # the timeline says who moved it
            self.assertEqual(sale.activities[-1].user, reviewer)
            self.assertEqual(sale.activities[-1].new_value, "Confirmed")

    @with_transaction()
    def test_upstream_confirm_credit_limit(self):
        "Confirm checks the credit limit as a move into Confirmed does"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            client.credit_limit_amount = 100
            client.save()
            clerk = create_user(company)
            sale = self.create_sale(client, product, quantity=15)
            with as_user(clerk):
                Sale.quote([sale])
                before = snapshot([sale])
                with self.assertRaises(StageMoveError) as cm, request():
                    Sale.confirm([sale])
                self.assertIn(
                    'would exceed the credit limit of "Client"',
                    cm.exception.message)
            self.assertEqual(snapshot([sale]), before)

    @with_transaction()
    def test_upstream_transition_refused(self):
        "An upstream action whose stage move the scheme has not is refused"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Transition = pool.get('backoffice.order.transition')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            new, cancelled = (
                self.stage(scheme, 'new'), self.stage(scheme, 'cancelled'))
            Transition.delete(Transition.search([
                        ('from_', '=', new.id), ('to', '=', cancelled.id)]))
            clerk = create_user(company)
            sale = self.create_sale(client, product)
            with as_user(clerk):
                before = snapshot([sale])
                with self.assertRaises(StageMoveError) as cm, request():
                    Sale.cancel([sale])
                self.assertEqual(
                    cm.exception.message,
                    'The order "%s" cannot go from stage "New" to stage '
                    '"Cancelled": the scheme has no such transition.'
                    % sale.rec_name)
            self.assertEqual(snapshot([sale]), before)

    @with_transaction()
    def test_facts_follow_allowed_transitions(self):
        "A state upstream records by itself moves the stage only if allowed"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            sale = self.create_sale(client, product)
            Sale.move_to_stage([sale], self.stage(scheme, 'confirmed'))
            # done (shipped and paid): Confirmed → Delivered is no
            # transition of the scheme, the order waits for a person
            Sale.proceed([Sale(sale.id)])
            self.assertEqual(Sale(sale.id).stage.code, 'confirmed')
            Sale.do([Sale(sale.id)])
            sale = Sale(sale.id)
            self.assertEqual((sale.state, sale.stage.code),
                ('done', 'confirmed'))

    @with_transaction()
    def test_workflow_fields_refused(self):
        "Nobody writes the state, stage or review of an order directly"
        pool = Pool()
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            clerk = create_user(company)
            admin = create_user(company, 'manager', groups=(
                    'sale.group_sale_admin',
                    'backoffice_order.group_fulfilment_admin'))
            sale = self.create_sale(client, product, price=5)
            self.assertTrue(sale.manual_review)
            before = snapshot([sale])
            for user in [clerk, admin]:
                with as_user(user):
                    for values, field in [
                            ({'state': 'confirmed'}, "State"),
                            ({'manual_review': False,
                                    'review_reasons': None},
                                "Manual Review"),
                            ({'number': 'X1'}, "Number"),
                            ]:
                        with self.assertRaises(ServerFieldError) as cm, \
                                request():
                            Sale.write([sale], values)
                        self.assertEqual(
                            cm.exception.message,
                            'The field "%s" of Sale "%s" is set by the '
                            'server only (computed or set by its '
                            'workflow): it cannot be written.'
                            % (field, sale.rec_name))
                        self.assertEqual(snapshot([sale]), before)
                    with self.assertRaises(StageMoveError), request():
                        Sale.write([sale], {
                                'stage': self.stage(scheme, 'ready').id})
                    self.assertEqual(snapshot([sale]), before)
            with as_user(clerk):
                count = Sale.search_count([])
                with self.assertRaises(ServerFieldError) as cm, request():
                    Sale.create([{
                                'party': client.id,
                                'state': 'confirmed',
                                }])
                self.assertEqual(
                    cm.exception.message,
                    'The field "State" of a new Sale is set by the server '
                    'only (computed or set by its workflow): it cannot be '
                    'given.')
                with self.assertRaises(ServerFieldError), request():
                    Sale.copy([sale], default={'state': 'confirmed'})
                self.assertEqual(Sale.search_count([]), count)
                # a plain copy is a new order in the start stage
                copy, = Sale.copy([sale])
                self.assertEqual(
                    (copy.state, copy.stage.code), ('draft', 'new'))

    @with_transaction()
    def test_timeline_server_only(self):
        "The timeline is never created, changed or deleted over RPC"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Activity = pool.get('backoffice.order.activity')
        Note = pool.get('ir.note')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            clerk = create_user(company)
            sale = self.create_sale(client, product)
            with as_user(clerk):
                Note.create([{
                            'resource': str(sale),
                            'message': "Client pays late"}])
            names = ['kind', 'user', 'description', 'date']
            entries = Activity.search([('sale', '=', sale.id)])
            before = snapshot(entries, names)
            note, = [e for e in entries if e.kind == 'note']
            self.assertEqual(note.user, clerk)
            with as_user(clerk):
                with self.assertRaises(ActivityReadOnlyError) as cm, \
                        request():
                    Activity.create([{
                                'sale': sale.id, 'kind': 'note',
                                'date': note.date, 'description': "forged"}])
                self.assertEqual(
                    cm.exception.message,
                    'The timeline of order "%s" is written by the server '
                    'only: entries cannot be added to it.' % sale.rec_name)
                with self.assertRaises(ActivityReadOnlyError) as cm, \
                        request():
                    Activity.write([note], {'description': "rewritten"})
                self.assertIn('cannot be changed', cm.exception.message)
                with self.assertRaises(ActivityReadOnlyError) as cm, \
                        request():
                    Activity.delete([note])
                self.assertIn('cannot be deleted', cm.exception.message)
                # nor through the order
                with self.assertRaises((ServerFieldError,
                            ActivityReadOnlyError)), request():
                    Sale.write([sale], {'activities': [('create', [{
                                        'kind': 'note', 'date': note.date,
                                        }])]})
            self.assertEqual(
                snapshot(Activity.search([('sale', '=', sale.id)]), names),
                before)
            # deleting a draft order takes its timeline with it
            with as_user(clerk):
                Sale.delete([sale])
            self.assertEqual(Activity.search([('sale', '=', sale.id)]), [])

    @with_transaction()
    def test_timeline_read_like_notes(self):
        "Who cannot read the order's notes cannot read its timeline"
        pool = Pool()
        Activity = pool.get('backoffice.order.activity')
        Note = pool.get('ir.note')
        company = create_company()
        with set_company(company):
            client, product, scheme = self.setup_order(company)
            clerk = create_user(company)
            nobody = create_user(company, 'nobody', groups=())
            sale = self.create_sale(client, product)
            Note.create([{
                        'resource': str(sale),
                        'message': "Secret: client pays late"}])
            with as_user(clerk):
                texts = [a.description for a in Activity.search(
                        [('sale', '=', sale.id)])]
                self.assertIn("Secret: client pays late", texts)
            ids = [a.id for a in Activity.search([('sale', '=', sale.id)])]
            with as_user(nobody):
                # the notes of orders are hidden from him (or refused)
                try:
                    messages = [n['message'] for n in Note.search_read(
                            [], fields_names=['message'])]
                except AccessError:
                    messages = []
                self.assertNotIn("Secret: client pays late", messages)
                with self.assertRaises(AccessError):
                    Activity.search_read([], fields_names=['description'])
                with self.assertRaises(AccessError):
                    Activity.read(ids, ['description'])
