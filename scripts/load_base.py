# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""What the importers of load.py share: CSV files read with their line
numbers, the columns (parse a cell, compare it with the stored value, format
it back), look-ups of codes by batch, the upsert by key in batches, the
progress line and the summary.

Every call to the server goes through the proteus configuration's proxy
(`config.get_proxy(model)`) with lists: a proteus record reads its values
one record at a time and asks the server for the on_change of each field
it is given, so thousands of rows would be thousands of calls. A batch is
one `create` or one `write` call, hence one transaction: when the server
refuses one of its records, none of the batch is stored.

Above 400 lines because every column type (text, number, date, choice,
code look-up, list) parses, compares and formats its cell here, once for
all the importers and exports.
"""
import csv
import datetime as dt
import io
import sys
import time
from collections import namedtuple
from decimal import Decimal, InvalidOperation

# Rows saved per create or write call, and codes per search
BATCH_SIZE = 200
LOOKUP_SIZE = 500
# Multiple values in one cell (tags, roles, weekdays ...)
SEPARATOR = ';'

Row = namedtuple('Row', ['file', 'line', 'cells'])
Row.__doc__ = "A CSV line: its file, line number and {column: stripped text}"


class RowError(Exception):
    "A cell that cannot be loaded: column (None for the whole row), reason"

    def __init__(self, column, reason):
        super().__init__(column, reason)
        self.column = column
        self.reason = reason


class FileError(Exception):
    "A file that cannot be loaded at all (missing, wrong header)"


def read_csv(path, columns, required=()):
    """The rows of the CSV file at path (UTF-8, a BOM allowed, comma or
    semicolon as a spreadsheet saves it), checking the header against
    columns (every column known, the required ones present)"""
    try:
        with open(path, newline='', encoding='utf-8-sig') as file:
            text = file.read()
    except OSError as exception:
        raise FileError(f"{path}: {exception.strerror}") from exception
    first = text.split('\n', 1)[0]
    delimiter = ';' if first.count(';') > first.count(',') else ','
    reader = csv.reader(io.StringIO(text, newline=''), delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]
    unknown = [h for h in header if h not in columns]
    if unknown:
        raise FileError(f"{path}:1: unknown columns {', '.join(unknown)} "
            f"(expected {', '.join(columns)})")
    missing = [c for c in required if c not in header]
    if missing:
        raise FileError(
            f"{path}:1: missing columns {', '.join(missing)}")
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            rows.append(Row(path, reader.line_num, None))
            continue
        cells += [''] * (len(header) - len(cells))
        rows.append(Row(path, reader.line_num, {
                    h: c.strip() for h, c in zip(header, cells)}))
    return rows


def write_csv(path, columns, rows):
    "Write rows (lists of texts) under the header columns"
    with open(path, 'w', newline='', encoding='utf-8') as file:
        writer = csv.writer(file, lineterminator='\n')
        writer.writerow(columns)
        writer.writerows(rows)


def chunks(items, size):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i:i + size]


def subdivision_code(text, country):
    "The ISO code of a subdivision given as CH-ZH, or ZH in country CH"
    text = text.upper()
    if '-' not in text and country:
        text = f"{country.upper()}-{text}"
    return text


def split_cell(text):
    "The values of a cell holding several, separated by ;"
    return [v.strip() for v in (text or '').split(SEPARATOR) if v.strip()]


# Columns -----------------------------------------------------------------

class Column:
    """A CSV column stored in one field: parse turns the cell into the value
    to write (None for an empty cell), normal makes a stored value
    comparable with it, format writes it back into a cell"""

    def __init__(self, name, field=None, required=False):
        self.name = name
        self.field = field or name
        self.required = required

    def cell(self, row):
        text = row.cells.get(self.name, '')
        if self.required and not text:
            raise RowError(self.name, "a value is required")
        return text

    def parse(self, row, loader):
        return self.cell(row) or None

    def normal(self, value, loader):
        return value or None

    def format(self, value, loader):
        return '' if value is None else str(value)


class Text(Column):
    def __init__(self, name, field=None, required=False, size=None):
        super().__init__(name, field, required)
        self.size = size

    def parse(self, row, loader):
        text = self.cell(row)
        if self.size and len(text) > self.size:
            raise RowError(self.name,
                f"{len(text)} characters, at most {self.size} allowed")
        return text or None


class Choice(Column):
    "A selection: choices {value: label}; the value or the label is read"

    def __init__(self, name, choices, field=None, required=False):
        super().__init__(name, field, required)
        self.choices = choices

    def lookup(self, text):
        for value, label in self.choices.items():
            if text.lower() in {value.lower(), label.lower()}:
                return value
        raise RowError(self.name, f"unknown value {text!r} (expected one "
            f"of {', '.join(self.choices)})")

    def parse(self, row, loader):
        text = self.cell(row)
        return self.lookup(text) if text else None


class Choices(Choice):
    "A multi-selection, values separated by ; in the order of the choices"

    def parse(self, row, loader):
        values = {self.lookup(t) for t in split_cell(self.cell(row))}
        return [v for v in self.choices if v in values]

    def normal(self, value, loader):
        return [v for v in self.choices if v in (value or ())]

    def format(self, value, loader):
        return SEPARATOR.join(self.normal(value, loader))


class Number(Column):
    """A Decimal (digits after the point, or None) or an int (digits 0,
    integer=True), between minimum and maximum; 1'250.50 is read too"""

    def __init__(self, name, field=None, required=False, digits=2,
            minimum=None, maximum=10 ** 12, integer=False, as_float=False):
        super().__init__(name, field, required)
        self.digits, self.minimum, self.maximum = digits, minimum, maximum
        self.integer, self.as_float = integer, as_float

    def parse(self, row, loader):
        text = self.cell(row).replace("'", '').replace(' ', '')
        if not text:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise RowError(self.name, f"{text!r} is not a number") from None
        if not value.is_finite():
            raise RowError(self.name, f"{text!r} is not a number")
        if self.integer and value != value.to_integral_value():
            raise RowError(self.name, f"{text!r} is not a whole number")
        if self.digits is not None and not self.integer and (
                value != round(value, self.digits)):
            raise RowError(self.name,
                f"{text!r} has more than {self.digits} decimals")
        if self.minimum is not None and value < self.minimum:
            raise RowError(self.name,
                f"{text} is below the minimum {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise RowError(self.name,
                f"{text} is above the maximum {self.maximum}")
        return self.normal(value, loader)

    def normal(self, value, loader):
        if value is None:
            return None
        if self.integer:
            return int(value)
        if self.as_float:
            return float(value)
        value = Decimal(str(value))
        if self.digits is not None:
            value = value.quantize(Decimal(1).scaleb(-self.digits))
        return value

    def format(self, value, loader):
        value = self.normal(value, loader)
        if isinstance(value, float):
            value = Decimal(repr(value))
        if isinstance(value, Decimal):
            # 1.6 rather than 1.6000, amounts with their cents: 25000.00
            places = min(2, max(0, -value.as_tuple().exponent))
            normal = value.normalize()
            if -normal.as_tuple().exponent < places:
                normal = normal.quantize(Decimal(1).scaleb(-places))
            return format(normal, 'f')
        return '' if value is None else str(value)


