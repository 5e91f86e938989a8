# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The company of the request context must be one of the user's

Tryton 8.0 takes the ``company`` of the context as the client sends it. The
record rules use the user's companies (``companies`` is computed by the
server), but the values that depend on the context company are not records
of a company: a party's credit limit, price group and payment terms
(MultiValue fields), the client insights and history, the zone explanation
of an address are computed or stored for the context company. A user of
company 2 sending ``company: 1`` would read and write company 1's values.
The mixin refuses such a request on the models that show such values.
"""
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from .exceptions import CompanyContextError

__all__ = ['CompanyContextMixin', 'check_context_company']


def check_context_company():
    """Raise CompanyContextError when a user's request names a company in
    its context that is not one of the user's companies

    Only requests checked for access (RPC calls of real users): the server's
    own work (user 0, cron, queue, code run without access check) may
    switch to any company."""
    transaction = Transaction()
    if not transaction.user or not transaction.check_access:
        return
    company = transaction.context.get('company')
    if company is None:
        return
    # One query per call: the user's companies change rarely, but a cache
    # would have to be cleared by every change of a user or its companies.
    pool = Pool()
    UserCompany = pool.get('res.user-company.company')
    table = UserCompany.__table__()
    cursor = transaction.connection.cursor()
    allowed = False
    if isinstance(company, int) and not isinstance(company, bool):
        cursor.execute(*table.select(
                table.company,
                where=(table.user == transaction.user)
                & (table.company == company),
                limit=1))
        allowed = cursor.fetchone() is not None
    if not allowed:
        raise CompanyContextError(gettext(
                'backoffice_zone.msg_context_company',
                company=company if isinstance(company, (int, str)) else '?'))


class CompanyContextMixin:
    "Check the context company on every read, search and change"
    __slots__ = ()

    @classmethod
    def read(cls, ids, fields_names):
        check_context_company()
        return super().read(ids, fields_names)

    @classmethod
    def search(cls, domain, *args, **kwargs):
        check_context_company()
        return super().search(domain, *args, **kwargs)

    @classmethod
    def create(cls, vlist):
        check_context_company()
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        check_context_company()
        super().write(*args)

    @classmethod
    def delete(cls, records):
        check_context_company()
        super().delete(records)
