# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The trades of the clients"""
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.modules.backoffice_zone.values import ValueCheckMixin


class Industry(ValueCheckMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'backoffice.client.industry'

    name = fields.Char(
        "Name", required=True, translate=True,
        help="The trade of the client, e.g. restaurant, hotel or bakery.")
    code = fields.Char(
        "Code", strip=True,
        help="A short code, e.g. a NOGA or NACE code.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('code', operator, operand, *extra),
            ]
