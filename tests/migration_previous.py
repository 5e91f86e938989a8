# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Build a database with the modules of an earlier commit, as a supplier
used it: test_migration.py updates it with the current code.

    python migration_previous.py MODULES DATABASE

MODULES is the modules/ folder of that commit; DATABASE must not exist
yet; TRYTOND_DATABASE_URI (and on SQLite TRYTOND_DATABASE__PATH) say
where it goes. The process activates backoffice_order and
backoffice_pricing as trytond-admin does, then works through proteus with
the model names of that commit.
"""
import os
import sys
import tempfile
from decimal import Decimal

import trytond.modules

ADMIN_PASSWORD = 'admin-migration'
NOTE_STAGE = "Check the pallets before they leave."
NOTE_ORDER = "Deliver before 9:00."
STAGE_FR = "Prête"
STAGE_COLOUR = '#123456'


def load_previous(modules):
    """Make trytond.modules.backoffice_* the packages of modules: the
    standard finder searches the package's path before the finder of the
    editable install, which maps those names to the current checkout"""
    trytond.modules.__path__.insert(0, os.path.abspath(modules))


def activate(database):
    "Create the database and activate the modules as an administrator does"
    from trytond import backend, commandline
    from trytond.transaction import Transaction

    with Transaction().start(
            None, 0, close=True, autocommit=True) as transaction:
        transaction.database.create(transaction.connection, database)
    with tempfile.NamedTemporaryFile('w', suffix='.pass') as passfile:
        passfile.write(ADMIN_PASSWORD + '\n')
        passfile.flush()
        os.environ['TRYTONPASSFILE'] = passfile.name
        options = commandline.get_parser_admin().parse_args([
                '-d', database, '--email', 'admin@example.com',
                '-u', 'backoffice_order', 'backoffice_pricing',
                '--activate-dependencies'])
        options.indexes = True
        from trytond import admin
        admin.run(options)
    backend.Database(database).close()


def fill(database):
    """A company with the default scheme (a colour changed, a stage named
    in French, a note on it, what an administrator keeps of the stages), a
    client with a price rule in a unit and the orders of take_orders"""
    from proteus import Model, Wizard
    from proteus import config as proteus_config
    from trytond.modules.company.tests.tools import (
        create_company, get_company)
    from trytond.pyson import PYSONEncoder

    config = proteus_config.set_trytond(database=database)
    create_company()
    company = get_company()
    Group = Model.get('res.group')
    User = Model.get('res.user')
    sales_group, = Group.find([('name', '=', "Sales")])
    clerk = User(name="Clerk", login='clerk')
    clerk.groups.append(sales_group)
    clerk.companies.append(company)
    clerk.company = company
    clerk.save()

    # the scheme as its administrator creates it (the admin is a member
    # of Fulfilment Administrator), with a colour and a French stage name
    create = Wizard('backoffice.fulfilment.scheme.create_default')
    create.form.company = company
    create.execute('create_scheme')
    Scheme = Model.get('backoffice.fulfilment.scheme')
    Stage = Model.get('backoffice.fulfilment.stage')
    scheme, = Scheme.find([])
    stages = {s.code: s for s in scheme.stages}
    ready = stages['ready']
    ready.colour = STAGE_COLOUR
    ready.save()
    Lang = Model.get('ir.lang')
    french, = Lang.find([('code', '=', 'fr')])
    french.translatable = True
    french.save()
    with config.set_context(language='fr'):
        ready_fr = Stage(ready.id)
        ready_fr.name = STAGE_FR
        ready_fr.save()
    Note = Model.get('ir.note')
    stage_note = Note(resource=ready, message=NOTE_STAGE)
    stage_note.save()
    # what the administrator keeps of the stages: a saved search, the
    # width of a column, an e-mail template
    Search = Model.get('ir.ui.view_search')
    search = Search(
        name="Ready stages", model='backoffice.fulfilment.stage',
        domain=PYSONEncoder().encode([('ready', '=', True)]),
        user=config.user)
    search.save()
    Model.get('ir.ui.view_tree_width')._proxy.set_width(
        'backoffice.fulfilment.stage', {'name': [180]}, 1920, config.context)
    IrModel = Model.get('ir.model')
    stage_model, = IrModel.find([('name', '=', 'backoffice.fulfilment.stage')])
    EmailTemplate = Model.get('ir.email.template')
    EmailTemplate(
        model=stage_model, name="Stage changed",
        recipients_pyson=PYSONEncoder().encode(['office@example.com']),
        subject="Stage changed").save()

    Party = Model.get('party.party')
    client = Party(name="Café du Lac")
    client.save()
    Uom = Model.get('product.uom')
    unit, = Uom.find([('name', '=', 'Unit')])
    Template = Model.get('product.template')
    template = Template(
        name="Flour Delivery", default_uom=unit, type='service',
        salable=True, list_price=Decimal('100'))
    template.save()
    product, = template.products
    Rule = Model.get('backoffice.price.rule')
    rule = Rule(
        scope='client', party=client, level='product', product=product,
        fixed_price=Decimal('90'), uom=unit)
    rule.save()

    take_orders(database, client.id, product.id, stages['cancelled'].id)


def take_orders(database, client, product, cancelled):
    """Two orders of the clerk: the first moved to Cancelled, the second
    left New with a note"""
    from proteus import Model, Wizard
    from proteus import config as proteus_config

    proteus_config.set_trytond(database=database, user='clerk')
    Sale = Model.get('sale.sale')
    orders = []
    for quantity in [2, 3]:
        sale = Sale(party=client)
        line = sale.lines.new()
        line.product = Model.get('product.product')(product)
        line.quantity = quantity
        sale.save()
        orders.append(sale)
    moved, waiting = orders
    change = Wizard('backoffice.order.change_stage', [moved])
    change.form.stage = Model.get('backoffice.fulfilment.stage')(cancelled)
    change.execute('move')
    assert all(l.moved for l in change.form.lines), change.form.lines
    note = Model.get('ir.note')(resource=waiting, message=NOTE_ORDER)
    note.save()


def main(modules, database):
    load_previous(modules)
    activate(database)
    fill(database)


if __name__ == '__main__':
    main(*sys.argv[1:])
