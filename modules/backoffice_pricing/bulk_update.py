# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.modules.product import price_digits
from trytond.pool import Pool, PoolMeta
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .engine import PERCENTAGE_MAX, PERCENTAGE_MIN, bulk_adjust
from .exceptions import BulkUpdateError
from .rule import VALUE_FIELDS
from .rule_text import format_percentage, format_price


class PriceRule(metaclass=PoolMeta):
    __name__ = 'backoffice.price.rule'

    @classmethod
    def bulk_preview(cls, rules, percentage):
        """[(rule, field, old value, new value)] of moving every price the
        rules give by `percentage`; raises BulkUpdateError, naming the rule,
        if one would get a value that cannot be saved"""
        if percentage is None or percentage <= -100:
            raise BulkUpdateError(gettext(
                    'backoffice_pricing.msg_bulk_percentage',
                    percentage=format_percentage(percentage or 0)))
        rounding = Decimal(1).scaleb(-price_digits[1])
        changes = []
        for rule in rules:
            spec = cls._spec(cls._row(rule))
            new = bulk_adjust(spec, Decimal(percentage), rounding)
            field = VALUE_FIELDS[rule.level]
            if (field == 'percentage'
                    and not (PERCENTAGE_MIN <= new <= PERCENTAGE_MAX)):
                raise BulkUpdateError(gettext(
                        'backoffice_pricing.msg_bulk_percentage_range',
                        rule=rule.rec_name, value=format_percentage(new),
                        percentage=format_percentage(percentage),
                        min=format_percentage(PERCENTAGE_MIN),
                        max=format_percentage(PERCENTAGE_MAX)))
            changes.append((rule, field, getattr(rule, field), new))
        return changes

    @classmethod
    def bulk_apply(cls, rules, percentage):
        "Apply bulk_preview(): one write per distinct new value"
        by_value = defaultdict(list)
        for rule, field, _, new in cls.bulk_preview(rules, percentage):
            by_value[(field, new)].append(rule)
        args = []
        for (field, new), rules_ in by_value.items():
            args.extend((rules_, {field: new}))
        if args:
            cls.write(*args)
        return sum(len(r) for r in by_value.values())


class BulkUpdateStart(ValueCheckMixin, ModelView):
    __name__ = 'backoffice.price.rule.bulk_update.start'
    __string__ = "Bulk Update Price Rules"

    percentage = fields.Numeric(
        "Change", digits=(16, 2), required=True,
        help="Move every price the selected rules give by this percentage: "
        "3 makes them 3% dearer, -2 2% cheaper. Fixed prices are "
        "multiplied, percentages compounded (-10% then +3% gives -7.3%).")
    rule_count = fields.Integer(
        "Rules", readonly=True,
        help="How many selected rules the change applies to.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Beyond, a price of 1E+40 overflows the rules' digits
        cls._value_bounds['percentage'] = (PERCENTAGE_MIN, PERCENTAGE_MAX)


class BulkUpdatePreview(ModelView):
    __name__ = 'backoffice.price.rule.bulk_update.preview'
    __string__ = "Bulk Update Price Rules Preview"

    percentage = fields.Numeric(
        "Change", digits=(16, 2), readonly=True,
        help="The change applied to the prices of the rules.")
    lines = fields.One2Many(
        'backoffice.price.rule.bulk_update.line', None, "Rules",
        readonly=True,
        help="Each rule with its value now and after the update.")


class BulkUpdateLine(ModelView):
    __name__ = 'backoffice.price.rule.bulk_update.line'
    __string__ = "Bulk Update Price Rules Line"

    rule = fields.Many2One('backoffice.price.rule', "Rule", readonly=True)
    old_value = fields.Char(
        "Now", readonly=True,
        help="The percentage or fixed price of the rule before the update.")
    new_value = fields.Char(
        "After", readonly=True,
        help="The percentage or fixed price the rule gets when the update "
        "is applied.")


class BulkUpdate(Wizard):
    "Change the prices of selected rules by a percentage, with a preview"
    __name__ = 'backoffice.price.rule.bulk_update'

    start = StateView(
        'backoffice.price.rule.bulk_update.start',
        'backoffice_pricing.rule_bulk_update_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Preview", 'preview', 'tryton-forward', default=True),
            ])
    preview = StateView(
        'backoffice.price.rule.bulk_update.preview',
        'backoffice_pricing.rule_bulk_update_preview_view_form', [
            Button("Back", 'start', 'tryton-back'),
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Apply", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()

    def default_start(self, fields):
        values = {'rule_count': len(self.records)}
        if getattr(self.start, 'percentage', None) is not None:
            values['percentage'] = self.start.percentage
        return values

    def default_preview(self, fields):
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        self.start.check_form(['percentage'], required=['percentage'])
        lines = []
        for rule, field, old, new in Rule.bulk_preview(
                self.records, self.start.percentage):
            if field == 'percentage':
                old_text, new_text = (
                    format_percentage(old), format_percentage(new))
            else:
                currency = rule.company.currency
                old_text, new_text = (
                    format_price(old, currency), format_price(new, currency))
            lines.append({
                    'rule': rule.id,
                    'old_value': old_text,
                    'new_value': new_text,
                    })
        return {
            'percentage': self.start.percentage,
            'lines': lines,
            }

    def transition_apply(self):
        pool = Pool()
        Rule = pool.get('backoffice.price.rule')
        self.start.check_form(['percentage'], required=['percentage'])
        Rule.bulk_apply(self.records, self.start.percentage)
        return 'end'
