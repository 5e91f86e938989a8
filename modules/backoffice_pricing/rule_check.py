# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The checks of price rules beyond their fields' own (required by the
states, the company of the price group or tag pricing by its domain, the
unit by its domain)"""
from collections import defaultdict

from trytond import backend
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .engine import PERCENTAGE_MAX, PERCENTAGE_MIN, SCOPES, find_overlaps
from .exceptions import RuleOverlapError, RuleValidationError
from .rule import OWNER_FIELDS, SPEC_FIELDS
from .rule_text import format_percentage, format_price, format_quantity


class PriceRule(metaclass=PoolMeta):
    __name__ = 'backoffice.price.rule'

    @classmethod
    def validate_fields(cls, rules, field_names):
        super().validate_fields(rules, field_names)
        if field_names is None or field_names & set(SPEC_FIELDS):
            for rule in rules:
                rule.check_owner()
                rule.check_value()
                rule.check_dates()
            cls.check_overlaps(rules)

    def check_owner(self):
        "Only the owner of the rule's scope is set (the others are hidden)"
        for scope, field in OWNER_FIELDS.items():
            if scope != self.scope and getattr(self, field) is not None:
                raise RuleValidationError(gettext(
                        'backoffice_pricing.msg_rule_other_scope',
                        rule=self.rec_name,
                        field=self.__names__(field)['field']))

    def check_value(self):
        if self.level == 'product':
            if self.fixed_price < 0:
                raise RuleValidationError(gettext(
                        'backoffice_pricing.msg_rule_fixed_price_negative',
                        rule=self.rec_name,
                        field=self.__names__('fixed_price')['field'],
                        value=format_price(self.fixed_price)))
            if (self.min_quantity or 0) < 0:
                raise RuleValidationError(gettext(
                        'backoffice_pricing.msg_rule_min_quantity_negative',
                        rule=self.rec_name,
                        field=self.__names__('min_quantity')['field'],
                        value=format_quantity(self.min_quantity)))
        elif not (PERCENTAGE_MIN <= self.percentage <= PERCENTAGE_MAX):
            raise RuleValidationError(gettext(
                    'backoffice_pricing.msg_rule_percentage_range',
                    rule=self.rec_name,
                    field=self.__names__('percentage')['field'],
                    value=format_percentage(self.percentage),
                    min=format_percentage(PERCENTAGE_MIN),
                    max=format_percentage(PERCENTAGE_MAX)))

    def check_dates(self):
        pool = Pool()
        Lang = pool.get('ir.lang')
        if (self.start_date and self.end_date
                and self.end_date < self.start_date):
            lang = Lang.get()
            raise RuleValidationError(gettext(
                    'backoffice_pricing.msg_rule_dates',
                    rule=self.rec_name,
                    field=self.__names__('end_date')['field'],
                    start=lang.strftime(self.start_date),
                    end=lang.strftime(self.end_date)))

    @classmethod
    def check_overlaps(cls, rules):
        """Two rules of the same level, scope and target whose periods meet
        would compete at some date: refused, naming both"""
        pool = Pool()
        Company = pool.get('company.company')
        by_company = defaultdict(list)
        for rule in rules:
            by_company[rule.company.id].append(cls._spec(cls._row(rule)))
        ids = {r.id for r in rules}
        for company, specs in by_company.items():
            existing = [s for s in cls._owners_specs(company, specs)
                if s.id not in ids]
            for spec, other in find_overlaps(specs, existing):
                raise RuleOverlapError(gettext(
                        'backoffice_pricing.msg_rule_overlap',
                        rule=cls(spec.id).rec_name,
                        other=cls(other.id).rec_name,
                        company=Company(company).rec_name))

    @classmethod
    def _owners_specs(cls, company, specs):
        "The RuleSpecs of every rule of the company of the specs' owners"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [getattr(table, f) for f in SPEC_FIELDS] + [table.id]
        result = []
        for scope, owner_field in OWNER_FIELDS.items():
            owners = {s.owner for s in specs if s.scope == SCOPES[scope]}
            column = getattr(table, owner_field)
            for sub_ids in grouped_slice(
                    list(owners), backend.MAX_QUERY_PARAMS // 2):
                cursor.execute(*table.select(*columns,
                        where=(table.company == company)
                        & (table.scope == scope)
                        & fields.SQL_OPERATORS['in'](
                            column, list(sub_ids))))
                result.extend(
                    cls._spec(dict(zip(SPEC_FIELDS + ['id'], row)))
                    for row in cursor)
        return result