class Flag(Column):
    "A Boolean: yes/no, true/false, 1/0 (empty: default)"
    TRUE, FALSE = {'yes', 'true', '1', 'y'}, {'no', 'false', '0', 'n'}

    def __init__(self, name, field=None, default=False):
        super().__init__(name, field)
        self.default = default

    def parse(self, row, loader):
        text = self.cell(row).lower()
        if not text:
            return self.default
        if text in self.TRUE | self.FALSE:
            return text in self.TRUE
        raise RowError(self.name, f"{text!r} is not yes or no")

    def normal(self, value, loader):
        return bool(value)

    def format(self, value, loader):
        return 'yes' if value else 'no'


class Day(Column):
    "A date as YYYY-MM-DD"

    def parse(self, row, loader):
        text = self.cell(row)
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise RowError(
                self.name, f"{text!r} is not a date (YYYY-MM-DD)") from None

    def normal(self, value, loader):
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, str):
            value = dt.date.fromisoformat(value)
        return value

    def format(self, value, loader):
        value = self.normal(value, loader)
        return value.isoformat() if value else ''


class Ref(Column):
    """A Many2One given by the code (key field) of the record; the codes of
    the whole file are searched by batch before the rows are read (see
    Lookup)"""

    def __init__(self, name, model, key='code', field=None, required=False,
            domain=None, what=None, create=False):
        super().__init__(name, field, required)
        self.model, self.key, self.domain = model, key, domain or []
        self.what = what or name.replace('_', ' ')
        # labels (tags, industries): the missing ones are created
        self.create = create

    def lookup(self, loader):
        return loader.lookups.get(self.model, self.key, self.domain)

    def resolve(self, text, loader):
        ids = self.lookup(loader).ids
        if text not in ids:
            raise RowError(self.name, f"unknown {self.what} {text!r}")
        return ids[text]

    def parse(self, row, loader):
        text = self.cell(row)
        return self.resolve(text, loader) if text else None

    def texts(self, row):
        "The codes of the row to look up"
        text = row.cells.get(self.name, '') if row.cells else ''
        return [text] if text else []

    def normal(self, value, loader):
        return value

    def format(self, value, loader):
        return '' if value is None else self.lookup(loader).code(value)


