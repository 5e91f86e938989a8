# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""A model that changes its name in a database that knows the old one

trytond finds what it stores of a model by the model's name: an update
would take the old name for a model that is gone (its ir.model and fields
removed at the end, with what cascades from them: access rules, views,
saved searches) and the new name for a model met for the first time.
rename_model moves it all before the model registers, which then finds its
table and its records of ir as if it had always had the new name."""
from sql import Column, Literal
from sql.conditionals import Case
from sql.functions import Substring
from sql.operators import Concat

from trytond import backend
from trytond.model import ModelSQL, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

# The models of scheme.py until issue #19 gave them the prefix of the module
RENAMED_MODELS = [
    ('backoffice.fulfilment.scheme', 'backoffice.order.scheme'),
    ('backoffice.fulfilment.stage', 'backoffice.order.stage'),
    ('backoffice.fulfilment.transition', 'backoffice.order.transition'),
    ('backoffice.fulfilment.scheme.create_default',
        'backoffice.order.scheme.create_default'),
    ('backoffice.fulfilment.scheme.create_default.start',
        'backoffice.order.scheme.create_default.start'),
    ]
# The columns of trytond 8.0 that hold a model name (ir.model.field.model
# aside): most point to ir.model by name, a foreign key on PostgreSQL
MODEL_COLUMNS = [
    ('ir.model.field', 'relation'),
    ('ir.model.access', 'model'),
    ('ir.model.field.access', 'model'),
    ('ir.model.button', 'model'),
    ('ir.model.data', 'model'),
    ('ir.rule.group', 'model'),
    ('ir.ui.view', 'model'),
    ('ir.ui.view_tree_width', 'model'),
    ('ir.ui.view_tree_optional', 'model'),
    ('ir.ui.view_tree_state', 'model'),
    ('ir.ui.view_search', 'model'),
    ('ir.action.act_window', 'res_model'),
    ('ir.action.act_window', 'context_model'),
    ('ir.action.report', 'model'),
    ('ir.action.wizard', 'model'),
    ('ir.action.wizard', 'wiz_name'),
    ('ir.export', 'resource'),
    ('ir.filestore.queue', 'model'),
    ('res.notification', 'model'),
    ]
# What ir.model.register and ir.model.field.register store
IR_MODEL_COLUMNS = ['string', 'module', 'global_search_p']
IR_FIELD_COLUMNS = [
    'name', 'string', 'ttype', 'relation', 'help', 'module', 'access']


def rename_model(old, new):
    """Give the model named old the name new in the database: its table
    and the constraints named after it, its ir.model and fields, the
    records that name it, point to its ir.model (or fields) by id or to
    its records by reference ("name,id"), and the translations of its
    fields, views, records and wizard buttons

    Run before the model registers, and before any model that points to
    it (registering a model registers the models of its relations)."""
    try:
        Model = Pool().get(new)
    except KeyError:
        Model = None  # a wizard: no table, no ir.model
    if (Model and issubclass(Model, ModelSQL)
            and not callable(Model.table_query)):
        _rename_table(Model, old.replace('.', '_'))
    # ir.model.name, and ir.model.field's name and model, are keys of
    # foreign keys that PostgreSQL checks at each statement: new rows
    # under the new name come first, what names the model moves to them,
    # the old rows go last (so their ids change).
    moved_ids = _copy_ir_model(old, new)
    _rename_in_ir(old, new)
    _rename_in_records(old, new, moved_ids)
    _delete_ir_model(old)


def _rename_table(Model, old_table):
    backend.TableHandler.table_rename(old_table, Model._table)
    # the model's register adds them again under the new table name
    table_h = Model.__table_handler__()
    for ident, _, _ in Model._sql_constraints:
        table_h.drop_constraint(ident, table=old_table)
    for name, field in Model._fields.items():
        if isinstance(field, fields.Many2One):
            table_h.drop_fk(name, table=old_table)


def _copy_ir_model(old, new):
    """Copy the ir.model of old and its fields under the name new:
    {'ir.model' or 'ir.model.field': {old id: new id}}, empty for a model
    the database does not know"""
    pool = Pool()
    cursor = Transaction().connection.cursor()
    ir_model = pool.get('ir.model').__table__()
    ir_field = pool.get('ir.model.field').__table__()
    new_field = pool.get('ir.model.field').__table__()
    cursor.execute(*ir_model.select(ir_model.id, where=ir_model.name == old))
    row = cursor.fetchone()
    if not row:
        return {}
    old_id, = row
    columns = [Column(ir_model, c) for c in IR_MODEL_COLUMNS]
    cursor.execute(*ir_model.insert([ir_model.name] + columns,
            ir_model.select(
                Literal(new), *columns, where=ir_model.id == old_id)))
    cursor.execute(*ir_model.select(ir_model.id, where=ir_model.name == new))
    moved_ids = {'ir.model': {old_id: cursor.fetchone()[0]}}
    columns = [Column(ir_field, c) for c in IR_FIELD_COLUMNS]
    cursor.execute(*ir_field.insert([ir_field.model] + columns,
            ir_field.select(
                Literal(new), *columns, where=ir_field.model == old)))
    cursor.execute(*ir_field.join(new_field,
            condition=(new_field.name == ir_field.name)
            & (new_field.model == new)
            ).select(ir_field.id, new_field.id,
            where=ir_field.model == old))
    moved_ids['ir.model.field'] = dict(cursor)
    return moved_ids


def _named(column, old):
    "Whether column holds the name old alone or before a comma"
    return ((column == old)
        | (Substring(column, 1, len(old) + 1) == old + ','))


def _renamed(column, old, new):
    return Concat(new, Substring(column, len(old) + 1))


def _rename_in_ir(old, new):
    "The columns of ir that hold the model's name, and its translations"
    pool = Pool()
    cursor = Transaction().connection.cursor()
    for model, column in MODEL_COLUMNS:
        table = pool.get(model).__table__()
        column = Column(table, column)
        cursor.execute(*table.update([column], [new], where=column == old))
    translation = pool.get('ir.translation').__table__()
    cursor.execute(*translation.update(
            [translation.name], [_renamed(translation.name, old, new)],
            where=_named(translation.name, old)))


def _rename_in_records(old, new, moved_ids):
    """The references ("name,id") to the model's records and the links to
    its ir.model and fields (moved_ids) in every table"""
    cursor = Transaction().connection.cursor()
    for _, Other in Pool().iterobject():
        if (not issubclass(Other, ModelSQL) or callable(Other.table_query)
                # of a module that registers later in this update
                or not backend.TableHandler.table_exist(Other._table)):
            continue
        table = Other.__table__()
        updates = []
        for name, field in Other._fields.items():
            column = Column(table, name)
            if isinstance(field, fields.Reference):
                updates.append(
                    (column, _renamed(column, old, new), _named(column, old)))
            elif (isinstance(field, fields.Many2One)
                    and moved_ids.get(field.model_name)):
                ids = moved_ids[field.model_name]
                updates.append((column, Case(
                            *((column == o, n) for o, n in ids.items()),
                            else_=column),
                        column.in_(list(ids))))
        if updates:
            table_h = Other.__table_handler__()
            for column, value, where in updates:
                if table_h.column_exist(column.name):
                    cursor.execute(*table.update(
                            [column], [value], where=where))


def _delete_ir_model(old):
    pool = Pool()
    cursor = Transaction().connection.cursor()
    ir_model = pool.get('ir.model').__table__()
    ir_field = pool.get('ir.model.field').__table__()
    cursor.execute(*ir_field.delete(where=ir_field.model == old))
    cursor.execute(*ir_model.delete(where=ir_model.name == old))
