# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.modules.company.model import (
    CompanyMultiValueMixin, CompanyValueMixin)
from trytond.pool import Pool

auto_approve_b2b = fields.Boolean(
    "Approve Business Requests Automatically",
    help="Approve the account requests of businesses (B2B) as they arrive, "
    "unless they match existing clients. Leave unchecked to have a person "
    "verify them.")
auto_approve_b2c = fields.Boolean(
    "Approve Private Requests Automatically",
    help="Approve the account requests of private clients (B2C) as they "
    "arrive, unless they match existing clients.")


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

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field in {'auto_approve_b2b', 'auto_approve_b2c'}:
            return pool.get('backoffice.client.configuration.approval')
        return super().multivalue_model(field)

    default_auto_approve_b2b = default_func('auto_approve_b2b')
    default_auto_approve_b2c = default_func('auto_approve_b2c')

    def auto_approve(self, client_type, company):
        "Whether requests of client_type are approved as they arrive"
        if client_type not in {'b2b', 'b2c'}:
            return False
        return bool(self.get_multivalue(
                'auto_approve_%s' % client_type, company=company.id))


class ConfigurationApproval(ModelSQL, CompanyValueMixin):
    __name__ = 'backoffice.client.configuration.approval'

    auto_approve_b2b = auto_approve_b2b
    auto_approve_b2c = auto_approve_b2c

    @classmethod
    def default_auto_approve_b2b(cls):
        # A business gets credit and invoices: someone checks it first.
        return False

    @classmethod
    def default_auto_approve_b2c(cls):
        # Private clients pay by card or in advance: little risk.
        return True
