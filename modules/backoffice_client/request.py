# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
from collections import defaultdict

from sql import Null
from sql.functions import Lower

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.tools.email_ import EmailNotValidError
from trytond.transaction import (
    Transaction, inactive_records, without_check_access)

from .access import SERVER, ServerFieldsMixin
from .contact import check_email_address
from .exceptions import (
    RequestDuplicateWarning, RequestError, RequestStateError)
from .client_account import (
    BILLING_SCHEMES, DELIVERY_METHODS, PAYMENT_METHODS)
from .party import CLIENT_KINDS, KIND_TYPES, query_batch_size
from .vat import vat_candidates, vat_key, vat_types, vat_valid

# Set while the configuration approves requests as they arrive (private:
# RPC callers cannot set context keys starting with "_")
AUTO_APPROVAL = '_backoffice_auto_approval'

REQUEST_STATES = [
    ('to_verify', "To Verify"),
    ('approved', "Approved"),
    ('refused', "Refused"),
    ]


class Request(ValueCheckMixin, Workflow, ModelSQL, ModelView):
    __name__ = 'backoffice.client.request'
    __string__ = "Account Request"

    _states = {
        'readonly': Eval('state') != 'to_verify',
        }

    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={
            'readonly': True,
            },
        help="The company the client wants to buy from.")
    state = fields.Selection(
        REQUEST_STATES, "State", readonly=True, required=True, sort=False,
        help="To Verify: waits for a person.\n"
        "Approved: the client account is active.\n"
        "Refused: no account was opened; the reason says why.")
    client_type = fields.Selection([
            ('b2b', "Business (B2B)"),
            ('b2c', "Private (B2C)"),
            ], "Client Type", required=True, states=_states,
        help="Whether the account is for a business or a private person.")
    client_kind = fields.Selection(
        CLIENT_KINDS, "Client Kind", states=_states,
        domain=[If(Eval('client_type') == 'b2b',
                ('client_kind', 'in', [None, 'company', 'works_council']),
                ('client_kind', 'in', [None, 'employee', 'individual'])),
            ],
        help="What the client is, as it says.")
    company_name = fields.Char(
        "Company Name",
        states={
            'readonly': _states['readonly'],
            'required': Eval('client_type') == 'b2b',
            'invisible': Eval('client_type') != 'b2b',
            },
        help="The name of the business that asks for an account.")
    vat_type = fields.Selection(
        'get_vat_types', "VAT/UID Type", states=_states,
        help="The kind of the VAT or business number.")
    vat_code = fields.Char(
        "VAT/UID Number", strip=True,
        states={
            'readonly': _states['readonly'],
            'required': Eval('client_type') == 'b2b',
            },
        help="The VAT or business number of the company, e.g. "
        "CHE-116.281.710 MWST; checked with its check digits.")
    contact_name = fields.Char(
        "Contact Name", required=True, states=_states,
        help="The person who asks for the account; becomes a contact of "
        "the client.")
    contact_email = fields.Char(
        "Contact Email", required=True, states=_states,
        help="The email of the person, to answer and for the portal.")
    contact_phone = fields.Char(
        "Contact Phone", states=_states,
        help="The phone number of the person.")
    street = fields.Text(
        "Street", states=_states,
        help="The street of the address to deliver and invoice.")
    postal_code = fields.Char(
        "Postal Code", states=_states,
        help="The postal code of the address; it decides the delivery "
        "zone.")
    city = fields.Char(
        "City", states=_states,
        help="The city of the address.")
    country = fields.Many2One(
        'country.country', "Country", ondelete='RESTRICT', states=_states,
        help="The country of the address.")
    subdivision = fields.Many2One(
        'country.subdivision', "Subdivision", ondelete='RESTRICT',
        domain=[
            ('country', '=', Eval('country', -1)),
            ],
        states=_states,
        help="The canton or region of the address.")
    billing_scheme = fields.Selection(
        BILLING_SCHEMES, "Billing Scheme", states=_states,
        help="How the client wants to be invoiced; the person who verifies "
        "may change it.")
    payment_methods = fields.MultiSelection(
        PAYMENT_METHODS, "Payment Methods", sort=False, states=_states,
        help="How the client wants to pay. What is left when the request "
        "is approved is granted to the whole company.")
    delivery_methods = fields.MultiSelection(
        DELIVERY_METHODS, "Delivery Methods", sort=False, states=_states,
        help="How the client wants to receive its orders. What is left "
        "when the request is approved is granted to the whole company.")
    comment = fields.Text(
        "Comment", states=_states,
        help="What the client wrote with its request.")
    party = fields.Many2One(
        'party.party', "Client", ondelete='RESTRICT',
        domain=[
            ('client_type', '!=', None),
            ],
        states=_states,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="The client whose account the request opens. Choose an "
        "existing client (e.g. a prospect) to activate it; left empty, "
        "approval activates the client with the same VAT number or "
        "creates a new one.")
    contact = fields.Many2One(
        'backoffice.client.contact', "Contact", readonly=True,
        ondelete='SET NULL',
        help="The contact of the client made from the request.")
    duplicates = fields.Function(fields.Many2Many(
            'party.party', None, None, "Matching Clients",
            context={
                'company': Eval('company', -1),
                },
            depends={'company'},
            help="Existing parties with the same VAT number or email as "
            "the request: check them before approving."),
        'get_duplicates')
    refusal_reason = fields.Text(
        "Refusal Reason",
        states={
            'readonly': _states['readonly'],
            'invisible': Eval('state') == 'approved',
            'required': Eval('state') == 'refused',
            },
        help="Why the request is refused; fill it in before refusing.")
    validated_by = fields.Many2One(
        'res.user', "Validated By", readonly=True, ondelete='SET NULL',
        help="The person who approved or refused the request.")
    validated_date = fields.Timestamp(
        "Validated On", readonly=True,
        help="When the request was approved or refused.")

    client_kind_string = client_kind.translated('client_kind')
    client_type_string = client_type.translated('client_type')
    state_string = state.translated('state')

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('create_date', 'DESC'),
            ('id', 'DESC'),
            ]
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

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'to_verify'

    @classmethod
    def default_vat_type(cls):
        return 'ch_vat'

    @classmethod
    def default_billing_scheme(cls):
        return 'order'

    @classmethod
    def default_payment_methods(cls):
        return []

    @classmethod
    def default_delivery_methods(cls):
        return []

    @classmethod
    def get_vat_types(cls):
        pool = Pool()
        Identifier = pool.get('party.identifier')
        types = vat_types()
        return [(None, "")] + [
            (k, v) for k, v in Identifier.get_types() if k in types]

    @fields.depends('client_kind', 'client_type')
    def on_change_client_kind(self):
        if self.client_kind:
            self.client_type = KIND_TYPES[self.client_kind]

    @fields.depends('client_type', 'payment_methods')
    def on_change_client_type(self):
        # What the office usually grants: businesses pay on invoice,
        # private clients by card.
        if not self.payment_methods:
            self.payment_methods = (
                ['invoice'] if self.client_type == 'b2b' else ['card'])

    def get_rec_name(self, name):
        name = self.company_name or self.contact_name or ''
        if self.contact_email:
            name = '%s <%s>' % (name, self.contact_email)
        return name

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('company_name', operator, operand, *extra),
            ('contact_name', operator, operand, *extra),
            ('contact_email', operator, operand, *extra),
            ('vat_code', operator, operand, *extra),
            ]

    # Duplicates ---------------------------------------------------------

    @property
    def vat_key(self):
        if self.vat_type and self.vat_code:
            return vat_key(self.vat_type, self.vat_code)

    @classmethod
    def get_duplicates(cls, requests, name):
        """The parties sharing the VAT number or the email of each request
        (one query per source for all the requests)"""
        pool = Pool()
        Identifier = pool.get('party.identifier')
        Contact = pool.get('backoffice.client.contact')
        Mechanism = pool.get('party.contact_mechanism')
        WebUser = pool.get('web.user')
        cursor = Transaction().connection.cursor()
        result = {r.id: set() for r in requests}

        by_key = defaultdict(set)
        for request in requests:
            if request.vat_key:
                by_key[request.vat_key].add(request.id)
        if by_key:
            identifier = Identifier.__table__()
            candidates = set().union(*map(vat_candidates, by_key))
            for sub_codes in grouped_slice(
                    sorted(candidates), query_batch_size()):
                cursor.execute(*identifier.select(
                        identifier.party, identifier.type,
                        identifier.code_compact,
                        where=identifier.code_compact.in_(list(sub_codes))
                        & identifier.type.in_(sorted(vat_types()))))
                for party_id, type_, code in cursor:
                    for request_id in by_key.get(vat_key(type_, code), []):
                        result[request_id].add(party_id)

        by_email = defaultdict(set)
        for request in requests:
            if request.contact_email:
                by_email[request.contact_email.strip().lower()].add(
                    request.id)
        if by_email:
            contact = Contact.__table__()
            mechanism = Mechanism.__table__()
            user = WebUser.__table__()
            queries = [
                lambda emails: contact.select(
                    Lower(contact.email), contact.party,
                    where=Lower(contact.email).in_(emails)),
                lambda emails: mechanism.select(
                    Lower(mechanism.value), mechanism.party,
                    where=Lower(mechanism.value).in_(emails)
                    & (mechanism.type == 'email')),
                lambda emails: user.select(
                    Lower(user.email), user.party,
                    where=Lower(user.email).in_(emails)
                    & (user.party != Null)),
                ]
            for sub_emails in grouped_slice(
                    sorted(by_email), query_batch_size()):
                sub_emails = list(sub_emails)
                for query in queries:
                    cursor.execute(*query(sub_emails))
                    for email, party_id in cursor:
                        for request_id in by_email.get(email, []):
                            result[request_id].add(party_id)

        for request in requests:
            if request.party:
                # the chosen client is not a duplicate of itself
                result[request.id].discard(request.party.id)
        return {k: sorted(v) for k, v in result.items()}

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

    # Validation ---------------------------------------------------------

    @classmethod
    def validate_fields(cls, requests, field_names):
        super().validate_fields(requests, field_names)
        if field_names & {'contact_email'}:
            for request in requests:
                try:
                    check_email_address(request.contact_email or '')
                except EmailNotValidError as exception:
                    raise RequestError(gettext(
                            'backoffice_client.msg_request_email_invalid',
                            request=request.rec_name,
                            email=request.contact_email)) from exception
        if field_names & {'vat_type', 'vat_code'}:
            type_strings = dict(cls.get_vat_types())
            for request in requests:
                if request.vat_code and not request.vat_type:
                    raise RequestError(gettext(
                            'backoffice_client.msg_request_vat_type',
                            request=request.rec_name,
                            code=request.vat_code))
                if not vat_valid(request.vat_type, request.vat_code):
                    raise RequestError(gettext(
                            'backoffice_client.msg_request_vat_invalid',
                            request=request.rec_name,
                            code=request.vat_code,
                            type=type_strings.get(request.vat_type)))
        if field_names & {'client_type', 'client_kind'}:
            for request in requests:
                if (request.client_kind and KIND_TYPES[request.client_kind]
                        != request.client_type):
                    raise RequestError(gettext(
                            'backoffice_client.msg_request_kind_type',
                            request=request.rec_name,
                            kind=request.client_kind_string,
                            type=request.client_type_string))

    @classmethod
    def check_modification(cls, mode, requests, values=None, external=False):
        super().check_modification(
            mode, requests, values=values, external=external)
        if mode == 'delete':
            for request in requests:
                if request.state == 'approved':
                    raise RequestStateError(gettext(
                            'backoffice_client.msg_request_delete_approved',
                            request=request.rec_name))

    @classmethod
    def copy(cls, requests, default=None):
        default = default.copy() if default is not None else {}
        for name in [
                'state', 'party', 'contact', 'refusal_reason',
                'validated_by', 'validated_date']:
            default.setdefault(name, None)
        return super().copy(requests, default=default)

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
