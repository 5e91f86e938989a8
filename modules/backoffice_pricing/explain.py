# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import Model, ModelView, fields
from trytond.modules.backoffice_zone.company import check_context_company
from trytond.modules.backoffice_zone.values import ValueCheckMixin
from trytond.modules.product import price_digits
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .engine import LEVEL_NAMES, SCOPE_NAMES
from .exceptions import ExplainError
from .rule import LEVEL_SELECTION, SCOPE_SELECTION
from .rule_text import format_price, format_quantity

STATUS_SELECTION = [
    ('winner', "Winner"),
    ('beaten', "Beaten"),
    ('inapplicable', "Not Applicable"),
    ]


class ExplainStart(ValueCheckMixin, ModelView):
    __name__ = 'backoffice.price.explain.start'
    __string__ = "Explain Price"

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    party = fields.Many2One(
        'party.party', "Client", required=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    product = fields.Many2One(
        'product.product', "Product", required=True,
        domain=[
            ('salable', '=', True),
            ],
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    quantity = fields.Float(
        "Quantity", required=True,
        help="The quantity of the line, in its unit: it decides the "
        "quantity breaks of fixed prices.")
    unit = fields.Many2One(
        'product.uom', "Unit",
        domain=[
            If(Bool(Eval('product_unit_category')),
                ('category', '=', Eval('product_unit_category', -1)),
                ()),
            ],
        help="The unit of the quantity and price; empty: the sale unit of "
        "the product.")
    product_unit_category = fields.Function(fields.Many2One(
            'product.uom.category', "Product Unit Category"),
        'on_change_with_product_unit_category')
    date = fields.Date(
        "Date", required=True,
        help="The day of the sale: rules valid that day apply.")
    currency = fields.Many2One(
        'currency.currency', "Currency",
        help="The currency of the price; empty: the company's.")

    @fields.depends('product')
    def on_change_with_product_unit_category(self, name=None):
        return self.product.default_uom_category if self.product else None

    @fields.depends('product', 'unit')
    def on_change_product(self):
        if self.product and (not self.unit
                or self.unit.category != self.product.default_uom_category):
            self.unit = self.product.sale_uom

    def check_input(self):
        """Refuse what the form's required fields and types stop in the
        client but a script or an RPC call can send: no client, a quantity
        of NaN, a unit of another category"""
        names = [
            'company', 'party', 'product', 'quantity', 'unit', 'date',
            'currency']
        values = {n: getattr(self, n, None) for n in names}
        self.check_values([values])
        # The company of the form is the context's, read only in the client
        if isinstance(values['company'], Model):
            with Transaction().set_context(company=values['company'].id):
                check_context_company()
        for name in ['company', 'party', 'product', 'quantity', 'date']:
            if values[name] is None:
                raise ExplainError(gettext(
                        'backoffice_pricing.msg_explain_required',
                        **self.__names__(name)))
        if (self.unit and self.unit.category
                != self.product.default_uom_category):
            raise ExplainError(gettext(
                    'backoffice_pricing.msg_explain_unit',
                    unit=self.unit.rec_name, product=self.product.rec_name))


class ExplainResult(ModelView):
    __name__ = 'backoffice.price.explain.result'
    __string__ = "Explain Price Result"

    party = fields.Many2One('party.party', "Client", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    quantity = fields.Float("Quantity", readonly=True)
    unit = fields.Many2One(
        'product.uom', "Unit", readonly=True,
        help="The unit of the quantity and price.")
    date = fields.Date("Date", readonly=True)
    base_price = fields.Numeric(
        "List Price", digits=price_digits, readonly=True,
        help="The price before the client's rules.")
    unit_price = fields.Numeric(
        "Unit Price", digits=price_digits, readonly=True,
        help="The price the client's rules give; the list price when no "
        "rule applies.")
    rule = fields.Many2One(
        'backoffice.price.rule', "Rule", readonly=True,
        help="The rule that wins; empty: the list price applies.")
    origin = fields.Char(
        "Origin", readonly=True,
        help="The winning rule in words, as a sale line records it in "
        "\"Price Origin\".")
    recorded_origin = fields.Char(
        "Recorded on the Line", readonly=True,
        states={
            'invisible': ~Eval('recorded_origin'),
            },
        help="The origin the sale line recorded when it was priced.")
    chain = fields.Char(
        "Looked Up", readonly=True,
        help="The client, its tags and its price group, in the order their "
        "rules are looked up at each level.")
    explanation = fields.Text(
        "Explanation", readonly=True,
        help="The whole reasoning, to copy into a message.")
    candidates = fields.One2Many(
        'backoffice.price.explain.candidate', None, "Candidates",
        readonly=True,
        help="Every rule of the client, its tags and its price group that "
        "could price the product, the winner first, with why it wins, loses "
        "or does not apply.")


class ExplainCandidate(ModelView):
    __name__ = 'backoffice.price.explain.candidate'
    __string__ = "Explain Price Candidate"

    rank = fields.Integer(
        "Rank", readonly=True,
        help="The order of precedence: the winner first, then the rules it "
        "beats, then those that do not apply.")
    status = fields.Selection(
        STATUS_SELECTION, "Status", readonly=True,
        help="Whether the rule wins, loses to the winner or does not apply.")
    rule = fields.Many2One('backoffice.price.rule', "Rule", readonly=True)
    level = fields.Selection(LEVEL_SELECTION, "Level", readonly=True)
    scope = fields.Selection(SCOPE_SELECTION, "Scope", readonly=True)
    reason = fields.Char(
        "Reason", readonly=True,
        help="Why the winner beats the rule, or why it does not apply.")


class Explain(Wizard):
    "Explain which rule sets a client's price, and why"
    __name__ = 'backoffice.price.explain'

    start = StateTransition()
    ask = StateView(
        'backoffice.price.explain.start',
        'backoffice_pricing.price_explain_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Explain", 'explain', 'tryton-ok', default=True),
            ])
    explain = StateTransition()
    result = StateView(
        'backoffice.price.explain.result',
        'backoffice_pricing.price_explain_result_view_form', [
            Button("Other Price", 'ask', 'tryton-back'),
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_start(self):
        if (self.model and self.model.__name__ == 'sale.line'
                and self.record and self.record.product
                and self.record.sale.party):
            line = self.record
            self.ask.company = line.sale.company
            self.ask.party = line.sale.party
            self.ask.product = line.product
            self.ask.quantity = line.quantity or 0
            self.ask.unit = line.unit
            self.ask.date = line.sale.sale_date or self._today(
                line.sale.company.id)
            self.ask.currency = line.sale.currency
            self.result.recorded_origin = line.price_origin
            return 'explain'
        return 'ask'

    @staticmethod
    def _today(company):
        pool = Pool()
        Date = pool.get('ir.date')
        with Transaction().set_context(company=company):
            return Date.today()

    def default_ask(self, fields):
        # Asking for another price: what the line recorded no longer applies
        self.result.recorded_origin = None
        if getattr(self.ask, 'product', None):
            return self.ask._default_values
        context = Transaction().context
        values = {
            'company': context.get('company'),
            'quantity': 1,
            'date': self._today(context.get('company')),
            }
        if self.model and self.model.__name__ == 'party.party':
            values['party'] = self.record.id if self.record else None
        elif self.model and self.model.__name__ == 'product.product':
            values['product'] = self.record.id if self.record else None
        return values

    def transition_explain(self):
        pool = Pool()
        Product = pool.get('product.product')
        Rule = pool.get('backoffice.price.rule')
        ask = self.ask
        ask.check_input()
        context = {
            'company': ask.company.id,
            'customer': ask.party.id,
            'sale_date': ask.date,
            'uom': ask.unit.id if ask.unit else ask.product.sale_uom.id,
            'currency': (ask.currency or ask.company.currency).id,
            }
        with Transaction().set_context(context):
            base, price, explanation, engine = Product.explain_sale_price(
                ask.product, abs(ask.quantity or 0))
            result = self.result
            result.party = ask.party
            result.product = ask.product
            result.quantity = ask.quantity
            result.unit = ask.unit or ask.product.sale_uom
            result.date = ask.date
            result.base_price = base
            result.unit_price = price
            match = explanation.match if explanation else None
            result.rule = Rule(match.rule.id) if match else None
            result.origin = Rule.format_origin(match)
            result.chain = (Rule.format_chain(explanation)
                if explanation else '')
            candidates = []
            winner = None
            if explanation:
                winner = next((c for c in explanation.candidates
                        if c.status == 'winner'), None)
                for rank, candidate in enumerate(explanation.candidates, 1):
                    candidates.append({
                            'rank': rank,
                            'status': candidate.status,
                            'rule': candidate.rule.id,
                            'level': LEVEL_NAMES[candidate.rule.level],
                            'scope': SCOPE_NAMES[candidate.rule.scope],
                            'reason': Rule.format_reason(
                                candidate, winner, engine,
                                unit=result.unit.id,
                                quantity=abs(ask.quantity or 0)),
                            })
            result.candidates = candidates
            result.explanation = self._text(
                result, candidates, match,
                ask.currency or ask.company.currency)
        return 'result'

    def _text(self, result, candidates, match, currency):
        pool = Pool()
        Lang = pool.get('ir.lang')
        Rule = pool.get('backoffice.price.rule')
        Candidate = pool.get('backoffice.price.explain.candidate')
        lang = Lang.get()
        lines = [gettext('backoffice_pricing.msg_explain_header',
                product=result.product.rec_name,
                party=result.party.rec_name,
                quantity=format_quantity(result.quantity),
                unit=result.unit.symbol,
                date=lang.strftime(result.date))]
        if result.chain:
            lines.append(gettext('backoffice_pricing.msg_explain_chain',
                    chain=result.chain))
        lines.append(gettext('backoffice_pricing.msg_explain_base',
                price=format_price(result.base_price, currency)))
        if match:
            lines.append(gettext('backoffice_pricing.msg_explain_winner',
                    price=format_price(result.unit_price, currency),
                    rule=Rule(match.rule.id).rec_name,
                    level=Rule.level_name(match.rule.level)))
        else:
            lines.append(gettext('backoffice_pricing.msg_explain_no_rule',
                    price=format_price(result.unit_price, currency)))
        statuses = dict(Candidate.fields_get(['status'])['status'][
                'selection'])
        for candidate in candidates:
            lines.append(gettext('backoffice_pricing.msg_explain_candidate',
                    rank=candidate['rank'],
                    status=statuses[candidate['status']],
                    rule=Rule(candidate['rule']).rec_name,
                    reason=candidate['reason']))
        return '\n'.join(lines)

    def default_result(self, fields):
        return self.result._default_values
