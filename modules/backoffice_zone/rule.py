# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields, sequence_ordered
from trytond.pool import Pool
from trytond.pyson import Eval, If

from .postal_code import PatternError, parse_postal_pattern
from .specificity import KIND_EXACT, RuleSpec
from .values import ValueCheckMixin

# A polygon of a canton drawn to the metre is a few hundred kilobytes.
GEOJSON_MAX = 5_000_000


class ZoneRule(ValueCheckMixin, sequence_ordered(), ModelSQL, ModelView):
    __name__ = 'backoffice.zone.rule'
    __string__ = "Delivery Zone Rule"

    zone = fields.Many2One(
        'backoffice.zone', "Zone", required=True, ondelete='CASCADE',
        help="The zone the rule puts addresses in.")
    name = fields.Char(
        "Description",
        help="An optional description, shown for polygons, "
        "e.g. 'Geneva left bank'.")
    kind = fields.Selection([
            ('postal', "Postal Code"),
            ('city', "City"),
            ('subdivision', "Subdivision"),
            ('polygon', "Polygon"),
            ], "Kind", required=True, sort=False,
        help="What the rule compares with the address.")
    pattern = fields.Char(
        "Postal Codes", strip=True,
        states={
            'required': Eval('kind') == 'postal',
            'invisible': Eval('kind') != 'postal',
            },
        help="An exact code (8001), a range of codes with as many digits "
        "(8000-8099) or a prefix (80*).")
    country = fields.Many2One(
        'country.country', "Country", ondelete='RESTRICT',
        states={
            'invisible': ~Eval('kind').in_(['postal', 'city', 'subdivision']),
            },
        help="Match only addresses of this country (postal codes and "
        "cities); for subdivisions it only narrows the choice.")
    city = fields.Char(
        "City", strip=True,
        states={
            'required': Eval('kind') == 'city',
            'invisible': Eval('kind') != 'city',
            },
        help="The city name, compared without accents, case "
        "or repeated spaces.")
    subdivision = fields.Many2One(
        'country.subdivision', "Subdivision", ondelete='RESTRICT',
        domain=[
            If(Eval('country'),
                ('country', '=', Eval('country', -1)),
                ()),
            ],
        states={
            'required': Eval('kind') == 'subdivision',
            'invisible': Eval('kind') != 'subdivision',
            },
        help="The subdivision (e.g. a canton); it also matches the "
        "subdivisions below it.")
    geojson = fields.Text(
        "GeoJSON",
        states={
            'required': Eval('kind') == 'polygon',
            'invisible': Eval('kind') != 'polygon',
            },
        help="A GeoJSON Polygon or MultiPolygon in longitude/latitude "
        "(WGS 84), as drawn with geojson.io or exported from QGIS.")
    description = fields.Function(fields.Char(
            "Rule", help="The rule as explanations name it."),
        'get_description')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('zone')
        cls._value_bounds.update({
                'pattern': 100,
                'city': 200,
                'geojson': GEOJSON_MAX,
                })
        cls.sequence.help = (
            "The order of the rules; it decides last between rules "
            "of the same zone.")

    @classmethod
    def default_kind(cls):
        return 'postal'

    @fields.depends('kind', 'pattern', 'city', 'subdivision', 'geojson')
    def on_change_kind(self):
        # Keep only the value of the kind, so a rule compares one thing.
        for kind, field in [
                ('postal', 'pattern'), ('city', 'city'),
                ('subdivision', 'subdivision'), ('polygon', 'geojson')]:
            if self.kind != kind:
                setattr(self, field, None)

    def get_description(self, name):
        if self.kind == 'postal':
            try:
                pattern = parse_postal_pattern(self.pattern or '')
            except PatternError:
                message = 'backoffice_zone.msg_rule_exact'
            else:
                if pattern.kind == KIND_EXACT:
                    message = 'backoffice_zone.msg_rule_exact'
                elif pattern.code is None:
                    message = 'backoffice_zone.msg_rule_range'
                else:
                    message = 'backoffice_zone.msg_rule_prefix'
            text = gettext(message, pattern=self.pattern or '')
            if self.country:
                text = gettext('backoffice_zone.msg_rule_postal_country',
                    rule=text, country=self.country.name)
            return text
        elif self.kind == 'city':
            text = gettext('backoffice_zone.msg_rule_city',
                city=self.city or '')
            if self.country:
                text = gettext('backoffice_zone.msg_rule_postal_country',
                    rule=text, country=self.country.name)
            return text
        elif self.kind == 'subdivision':
            return gettext('backoffice_zone.msg_rule_subdivision',
                subdivision=(
                    self.subdivision.rec_name if self.subdivision else ''))
        elif self.name:
            return gettext('backoffice_zone.msg_rule_polygon_named',
                name=self.name)
        return gettext('backoffice_zone.msg_rule_polygon')

    def get_rec_name(self, name):
        return self.description

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('pattern', operator, operand, *extra),
            ('city', operator, operand, *extra),
            ('subdivision.rec_name', operator, operand, *extra),
            ]

    @property
    def spec(self):
        "The RuleSpec of the rule for the matcher functions"
        value = {
            'postal': self.pattern,
            'city': self.city,
            'subdivision': self.subdivision.id if self.subdivision else None,
            'polygon': self.geojson,
            }.get(self.kind)
        return RuleSpec(
            self.id, self.zone.id, self.kind, value,
            self.country.id if self.country else None,
            self.zone.priority or 0, self.zone.sequence, self.sequence)

    @classmethod
    def on_modification(cls, mode, rules, field_names=None):
        super().on_modification(mode, rules, field_names=field_names)
        Pool().get('backoffice.zone')._matcher_cache.clear()