class Refs(Ref):
    """A Many2Many given by codes separated by ; (missing ones are created
    when create is set: tags are free labels)"""

    def __init__(self, name, model, key='name', field=None, create=False,
            what=None):
        super().__init__(name, model, key=key, field=field, what=what,
            create=create)

    def texts(self, row):
        return split_cell(row.cells.get(self.name, '') if row.cells else '')

    def parse(self, row, loader):
        return sorted({self.resolve(t, loader) for t in self.texts(row)})

    def normal(self, value, loader):
        return sorted(value or [])

    def format(self, value, loader):
        lookup = self.lookup(loader)
        return SEPARATOR.join(sorted(lookup.code(i) for i in value or []))


class Lookup:
    "The ids of the codes of a model, and back, filled by batch"

    def __init__(self, session, model, key, domain):
        self.session, self.model, self.key = session, model, key
        self.domain = domain
        self.ids, self.codes = {}, {}

    def load(self, texts):
        "Search the codes not known yet, by batch"
        missing = sorted({t for t in texts if t not in self.ids})
        proxy = self.session.proxy(self.model)
        for sub in chunks(missing, LOOKUP_SIZE):
            ids = proxy.search(self.domain + [(self.key, 'in', sub)],
                0, None, None, self.session.context)
            self.remember(proxy.read(ids, [self.key], self.session.context))

    def remember(self, records):
        for record in records:
            self.ids[record[self.key]] = record['id']
            self.codes[record['id']] = record[self.key]

    def create_missing(self, texts, dry_run):
        """Create the records named texts that do not exist (placeholders
        in a dry run, so the rows still parse); return their names"""
        missing = sorted({t for t in texts if t not in self.ids})
        if not missing:
            return missing
        if dry_run:
            ids = self.session.placeholders(len(missing))
        else:
            ids = self.session.proxy(self.model).create(
                [{self.key: t} for t in missing], self.session.context)
        self.remember([{'id': i, self.key: t} for i, t in zip(ids, missing)])
        return missing

    def code(self, id_):
        if id_ not in self.codes:
            proxy = self.session.proxy(self.model)
            self.remember(proxy.read([id_], [self.key], self.session.context))
        return self.codes[id_]

    def fetch_codes(self, ids):
        "Read the codes of ids not known yet, by batch (for exports)"
        missing = sorted({i for i in ids if i is not None} - set(self.codes))
        proxy = self.session.proxy(self.model)
        for sub in chunks(missing, LOOKUP_SIZE):
            self.remember(proxy.read(sub, [self.key], self.session.context))


