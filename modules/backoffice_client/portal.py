# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The portal login of a client's contact: a web user of the client with the
email of the contact, and the roles the portal tests on the server"""
from sql import Literal
from sql.functions import Lower

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, inactive_records, without_check_access)

from .exceptions import PortalLoginError


class Contact(metaclass=PoolMeta):
    __name__ = 'backoffice.client.contact'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'create_portal_login': {
                    'invisible': Bool(Eval('web_user')),
                    'readonly': ~Eval('email'),
                    'depends': ['web_user', 'email'],
                    },
                })

    @classmethod
    def on_modification(cls, mode, contacts, field_names=None):
        pool = Pool()
        WebUser = pool.get('web.user')
        super().on_modification(mode, contacts, field_names=field_names)
        if mode == 'write' and 'email' in field_names:
            # The portal login follows the email the office keeps.
            to_write = []
            for contact in contacts:
                if (contact.web_user and contact.email
                        and contact.web_user.email != contact.email.lower()):
                    to_write.extend([
                            [contact.web_user], {'email': contact.email}])
            if to_write:
                with without_check_access():
                    WebUser.write(*to_write)

    @classmethod
    def copy(cls, contacts, default=None):
        default = default.copy() if default is not None else {}
        # A login belongs to one person.
        default.setdefault('web_user', None)
        return super().copy(contacts, default=default)

    @classmethod
    @ModelView.button
    def create_portal_login(cls, contacts):
        """Create the portal login of the contacts: a web user of the client
        with the email of the contact, or the existing one of that email
        when it belongs to the same client"""
        pool = Pool()
        WebUser = pool.get('web.user')
        user = WebUser.__table__()
        contacts = [c for c in contacts if not c.web_user]
        for contact in contacts:
            if not contact.email:
                raise PortalLoginError(gettext(
                        'backoffice_client.msg_portal_email_required',
                        contact=contact.name, party=contact.party.rec_name))
        if not contacts:
            return
        cursor = Transaction().connection.cursor()
        existing = {}
        emails = sorted({c.email.lower() for c in contacts})
        for sub_emails in grouped_slice(emails, backend.MAX_QUERY_PARAMS // 2):
            cursor.execute(*user.select(user.id, Lower(user.email),
                    user.party,
                    where=Lower(user.email).in_(list(sub_emails))
                    & (user.active == Literal(True))))
            for id_, email, party_id in cursor:
                existing[email] = (id_, party_id)
        to_create, to_link = [], []
        for contact in contacts:
            email = contact.email.lower()
            if email in existing:
                id_, party_id = existing[email]
                if party_id != contact.party.id:
                    raise PortalLoginError(gettext(
                            'backoffice_client.msg_portal_email_used',
                            email=contact.email, contact=contact.name,
                            party=contact.party.rec_name))
                to_link.extend([[contact], {'web_user': id_}])
            else:
                to_create.append(contact)
        # The button's groups are the permission: the office creates the
        # logins of its clients without administering web users.
        with without_check_access():
            users = WebUser.create([{
                        'email': c.email,
                        'party': c.party.id,
                        } for c in to_create])
        for contact, web_user in zip(to_create, users):
            to_link.extend([[contact], {'web_user': web_user.id}])
        if to_link:
            cls.write(*to_link)


class WebUser(metaclass=PoolMeta):
    __name__ = 'web.user'

    client_contact = fields.Function(fields.Many2One(
            'backoffice.client.contact', "Client Contact",
            help="The contact of the client who logs in with this user."),
        'get_client_contact', searcher='search_client_contact')

    @classmethod
    def get_client_contact(cls, users, name):
        pool = Pool()
        Contact = pool.get('backoffice.client.contact')
        result = dict.fromkeys(map(int, users))
        with inactive_records():
            for contact in Contact.search([
                        ('web_user', 'in', list(result.keys())),
                        ]):
                result[contact.web_user.id] = contact.id
        return result

    @classmethod
    def search_client_contact(cls, name, clause):
        pool = Pool()
        Contact = pool.get('backoffice.client.contact')
        _, operator, value = clause[:3]
        nested = clause[0][len(name) + 1:]
        if not nested:
            nested = 'rec_name' if isinstance(value, str) else 'id'
        with inactive_records():
            contacts = Contact.search(
                [(nested, operator, value), ('web_user', '!=', None)],
                query=True)
        table = Contact.__table__()
        return [('id', 'in', table.select(
                    table.web_user, where=table.id.in_(contacts)))]

    def client_has_role(self, role):
        """Whether the user may act as role for its client: the server-side
        test of the portal"""
        contact = self.client_contact
        return bool(contact and contact.party == self.party
            and contact.has_role(role))

    @classmethod
    def validate_fields(cls, users, field_names):
        pool = Pool()
        Contact = pool.get('backoffice.client.contact')
        super().validate_fields(users, field_names)
        if field_names & {'party', 'active'}:
            Contact.check_admins({u.party.id for u in users if u.party})
