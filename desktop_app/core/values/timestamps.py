"""Timestamps as real files store them, each encoding described as data, and a per-column guess.

An encoding is `epoch + (value - zero) × unit`: Unix seconds/ms/µs/ns, Julian day, Apple/Cocoa seconds
(and the nanoseconds iOS uses), Chrome/WebKit µs and Windows FILETIME (both since 1601), Firefox PRTime
(µs since 1970, as Unix µs but named for the files it comes from), and ISO-8601 text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_UNIX = datetime(1970, 1, 1, tzinfo=UTC)
_COCOA = datetime(2001, 1, 1, tzinfo=UTC)
_WINDOWS = datetime(1601, 1, 1, tzinfo=UTC)
#: The years a decoded value must fall in to count as a plausible timestamp.
PLAUSIBLE_YEARS = (1990, 2040)
_ONE_DAY = timedelta(days=1)
#: Share of a column's sample (zeros and NULLs left out) that must decode plausibly.
PLAUSIBLE_SHARE = 0.8


@dataclass(frozen=True)
class TimeEncoding:
    """How a column stores time: `epoch + (value - zero) × unit_ns` nanoseconds, or ISO-8601 text."""

    name: str  #: stable key, remembered per column (e.g. "webkit_us")
    label: str  #: for people ("Chrome/WebKit (µs since 1601)")
    epoch: datetime
    unit_ns: int  #: nanoseconds per unit of the stored value (0 for text)
    zero: float = 0.0  #: the stored value of `epoch` (non-zero for Julian day)
    hints: tuple[str, ...] = ()  #: column-name fragments that point at this encoding
    text: bool = False  #: ISO-8601 text rather than a number

    def decode(self, value: Any) -> datetime | None:
        """`value` as an aware UTC datetime, or None when it is not this encoding or out of range."""
        if self.text:
            return _parse_iso(value) if isinstance(value, str) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        try:
            if isinstance(value, int) and not self.zero:
                return self.epoch + timedelta(microseconds=value * self.unit_ns // 1000)
            return self.epoch + timedelta(microseconds=(value - self.zero) * self.unit_ns / 1000)
        except (OverflowError, ValueError):
            return None

    def encode(self, moment: datetime) -> float:
        """The stored value of `moment` (inverse of `decode`, for numeric encodings; bin edges)."""
        if self.text:
            raise ValueError("a text encoding has no numeric value")
        delta = moment - self.epoch
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return micros * 1000 / self.unit_ns + self.zero


_TIME_WORDS = ("time", "date", "timestamp", "created", "modified", "updated", "visit", "_at", "expires")

ENCODINGS: tuple[TimeEncoding, ...] = (
    TimeEncoding("unix_s", "Unix seconds", _UNIX, 1_000_000_000, hints=("epoch", "unix")),
    TimeEncoding("unix_ms", "Unix milliseconds", _UNIX, 1_000_000, hints=("_ms", "millis")),
    TimeEncoding("unix_us", "Unix microseconds", _UNIX, 1_000, hints=("_us", "micros")),
    TimeEncoding(
        "prtime",
        "Firefox PRTime (µs since 1970)",
        _UNIX,
        1_000,
        hints=("visit_date", "dateadded", "lastmodified"),
    ),
    TimeEncoding("unix_ns", "Unix nanoseconds", _UNIX, 1, hints=("_ns", "nanos")),
    TimeEncoding("julian_day", "Julian day", _UNIX, 86_400_000_000_000, zero=2440587.5, hints=("julian",)),
    TimeEncoding(
        "cocoa_s", "Apple Cocoa (seconds since 2001)", _COCOA, 1_000_000_000, hints=("zdate", "cocoa", "mac")
    ),
    TimeEncoding("cocoa_ns", "Apple Cocoa (ns since 2001, iOS)", _COCOA, 1, hints=("cocoa", "ios")),
    TimeEncoding(
        "webkit_us", "Chrome/WebKit (µs since 1601)", _WINDOWS, 1_000, hints=("visit_time", "_time", "utc")
    ),
    TimeEncoding("filetime", "Windows FILETIME (100 ns since 1601)", _WINDOWS, 100, hints=("filetime", "ft")),
    TimeEncoding("iso8601", "ISO-8601 text", _UNIX, 0, hints=("date", "time"), text=True),
)
_BY_NAME = {encoding.name: encoding for encoding in ENCODINGS}


def encoding_named(name: str) -> TimeEncoding | None:
    """The encoding with key `name` (a remembered per-column override), or None."""
    return _BY_NAME.get(name)


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?\Z")


def _parse_iso(text: str) -> datetime | None:
    text = text.strip()
    if not _ISO.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1) if len(text) > 10 else text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def is_plausible(moment: datetime | None, years: tuple[int, int] = PLAUSIBLE_YEARS) -> bool:
    """True when `moment` falls in the plausible years (from the first to the last, exclusive)."""
    return moment is not None and years[0] <= moment.year < years[1]


def _reads_as_time(encoding: TimeEncoding, value: Any, years: tuple[int, int]) -> bool:
    """Plausible, and not within a day of the epoch: small counts (1, 2, 3) read as Cocoa seconds would
    land on 2001-01-01, which says nothing about the column."""
    moment = encoding.decode(value)
    if not is_plausible(moment, years):
        return False
    return encoding.text or abs(moment - encoding.epoch) >= _ONE_DAY  # type: ignore[operator]


def guess_time_encoding(
    column_name: str, declared_type: str, samples: Iterable[Any], years: tuple[int, int] = PLAUSIBLE_YEARS
) -> TimeEncoding | None:
    """The encoding under which a column's sample reads as plausible times, or None when none does.

    NULLs and zeros (a common "never") are left out; at least `PLAUSIBLE_SHARE` of the rest must decode
    into `years`. Several fit (Unix µs and PRTime always do together): the one the column's name hints
    at wins, then the first in `ENCODINGS`. Numbers are not taken for times when neither the name nor
    the declared type speaks of time and the values are small numbers (ids, counts, amounts: 482992.2 would
    read as Cocoa seconds in January 2001).
    """
    values = [v for v in samples if v is not None and v != 0 and not isinstance(v, bytes)]
    if not values:
        return None
    name = column_name.lower()
    timeish = any(word in name for word in _TIME_WORDS) or any(
        word in declared_type.lower() for word in ("date", "time")
    )
    fitting = []
    for encoding in ENCODINGS:
        if (
            not timeish
            and not encoding.text
            and all(isinstance(v, int | float) and abs(v) < 100_000_000 for v in values)
        ):
            continue
        plausible = sum(_reads_as_time(encoding, v, years) for v in values)
        if plausible and plausible >= PLAUSIBLE_SHARE * len(values):
            fitting.append(encoding)
    if not fitting:
        return None
    hinted = [e for e in fitting if any(hint in name for hint in e.hints)]
    return (hinted or fitting)[0]


def format_time(moment: datetime) -> str:
    """`moment` as ISO-8601 in UTC, to the second, with fractions only when there are some."""
    text = moment.astimezone(UTC).isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")