class Lookups:
    def __init__(self, session):
        self.session = session
        self._lookups = {}

    def get(self, model, key, domain=()):
        index = (model, key, repr(list(domain)))
        if index not in self._lookups:
            self._lookups[index] = Lookup(
                self.session, model, key, list(domain))
        return self._lookups[index]


# Session, progress and report ---------------------------------------------

class Session:
    """The connection (a proteus configuration), the options of the run
    and what it reports"""

    def __init__(self, config, dry_run=False, batch_size=BATCH_SIZE,
            out=sys.stdout, err=sys.stderr):
        self.config = config
        self.context = config.context
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.out, self.err = out, err
        self.failed = False
        self._proxies = {}
        self._placeholder = 0
        self._models = None
        # shared by the loaders of a run: a file names what an earlier one
        # created
        self.lookups = Lookups(self)

    def placeholders(self, count):
        """Negative ids, distinct in the session, for what a dry run would
        create (so that later rows and files can name it)"""
        start = self._placeholder
        self._placeholder -= count
        return list(range(start - 1, self._placeholder - 1, -1))

    def proxy(self, model):
        if model not in self._proxies:
            self._proxies[model] = self.config.get_proxy(model)
        return self._proxies[model]

    def has_model(self, model):
        "Whether the modules that define model are activated"
        if self._models is None:
            proxy = self.proxy('ir.model')
            self._models = {m['name'] for m in proxy.read(
                    proxy.search([], 0, None, None, self.context), ['name'],
                    self.context)}
        return model in self._models

    def fields(self, model):
        "The names of the fields of model (to tell activated modules)"
        return set(self.proxy(model).fields_get([], self.context))

    def error(self, file, line, column, reason):
        self.failed = True
        where = f"{file}:{line}:" if line else f"{file}:"
        if column:
            where += f" column {column}:"
        print(f"{where} {reason}", file=self.err)


class Progress:
    """One line on stderr: rows done, rate and time left; rewritten in place
    on a terminal, else printed every few seconds"""
    EVERY = 5

    def __init__(self, label, total, stream=sys.stderr):
        self.label, self.total, self.stream = label, total, stream
        self.done = self.shown_done = 0
        self.start = self.shown = time.monotonic()
        self.tty = stream.isatty()

    def step(self, count):
        self.done += count
        now = time.monotonic()
        if self.tty or now - self.shown >= self.EVERY:
            self.show(now)

    def show(self, now, end=''):
        self.shown, self.shown_done = now, self.done
        rate = self.done / max(now - self.start, 1e-6)
        left = (self.total - self.done) / rate if rate else 0
        line = (f"{self.label}: {self.done}/{self.total} rows, "
            f"{rate:.0f} rows/s, ETA {left:.0f} s")
        if self.tty:
            self.stream.write('\r' + line + '\x1b[K' + end)
        else:
            self.stream.write(line + '\n')
        self.stream.flush()

    def finish(self):
        if self.tty:
            self.show(time.monotonic(), end='\n')
        elif self.done != self.shown_done:
            self.show(time.monotonic())


class Counts:
    NAMES = ['created', 'updated', 'unchanged', 'failed', 'skipped']

    def __init__(self):
        for name in self.NAMES:
            setattr(self, name, 0)

    def summary(self, label, dry_run):
        text = ', '.join(f"{getattr(self, n)} {n}" for n in self.NAMES[:4])
        if self.skipped:
            text += f", {self.skipped} not saved with a failed batch"
        return f"{label}: {text}" + (" (dry run: nothing saved)"
            if dry_run else '')


def server_message(exception):
    "The text of an error raised by trytond or received over XML-RPC"
    message = getattr(exception, 'message', None) or getattr(
        exception, 'faultString', None) or str(exception)
    return ' '.join(str(message).split())


