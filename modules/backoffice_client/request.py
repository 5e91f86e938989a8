# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The account request of a client: what it asks for, checked, and the
existing parties it matches (its approval: request_approval.py)"""
from collections import defaultdict

from sql import Null
from sql.functions import Lower

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.tools.email_ import EmailNotValidError
from trytond.transaction import Transaction

from .client_account import (
    BILLING_SCHEMES, DELIVERY_METHODS, PAYMENT_METHODS)
from .contact import check_email_address
from .exceptions import RequestError, RequestStateError
from .party import CLIENT_KINDS, KIND_TYPES
from .vat import vat_candidates, vat_key, vat_types, vat_valid

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
    # The kind decides the type (on_change_client_kind): every kind is
    # offered, validate_fields refuses a kind of the other type.
    client_kind = fields.Selection(
        CLIENT_KINDS, "Client Kind", states=_states,
        help="What the client says it is: a company or its works council "
        "asks as a business, an employee of a client company or an "
        "individual privately.")
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
        help="The country and kind of the number, which tell how its check "
        "digits are checked.")
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
        "Contact Phone", states=_states)
    street = fields.Text(
        "Street", states=_states,
        help="The street of the address to deliver and invoice.")
    postal_code = fields.Char(
        "Postal Code", states=_states,
        help="The postal code of the address; it decides the delivery "
        "zone.")
    city = fields.Char(
        "City", states=_states)
    country = fields.Many2One(
        'country.country', "Country", ondelete='RESTRICT', states=_states)
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

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'to_verify'

    @classmethod
    def default_vat_type(cls):
        return 'ch_vat'

    # what the client account gets when no one chooses
    @classmethod
    def default_billing_scheme(cls):
        ClientAccount = Pool().get('party.party.client_account')
        return ClientAccount.default_billing_scheme()

    @classmethod
    def default_payment_methods(cls):
        ClientAccount = Pool().get('party.party.client_account')
        return ClientAccount.default_payment_methods()

    @classmethod
    def default_delivery_methods(cls):
        ClientAccount = Pool().get('party.party.client_account')
        return ClientAccount.default_delivery_methods()

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
        result = {r.id: set() for r in requests}
        cls._vat_duplicates(requests, result)
        cls._email_duplicates(requests, result)
        for request in requests:
            if request.party:
                # the chosen client is not a duplicate of itself
                result[request.id].discard(request.party.id)
        return {k: sorted(v) for k, v in result.items()}

    @classmethod
    def _vat_duplicates(cls, requests, result):
        "Add to result {request id: party ids} the parties of the same VAT"
        pool = Pool()
        Identifier = pool.get('party.identifier')
        cursor = Transaction().connection.cursor()
        by_key = defaultdict(set)
        for request in requests:
            if request.vat_key:
                by_key[request.vat_key].add(request.id)
        if not by_key:
            return
        identifier = Identifier.__table__()
        candidates = set().union(*map(vat_candidates, by_key))
        for sub_codes in grouped_slice(
                sorted(candidates), backend.MAX_QUERY_PARAMS // 2):
            cursor.execute(*identifier.select(
                    identifier.party, identifier.type,
                    identifier.code_compact,
                    where=identifier.code_compact.in_(list(sub_codes))
                    & identifier.type.in_(sorted(vat_types()))))
            for party_id, type_, code in cursor:
                for request_id in by_key.get(vat_key(type_, code), []):
                    result[request_id].add(party_id)

    @classmethod
    def _email_duplicates(cls, requests, result):
        """Add to result {request id: party ids} the parties with the email:
        of a contact, a contact mechanism or a portal login"""
        pool = Pool()
        Contact = pool.get('backoffice.client.contact')
        Mechanism = pool.get('party.contact_mechanism')
        WebUser = pool.get('web.user')
        cursor = Transaction().connection.cursor()
        by_email = defaultdict(set)
        for request in requests:
            if request.contact_email:
                by_email[request.contact_email.strip().lower()].add(
                    request.id)
        if not by_email:
            return
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
                sorted(by_email), backend.MAX_QUERY_PARAMS // 2):
            sub_emails = list(sub_emails)
            for query in queries:
                cursor.execute(*query(sub_emails))
                for email, party_id in cursor:
                    for request_id in by_email.get(email, []):
                        result[request_id].add(party_id)

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
