# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import csv
import io
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard


class PriceSheet(metaclass=PoolMeta):
    __name__ = 'backoffice.price.sheet'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'export': {
                    'icon': 'tryton-save',
                    'readonly': ~Eval('id', -1) | (Eval('id', -1) < 0),
                    'depends': ['id'],
                    },
                })

    @classmethod
    @ModelView.button_action('backoffice_pricing.wizard_price_sheet_export')
    def export(cls, sheets):
        pass

    def to_csv(self):
        """The sheet as CSV text (UTF-8 with a header), read in one query;
        product, category and unit names are those of the database
        language"""
        pool = Pool()
        Line = pool.get('backoffice.price.sheet.line')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Category = pool.get('product.category')
        Uom = pool.get('product.uom')
        Rule = pool.get('backoffice.price.rule')
        line = Line.table_query()
        product = Product.__table__()
        template = Template.__table__()
        category = Category.__table__()
        unit = Uom.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*line
            .join(product, condition=line.product == product.id)
            .join(template, condition=product.template == template.id)
            .join(category, 'LEFT', condition=line.category == category.id)
            .join(unit, 'LEFT', condition=line.unit == unit.id)
            .select(product.code, template.name, category.name, unit.symbol,
                line.list_price, line.unit_price, line.difference,
                line.level, line.rule,
                where=line.sheet == self.id,
                order_by=[line.id]))
        rows = cursor.fetchall()
        rule_names = Rule.describe(
            list({r[-1] for r in rows if r[-1] is not None}))
        levels = dict(Line.fields_get(['level'])['level']['selection'])
        output = io.StringIO()
        writer = csv.writer(output)
        writer.writerow([
                gettext('backoffice_pricing.msg_csv_code'),
                gettext('backoffice_pricing.msg_csv_product'),
                gettext('backoffice_pricing.msg_csv_category'),
                gettext('backoffice_pricing.msg_csv_unit'),
                gettext('backoffice_pricing.msg_csv_list_price'),
                gettext('backoffice_pricing.msg_csv_price'),
                gettext('backoffice_pricing.msg_csv_difference'),
                gettext('backoffice_pricing.msg_csv_level'),
                gettext('backoffice_pricing.msg_csv_rule'),
                ])
        for (code, name, category_name, symbol, base, price, difference,
                level, rule) in rows:
            writer.writerow([
                    code or '', name, category_name or '', symbol or '',
                    _text(base), _text(price), _text(difference),
                    levels.get(level) or '', rule_names.get(rule, ''),
                    ])
        return output.getvalue()


def _text(value):
    if value is None:
        return ''
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return str(value)


class PriceSheetExportResult(ModelView):
    __name__ = 'backoffice.price.sheet.export.result'
    __string__ = "Export Price Sheet"

    file = fields.Binary(
        "File", filename='filename', readonly=True,
        help="The sheet as a CSV file with a header row (UTF-8), to open in "
        "a spreadsheet.")
    filename = fields.Char("File Name", readonly=True)


class PriceSheetExport(Wizard):
    "Export a client price sheet as CSV"
    __name__ = 'backoffice.price.sheet.export'

    start = StateTransition()
    result = StateView(
        'backoffice.price.sheet.export.result',
        'backoffice_pricing.price_sheet_export_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_start(self):
        pool = Pool()
        Sheet = pool.get('backoffice.price.sheet')
        sheet = self.record
        if not sheet.computed_at:
            Sheet.compute([sheet])
            sheet = Sheet(sheet.id)
        self.result.file = sheet.to_csv().encode('utf-8')
        self.result.filename = '%s-%s.csv' % (
            _slug(sheet.party.rec_name), sheet.date.isoformat())
        return 'result'

    def default_result(self, fields):
        return self.result._default_values


def _slug(text):
    return ''.join(c if c.isalnum() else '-' for c in text).strip('-')
