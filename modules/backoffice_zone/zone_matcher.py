# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"The compiled matcher of a company's zones, kept for every request"
import threading
from uuid import uuid4

from sql import Literal

from trytond.cache import Cache, LRUDict
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .matcher import RuleSpec, ZoneMatcher

# Compiled matchers of this process, keyed by (database, company, token).
#
# Tryton's Cache holds only the token of the current matcher of a company:
# the default MemoryCache copies what it stores with copy.copy() (cheap for
# a ZoneMatcher, whose __copy__ returns itself), but `[cache] class` may name
# another backend that serialises values, and an STRtree with hundreds of
# prepared polygons is not something to pickle on every lookup. A token is
# cheap for any backend, and Cache.clear() still does the invalidation: it
# drops the token in this transaction at once and, after commit, in every
# process (through ir_cache or the PostgreSQL channel), so the next lookup
# compiles again under a new token. Entries of old tokens are never read
# again and fall out of this LRU dictionary.
_matchers = LRUDict(64)
_matchers_lock = threading.Lock()


class Zone(metaclass=PoolMeta):
    __name__ = 'backoffice.zone'

    # Only a token: see _matchers above.
    _matcher_cache = Cache('backoffice.zone.matcher', context=False)

    @classmethod
    def on_modification(cls, mode, zones, field_names=None):
        super().on_modification(mode, zones, field_names=field_names)
        cls._matcher_cache.clear()

    @classmethod
    def get_matcher(cls, company=None):
        """The compiled ZoneMatcher of company (the context company by
        default), or None without company"""
        if company is None:
            company = Transaction().context.get('company')
        if company is None or company < 0:
            return None
        company = int(company)
        database = Transaction().database.name
        token = cls._matcher_cache.get(company)
        if token is not None:
            with _matchers_lock:
                matcher = _matchers.get((database, company, token))
            if matcher is not None:
                return matcher
        matcher = cls._compile_matcher(company)
        if token is None:
            token = uuid4().hex
            cls._matcher_cache.set(company, token)
        with _matchers_lock:
            _matchers[database, company, token] = matcher
        return matcher

    @classmethod
    @without_check_access
    def _compile_matcher(cls, company):
        "Build the matcher from the rules of the active zones of company"
        pool = Pool()
        Rule = pool.get('backoffice.zone.rule')
        Subdivision = pool.get('country.subdivision')
        zone = cls.__table__()
        rule = Rule.__table__()
        cursor = Transaction().connection.cursor()
        # One query for all the rules: the values the matcher needs only
        cursor.execute(*rule.join(zone, condition=rule.zone == zone.id
                ).select(
                rule.id, rule.zone, rule.kind, rule.pattern, rule.city,
                rule.subdivision, rule.geojson, rule.country,
                zone.priority, zone.sequence, rule.sequence,
                where=(zone.company == company)
                & (zone.active == Literal(True))))
        specs = []
        for (id_, zone_id, kind, pattern, city, subdivision, geojson,
                country, priority, zone_sequence, sequence) in cursor:
            value = {
                'postal': pattern,
                'city': city,
                'subdivision': subdivision,
                'polygon': geojson,
                }.get(kind)
            if not value:
                continue
            specs.append(RuleSpec(
                    id_, zone_id, kind, value, country, priority or 0,
                    zone_sequence, sequence))
        # A rule for a canton also matches the addresses of its districts.
        parents = {}
        subdivisions = {s.value for s in specs if s.kind == 'subdivision'}
        if subdivisions:
            children = Subdivision.search([
                    ('parent', 'child_of', list(subdivisions)),
                    ('id', 'not in', list(subdivisions)),
                    ])
            parents = {s.id: s.parent.id if s.parent else None
                for s in children}
        return ZoneMatcher(specs, parents)


class Subdivision(metaclass=PoolMeta):
    __name__ = 'country.subdivision'

    @classmethod
    def on_modification(cls, mode, subdivisions, field_names=None):
        super().on_modification(mode, subdivisions, field_names=field_names)
        # The matchers know which subdivisions lie below a rule's one.
        if mode != 'write' or 'parent' in field_names:
            Pool().get('backoffice.zone')._matcher_cache.clear()
