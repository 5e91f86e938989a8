# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.

from backoffice_testing import ClientWidgetsTestMixin

from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase


class BackofficeFleetTestCase(
        CompanyTestMixin, ClientWidgetsTestMixin, ModuleTestCase):
    "Test BackOffice Fleet module"
    module = 'backoffice_fleet'


del ModuleTestCase
