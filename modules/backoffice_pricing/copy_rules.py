# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .engine import find_overlaps
from .exceptions import CopyRulesWarning


class PriceRule(metaclass=PoolMeta):
    __name__ = 'backoffice.price.rule'

    @classmethod
    def copy_group_rules(cls, group, parties, conflict='skip',
            start_date=None, end_date=None):
        """Copy the rules of a price group to clients as their own rules.

        conflict: 'skip' keeps a client's rule that would overlap a copied
        one, 'replace' deletes it (after a warning). start_date, end_date:
        the validity of the copies (None: the group rule's). Returns
        (created, skipped, replaced) counts."""
        pool = Pool()
        Warning = pool.get('res.user.warning')
        group_rules = cls.search([
                ('scope', '=', 'group'),
                ('price_group', '=', group.id),
                ], order=[('id', 'ASC')])
        party_ids = [p.id for p in parties]
        existing = defaultdict(list)
        for rule in cls.search([
                    ('scope', '=', 'client'),
                    ('party', 'in', party_ids),
                    ('company', '=', group.company.id),
                    ]):
            existing[rule.party.id].append(
                cls._spec(cls._row(rule)))
        to_create, to_delete, skipped = [], set(), 0
        for party in parties:
            for rule in group_rules:
                values = cls._row(rule)
                values.update({
                        'scope': 'client',
                        'party': party.id,
                        'price_group': None,
                        'id': None,
                        })
                if start_date or end_date:
                    values['start_date'] = start_date
                    values['end_date'] = end_date
                spec = cls._spec(values, -1)
                clashes = [other for _, other in find_overlaps(
                        [spec], existing[party.id])]
                if clashes and conflict == 'skip':
                    skipped += 1
                    continue
                to_delete.update(c.id for c in clashes)
                del values['id']
                to_create.append(values)
        if to_delete:
            names = ', '.join(sorted({p.rec_name for p in parties}))
            key = Warning.format(
                'backoffice_pricing.copy_replace',
                cls.browse(sorted(to_delete)))
            if Warning.check(key):
                raise CopyRulesWarning(key, gettext(
                        'backoffice_pricing.msg_copy_replace',
                        count=len(to_delete), parties=names,
                        group=group.rec_name))
            cls.delete(cls.browse(sorted(to_delete)))
        if to_create:
            cls.create(to_create)
        return len(to_create), skipped, len(to_delete)


class CopyRulesStart(ModelView):
    __name__ = 'backoffice.price.rule.copy.start'
    __string__ = "Copy Rules from Price Group"

    company = fields.Many2One(
        'company.company', "Company", readonly=True,
        help="The company of the price group and of the copied rules.")
    price_group = fields.Many2One(
        'backoffice.price.group', "Price Group", required=True,
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        help="The price group whose rules are copied; the group and its "
        "rules stay as they are.")
    parties = fields.Many2Many(
        'party.party', None, None, "Clients", required=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="The clients who get a copy of each rule as their own rule.")
    conflict = fields.Selection([
            ('skip', "Keep the Client's Rule"),
            ('replace', "Replace the Client's Rule"),
            ], "When the Client Has a Rule", required=True,
        help="What to do when a client already has a rule of the same "
        "level and target whose validity overlaps the copied rule.")
    start_date = fields.Date(
        "Start Date",
        help="The first day of validity of the copies; leave both dates "
        "empty to keep the dates of the group's rules.")
    end_date = fields.Date(
        "End Date",
        domain=[
            If(Eval('start_date') & Eval('end_date'),
                ('end_date', '>=', Eval('start_date')),
                ()),
            ],
        help="The last day of validity of the copies.")


class CopyRulesResult(ModelView):
    __name__ = 'backoffice.price.rule.copy.result'
    __string__ = "Copy Rules from Price Group Result"

    created = fields.Integer(
        "Created", readonly=True,
        help="How many rules the clients got as their own.")
    skipped = fields.Integer(
        "Skipped", readonly=True,
        help="The group rules not copied because the client has its own.")
    replaced = fields.Integer(
        "Replaced", readonly=True,
        help="The client rules deleted because a copy replaces them.")


class CopyRules(Wizard):
    "Copy the rules of a price group to clients"
    __name__ = 'backoffice.price.rule.copy'

    start = StateView(
        'backoffice.price.rule.copy.start',
        'backoffice_pricing.rule_copy_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Copy", 'copy_', 'tryton-ok', default=True),
            ])
    copy_ = StateTransition()
    result = StateView(
        'backoffice.price.rule.copy.result',
        'backoffice_pricing.rule_copy_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        context = Transaction().context
        values = {
            'company': context.get('company'),
            'conflict': 'skip',
            }
        if self.model and self.model.__name__ == 'party.party':
            values['parties'] = [p.id for p in self.records]
            groups = {p.price_group for p in self.records}
            if len(groups) == 1:
                group, = groups
                if group:
                    values['price_group'] = group.id
        elif (self.model
                and self.model.__name__ == 'backoffice.price.group'
                and len(self.records) == 1):
            values['price_group'] = self.record.id
        return values

    def transition_copy_(self):
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        created, skipped, replaced = Rule.copy_group_rules(
            self.start.price_group, self.start.parties,
            conflict=self.start.conflict,
            start_date=self.start.start_date, end_date=self.start.end_date)
        self.result.created = created
        self.result.skipped = skipped
        self.result.replaced = replaced
        return 'result'

    def default_result(self, fields):
        return self.result._default_values
