# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Postal code patterns: parsing, ties between patterns and the range lookup"
import bisect
import heapq
import re
from collections import namedtuple

import numpy as np

from .specificity import KIND_EXACT, KIND_RANGE


class PatternError(ValueError):
    """A postal code pattern that cannot be used; reason: malformed,
    reversed, long"""

    def __init__(self, reason, pattern):
        super().__init__(reason, pattern)
        self.reason = reason
        self.pattern = pattern


def normalise_postal_code(code):
    "Return the postal code as compared: upper case without spaces"
    if not code:
        return ''
    return ''.join(code.split()).upper()


# The longest postal codes in use have 10 characters. Numeric codes are
# compared as 64-bit integers (numpy), which hold 18 digits: a longer code
# cannot be a range bound, and an address's longer code matches no range.
POSTAL_CODE_MAX = 16

_EXACT = re.compile(r'^[0-9A-Z]+$')
_RANGE = re.compile(r'^([0-9]+)-([0-9]+)$')
_PREFIX = re.compile(r'^([0-9A-Z]+)\*$')

PostalPattern = namedtuple(
    'PostalPattern', ['kind', 'code', 'start', 'end', 'length'])
PostalPattern.__doc__ = """A parsed postal code pattern

kind: KIND_EXACT (code), KIND_RANGE with code None: a range start..end of
codes with `length` digits, or with code set: a prefix (start, end, length
are None)."""


def parse_postal_pattern(pattern):
    """Parse '8001' (exact), '8000-8099' (range, both bounds with the same
    number of digits) or '80*' (prefix); raise PatternError otherwise"""
    text = normalise_postal_code(pattern)
    if any(len(code) > POSTAL_CODE_MAX
            for code in text.rstrip('*').split('-')):
        raise PatternError('long', pattern)
    if _EXACT.match(text):
        return PostalPattern(KIND_EXACT, text, None, None, None)
    match = _RANGE.match(text)
    if match:
        start, end = match.groups()
        if len(start) != len(end):
            raise PatternError('malformed', pattern)
        if int(start) > int(end):
            raise PatternError('reversed', pattern)
        return PostalPattern(
            KIND_RANGE, None, int(start), int(end), len(start))
    match = _PREFIX.match(text)
    if match:
        return PostalPattern(KIND_RANGE, match.group(1), None, None, None)
    raise PatternError('malformed', pattern)


def is_numeric_code(code):
    "Whether a normalised postal code is compared as a number"
    return code.isascii() and code.isdigit() and len(code) <= POSTAL_CODE_MAX


def prefix_interval(prefix, length):
    "The codes of `length` digits starting with the numeric `prefix`"
    scale = 10 ** (length - len(prefix))
    start = int(prefix) * scale
    return start, start + scale - 1


def postal_patterns_tie(a, b):
    """Whether two parsed patterns can match the same code with the same
    specificity (so only priority and sequence decide between them)"""
    if a.kind != b.kind:
        return False
    if a.kind == KIND_EXACT:
        return a.code == b.code
    if a.code is not None and b.code is not None:
        # Two prefixes overlap only when one extends the other; their widths
        # for a code are then equal only if they are the same prefix.
        return a.code == b.code
    if a.code is None and b.code is None:
        return (a.length == b.length
            and a.end - a.start == b.end - b.start
            and a.start <= b.end and b.start <= a.end)
    range_, prefix = (a, b) if a.code is None else (b, a)
    if not prefix.code.isdigit() or len(prefix.code) > range_.length:
        return False
    start, end = prefix_interval(prefix.code, range_.length)
    return (end - start == range_.end - range_.start
        and start <= range_.end and range_.start <= end)


class IntervalTable:
    """The best range/prefix rule for every numeric code of one length

    The covered codes are cut into elementary segments at every interval
    start and end + 1; a sweep over them with a heap of the open intervals
    keeps the best one per segment, so a lookup is one bisect."""
    __slots__ = ('bounds', 'best', 'np_bounds', 'np_best')

    def __init__(self, intervals):
        # intervals: (start, end, key, rule)
        points = sorted({s for s, _, _, _ in intervals}
            | {e + 1 for _, e, _, _ in intervals})
        intervals = sorted(intervals)
        heap, i, bounds, best = [], 0, [], []
        for point in points:
            while i < len(intervals) and intervals[i][0] <= point:
                start, end, key, rule = intervals[i]
                heapq.heappush(heap, (key, end, rule))
                i += 1
            while heap and heap[0][1] < point:
                heapq.heappop(heap)
            value = heap[0][2] if heap else -1
            if best and best[-1] == value:
                continue  # merge equal neighbours
            bounds.append(point)
            best.append(value)
        self.bounds = bounds
        self.best = best
        self.np_bounds = np.asarray(bounds, dtype=np.int64)
        self.np_best = np.asarray(best, dtype=np.int64)

    def get(self, number):
        i = bisect.bisect_right(self.bounds, number) - 1
        return self.best[i] if i >= 0 else -1

    def get_many(self, numbers):
        if not len(self.bounds):
            return np.full(len(numbers), -1, dtype=np.int64)
        i = np.searchsorted(self.np_bounds, numbers, side='right') - 1
        result = self.np_best[np.maximum(i, 0)]
        result[i < 0] = -1
        return result
