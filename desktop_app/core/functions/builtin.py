"""The built-in SQL library registered on every snapshot connection (statistics, text, time, blobs).

NULL handling: every scalar returns NULL for a NULL input (except `json_arr_len`, which gives 0),
and every aggregate ignores NULLs and returns NULL over an empty set.
The numeric aggregates count integers, reals and text that reads as a number (`'12.5'`, as CSV
imports leave behind); other text and blobs are skipped.
Functions receive text as Python `str`: text that is not valid UTF-8 cannot be passed to any
Python function, so pass `CAST(value AS BLOB)` instead (every function here accepts blobs).
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import math
import re
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from desktop_app.core import regexes
from desktop_app.core.blobs.sniff import sniff_mime
from desktop_app.core.limits import LIMITS
from desktop_app.functions_api import FunctionSpec, collation, scalar, specs_in, window

Number = int | float
_NUMERIC_TEXT = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*\Z")


def as_number(value: object) -> Number | None:
    """Return `value` as a number when it is one or is text that reads as one, else None."""
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and _NUMERIC_TEXT.match(value):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return float(text)
    return None


def as_text(value: object) -> str | None:
    """Return `value` as text: blobs decoded as UTF-8 (bad bytes → U+FFFD), numbers in decimal."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def sqlite_sort_key(value: object) -> tuple[int, Any]:
    """Order values the way SQLite's BINARY collation does: numbers, then text, then blobs."""
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, bytes(value))  # type: ignore[call-overload]


# --- statistics: aggregates that also work as window functions ---------------------------------


class _NumbersInFrame:
    """The numeric values of a group or window frame, sorted only when a result is needed."""

    def __init__(self) -> None:
        self._values: list[Number] = []
        self._sorted = True

    def step(self, value: object) -> None:
        number = as_number(value)
        if number is None:
            return
        if self._sorted and self._values and number < self._values[-1]:
            self._sorted = False
        self._values.append(number)

    def inverse(self, value: object) -> None:
        number = as_number(value)
        if number is None:
            return
        values = self._sorted_values()
        index = bisect.bisect_left(values, number)
        if index < len(values) and values[index] == number:
            del values[index]

    def value(self) -> Number | None:
        return self.compute(self._sorted_values())

    def finalize(self) -> Number | None:
        return self.value()

    def compute(self, values: list[Number]) -> Number | None:
        raise NotImplementedError

    def _sorted_values(self) -> list[Number]:
        if not self._sorted:
            self._values.sort()  # nearly sorted after a few appends: timsort makes this linear
            self._sorted = True
        return self._values


@window(
    "median",
    doc="The middle value of X (mean of the two middle values for an even count), as statistics.median.",
)
class Median(_NumbersInFrame):
    def compute(self, values: list[Number]) -> Number | None:
        if not values:
            return None
        middle = len(values) // 2
        if len(values) % 2:
            return values[middle]
        return (values[middle - 1] + values[middle]) / 2


class _Spread(_NumbersInFrame):
    """The variance dividing by n − `ddof` (its square root when `root`): two passes, exact float sums."""

    ddof = 1
    root = False

    def compute(self, values: list[Number]) -> Number | None:
        count = len(values)
        if count <= self.ddof or count == 0:
            return None  # too few values
        mean = math.fsum(values) / count
        variance = math.fsum((x - mean) ** 2 for x in values) / (count - self.ddof)
        return math.sqrt(variance) if self.root else variance


@window("variance", doc="Sample variance of X (divides by n − 1; NULL for fewer than 2 values).")
class Variance(_Spread):
    ddof, root = 1, False


@window("stdev", doc="Sample standard deviation of X (divides by n − 1; NULL for fewer than 2 values).")
class Stdev(_Spread):
    ddof, root = 1, True


@window("variance_pop", doc="Population variance of X (divides by n).")
class PopulationVariance(_Spread):
    ddof, root = 0, False


@window("stdev_pop", doc="Population standard deviation of X (divides by n).")
class PopulationStdev(_Spread):
    ddof, root = 0, True


@window(
    "percentile",
    doc="The P-th percentile (P from 0 to 100, the same on every row) of X, interpolating linearly "
    "between the two nearest values like SQLite's percentile() and numpy's default.",
)
class Percentile(_NumbersInFrame):
    def __init__(self) -> None:
        super().__init__()
        self._percent: Number | None = None

    def step(self, value: object, percent: object) -> None:  # type: ignore[override]
        self._check_percent(percent)
        super().step(value)

    def inverse(self, value: object, percent: object) -> None:  # type: ignore[override]
        super().inverse(value)

    def compute(self, values: list[Number]) -> Number | None:
        if not values or self._percent is None:
            return None
        position = self._percent / 100 * (len(values) - 1)
        low = math.floor(position)
        fraction = position - low
        if fraction == 0:
            return float(values[low])
        return values[low] + (values[low + 1] - values[low]) * fraction

    def _check_percent(self, percent: object) -> None:
        if not isinstance(percent, int | float) or not 0 <= percent <= 100:
            raise ValueError(f"P must be a number from 0 to 100, not {percent!r}")
        if self._percent is not None and percent != self._percent:
            raise ValueError("P must be the same on every row of a group")
        self._percent = percent