class Loader:
    """Upsert the rows of a CSV file into model by their key, in batches

    columns: the Column of each CSV column, in the order of the exports;
    key_columns: the names of the columns that make the key. A row whose
    values equal the stored ones is unchanged and not written."""
    label = None
    model = None
    columns = []
    key_columns = ['code']
    domain = []

    def __init__(self, session):
        self.session = session
        self.lookups = session.lookups
        self.counts = Counts()
        self.by_field = {c.field: c for c in self.columns}

    @property
    def names(self):
        return [c.name for c in self.columns]

    def proxy(self, model=None):
        return self.session.proxy(model or self.model)

    # Reading ---------------------------------------------------------------

    def load(self, path):
        "Load the file at path; return the Counts"
        rows = read_csv(path, self.names,
            [c.name for c in self.columns if c.required])
        self.prepare(rows)
        progress = Progress(f"{self.label} {path}", len(rows),
            self.session.err)
        seen = {}
        for batch in self.batches(rows):
            parsed = [self.parse_row(row, seen) for row in batch]
            failed = [(r, p) for r, p in zip(batch, parsed)
                if isinstance(p, RowError)]
            for row, error in failed:
                self.session.error(row.file, row.line, error.column,
                    error.reason)
            if failed:
                self.counts.failed += len(failed)
                self.counts.skipped += len(batch) - len(failed)
            else:
                self.save(list(zip(batch, parsed)))
            progress.step(len(batch))
        progress.finish()
        print(self.counts.summary(f"{self.label} ({path})",
                self.session.dry_run), file=self.session.out)
        return self.counts

    def batches(self, rows):
        return chunks(rows, self.session.batch_size)

    def prepare(self, rows):
        "Look up the codes the rows name, by batch, before reading them"
        for column in self.columns:
            if isinstance(column, Ref):
                texts = [t for r in rows for t in column.texts(r)]
                lookup = column.lookup(self)
                lookup.load(texts)
                if column.create:
                    self.report_new(column,
                        lookup.create_missing(texts, self.session.dry_run))

    def report_new(self, column, names):
        "Say which labels (tags, industries) the rows added: typos show"
        if names:
            print(f"{self.label}: new {column.what} "
                f"{', '.join(map(repr, names))}"
                + (" (dry run: not created)" if self.session.dry_run
                    else " created"), file=self.session.out)

    def parse_row(self, row, seen):
        "(key, values) of the row, or the RowError that refuses it"
        try:
            if row.cells is None:
                raise RowError(None, "more cells than columns")
            values = {}
            for column in self.columns:
                values[column.field] = column.parse(row, self)
            values = self.complete(values, row)
            key = self.key(values)
            if key in seen:
                raise RowError(self.key_columns[0],
                    f"the same key as line {seen[key]}")
            seen[key] = row.line
            # a column the file does not have is left as stored
            absent = {c.field for c in self.columns if c.name not in row.cells}
            return key, {f: v for f, v in values.items() if f not in absent}
        except RowError as error:
            return error

    def key(self, values):
        return tuple(values[self.column(n).field] for n in self.key_columns)

    def column(self, name):
        return next(c for c in self.columns if c.name == name)

    def complete(self, values, row):
        "The values of the row with what its columns imply (hook)"
        return values

    # Saving ----------------------------------------------------------------

    def save(self, parsed):
        "Create or update the rows of a batch: [(row, (key, values))]"
        stored = self.existing([key for _, (key, _) in parsed])
        creates, writes = [], []
        for row, (key, values) in parsed:
            current = stored.get(key)
            if current is None:
                creates.append((row, values))
                continue
            changes = self.changes(values, current)
            if changes:
                writes.append((row, current, changes))
            else:
                self.counts.unchanged += 1
        if self.session.dry_run:
            self.counts.created += len(creates)
            self.counts.updated += len(writes)
            self.created([r for r, _ in creates],
                self.session.placeholders(len(creates)))
            return
        # the updates first: when they fail, the new rows wait with them
        if writes and not self.call([r for r, _, _ in writes],
                self.write, writes):
            self.counts.skipped += len(creates)
            return
        self.counts.updated += len(writes)
        if creates:
            ids = self.call([r for r, _ in creates], self.create, creates)
            if ids:
                self.counts.created += len(creates)
                self.created([r for r, _ in creates], ids)

    def call(self, rows, method, items):
        "Run method(items) as one call; report the rows when it fails"
        try:
            return method(items) or True
        except Exception as exception:
            first, last = rows[0], rows[-1]
            lines = (f"{first.line}-{last.line}" if last.line != first.line
                else str(first.line))
            hint = (" (--batch-size 1 names the row)"
                if len(rows) > 1 else '')
            self.session.error(first.file, lines, None,
                "the server refused this batch, nothing of it is saved"
                f"{hint}: {server_message(exception)}")
            self.counts.failed += len(rows)
            return None

    def create(self, items):
        return self.proxy().create(
            [self.create_values(values) for _, values in items],
            self.session.context)

    def write(self, items):
        args = []
        for _, current, changes in items:
            args.extend([[current['id']], self.write_values(changes, current)])
        self.proxy().write(*args, self.session.context)

    def created(self, rows, ids):
        """Rows were created with ids (placeholders in a dry run): the rows
        and files that follow may name them by their code"""
        if len(self.key_columns) != 1:
            return
        column = self.column(self.key_columns[0])
        self.lookups.get(self.model, column.field).remember(
            [{'id': i, column.field: r.cells[column.name]}
                for r, i in zip(rows, ids)])

    def create_values(self, values):
        values = dict(values)
        for field, value in list(values.items()):
            if isinstance(self.by_field.get(field), Refs):
                if value:
                    values[field] = [('add', value)]
                else:
                    del values[field]
        return values

    def write_values(self, changes, current):
        changes = dict(changes)
        for field, value in changes.items():
            if isinstance(self.by_field.get(field), Refs):
                old = set(current[field] or [])
                changes[field] = [(action, sorted(ids)) for action, ids in [
                        ('remove', old - set(value)),
                        ('add', set(value) - old)] if ids]
        return changes

    def changes(self, values, current):
        "The values that differ from the stored ones"
        changes = {}
        for field, value in values.items():
            column = self.by_field.get(field)
            stored = current.get(field)
            if column is not None:
                stored = column.normal(stored, self)
            if stored != value:
                changes[field] = value
        return changes

    def read_fields(self):
        return [c.field for c in self.columns]

    def existing(self, keys):
        """{key: stored values (with id)} of the keys that exist; the
        default searches the field of the one key column by batch"""
        field = self.column(self.key_columns[0]).field
        proxy = self.proxy()
        result = {}
        for sub in chunks([k[0] for k in keys], LOOKUP_SIZE):
            ids = proxy.search(self.domain + [(field, 'in', sub)],
                0, None, None, self.session.context)
            for record in self.read(ids):
                result[(record[field],)] = record
        return result

    def read(self, ids):
        "The stored values of ids, in the order of ids (as searched)"
        records = self.proxy().read(
            ids, self.read_fields(), self.session.context)
        position = {id_: i for i, id_ in enumerate(ids)}
        return sorted(records, key=lambda r: position[r['id']])

    # Exporting -------------------------------------------------------------

    def export(self, path):
        "Write the stored records in the CSV shape of the import"
        ids = self.proxy().search(self.domain, 0, None, self.export_order(),
            self.session.context)
        records = []
        for sub in chunks(ids, LOOKUP_SIZE):
            records.extend(self.read(sub))
        self.prefetch(records)
        rows = [self.format_record(r) for r in records]
        write_csv(path, self.names, rows)
        print(f"{self.label}: {len(rows)} rows written to {path}",
            file=self.session.out)
        return len(rows)

    def export_order(self):
        return [('id', 'ASC')]

    def prefetch(self, records):
        "Read the codes of the records' links by batch"
        for column in self.columns:
            if isinstance(column, Ref):
                ids = []
                for record in records:
                    value = column.normal(record.get(column.field), self)
                    ids.extend(value if isinstance(column, Refs)
                        else [value])
                column.lookup(self).fetch_codes(ids)

    def format_record(self, record):
        return [c.format(c.normal(record.get(c.field), self), self)
            for c in self.columns]
