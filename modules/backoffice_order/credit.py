# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The credit limit of the orders a move would confirm, as
backoffice_client's party computes it for a batch: the moves refuse them
(move.py) and the manual review flags them (review.py)"""
from itertools import groupby

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta


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
        take their paying party over its credit limit when confirmed, in
        the company's currency, each counting the sales accepted before it
        (backoffice_client's Party.credit_limit_excess)

        Only sales not yet confirmed count: confirmed ones are in the
        credit amount already."""
        Party = Pool().get('party.party')
        exceeded = {}
        sales = sorted(sales, key=lambda s: s.company.id)
        for company, c_sales in groupby(sales, key=lambda s: s.company):
            c_sales = [s for s in c_sales
                if s.state in {'draft', 'quotation'}
                and s.must_check_credit_limit()]
            excess = Party.credit_limit_excess([
                    (s.invoice_party or s.party, s.credit_limit_amount or 0)
                    for s in c_sales], company)
            exceeded.update(
                (c_sales[i], values) for i, values in excess.items())
        return exceeded

    @classmethod
    def _credit_refusal(cls, sale, stage, limit, used, amount, excess):
        "The message refusing the move of sale to stage for its credit"
        Party = Pool().get('party.party')
        party = sale.invoice_party or sale.party
        return gettext('backoffice_order.msg_stage_credit_limit',
            sale=sale.rec_name, client=sale.party.rec_name,
            stage=stage.rec_name, party=party.rec_name,
            **Party.credit_limit_figures(
                sale.company, limit, used, amount, excess))

    @classmethod
    def _lock_parties(cls, sales):
        """Lock the clients of sales: confirmations of orders of the same
        client wait for each other, so together they cannot pass a credit
        limit that each passes alone"""
        Party = Pool().get('party.party')
        parties = {(s.invoice_party or s.party) for s in sales}
        if parties:
            Party.lock(list(parties))
