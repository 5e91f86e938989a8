# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Values a field can store, checked before anything is written

Tryton converts a value when it writes it (``Char.sql_format`` strips it,
``Numeric`` makes a Decimal of it) and checks domains, sizes and digits only
after the row is in the table. A value of the wrong type (``code=12345``), a
NaN, 1E+40 or a 25-digit number therefore fails inside the ORM or the
database driver, or worse is stored and breaks every later read of the
model (the list, its search, the computed labels). The mixin refuses such
values at the door, for every create and write, with a message naming the
model, the field and the value.

Links are checked too: trytond's SQLite backend cannot add a foreign key to
an existing table (``TableHandler.add_fk`` does nothing there, although the
connection sets ``PRAGMA foreign_keys = ON``), so a Many2One to a record that
does not exist would be stored on SQLite and break every read of the rule
that holds it. One query per Many2One field and batch checks that the
records exist, on both backends (PostgreSQL also has its foreign keys).
"""
import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Model, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import ValueCheckError

# The range of PostgreSQL's integer, the column type of Integer fields
INTEGER_MIN, INTEGER_MAX = -2 ** 31, 2 ** 31 - 1
# Quantities, amounts and measures beyond this are typing errors; beyond
# about 1E+15 a float no longer holds cents and Decimal arithmetic of the
# sales overflows the digits Tryton rounds to.
NUMBER_MAX = 10 ** 12
# Lengths of strings without a size of their own
CHAR_MAX = 1000
TEXT_MAX = 100_000


class ValueCheckMixin:
    """Refuse, before writing, the values a field cannot store or that would
    break later reads

    _value_bounds: field name -> (minimum, maximum) for numbers (None: no
    bound on that side), or maximum length for strings. Extensions of
    upstream models list the fields they check in _value_checked (None: all
    the fields of the model)."""
    __slots__ = ()
    _value_bounds = {}
    _value_checked = None

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Each class of the pool gets its own dict, which extensions update
        cls._value_bounds = dict(cls._value_bounds)
        if cls._value_checked is not None:
            cls._value_checked = set(cls._value_checked)

    @classmethod
    def create(cls, vlist):
        cls.check_values(vlist)
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        cls.check_values(args[1::2])
        super().write(*args)

    @classmethod
    def check_values(cls, vlist):
        "Check the values of a list of create or write value dicts"
        references = defaultdict(set)
        for values in vlist:
            if not isinstance(values, dict):
                continue
            for name, value in values.items():
                if value is None or name not in cls._fields:
                    continue
                if (cls._value_checked is not None
                        and name not in cls._value_checked):
                    continue
                field = cls._fields[name]
                if isinstance(field, fields.Function):
                    if not field.setter:
                        continue
                    field = field._field
                target = cls._check_value(name, field, value)
                if target is not None:
                    references[name, field.model_name].add(target)
        if references:
            cls._check_references(references)

    def check_form(self, names, required=()):
        """Check the values of a wizard's form (a ModelView record) as
        check_values does, and that the required ones are filled: a form
        sent over RPC need not respect the client's checks"""
        values = {n: getattr(self, n, None) for n in names}
        self.check_values([values])
        for name in required:
            if values.get(name) is None:
                raise ValueCheckError(gettext(
                        'backoffice_zone.msg_value_required',
                        **self.__names__(name)))
        return values

    @classmethod
    def _value_error(cls, name, value, message, **extra):
        if isinstance(value, (str, int, float, Decimal)):
            text = str(value)
        else:
            text = repr(value)
        if len(text) > 40:
            text = text[:37] + '...'
        raise ValueCheckError(gettext(
                message, value=text, **cls.__names__(name), **extra))

    @classmethod
    def _check_value(cls, name, field, value):
        """Raise ValueCheckError unless value can be stored in field;
        return the id a Many2One value links to"""
        if isinstance(field, fields.Many2One):
            if isinstance(value, Model):
                value = value.id
            if (not isinstance(value, int) or isinstance(value, bool)
                    or not (0 < value <= INTEGER_MAX)):
                cls._value_error(name, value, 'backoffice_zone.msg_value_link')
            return value
        elif isinstance(field, fields.MultiSelection):
            if (not isinstance(value, (list, tuple))
                    or not all(isinstance(v, str) for v in value)):
                cls._value_error(name, value, 'backoffice_zone.msg_value_type')
        elif isinstance(field, fields.Selection):
            if not isinstance(value, str):
                cls._value_error(name, value, 'backoffice_zone.msg_value_type')
            if '\x00' in value:
                # PostgreSQL refuses it before Tryton checks the selection
                cls._value_error(name, value, 'backoffice_zone.msg_value_nul')
        elif isinstance(field, fields.Char):
            cls._check_text(name, field, value)
        elif isinstance(field, (fields.Date, fields.Time, fields.DateTime)):
            cls._check_temporal(name, field, value)
        elif isinstance(field, fields.Integer):
            if not isinstance(value, int) or isinstance(value, bool):
                cls._value_error(name, value, 'backoffice_zone.msg_value_type')
            minimum, maximum = (
                cls._value_bounds.get(name) or (INTEGER_MIN, INTEGER_MAX))
            cls._check_bounds(name, value, minimum, maximum)
        elif isinstance(field, (fields.Float, fields.Numeric)):
            cls._check_number(name, value)

    @classmethod
    def _check_text(cls, name, field, value):
        if not isinstance(value, str):
            cls._value_error(name, value, 'backoffice_zone.msg_value_type')
        if '\x00' in value:
            # PostgreSQL refuses the NUL character in text
            cls._value_error(name, value, 'backoffice_zone.msg_value_nul')
        try:
            value.encode('utf-8')
        except UnicodeEncodeError:
            cls._value_error(
                name, value, 'backoffice_zone.msg_value_encoding')
        bounds = cls._value_bounds.get(name)
        size = field.size if isinstance(field.size, int) else None
        if isinstance(bounds, int):
            size = bounds
        if size is None:
            size = TEXT_MAX if isinstance(field, fields.Text) else CHAR_MAX
        if len(value) > size:
            cls._value_error(
                name, value, 'backoffice_zone.msg_value_length', size=size)

    @classmethod
    def _check_temporal(cls, name, field, value):
        # trytond takes an ISO text for them too
        if isinstance(field, fields.Date):
            type_, parse = dt.date, dt.date.fromisoformat
        elif isinstance(field, fields.Time):
            type_, parse = dt.time, dt.time.fromisoformat
        else:
            type_, parse = dt.datetime, dt.datetime.fromisoformat
        if isinstance(value, str):
            try:
                value = parse(value)
            except ValueError:
                cls._value_error(
                    name, value, 'backoffice_zone.msg_value_type')
        if (not isinstance(value, type_)
                or (type_ is dt.date
                    and isinstance(value, dt.datetime))):
            cls._value_error(name, value, 'backoffice_zone.msg_value_type')

    @classmethod
    def _check_number(cls, name, value):
        if (not isinstance(value, (int, float, Decimal))
                or isinstance(value, bool)):
            cls._value_error(name, value, 'backoffice_zone.msg_value_type')
        if isinstance(value, Decimal):
            finite = value.is_finite()
        else:
            finite = math.isfinite(value)
        if not finite:
            cls._value_error(
                name, value, 'backoffice_zone.msg_value_finite')
        minimum, maximum = (
            cls._value_bounds.get(name) or (-NUMBER_MAX, NUMBER_MAX))
        cls._check_bounds(name, value, minimum, maximum)

    @classmethod
    def _check_bounds(cls, name, value, minimum, maximum):
        if minimum is not None and value < minimum:
            cls._value_error(
                name, value, 'backoffice_zone.msg_value_minimum',
                minimum=minimum)
        if maximum is not None and value > maximum:
            cls._value_error(
                name, value, 'backoffice_zone.msg_value_maximum',
                maximum=maximum)

    @classmethod
    def _check_references(cls, references):
        "Check that the linked records exist: one query per field and batch"
        pool = Pool()
        cursor = Transaction().connection.cursor()
        for (name, model_name), ids in references.items():
            Target = pool.get(model_name)
            if not hasattr(Target, '__table__') or Target._is_table_query():
                continue
            table = Target.__table__()
            found = set()
            for sub_ids in grouped_slice(
                    sorted(ids), backend.MAX_QUERY_PARAMS):
                cursor.execute(*table.select(table.id,
                        where=fields.SQL_OPERATORS['in'](
                            table.id, list(sub_ids))))
                found.update(i for i, in cursor)
            missing = ids - found
            if missing:
                cls._value_error(
                    name, min(missing), 'backoffice_zone.msg_value_missing',
                    target=Target.__names__()['model'])
