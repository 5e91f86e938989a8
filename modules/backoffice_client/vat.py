# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The VAT or business number of a client: its identifiers of a VAT type,
checked with their check digits, found in any format, and shared by no two
clients of which one is active"""
import re
from collections import defaultdict

import stdnum.exceptions
from sql import Literal, Null
from stdnum import get_cc_module

from trytond import backend
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, inactive_records, without_check_access)

from .exceptions import DuplicateVATError, VATError

_CH_VAT_SUFFIX = re.compile(r'(MWST|TVA|IVA)$')


def vat_types():
    "The identifier types that hold a VAT or business number of a client"
    Party = Pool().get('party.party')
    # The Swiss UID is the VAT number without its suffix: a company has
    # both, and two clients sharing either are the same company.
    return set(Party.tax_identifier_types()) | {'ch_uid'}


def vat_key(type_, code):
    """The number of a VAT/UID identifier without its format, to compare
    identifiers of any type: the key of CHE-116.281.710 (ch_uid) and of
    CHE-116.281.710 MWST (ch_vat) is CHE116281710, the key of a national
    VAT number starts with its country code like an EU VAT number."""
    if not type_ or not code or '_' not in type_:
        return None
    country, name = type_.split('_', 1)
    compact = code
    module = get_cc_module(country, name)
    if module is not None and hasattr(module, 'compact'):
        try:
            compact = module.compact(code)
        except stdnum.exceptions.ValidationError:
            pass
    compact = re.sub(r'[\W_]', '', compact).upper()
    if country == 'ch':
        return _CH_VAT_SUFFIX.sub('', compact)
    if country != 'eu' and not compact.startswith(country.upper()):
        compact = country.upper() + compact
    return compact


def vat_candidates(key):
    "The code_compact values under which an identifier of key is stored"
    candidates = {key}
    if key.startswith('CHE'):
        candidates.update(key + suffix for suffix in ['MWST', 'TVA', 'IVA'])
    elif len(key) > 2 and key[:2].isalpha():
        # a national type stores the number without its country code
        candidates.add(key[2:])
    return candidates


def vat_valid(type_, code):
    "Whether python-stdnum accepts code for type_ (True when it cannot tell)"
    if not type_ or not code or '_' not in type_:
        return True
    module = get_cc_module(*type_.split('_', 1))
    if module is None or not hasattr(module, 'is_valid'):
        return True
    return module.is_valid(code)


def _is_client(state):
    "state: (client type, client status, active)"
    return bool(state[0]) and bool(state[2])


def _is_active_client(state):
    return _is_client(state) and state[1] == 'active'


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    vat_code = fields.Function(fields.Char(
            "VAT/UID Number",
            help="The VAT or business number of the client, from its "
            "identifiers; search it with or without dots and spaces."),
        'get_vat_code', searcher='search_vat_code')

    @classmethod
    def _vat_identifier(cls, party):
        types = vat_types()
        # tax types first: the VAT number of a Swiss company, not its UID
        tax_types = set(cls.tax_identifier_types())
        identifiers = [
            i for i in party.identifiers if i.active and i.type in types]
        identifiers.sort(key=lambda i: i.type not in tax_types)
        return identifiers[0] if identifiers else None

    def get_vat_code(self, name):
        identifier = self._vat_identifier(self)
        return identifier.code if identifier else None

    @classmethod
    def search_vat_code(cls, name, clause):
        _, operator, value = clause[:3]
        compact = value
        if isinstance(value, str):
            # "CHE-116.281.710" finds CHE116281710MWST
            compact = re.sub(r'[^\w%_]', '', value).upper()
        return [('identifiers', 'where', [
                    ('type', 'in', list(vat_types())),
                    ['OR',
                        ('code', operator, value),
                        ('code_compact', operator, compact),
                        ],
                    ]),
            ]

    @classmethod
    def validate_fields(cls, parties, field_names):
        super().validate_fields(parties, field_names)
        # A party that becomes an (active) client may now share its number
        if field_names & {'client_type', 'client_status', 'active'}:
            types = vat_types()
            cls.check_vat_conflicts([
                    (p.id, vat_key(i.type, i.code), i.code)
                    for p in parties for i in p.identifiers
                    if i.active and i.type in types])

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        types = vat_types()
        # The copy of a client is a new prospect: it cannot carry the VAT
        # number of the client it was copied from.
        vat_ids = {
            i.id for p in parties if p.client_type
            for i in p.identifiers if i.type in types}
        default.setdefault('identifiers', lambda data: [
                i for i in (data.get('identifiers') or [])
                if i not in vat_ids])
        return super().copy(parties, default=default)

    @classmethod
    def check_vat_conflicts(cls, entries):
        """Raise when a VAT number is shared by two clients of which one is
        active

        entries: (party id, vat key, code) as stored. One query for all the
        entries."""
        entries = [e for e in entries if e[0] and e[1]]
        with without_check_access(), inactive_records():
            states = {p.id: (p.client_type, p.client_status, p.active)
                for p in cls.browse(list({e[0] for e in entries}))}
        entries = [e for e in entries if _is_client(states[e[0]])]
        if not entries:
            return
        holders = cls._vat_holders({e[1] for e in entries}, states)
        for party_id, key, code in entries:
            rivals = sorted(
                (p for p in holders[key]
                    if p != party_id and _is_client(states[p])),
                # name an active client first: it is why the VAT is taken
                key=lambda p: (not _is_active_client(states[p]), p))
            for rival in rivals:
                if (_is_active_client(states[party_id])
                        or _is_active_client(states[rival])):
                    with without_check_access(), inactive_records():
                        party_name = cls(party_id).rec_name
                        rival_name = cls(rival).rec_name
                    raise DuplicateVATError(gettext(
                            'backoffice_client.msg_vat_duplicate',
                            party=party_name, code=code, other=rival_name))

    @classmethod
    def _vat_holders(cls, keys, states):
        """{vat key: party ids} of the active clients holding the keys; adds
        their (client type, client status, active) to states"""
        pool = Pool()
        Identifier = pool.get('party.identifier')
        identifier = Identifier.__table__()
        party = cls.__table__()
        cursor = Transaction().connection.cursor()
        candidates = set().union(*map(vat_candidates, keys))
        holders = defaultdict(set)
        for sub_codes in grouped_slice(
                sorted(candidates), backend.MAX_QUERY_PARAMS // 2):
            cursor.execute(*identifier.join(
                    party, condition=identifier.party == party.id).select(
                    party.id, identifier.type, identifier.code_compact,
                    party.client_type, party.client_status, party.active,
                    where=identifier.code_compact.in_(list(sub_codes))
                    & identifier.type.in_(sorted(vat_types()))
                    & (identifier.active == Literal(True))
                    & (party.active == Literal(True))
                    & (party.client_type != Null)))
            for party_id, type_, code, client_type, status, active in cursor:
                holders[vat_key(type_, code)].add(party_id)
                states.setdefault(party_id, (client_type, status, active))
        return holders


class Identifier(metaclass=PoolMeta):
    __name__ = 'party.identifier'

    @fields.depends('type', 'party', 'code')
    def check_code(self):
        pool = Pool()
        Party = pool.get('party.party')
        if self.type not in vat_types():
            super().check_code()
        elif self.code and not vat_valid(self.type, self.code):
            party_name = ''
            if self.party and self.party.id and self.party.id > 0:
                with without_check_access(), inactive_records():
                    party_name = Party(self.party.id).rec_name
            raise VATError(gettext(
                    'backoffice_client.msg_vat_invalid',
                    party=party_name, code=self.code,
                    type=dict(self.get_types()).get(self.type, self.type)))

    @classmethod
    def validate_fields(cls, identifiers, field_names):
        pool = Pool()
        Party = pool.get('party.party')
        super().validate_fields(identifiers, field_names)
        if field_names & {'party', 'type', 'code', 'active'}:
            types = vat_types()
            Party.check_vat_conflicts([
                    (i.party.id, vat_key(i.type, i.code), i.code)
                    for i in identifiers
                    if i.active and i.type in types and i.code])
