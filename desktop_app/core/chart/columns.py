"""One result column turned into float64 arrays page by page: numbers, times (epoch seconds) or categories.

Values come as SQLite gives them. A page of only numbers and NULLs converts in C; any other page goes
value by value. What cannot be drawn (NULL, text in a number column, a blob) becomes NaN and is
counted, so the chart can say what it left out.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from desktop_app.core.chart.spec import AUTO, CATEGORY, NUMBER, AxisKind
from desktop_app.core.values.timestamps import TimeEncoding, encoding_named, guess_time_encoding

_NUMBERS = frozenset({int, float, type(None)})
_UNIX = datetime(1970, 1, 1, tzinfo=UTC)
#: The kinds of value a column can hold, as the notes name them.
NULL, TEXT, BLOB, NOT_A_TIME = "NULL", "text", "blob", "not a date"


def _kind(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bytes | bytearray | memoryview):
        return BLOB
    return TEXT


class NumberColumn:
    """A column read as numbers (a Y column, or an X on a number axis)."""

    kind = AxisKind.NUMBER

    def __init__(self, name: str) -> None:
        self.name = name
        #: Values left out, by kind (NULL, text, blob).
        self.skipped: Counter[str] = Counter()
        self.numbers = 0

    #: True when whole pages of numbers may be converted at once and handed to `take`.
    takes_numbers = True

    def take(self, numbers: np.ndarray, others: int = 0) -> np.ndarray:
        """A page of this column converted (NaN where not a number): counted, and returned as drawn.

        `others` of the NaNs stand for values already counted as left out (text, blobs); the rest are NULLs.
        """
        missing = int(np.count_nonzero(np.isnan(numbers)))
        self.numbers += len(numbers) - missing
        if missing > others:
            self.skipped[NULL] += missing - others
        return numbers

    def convert(self, values: Sequence[Any]) -> np.ndarray:
        """`values` as float64, NaN where a value is not a number."""
        if _NUMBERS.issuperset(map(type, values)):
            return self.take(np.array(values, dtype=np.float64))  # None becomes NaN
        out = np.full(len(values), np.nan)
        others = 0
        for i, value in enumerate(values):
            if isinstance(value, int | float):
                out[i] = value
            elif value is not None:
                self.skipped[_kind(value)] += 1
                others += 1
        return self.take(out, others)


class TimeColumn(NumberColumn):
    """A column of times in one encoding, read as Unix epoch seconds (UTC)."""

    kind = AxisKind.TIME

    def __init__(self, name: str, encoding: TimeEncoding) -> None:
        super().__init__(name)
        self.encoding = encoding
        #: value → seconds: (value - zero) × scale + shift
        self.scale = encoding.unit_ns / 1e9
        self.shift = (encoding.epoch - _UNIX).total_seconds()
        self.takes_numbers = not encoding.text

    def take(self, numbers: np.ndarray, others: int = 0) -> np.ndarray:
        """A page of numbers in this encoding as epoch seconds."""
        return (super().take(numbers, others) - self.encoding.zero) * self.scale + self.shift

    def convert(self, values: Sequence[Any]) -> np.ndarray:
        """`values` as epoch seconds, NaN where a value is not a time in this encoding."""
        if not self.encoding.text:
            return super().convert(values)  # through `take`
        out = _iso_seconds(values)
        if out is None:
            out = np.full(len(values), np.nan)
            for i, value in enumerate(values):
                moment = self.encoding.decode(value)
                if moment is not None:
                    out[i] = moment.timestamp()
        missing = np.isnan(out)
        if missing.any():
            for value in np.asarray(values, dtype=object)[missing]:
                self.skipped[NOT_A_TIME if isinstance(value, str) else _kind(value)] += 1
        self.numbers += len(values) - int(missing.sum())
        return out


def _iso_seconds(values: Sequence[Any]) -> np.ndarray | None:
    """Epoch seconds of a page of plain ISO-8601 text (no zone), parsed by numpy in C; None when the page
    holds anything else (then it is parsed value by value)."""
    if not {str, type(None)}.issuperset(map(type, values)):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy warns on zones: leave those to the exact parser
            stamps = np.array([v if v is not None else "NaT" for v in values], dtype="datetime64[us]")
    except (ValueError, TypeError, DeprecationWarning, UserWarning):
        return None
    seconds = stamps.astype(np.int64) / 1e6
    seconds[np.isnat(stamps)] = np.nan
    return seconds


class CategoryColumn:
    """A column whose distinct values (as text) are placed at 0, 1, 2, … in first-seen order."""

    kind = AxisKind.CATEGORY
    takes_numbers = False

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self.positions: dict[Any, int] = {}
        self.skipped: Counter[str] = Counter()
        self.numbers = 0

    @property
    def labels(self) -> list[str]:
        """The categories' text, by position."""
        return [category_label(value) for value in self.positions]

    def convert(self, values: Sequence[Any]) -> np.ndarray:
        """Each value's position, NaN for NULL and for values past the category limit."""
        out = np.full(len(values), np.nan)
        positions = self.positions
        for i, value in enumerate(values):
            if value is None:
                self.skipped[NULL] += 1
                continue
            key = value if not isinstance(value, bytearray | memoryview) else bytes(value)
            position = positions.get(key)
            if position is None:
                if len(positions) >= self.limit:
                    self.skipped["beyond the category limit"] += 1
                    continue
                position = positions[key] = len(positions)
            out[i] = position
        self.numbers += int(np.count_nonzero(~np.isnan(out)))
        return out


def category_label(value: Any) -> str:
    """A category's text on the axis (a blob as hex, cut)."""
    if isinstance(value, bytes):
        return f"x'{value[:16].hex()}{'…' if len(value) > 16 else ''}'"
    return str(value)


Column = NumberColumn | CategoryColumn


def x_column(
    name: str, declared_type: str, x_axis: str, sample: Sequence[Any], category_limit: int
) -> Column:
    """The reader of the X column: the axis the user chose, or one guessed from `sample` (non-NULL values).

    Guessing: times when the values read as times in one encoding (`guess_time_encoding`), categories
    when they are text (or a bar chart of few distinct integers), numbers otherwise.
    """
    if x_axis == NUMBER:
        return NumberColumn(name)
    if x_axis == CATEGORY:
        return CategoryColumn(name, category_limit)
    if x_axis != AUTO:
        encoding = encoding_named(x_axis)
        if encoding is None:
            raise ValueError(f"unknown X axis {x_axis!r}")
        return TimeColumn(name, encoding)
    encoding = guess_time_encoding(name, declared_type, sample)
    if encoding is not None:
        return TimeColumn(name, encoding)
    numbers = sum(isinstance(v, int | float) for v in sample)
    if numbers < len(sample) / 2:
        return CategoryColumn(name, category_limit)
    return NumberColumn(name)
