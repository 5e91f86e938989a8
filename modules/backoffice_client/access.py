# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Fields that only the server writes

Tryton 8.0 does not refuse a write of a readonly field: "readonly" is a hint
to the clients, and a JSON-RPC caller (a script, proteus, a crafted request)
may still send the field. The records of this suite that the server computes
or that only a workflow sets refuse such values when they come from a
client, i.e. when the ORM call runs with access checks (every RPC call to
create, write or copy, and the buttons); the server's own code writes them
as before (wizards, workflow methods, without_check_access)."""
from trytond.i18n import gettext
from trytond.model import fields
from trytond.transaction import Transaction

from .exceptions import ServerFieldError

# Set (in the context, which RPC callers cannot set: trytond drops the
# context keys starting with "_") while the server's own code writes the
# server fields, e.g. a workflow method run from a button.
SERVER = '_backoffice_server_write'

# The bookkeeping every record has: never sent by a client, set by the ORM
METADATA = {
    'id', 'create_uid', 'create_date', 'write_uid', 'write_date',
    'last_modified_at', 'rec_name', '_timestamp',
    }


def server_fields(Model):
    """The names of the stored fields of Model that are readonly whatever
    the record: what the server computes or a workflow sets"""
    return {name for name, field in Model._fields.items()
        if field.readonly is True
        and not isinstance(field, fields.Function)
        and name not in METADATA}


def external(check_access=None):
    """Whether the current ORM call comes from a client (RPC)

    check_access: the "external" argument of check_modification, which
    runs without access checks itself."""
    transaction = Transaction()
    if check_access is None:
        check_access = transaction.user and transaction.check_access
    return bool(check_access and not transaction.context.get(SERVER))


def check_server_fields(Model, records, names, check_access=None):
    "Refuse a client's values for the server fields of Model among names"
    if not external(check_access):
        return
    forbidden = server_fields(Model) & set(names)
    if not forbidden:
        return
    field = Model._fields[sorted(forbidden)[0]]
    record = records[0] if records else None
    if record is None:
        raise ServerFieldError(gettext(
                'backoffice_client.msg_server_field_new',
                field=field.string, model=Model.__names__()['model']))
    raise ServerFieldError(gettext(
            'backoffice_client.msg_server_field',
            field=field.string, model=Model.__names__()['model'],
            record=record.rec_name))


def check_server_values(Model, vlist):
    """Refuse the server fields in the values of the records a client
    creates, except their default or empty values (what a client may send
    for a new record)"""
    if not external():
        return
    names = server_fields(Model)
    defaults = Model.default_get(list(names), with_rec_name=False)
    for values in vlist:
        check_server_fields(Model, [], {
                n for n in names & values.keys()
                if values[n] not in (None, [], (), False, '')
                and not (n in defaults and values[n] == defaults[n])})


class ServerFieldsMixin:
    """Refuses a client's values for the server fields of the model in
    create, write and copy; the server's own copy (which resets them) writes
    them"""
    __slots__ = ()

    @classmethod
    def create(cls, vlist):
        check_server_values(cls, vlist)
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if mode == 'write' and external:
            check_server_fields(
                cls, records, values.keys(), check_access=external)

    @classmethod
    def copy(cls, records, default=None):
        # The caller chooses the defaults (RPC copy): not those of the
        # server fields; what is copied besides is reset by copy itself.
        check_server_fields(cls, records, (default or {}).keys())
        with Transaction().set_context(**{SERVER: True}):
            return super().copy(records, default=default)
