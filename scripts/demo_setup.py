# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Turn a freshly initialised database into the BackOffice demo with proteus:
activate the suite, set up the supplier company (CHF, Switzerland) with a
minimal chart of accounts and a fiscal year, then load the demo data.
"""
import argparse
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

from proteus import Model, Wizard
from proteus import config as pconfig

sys.path.insert(0, str(Path(__file__).resolve().parent))

import demo_data  # noqa: E402
from demo import SUITE  # noqa: E402


def activate_suite():
    Module = Model.get('ir.module')
    modules = Module.find([('name', 'in', SUITE)])
    Module.click(modules, 'activate')
    Wizard('ir.module.activate_upgrade').execute('upgrade')
    # The administrator would otherwise land in the module configuration
    # wizard at the first login: the demo has done what it asks.
    Item = Model.get('ir.module.config_wizard.item')
    items = Item.find([('state', '!=', 'done')])
    for item in items:
        item.state = 'done'
    Item.save(items)


def setup_company(config):
    Currency = Model.get('currency.currency')
    Party = Model.get('party.party')
    User = Model.get('res.user')

    chf, = Currency.find([('code', '=', 'CHF')]) or [
        Currency(name="Swiss Franc", code='CHF', symbol="CHF",
            rounding=Decimal('0.01'), digits=2)]
    chf.save()
    switzerland = demo_data.switzerland()
    supplier = Party(name="Alpenfrisch Grosshandel AG")
    address, = supplier.addresses
    address.street = "Industriestrasse 12"
    address.postal_code = "8304"
    address.city = "Wallisellen"
    address.country = switzerland
    supplier.save()

    company_config = Wizard('company.company.config')
    company_config.execute('company')
    company = company_config.form
    company.party = supplier
    company.currency = chf
    company.timezone = 'Europe/Zurich'
    company_config.execute('add')
    config._context = User.get_preferences(True, {})
    company, = Model.get('company.company').find([('party', '=', supplier.id)])
    return company


def setup_accounting(company):
    # The upstream test tools build exactly the minimal chart and the fiscal
    # year with invoice sequences that confirming and invoicing sales needs.
    from trytond.modules.account.tests.tools import (
        create_chart, create_fiscalyear)
    from trytond.modules.account_invoice.tests.tools import (
        set_fiscalyear_invoice_sequences)
    create_chart(company)
    # Calendar years around today, so past demo orders can be invoiced too.
    year = dt.date.today().year
    for year in range(year - 1, year + 2):
        fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(
                company, today=(dt.date(year, 1, 1), dt.date(year, 12, 31))))
        fiscalyear.click('create_period')


# The office's logins besides admin, by what they do: (login, name, the
# names of their groups)
STAFF = [
    ('office', "Olivia Office", ["Sales"]),
    ('manager', "Marco Manager", [
            "Sales", "Sales Administrator", "Pricing Manager",
            "Fulfilment Administrator", "Delivery"]),
    ]


def setup_staff(company, password):
    "The office's logins, with the administrator's password"
    User = Model.get('res.user')
    Group = Model.get('res.group')
    Company = Model.get('company.company')
    for login, name, groups in STAFF:
        user = User(login=login, name=name, password=password)
        user.companies.append(Company(company.id))
        user.company = company
        for group_name in groups:
            group, = Group.find([('name', '=', group_name)])
            user.groups.append(Group(group.id))
        user.save()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--config', required=True)
    parser.add_argument('--database', required=True)
    parser.add_argument('--password-file', type=Path, required=True,
        help="the administrator's password, which the staff logins share")
    args = parser.parse_args()
    config = pconfig.set_trytond(args.database, config_file=args.config)
    activate_suite()
    config = pconfig.set_trytond(args.database, config_file=args.config)
    company = setup_company(config)
    setup_accounting(company)
    setup_staff(company, args.password_file.read_text().strip())
    demo_data.load(company)


if __name__ == '__main__':
    main()
