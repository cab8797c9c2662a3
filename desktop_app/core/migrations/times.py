"""Applied-at times as the tools store them (ISO text, Unix seconds or milliseconds) → aware datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# Magnitudes that separate epoch units: 1e11 s is the year 5138, 1e14 ms the year 5138, and so on.
_MAX_SECONDS = 1e11
_MAX_MILLISECONDS = 1e14
_MAX_MICROSECONDS = 1e17
_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?\Z")
# Text SQLite, Java and .NET drivers write that `fromisoformat` does not accept as is.
_TRAILING_UTC = re.compile(r"\s*(UTC|GMT|Z)\Z", re.IGNORECASE)
_FRACTION = re.compile(r"\.(\d+)")
_SHORT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})?\Z")


def parse_time(value: object) -> datetime | None:
    """Return `value` as an aware datetime (naive text is taken as UTC), or None when it is not a time."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if _NUMBER.match(text):
        return _from_epoch(float(text))
    return _from_text(text)


def _from_epoch(number: float) -> datetime | None:
    magnitude = abs(number)
    if magnitude >= _MAX_MICROSECONDS:
        number /= 1e9
    elif magnitude >= _MAX_MILLISECONDS:
        number /= 1e6
    elif magnitude >= _MAX_SECONDS:
        number /= 1e3
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=number)
    except OverflowError:
        return None


def _from_text(text: str) -> datetime | None:
    utc = bool(_TRAILING_UTC.search(text))
    text = _TRAILING_UTC.sub("", text)
    # Python 3.11 accepts at most 6 fractional digits; .NET writes 7, some drivers 9.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    offset = _SHORT_OFFSET.search(text)
    if offset and ("T" in text or " " in text) and ":" in text[: offset.start()]:
        text = text[: offset.start()] + offset.group(1) + ":" + (offset.group(2) or "00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None or utc:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
