# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .exceptions import ActivityReadOnlyError

KINDS = [
    ('stage', "Stage Change"),
    ('edit', "Edit"),
    ('discount', "Discount"),
    ('split', "Split"),
    ('address', "Address Change"),
    ('assignment', "Assignment"),
    ('note', "Note"),
    ]
# The refusal of a client's create, write or delete of the timeline
READONLY_MESSAGES = {
    'create': 'backoffice_order.msg_activity_readonly_create',
    'write': 'backoffice_order.msg_activity_readonly_write',
    'delete': 'backoffice_order.msg_activity_readonly_delete',
    }


class Activity(ModelSQL, ModelView):
    __name__ = 'backoffice.order.activity'
    __string__ = "Order Activity"

    sale = fields.Many2One(
        'sale.sale', "Order", required=True, ondelete='CASCADE')
    date = fields.Timestamp("Date", required=True)
    user = fields.Many2One(
        'res.user', "User", ondelete='SET NULL',
        help="The user who made the change; empty when the system made "
        "it (a delivery event reported by a driver, a scheduled task).")
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False)
    field = fields.Char(
        "Field",
        help="For an edit: the field of the order or of its line that "
        "changed.")
    old_value = fields.Char(
        "Old Value",
        help="The value before the change as users saw it (a name, not "
        "an id); empty when there was none.")
    new_value = fields.Char(
        "New Value",
        help="The value after the change as users see it (a name, not "
        "an id).")
    description = fields.Text(
        "Description",
        help="Details: the reason of a discount, the parts of a split, "
        "the text of a note.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('sale')
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.sale, Index.Range()), (t.date, Index.Range())))
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        kind = dict(KINDS).get(self.kind, self.kind or '')
        if self.date:
            return '%s %s' % (kind, self.date.strftime('%Y-%m-%d %H:%M'))
        return kind

    @classmethod
    def check_modification(cls, mode, activities, values=None,
            external=False):
        super().check_modification(
            mode, activities, values=values, external=external)
        # Tryton grants a model the more permissive of its own access and
        # that of the models of __access__ (the order): a Sales user may
        # write orders, so the ORM would let him create, rewrite and delete
        # their timeline. The timeline is the server's record: only the
        # server's own calls (record, the cascade of a deleted order) reach
        # it, never a client's.
        if external:
            raise ActivityReadOnlyError(gettext(
                    READONLY_MESSAGES[mode],
                    activity=activities[0].rec_name if activities else '',
                    sale=(activities[0].sale.rec_name
                        if activities and activities[0].sale else '')))

    @classmethod
    @without_check_access
    def record(cls, entries):
        """Store the activities of entries, dictionaries of field values
        (sale, kind, …), in one create; who and when are filled here

        The timeline is written by the server only: users read it."""
        if not entries:
            return []
        transaction = Transaction()
        # The real user, also behind a "with Transaction().set_user(0)"
        user = transaction.context.get('user') or transaction.user or None
        vlist = []
        for entry in entries:
            values = {'user': user}
            values.update(entry)
            values['sale'] = int(values['sale'])
            for key in ['old_value', 'new_value']:
                if values.get(key) is not None:
                    values[key] = str(values[key])[:1000]
            vlist.append(values)
        # Like create_date: the time of the server (UTC)
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        for values in vlist:
            values.setdefault('date', now)
        return cls.create(vlist)


class Note(metaclass=PoolMeta):
    __name__ = 'ir.note'

    @classmethod
    def on_modification(cls, mode, notes, field_names=None):
        pool = Pool()
        Activity = pool.get('backoffice.order.activity')
        super().on_modification(mode, notes, field_names=field_names)
        # Internal notes stay Tryton's notes (staff only through the
        # access of the order); the timeline tells who wrote one and when.
        if mode == 'create':
            Activity.record([{
                        'sale': note.resource.id,
                        'kind': 'note',
                        'description': note.message,
                        } for note in notes
                    if note.resource
                    and note.resource.__name__ == 'sale.sale'])