@window("mode", doc="The most frequent non-NULL value of X (any type); ties go to the smallest value.")
class Mode:
    def __init__(self) -> None:
        self._counts: Counter[Any] = Counter()

    def step(self, value: object) -> None:
        if value is not None:
            self._counts[value] += 1

    def inverse(self, value: object) -> None:
        if value is not None:
            self._counts[value] -= 1
            if self._counts[value] <= 0:
                del self._counts[value]

    def value(self) -> object:
        if not self._counts:
            return None
        most = max(self._counts.values())
        return min((v for v, count in self._counts.items() if count == most), key=sqlite_sort_key)

    def finalize(self) -> object:
        return self.value()


# --- text ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=LIMITS.regex_cached_patterns)
def compile_pattern(pattern: str) -> regexes.Pattern:
    """Compile a regular expression with RE2 (cached); one that cannot run raises ValueError saying why."""
    try:
        return regexes.compile_user_pattern(pattern)
    except regexes.RegexError as exc:
        if not regexes.available():
            raise ValueError(exc.message) from None
        raise ValueError(f"invalid regular expression {pattern!r}: {exc.message}") from None


@scalar(
    "regexp",
    deterministic=True,
    doc="1 if TEXT contains a match of the regular expression PATTERN (RE2 syntax, linear time), else 0; "
    "`TEXT REGEXP PATTERN` calls it. Use (?i) for a case-insensitive match.",
)
def regexp(pattern: object, text: object) -> int | None:
    pattern_text, subject = as_text(pattern), as_text(text)
    if pattern_text is None or subject is None:
        return None
    return 1 if compile_pattern(pattern_text).search(subject) else 0


@scalar(
    "json_arr_len",
    deterministic=True,
    doc="Number of elements of a JSON array; 0 for NULL or JSON that is not an array, NULL if malformed.",
)
def json_arr_len(value: object) -> int | None:
    if value is None:
        return 0
    text = as_text(value)
    try:
        parsed = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return len(parsed) if isinstance(parsed, list) else 0


