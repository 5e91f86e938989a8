# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The people of a client: their roles, notifications, and the Admin a
client with portal logins keeps (their logins: portal.py)"""
import re
from collections import defaultdict

from sql import Literal, Null

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields, sequence_ordered)
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.tools.email_ import EmailNotValidError, validate_email
from trytond.transaction import (
    Transaction, inactive_records, without_check_access)

from .exceptions import ContactAdminError, ContactError

# What any email address looks like; trytond's validate_email checks more
# (and deliverability) when email-validator is installed.
_EMAIL = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s.]+$')


def check_email_address(email):
    "Raise EmailNotValidError when email is not a valid address"
    validate_email(email)
    if not _EMAIL.match(email or ''):
        raise EmailNotValidError(email)


ROLES = [
    ('admin', "Admin"),
    ('buyer', "Buyer"),
    ('viewer', "Viewer"),
    ('receiver', "Receiver"),
    ]
EVENTS = [
    ('order_confirmed', "Order Confirmed"),
    ('out_for_delivery', "Out for Delivery"),
    ('delivered', "Delivered"),
    ('invoice', "Invoice"),
    ]


class Contact(ValueCheckMixin, DeactivableMixin, sequence_ordered(), ModelSQL,
        ModelView):
    __name__ = 'backoffice.client.contact'

    party = fields.Many2One(
        'party.party', "Client", required=True, ondelete='CASCADE',
        domain=[
            ('client_type', '!=', None),
            ],
        help="The client the person orders or receives for.")
    name = fields.Char("Name", required=True)
    email = fields.Char(
        "Email",
        help="Where the person gets the notifications; also the login of "
        "the portal.")
    phone = fields.Char(
        "Phone",
        help="The phone number to reach the person, e.g. for a delivery.")
    roles = fields.MultiSelection(
        ROLES, "Roles", sort=False,
        help="Admin: manages the account and its portal logins, and may do "
        "all the rest.\n"
        "Buyer: places orders.\n"
        "Viewer: sees orders and invoices.\n"
        "Receiver: takes deliveries.\n"
        "A client with portal logins keeps at least one Admin.")
    notify_email = fields.Boolean(
        "Notify by Email",
        help="Send the chosen notifications to the email of the person.")
    notify_events = fields.MultiSelection(
        EVENTS, "Notifications", sort=False,
        states={
            'invisible': ~Eval('notify_email', False),
            },
        help="The events of the client's orders the person is told about.")
    web_user = fields.Many2One(
        'web.user', "Portal Login", ondelete='SET NULL',
        domain=[
            ('party', '=', Eval('party', -1)),
            ],
        help="The login of the person on the portal, a web user of the "
        "client.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('party')
        t = cls.__table__()
        cls._sql_constraints = [
            ('web_user_unique', Unique(t, t.web_user),
                'backoffice_client.msg_contact_web_user_unique'),
            ]

    @classmethod
    def default_roles(cls):
        return ['buyer']

    @classmethod
    def default_notify_email(cls):
        return True

    @classmethod
    def default_notify_events(cls):
        return ['order_confirmed', 'out_for_delivery']

    def get_rec_name(self, name):
        if self.email:
            return '%s <%s>' % (self.name, self.email)
        return self.name

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('email', operator, operand, *extra),
            ]

    def has_role(self, role):
        "Whether the contact may act as role (an Admin may do everything)"
        roles = set(self.roles or ())
        return self.active and (role in roles or 'admin' in roles)

    @classmethod
    def to_notify(cls, parties, event):
        "The active contacts of parties that want an email about event"
        return cls.search([
                ('party', 'in', [int(p) for p in parties]),
                ('notify_email', '=', True),
                ('notify_events', 'in', [event]),
                ('email', '!=', None),
                ])

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('email'):
            values['email'] = values['email'].strip()
        return values

    # Validation ---------------------------------------------------------

    @classmethod
    def check_modification(cls, mode, contacts, values=None, external=False):
        super().check_modification(
            mode, contacts, values=values, external=external)
        # The clients a contact leaves are checked before: afterwards
        # nothing tells which they were (validate_fields checks the others).
        if mode == 'write' and values.get('party'):
            cls.check_admins(
                {c.party.id for c in contacts} - {values['party']},
                changes={c.id: values for c in contacts}, field='party')
        elif mode == 'delete':
            cls.check_admins(
                {c.party.id for c in contacts},
                deleted={c.id for c in contacts})

    @classmethod
    def validate_fields(cls, contacts, field_names):
        super().validate_fields(contacts, field_names)
        cls.check_email(contacts, field_names)
        cls.check_roles(contacts, field_names)
        admin_fields = field_names & {'roles', 'active', 'party'}
        if admin_fields or 'web_user' in field_names:
            # The message names the field that removed the Admin; a create
            # (all the fields) removes none.
            field = None
            if len(admin_fields) < 3:
                field = next((f for f in ['roles', 'active', 'party']
                        if f in admin_fields), None)
            cls.check_admins({c.party.id for c in contacts},
                changes={c.id: {} for c in contacts} if field else None,
                field=field)

    @classmethod
    def check_email(cls, contacts, field_names=None):
        if field_names and 'email' not in field_names:
            return
        for contact in contacts:
            if contact.email:
                try:
                    check_email_address(contact.email)
                except EmailNotValidError as exception:
                    raise ContactError(gettext(
                            'backoffice_client.msg_contact_email_invalid',
                            email=contact.email, contact=contact.name,
                            party=contact.party.rec_name)) from exception

    @classmethod
    def check_roles(cls, contacts, field_names=None):
        if field_names and not (field_names & {'roles', 'active'}):
            return
        for contact in contacts:
            if contact.active and not contact.roles:
                raise ContactError(gettext(
                        'backoffice_client.msg_contact_roles_required',
                        contact=contact.name,
                        party=contact.party.rec_name))

    @classmethod
    def check_admins(cls, party_ids, changes=None, deleted=(), field=None):
        """Raise when a client with portal logins has no active contact with
        the Admin role

        changes: {contact id: values} about to be written (values empty:
        written, the message names these contacts); deleted: the ids of
        contacts about to be deleted. Two queries for all the clients."""
        pool = Pool()
        Party = pool.get('party.party')
        changes = changes or {}
        logins = cls._portal_logins([p for p in party_ids if p is not None])
        if not logins:
            return
        admins = set()
        with without_check_access(), inactive_records():
            contacts = cls.search([
                    ('party', 'in', list(logins.keys())),
                    ])
            for contact in contacts:
                if contact.id in deleted:
                    continue
                values = changes.get(contact.id, {})
                party_id = values.get('party', contact.party.id)
                active = values.get('active', contact.active)
                roles = values.get('roles', contact.roles) or ()
                if active and 'admin' in roles:
                    admins.add(party_id)
        for party_id, emails in logins.items():
            if party_id in admins:
                continue
            with without_check_access(), inactive_records():
                party_name = Party(party_id).rec_name
                names = [c.name for c in contacts
                    if c.party.id == party_id
                    and (c.id in deleted or c.id in changes)]
            values = {
                'party': party_name,
                'logins': ', '.join(emails),
                'contact': ', '.join(names),
                }
            if deleted:
                raise ContactAdminError(gettext(
                        'backoffice_client.msg_contact_admin_delete',
                        **values))
            elif changes and field:
                values['field'] = cls.fields_get([field])[field]['string']
                raise ContactAdminError(gettext(
                        'backoffice_client.msg_contact_admin_change',
                        **values))
            raise ContactAdminError(gettext(
                    'backoffice_client.msg_contact_admin_required', **values))

    @classmethod
    def _portal_logins(cls, party_ids):
        "{party id: emails} of the active web users of the clients"
        pool = Pool()
        WebUser = pool.get('web.user')
        Party = pool.get('party.party')
        cursor = Transaction().connection.cursor()
        user = WebUser.__table__()
        party = Party.__table__()
        logins = defaultdict(list)
        for sub_ids in grouped_slice(party_ids, backend.MAX_QUERY_PARAMS // 2):
            cursor.execute(*user.join(
                    party, condition=user.party == party.id).select(
                    user.party, user.email,
                    where=fields.SQL_OPERATORS['in'](user.party, list(sub_ids))
                    & (user.active == Literal(True))
                    & (party.client_type != Null),
                    order_by=[user.email.asc]))
            for party_id, email in cursor:
                logins[party_id].append(email or '')
        return logins


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    client_contacts = fields.One2Many(
        'backoffice.client.contact', 'party', "Contacts",
        states={
            'invisible': ~Eval('client_type'),
            },
        help="The people who order, see or receive for the client, with "
        "their roles and portal logins.")
