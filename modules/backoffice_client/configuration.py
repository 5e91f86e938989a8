# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.modules.company.model import (
    CompanyMultiValueMixin, CompanyValueMixin)
from trytond.pool import Pool

from .client_account import DELIVERY_METHODS, PAYMENT_METHODS

auto_approve_b2b = fields.Boolean(
    "Approve Business Requests Automatically",
    help="Approve the account requests of businesses (B2B) as they arrive, "
    "unless they match existing clients. Leave unchecked to have a person "
    "verify them.")
auto_approve_b2c = fields.Boolean(
    "Approve Private Requests Automatically",
    help="Approve the account requests of private clients (B2C) as they "
    "arrive, unless they match existing clients.")

# What an automatic approval grants: the configuration decides, never the
# requester (whoever may create a request would otherwise choose his own
# terms); a person who approves grants what the request says.
auto_payment_methods = fields.MultiSelection(
    PAYMENT_METHODS, "Payment Methods of Automatic Approvals", sort=False,
    help="The payment methods a client gets when its request is approved "
    "automatically, whatever the request asks for.")
auto_delivery_methods = fields.MultiSelection(
    DELIVERY_METHODS, "Delivery Methods of Automatic Approvals", sort=False,
    help="The delivery methods a client gets when its request is approved "
    "automatically, whatever the request asks for.")


def default_func(field_name):
    @classmethod
    def default(cls, **pattern):
        return getattr(
            cls.multivalue_model(field_name),
            'default_%s' % field_name, lambda: None)()
    return default


class Configuration(
        ModelSingleton, ModelSQL, ModelView, CompanyMultiValueMixin):
    __name__ = 'backoffice.client.configuration'

    auto_approve_b2b = fields.MultiValue(auto_approve_b2b)
    auto_approve_b2c = fields.MultiValue(auto_approve_b2c)
    auto_payment_methods = fields.MultiValue(auto_payment_methods)
    auto_delivery_methods = fields.MultiValue(auto_delivery_methods)

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field in {'auto_approve_b2b', 'auto_approve_b2c',
                'auto_payment_methods', 'auto_delivery_methods'}:
            return pool.get('backoffice.client.configuration.approval')
        return super().multivalue_model(field)

    default_auto_approve_b2b = default_func('auto_approve_b2b')
    default_auto_approve_b2c = default_func('auto_approve_b2c')
    default_auto_payment_methods = default_func('auto_payment_methods')
    default_auto_delivery_methods = default_func('auto_delivery_methods')

    def auto_approve(self, client_type, company):
        "Whether requests of client_type are approved as they arrive"
        if client_type not in {'b2b', 'b2c'}:
            return False
        return bool(self.get_multivalue(
                'auto_approve_%s' % client_type, company=company.id))

    def auto_values(self, company):
        """The values of the client account that an automatic approval
        grants in company"""
        return {
            'payment_methods': list(self.get_multivalue(
                    'auto_payment_methods', company=company.id) or []),
            'delivery_methods': list(self.get_multivalue(
                    'auto_delivery_methods', company=company.id) or []),
            }


class ConfigurationApproval(ModelSQL, CompanyValueMixin):
    __name__ = 'backoffice.client.configuration.approval'

    auto_approve_b2b = auto_approve_b2b
    auto_approve_b2c = auto_approve_b2c
    auto_payment_methods = auto_payment_methods
    auto_delivery_methods = auto_delivery_methods

    @classmethod
    def default_auto_approve_b2b(cls):
        # A business gets credit and invoices: someone checks it first.
        return False

    @classmethod
    def default_auto_approve_b2c(cls):
        # Private clients pay by card or in advance: little risk.
        return True

    @classmethod
    def default_auto_payment_methods(cls):
        # Paid before delivery: what a client nobody checked may get.
        return ['card']

    @classmethod
    def default_auto_delivery_methods(cls):
        return []