@functools.lru_cache(maxsize=LIMITS.function_cache_entries)
def normalize_text(text: str) -> str:
    """Fold `text` for comparison: case-folded, NFKD, combining marks removed ("Émile" → "emile")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@scalar(
    "normalize",
    deterministic=True,
    doc="TEXT case-folded, NFKD-decomposed and stripped of accents, so 'Émile' gives 'emile'. "
    "Numbers are returned unchanged.",
)
def normalize(value: object) -> object:
    if isinstance(value, int | float) or value is None:
        return value
    return normalize_text(as_text(value) or "")


@collation(
    "NORMALIZED",
    doc="Compares text after normalize(): case, accents and compatibility forms are ignored "
    "(ORDER BY name COLLATE NORMALIZED sorts 'Émile' with 'emile'; they compare equal).",
)
def normalized_collation(left: str, right: str) -> int:
    a, b = normalize_text(left), normalize_text(right)
    return (a > b) - (a < b)


@scalar(
    "sha256", deterministic=True, doc="SHA-256 of X as lowercase hex: text as UTF-8, a blob as its bytes."
)
def sha256(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return hashlib.sha256(value).hexdigest()
    return hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()


@scalar(
    "blob_type",
    deterministic=True,
    doc="The MIME type sniffed from the first bytes of X (image/png, application/pdf, application/json, "
    "text/plain, ... or application/octet-stream); NULL for NULL and numbers.",
)
def blob_type(value: object) -> str | None:
    if isinstance(value, bytes | bytearray | memoryview):
        return sniff_mime(bytes(value))
    if isinstance(value, str):
        return sniff_mime(value.encode("utf-8", "replace"))
    return None


# --- timestamps -------------------------------------------------------------------------------

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WEBKIT_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_COCOA_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

#: unit → (epoch, microseconds per unit); microseconds per unit < 1 means a finer unit (nanoseconds).
TIME_UNITS: dict[str, tuple[datetime, float]] = {
    "s": (_UNIX_EPOCH, 1_000_000),
    "ms": (_UNIX_EPOCH, 1_000),
    "us": (_UNIX_EPOCH, 1),
    "ns": (_UNIX_EPOCH, 0.001),
    "chrome": (_WEBKIT_EPOCH, 1),
    "cocoa": (_COCOA_EPOCH, 1_000_000),
}
_UNIT_ALIASES = {
    "seconds": "s",
    "unix": "s",
    "milliseconds": "ms",
    "µs": "us",
    "microseconds": "us",
    "prtime": "us",
    "nanoseconds": "ns",
    "webkit": "chrome",
    "apple": "cocoa",
    "mac": "cocoa",
}

#: Auto-detection: the first unit whose bound exceeds |x|. Each bound is the year 5138 in the unit
#: below and 1973 in the unit above, so every date from 1973 to 5138 is read correctly.
#: Cocoa seconds (since 2001) overlap Unix seconds, so they are never guessed: pass 'cocoa'.
AUTO_UNIT_BOUNDS: tuple[tuple[float, str], ...] = (
    (1e11, "s"),
    (1e14, "ms"),
    (1e16, "us"),
    (1e17, "chrome"),
    (math.inf, "ns"),
)


def time_unit(unit: object, *, allow_auto: bool) -> str:
    """Return the canonical unit name for `unit` (None = auto); raise ValueError for an unknown unit."""
    name = "auto" if unit is None else str(as_text(unit)).strip().lower()
    name = _UNIT_ALIASES.get(name, name)
    if name in TIME_UNITS or (allow_auto and name == "auto"):
        return name
    choices = ", ".join([*TIME_UNITS, *(["auto"] if allow_auto else [])])
    raise ValueError(f"unknown time unit {unit!r}; use one of {choices}")


def guess_time_unit(number: Number) -> str:
    """Return the unit a timestamp of this magnitude most likely uses (see AUTO_UNIT_BOUNDS)."""
    magnitude = abs(number)
    return next(unit for bound, unit in AUTO_UNIT_BOUNDS if magnitude < bound)


def timestamp_to_datetime(number: Number, unit: str) -> datetime | None:
    """Return the UTC datetime of `number` in `unit` ('auto' guesses), or None when out of range."""
    if isinstance(number, float) and not math.isfinite(number):
        return None
    if unit == "auto":
        unit = guess_time_unit(number)
    epoch, micros_per_unit = TIME_UNITS[unit]
    if isinstance(number, int) and micros_per_unit >= 1:
        micros = number * int(micros_per_unit)
    elif isinstance(number, int):
        micros = number // round(1 / micros_per_unit)
    else:
        micros = round(number * micros_per_unit)
    try:
        return epoch + timedelta(microseconds=micros)
    except OverflowError:
        return None


def datetime_to_timestamp(moment: datetime, unit: str) -> Number:
    """Return `moment` (naive = UTC) in `unit`; an int when exact, else a float."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    epoch, micros_per_unit = TIME_UNITS[unit]
    micros = (moment - epoch) // _MICROSECOND
    if micros_per_unit < 1:
        return micros * round(1 / micros_per_unit)
    whole, rest = divmod(micros, int(micros_per_unit))
    return whole if rest == 0 else micros / micros_per_unit


@scalar(
    "unixepoch_to_iso",
    deterministic=True,
    doc="ISO 8601 UTC text ('2022-06-18T06:13:20Z') for timestamp X in UNIT: 's', 'ms', 'us' (Firefox), "
    "'ns', 'chrome' (WebKit µs since 1601), 'cocoa' (Apple s since 2001) or 'auto' (the default: "
    "|X| < 1e11 s, < 1e14 ms, < 1e16 µs, < 1e17 Chrome, else ns; Cocoa is never guessed). "
    "NULL for non-numbers and dates outside years 1–9999.",
)
def unixepoch_to_iso(value: object, unit: object = None) -> str | None:
    canonical = time_unit(unit, allow_auto=True)
    number = as_number(value)
    if number is None:
        return None
    moment = timestamp_to_datetime(number, canonical)
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


@scalar(
    "iso_to_unixepoch",
    deterministic=True,
    doc="The timestamp in UNIT (default 's'; also 'ms', 'us', 'ns', 'chrome', 'cocoa') of ISO 8601 text X "
    "('2022-06-18', '2022-06-18 06:13:20', '…T06:13:20.5+02:00'; no offset means UTC); NULL if not a date.",
)
def iso_to_unixepoch(value: object, unit: object = "s") -> Number | None:
    canonical = time_unit(unit, allow_auto=False)
    text = as_text(value) if isinstance(value, str | bytes) else None
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return datetime_to_timestamp(moment, canonical)


#: Every built-in, in file order.
BUILTIN_SPECS: tuple[FunctionSpec, ...] = tuple(specs_in(globals()))
