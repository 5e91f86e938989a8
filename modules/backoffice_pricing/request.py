# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval


class Request(metaclass=PoolMeta):
    __name__ = 'backoffice.client.request'

    price_group = fields.Many2One(
        'backoffice.price.group', "Price Group", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        states={
            'readonly': Eval('state') != 'to_verify',
            },
        help="The price group the client gets when the request is "
        "approved; empty: the client keeps the group it has, if any.")

    @classmethod
    def _client_values(cls, request, party=None):
        """Give the client the price group of the request, in the company
        of the request (not the company of the approver's context)"""
        values = super()._client_values(request, party=party)
        group = request.price_group
        # An automatic approval grants no price group: choosing one is
        # the approver's (see the field access of price_group).
        if group and not cls.is_auto_approval():
            current = None
            if party is not None:
                current = next((v for v in party.price_groups
                        if v.company == request.company), None)
            if current is not None:
                values['price_groups'] = [
                    ('write', [current.id], {'price_group': group.id})]
            else:
                values['price_groups'] = [('create', [{
                                'company': request.company.id,
                                'price_group': group.id,
                                }])]
        return values
