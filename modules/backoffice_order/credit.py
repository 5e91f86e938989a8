# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The credit limit of the orders a move would confirm: each counts the
credit already used and the orders of the same client accepted before it in
the batch; the moves refuse them (move.py) and the manual review flags them
(review.py)"""
from collections import defaultdict
from decimal import Decimal
from itertools import groupby

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def _credit_exceeded(cls, sales):
        """The sales whose party would exceed its credit limit when they
        are confirmed (see _credit_excess)"""
        return set(cls._credit_excess(sales))

    @classmethod
    def _credit_excess(cls, sales):
        """{sale: (limit, used, amount, excess)} of the sales that would
        exceed the credit limit of their party when confirmed, in the
        currency of the company: used counts the credit amount and the
        sales accepted before, amount is the sale's

        Only sales not yet confirmed count: confirmed ones are in the
        credit amount already."""
        pending = defaultdict(Decimal)
        exceeded = {}
        key = lambda s: s.company.id  # noqa: E731
        for company, c_sales in groupby(sorted(sales, key=key), key=key):
            c_sales = [s for s in c_sales
                if s.state in {'draft', 'quotation'}
                and s.must_check_credit_limit()]
            if not c_sales:
                continue
            credit, limits = cls._credit_of_parties(c_sales, company)
            for sale in c_sales:
                party = (sale.invoice_party or sale.party).id
                if limits[party] is None:
                    continue
                amount = sale.credit_limit_amount or 0
                if amount <= 0:
                    continue
                used = credit[party] + pending[party]
                if used + amount > limits[party]:
                    exceeded[sale] = (limits[party], used, amount,
                        used + amount - limits[party])
                else:
                    pending[party] += amount
        return exceeded

    @classmethod
    def _credit_of_parties(cls, sales, company):
        """({party id: credit amount}, {party id: credit limit}) of the
        parties that pay sales, in company"""
        pool = Pool()
        Party = pool.get('party.party')
        with Transaction().set_context(company=company):
            parties = Party.browse(list({
                        (s.invoice_party or s.party).id for s in sales}))
            credit = {p.id: p.credit_amount for p in parties}
            limits = {p.id: p.get_multivalue(
                    'credit_limit_amount', company=company)
                for p in parties}
        return credit, limits

    @classmethod
    def _credit_refusal(cls, sale, stage, limit, used, amount, excess):
        "The message refusing the move of sale to stage for its credit"
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        currency = sale.company.currency
        party = sale.invoice_party or sale.party
        return gettext('backoffice_order.msg_stage_credit_limit',
            sale=sale.rec_name, client=sale.party.rec_name,
            stage=stage.rec_name, party=party.rec_name,
            limit=lang.currency(limit, currency),
            used=lang.currency(used, currency),
            amount=lang.currency(amount, currency),
            excess=lang.currency(excess, currency))

    @classmethod
    def _lock_parties(cls, sales):
        """Lock the clients of sales: confirmations of orders of the same
        client wait for each other, so together they cannot pass a credit
        limit that each passes alone"""
        Party = Pool().get('party.party')
        parties = {(s.invoice_party or s.party) for s in sales}
        if parties:
            Party.lock(list(parties))
