# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The sales of clients filtered by date, state and product: opened as a
list or exported as a CSV file, one row per sale line"""
import csv
import io
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If, PYSONEncoder
from trytond.report import Report
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateReport, StateView, Wizard

from .sale_lines import sale_states


class SalesHistoryStart(ModelView):
    __name__ = 'backoffice.client.sales_history.start'

    from_date = fields.Date(
        "From Date",
        domain=[
            If(Eval('to_date') & Eval('from_date'),
                ('from_date', '<=', Eval('to_date')),
                ()),
            ],
        help="Only the sales of this day or later.")
    to_date = fields.Date(
        "To Date",
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')),
                ()),
            ],
        help="Only the sales of this day or earlier.")
    states = fields.MultiSelection(
        'get_states', "States", sort=False,
        help="Only the sales in these states; leave empty for all.")
    products = fields.Many2Many(
        'product.product', None, None, "Products",
        help="Only the sales with one of these products; in the CSV file, "
        "only their lines.")

    @classmethod
    def get_states(cls):
        pool = Pool()
        Sale = pool.get('sale.sale')
        return Sale.fields_get(['state'])['state']['selection']

    @classmethod
    def default_states(cls):
        return sale_states()


class SalesHistory(Wizard):
    "Open or export the sales of clients, filtered"
    __name__ = 'backoffice.client.sales_history'

    start = StateView(
        'backoffice.client.sales_history.start',
        'backoffice_client.sales_history_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Export CSV", 'export', 'tryton-save'),
            Button("Open", 'open_', 'tryton-ok', default=True),
            ])
    open_ = StateAction('sale.act_sale_relate')
    export = StateReport('backoffice.client.sales_history.csv')

    def _filters(self):
        return {
            'from_date': self.start.from_date,
            'to_date': self.start.to_date,
            'states': list(self.start.states or []),
            'products': [p.id for p in self.start.products],
            }

    def do_open_(self, action):
        domain = SalesHistoryCSV.sale_domain(
            [r.id for r in self.records], **self._filters())
        action['pyson_domain'] = PYSONEncoder().encode(domain)
        action['name'] += ' (%s)' % ', '.join(r.rec_name for r in self.records)
        return action, {}

    def do_export(self, action):
        return action, {
            'model': 'party.party',
            'ids': [r.id for r in self.records],
            'id': self.records[0].id if self.records else None,
            **self._filters(),
            }


class SalesHistoryCSV(Report):
    "The lines of the sales of clients as CSV, one row per line"
    __name__ = 'backoffice.client.sales_history.csv'

    @classmethod
    def sale_domain(cls, party_ids, from_date=None, to_date=None,
            states=None, products=None, prefix=''):
        """The domain of the sales (prefix 'sale.' for their lines) of
        party_ids in the context company"""
        domain = [
            (prefix + 'party', 'in', party_ids),
            (prefix + 'company', '=',
                Transaction().context.get('company', -1)),
            ]
        if from_date:
            domain.append((prefix + 'sale_date', '>=', from_date))
        if to_date:
            domain.append((prefix + 'sale_date', '<=', to_date))
        if states:
            domain.append((prefix + 'state', 'in', states))
        if products and not prefix:
            domain.append(('lines.product', 'in', products))
        return domain

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        action_id = data.get('action_id')
        if action_id is None:
            action_report, = ActionReport.search([
                    ('report_name', '=', cls.__name__),
                    ], limit=1)
        else:
            action_report = ActionReport(action_id)
        cls.check_access(action_report, 'party.party', ids)
        content = cls.render_csv(ids, data)
        return ('csv', content, False, action_report.name)

    @classmethod
    def render_csv(cls, party_ids, data):
        pool = Pool()
        Line = pool.get('sale.line')
        domain = cls.sale_domain(
            list(map(int, party_ids)),
            from_date=data.get('from_date'), to_date=data.get('to_date'),
            states=data.get('states'), prefix='sale.')
        domain.append(('type', '=', 'line'))
        if data.get('products'):
            domain.append(('product', 'in', data['products']))
        # The ORM reads the lines and their sales by batches (not one query
        # per line) and applies the access rules of the user.
        lines = Line.search(domain, order=[
                ('sale.sale_date', 'ASC'), ('sale.id', 'ASC'),
                ('sequence', 'ASC NULLS FIRST'), ('id', 'ASC')])
        output = io.StringIO()
        writer = csv.writer(output)
        writer.writerow(cls._csv_header())
        totals = cls._write_lines(writer, lines)
        # one totals row per client (and currency)
        for (party, currency), (untaxed, tax, total) in sorted(
                totals.items(), key=lambda i: (i[0][0].name or '', i[0][0].id,
                    i[0][1].id if i[0][1] else 0)):
            writer.writerow([
                    party.code,
                    gettext('backoffice_client.msg_csv_total',
                        client=party.name),
                    *[''] * 12,
                    str(untaxed), str(tax), str(total),
                    currency.code if currency else '',
                    ])
        # with a BOM, spreadsheets open the accents right
        return output.getvalue().encode('utf-8-sig')

    @classmethod
    def _csv_header(cls):
        return [
            gettext('backoffice_client.msg_csv_client_code'),
            gettext('backoffice_client.msg_csv_client'),
            gettext('backoffice_client.msg_csv_sale'),
            gettext('backoffice_client.msg_csv_reference'),
            gettext('backoffice_client.msg_csv_date'),
            gettext('backoffice_client.msg_csv_state'),
            gettext('backoffice_client.msg_csv_product_code'),
            gettext('backoffice_client.msg_csv_product'),
            gettext('backoffice_client.msg_csv_description'),
            gettext('backoffice_client.msg_csv_quantity'),
            gettext('backoffice_client.msg_csv_unit'),
            gettext('backoffice_client.msg_csv_unit_price'),
            gettext('backoffice_client.msg_csv_amount'),
            gettext('backoffice_client.msg_csv_currency'),
            gettext('backoffice_client.msg_csv_sale_untaxed'),
            gettext('backoffice_client.msg_csv_sale_tax'),
            gettext('backoffice_client.msg_csv_sale_total'),
            gettext('backoffice_client.msg_csv_client_currency'),
            ]

    @classmethod
    def _write_lines(cls, writer, lines):
        """Write a row per sale line; return the totals {(party, currency):
        [untaxed, tax, total]} of the sales in the currency of their
        client"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        states = dict(Sale.fields_get(['state'])['state']['selection'])
        amounts = cls._sale_amounts({l.sale for l in lines})
        written = set()
        totals = {}
        for line in lines:
            sale = line.sale
            # The amounts of a sale on its first row only, so the sum of a
            # column in a spreadsheet is the sum of the sales.
            sale_amounts = ['', '', '', '']
            if sale not in written:
                written.add(sale)
                currency, untaxed, tax, total = amounts[sale]
                sale_amounts = [str(untaxed), str(tax), str(total),
                    currency.code if currency else '']
                party_totals = totals.setdefault(
                    (sale.party, currency), [Decimal(0)] * 3)
                for i, amount in enumerate([untaxed, tax, total]):
                    party_totals[i] += amount
            writer.writerow([
                    sale.party.code,
                    sale.party.name,
                    sale.number or '',
                    sale.reference or '',
                    sale.sale_date.isoformat() if sale.sale_date else '',
                    states.get(sale.state, sale.state),
                    line.product.code if line.product else '',
                    line.product.name if line.product else '',
                    line.description or '',
                    # plain numbers: a spreadsheet reads them in any locale
                    repr(line.quantity) if line.quantity is not None else '',
                    line.unit.symbol if line.unit else '',
                    str(line.unit_price) if line.unit_price is not None
                    else '',
                    str(line.amount) if line.amount is not None else '',
                    sale.currency.code,
                    *sale_amounts,
                    ])
        return totals

    @classmethod
    def _sale_amounts(cls, sales):
        """{sale: (currency, untaxed, tax, total)} of sales in the currency
        of their client (its customer currency in the company, else the
        company's), converted at the sale date"""
        pool = Pool()
        Currency = pool.get('currency.currency')
        Date = pool.get('ir.date')
        result = {}
        targets = {}
        rates = {}
        for sale in sales:
            party = sale.party
            if party not in targets:
                targets[party] = (getattr(party, 'customer_currency', None)
                    or sale.company.currency)
            target = targets[party]
            amounts = [sale.untaxed_amount or Decimal(0),
                sale.tax_amount or Decimal(0), sale.total_amount or Decimal(0)]
            if sale.currency != target:
                # one rate per currency and day, not one per sale
                date = sale.sale_date or Date.today()
                key = (sale.currency, target, date)
                if key not in rates:
                    with Transaction().set_context(date=date):
                        rates[key] = Currency.compute(
                            sale.currency, Decimal(1), target, round=False)
                amounts = [a * rates[key] for a in amounts]
            result[sale] = (target, *(target.round(a) for a in amounts))
        return result
