# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The approval of account requests: automatic on arrival when the
configuration says so, else by a person, who opens or activates the client
with what the request asks for (a little over 400 lines: one workflow,
whose steps are read together)"""
import datetime as dt
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import ModelView, Workflow
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import (
    Transaction, inactive_records, without_check_access)

from .access import SERVER, ServerFieldsMixin
from .exceptions import (
    RequestDuplicateWarning, RequestError, RequestStateError)
from .vat import vat_candidates, vat_key, vat_types

# Set while the configuration approves requests as they arrive (private:
# RPC callers cannot set context keys starting with "_")
AUTO_APPROVAL = '_backoffice_auto_approval'


class Request(metaclass=PoolMeta):
    __name__ = 'backoffice.client.request'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._transitions |= {
            ('to_verify', 'approved'),
            ('to_verify', 'refused'),
            ('refused', 'to_verify'),
            }
        # No "invisible" state on approve and refuse: the view hides them
        # (see view_attributes) and approving a request twice gets the
        # message saying so instead of a generic button error.
        cls._buttons.update({
                'approve': {
                    'depends': ['state'],
                    },
                'refuse': {
                    'depends': ['state'],
                    },
                'reset': {
                    'invisible': Eval('state') != 'refused',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def view_attributes(cls):
        # The view hides the validation buttons rather than their states:
        # the server then answers a second validation with its own message.
        return super().view_attributes() + [
            ('//group[@id="validate"]', 'states', {
                    'invisible': Eval('state') != 'to_verify',
                    }),
            ]

    # Arrival ------------------------------------------------------------

    @classmethod
    def create(cls, vlist):
        requests = super().create(vlist)
        cls._arrive(requests)
        return requests

    @classmethod
    def _arrive(cls, requests):
        """A request for a known prospect puts it pending; the requests the
        configuration of their company approves are approved at once,
        unless they match existing clients"""
        pool = Pool()
        Party = pool.get('party.party')
        Configuration = pool.get('backoffice.client.configuration')
        config = Configuration(1)
        pending = [r.party for r in requests
            if r.state == 'to_verify' and r.party
            and r.party.client_status == 'prospect']
        # Only new clients: activating an existing party (a prospect, a
        # blocked client) is for a person to decide.
        to_approve = [r for r in requests
            if r.state == 'to_verify'
            and config.auto_approve(r.client_type, r.company)
            and not r.party
            and not r.duplicates
            and not cls._match_parties([r])]
        # The configuration is the permission: whoever sends the request
        # (a portal, an import) need not be allowed to approve it, and the
        # client gets what the configuration grants, not what he asked.
        with without_check_access():
            if pending:
                Party.write(list(set(pending)), {'client_status': 'pending'})
            if to_approve:
                with Transaction().set_context(**{AUTO_APPROVAL: True}):
                    cls._approve(to_approve)

    # Validation by a person --------------------------------------------

    @classmethod
    def check_duplicates(cls, requests):
        "Warn the person who approves requests that match existing parties"
        pool = Pool()
        Warning = pool.get('res.user.warning')
        with_duplicates = [r for r in requests if r.duplicates]
        if not with_duplicates:
            return
        key = Warning.format(
            'backoffice_client.request_duplicates', with_duplicates)
        if Warning.check(key):
            request = with_duplicates[0]
            raise RequestDuplicateWarning(key, gettext(
                    'backoffice_client.msg_request_duplicates',
                    request=request.rec_name,
                    clients=', '.join(
                        p.rec_name for p in request.duplicates)))

    @classmethod
    def _check_to_verify(cls, requests):
        for request in requests:
            if request.state != 'to_verify':
                raise RequestStateError(gettext(
                        'backoffice_client.msg_request_state',
                        request=request.rec_name,
                        state=request.state_string,
                        user=(request.validated_by.rec_name
                            if request.validated_by else ''),
                        date=(request.validated_date.strftime(
                                '%Y-%m-%d %H:%M')
                            if request.validated_date else '')))

    @classmethod
    @ModelView.button
    def approve(cls, requests):
        """Approve the requests: each gets an active client, created or
        activated, with its address, VAT number, contact, payment and
        delivery methods"""
        # Serialise concurrent validations of the same requests: the second
        # reads the state the first has written.
        cls.lock(requests)
        cls._check_to_verify(requests)
        cls.check_duplicates(requests)
        cls._approve(requests)

    @classmethod
    @ModelView.button
    def refuse(cls, requests):
        cls.lock(requests)
        cls._check_to_verify(requests)
        for request in requests:
            if not (request.refusal_reason or '').strip():
                raise RequestError(gettext(
                        'backoffice_client.msg_request_refusal_reason',
                        request=request.rec_name,
                        field=cls.fields_get(['refusal_reason'])[
                            'refusal_reason']['string']))
        cls._refuse(requests)

    @classmethod
    @ModelView.button
    @Workflow.transition('to_verify')
    def reset(cls, requests):
        cls.write(requests, {
                'validated_by': None,
                'validated_date': None,
                })

    @classmethod
    @Workflow.transition('refused')
    def _refuse(cls, requests):
        pool = Pool()
        Party = pool.get('party.party')
        cls.write(requests, cls._validation_values())
        # A prospect whose only request is refused is a prospect again.
        parties = [r.party for r in requests
            if r.party and r.party.client_status == 'pending']
        if parties:
            waiting = {r.party for r in cls.search([
                        ('party', 'in', [p.id for p in parties]),
                        ('state', '=', 'to_verify'),
                        ('id', 'not in', [r.id for r in requests]),
                        ])}
            parties = [p for p in set(parties) if p not in waiting]
            if parties:
                Party.write(parties, {'client_status': 'prospect'})

    @classmethod
    def _validation_values(cls):
        return {
            'validated_by': Transaction().user or None,
            'validated_date': dt.datetime.now(),
            }

    @classmethod
    @Workflow.transition('approved')
    def _approve(cls, requests):
        pool = Pool()
        Party = pool.get('party.party')
        Contact = pool.get('backoffice.client.contact')
        parties = cls._match_parties(requests)
        by_company = defaultdict(list)
        for request in requests:
            by_company[request.company].append(request)
        # The billing and delivery choices are the company's (MultiValue
        # fields of the context company): grant them in the company of the
        # request, whichever company the approver works in.
        for company, company_requests in by_company.items():
            to_write, to_create, created_for = [], [], []
            for request in company_requests:
                party = parties.get(request)
                values = cls._client_values(request, party)
                if party:
                    to_write.extend([[party], values])
                else:
                    to_create.append(values)
                    created_for.append(request)
            with Transaction().set_context(company=company.id):
                if to_write:
                    Party.write(*to_write)
                if to_create:
                    for request, party in zip(
                            created_for, Party.create(to_create)):
                        parties[request] = party

        with inactive_records():
            contacts = Contact.search([
                    ('party', 'in', list({p.id for p in parties.values()})),
                    ])
        contacts = {
            (c.party.id, (c.email or '').lower()): c for c in contacts}
        values = cls._validation_values()
        to_write = []
        for request in requests:
            party = parties[request]
            contact = contacts.get(
                (party.id, request.contact_email.strip().lower()))
            to_write.extend([[request], {
                        'party': party.id,
                        'contact': contact.id if contact else None,
                        **values,
                        }])
        if to_write:
            cls.write(*to_write)

    @classmethod
    def _match_parties(cls, requests):
        """The existing party each request activates: the chosen one, else
        the client with the same VAT number (an active client first)"""
        pool = Pool()
        Identifier = pool.get('party.identifier')
        parties = {r: r.party for r in requests if r.party}
        keys = {r: r.vat_key for r in requests
            if not r.party and r.vat_key}
        if not keys:
            return parties
        candidates = set().union(*map(vat_candidates, keys.values()))
        with inactive_records():
            identifiers = Identifier.search([
                    ('code_compact', 'in', sorted(candidates)),
                    ('type', 'in', sorted(vat_types())),
                    ('party.client_type', '!=', None),
                    ('active', '=', True),
                    ])
        by_key = defaultdict(list)
        for identifier in identifiers:
            by_key[vat_key(identifier.type, identifier.code)].append(
                identifier.party)

        def preference(party):
            return (
                not party.active, party.client_status != 'active', -party.id)
        for request, key in keys.items():
            if by_key.get(key):
                parties[request] = sorted(by_key[key], key=preference)[0]
        return parties

    @classmethod
    def _client_values(cls, request, party=None):
        """The values that make party (None for a new party) the active
        client of request

        The hook of the modules that grant more on approval (e.g. the price
        group of backoffice_pricing): extend it with super(); an automatic
        approval (is_auto_approval) grants only what the configuration
        says, never the terms of the request."""
        pool = Pool()
        Configuration = pool.get('backoffice.client.configuration')
        values = {
            'client_type': request.client_type,
            'client_status': 'active',
            'payment_methods': list(request.payment_methods or []),
            'delivery_methods': list(request.delivery_methods or []),
            }
        if cls.is_auto_approval():
            values.update(Configuration(1).auto_values(request.company))
        if party is not None and not party.active:
            values['active'] = True
        if request.client_kind:
            values['client_kind'] = request.client_kind
        if request.billing_scheme and not cls.is_auto_approval():
            values['billing_scheme'] = request.billing_scheme
        if party is None:
            values['name'] = request.company_name or request.contact_name
            values['addresses'] = []
            if request.client_type == 'b2c':
                # a private client is reached where its contact is
                mechanisms = [
                    {'type': 'email', 'value': request.contact_email}]
                if request.contact_phone:
                    mechanisms.append(
                        {'type': 'phone', 'value': request.contact_phone})
                values['contact_mechanisms'] = [('create', mechanisms)]
        for field, record in [
                ('addresses', cls._address_values(request, party)),
                ('identifiers', cls._identifier_values(request, party)),
                ('client_contacts', cls._contact_values(request, party)),
                ]:
            if record:
                values[field] = [('create', [record])]
        return values

    @classmethod
    def is_auto_approval(cls):
        "Whether the requests being approved are approved automatically"
        return bool(Transaction().context.get(AUTO_APPROVAL))

    @classmethod
    def _address_values(cls, request, party=None):
        "The address to create for request, or None"
        if not (request.street or request.postal_code or request.city):
            return None
        if party is not None:
            for address in party.addresses:
                if ((address.street or '').strip()
                        == (request.street or '').strip()
                        and address.postal_code == request.postal_code):
                    return None
        return {
            'street': request.street,
            'postal_code': request.postal_code,
            'city': request.city,
            'country': request.country.id if request.country else None,
            'subdivision': (
                request.subdivision.id if request.subdivision else None),
            'delivery': True,
            'invoice': True,
            }

    @classmethod
    def _identifier_values(cls, request, party=None):
        "The VAT identifier to create for request, or None"
        key = request.vat_key
        if not key:
            return None
        if party is not None:
            for identifier in party.identifiers:
                if vat_key(identifier.type, identifier.code) == key:
                    return None
        return {
            'type': request.vat_type,
            'code': request.vat_code,
            }

    @classmethod
    def _contact_values(cls, request, party=None):
        "The contact to create for request, or None"
        roles = ['admin']
        if party is not None:
            email = request.contact_email.strip().lower()
            for contact in party.client_contacts:
                if (contact.email or '').lower() == email:
                    return None
            if any(c.active and 'admin' in (c.roles or ())
                    for c in party.client_contacts):
                # the account has its Admin: the newcomer orders
                roles = ['buyer']
        return {
            'name': request.contact_name,
            'email': request.contact_email.strip(),
            'phone': request.contact_phone,
            'roles': roles,
            }


class RequestServerFields(ServerFieldsMixin, metaclass=PoolMeta):
    """The state and the validation of a request are set by its workflow
    (the buttons of the approver, the automatic approval) only"""
    __name__ = 'backoffice.client.request'

    @classmethod
    def approve(cls, requests):
        with Transaction().set_context(**{SERVER: True}):
            super().approve(requests)

    @classmethod
    def refuse(cls, requests):
        with Transaction().set_context(**{SERVER: True}):
            super().refuse(requests)

    @classmethod
    def reset(cls, requests):
        with Transaction().set_context(**{SERVER: True}):
            super().reset(requests)
