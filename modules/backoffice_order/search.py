# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The text search of the orders: number, reference, client name, product
names and notes in one query, also from the search bar"""
from sql import Cast, Literal, Union
from sql.functions import Position, Substring

from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.tools import is_full_text, strip_wildcard, unescape_wildcard
from trytond.transaction import Transaction


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    text = fields.Function(fields.Char(
            "Text",
            help="Search the orders by number, reference, client name, "
            "product names and the text of their notes."),
        'get_text', searcher='search_text')

    def get_text(self, name):
        return None

    @classmethod
    def search_text(cls, name, clause):
        """One sub-query over the order number and reference, the client
        name, the product names and the notes

        The names and notes match as Tryton's full-text search matches a
        Char (the words in any order, stemmed by the language's text search
        configuration) where the database has one (PostgreSQL), and also
        by ILIKE, so a part of a word still finds them; numbers and
        references are codes, matched by ILIKE only. Tryton's own
        full-text search converts one field at a time: here four tables are
        searched in one query."""
        _, operator, value = clause[:3]
        negative = operator.startswith('not') or operator.startswith('!')
        if isinstance(value, (list, tuple)):
            # 'in' a list of texts: any of them (none of them for 'not in')
            texts = [str(v) for v in value if v is not None and v != '']
            if not texts:
                return [] if negative else [('id', '=', None)]
            return ['AND' if negative else 'OR'] + [
                ('text', 'not ilike' if negative else 'ilike', t)
                for t in texts]
        if not value:
            return []
        if not isinstance(value, str):
            value = str(value)
        if '%' not in value:
            value = '%' + value + '%'
        return [('id', 'not in' if negative else 'in', cls._text_query(value))]

    @classmethod
    def _text_query(cls, value):
        "The query of the ids of the orders whose texts match value (ILIKE)"
        pool = Pool()
        Party = pool.get('party.party')
        Line = pool.get('sale.line')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Note = pool.get('ir.note')
        sale = cls.__table__()
        party = Party.__table__()
        line = Line.__table__()
        product = Product.__table__()
        template = Template.__table__()
        note = Note.__table__()
        like, matches = _matchers(value)
        return Union(
            sale.select(sale.id,
                where=like(sale.number) | like(sale.reference)),
            sale.join(party, condition=sale.party == party.id
                ).select(sale.id, where=matches(party.name)),
            line.join(product, condition=line.product == product.id
                ).join(template, condition=product.template == template.id
                ).select(line.sale, where=matches(template.name)),
            note.select(
                Cast(Substring(note.resource,
                        Position(',', note.resource) + Literal(1)),
                    cls.id.sql_type().base),
                where=note.resource.like(cls.__name__ + ',%')
                & matches(note.message)),
            all_=False)

    @classmethod
    def search_rec_name(cls, name, clause):
        domain = super().search_rec_name(name, clause)
        _, operator, value = clause[:3]
        if operator.startswith('!') or operator.startswith('not '):
            return domain
        # The search bar also finds orders by client, product and note.
        return ['OR', domain, ('text', operator, value)]


def _matchers(value):
    """(like, matches): the functions that give the condition of a column
    matching value, an ILIKE pattern: like by ILIKE only, matches also by
    full-text where the database has it"""
    transaction = Transaction()
    database = transaction.database
    language = transaction.language
    full_text = database.has_search_full_text() and is_full_text(value)
    if full_text:
        words = database.format_full_text_query(
            unescape_wildcard(strip_wildcard(value)), language=language)

    def like(column):
        return column.ilike(value)

    def matches(column):
        expression = like(column)
        if full_text:
            expression |= database.search_full_text(
                database.format_full_text(column, language=language),
                words)
        return expression
    return like, matches
