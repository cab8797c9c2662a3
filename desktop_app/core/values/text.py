"""Text that is not valid UTF-8, shown with escapes for the bad bytes (never hidden or replaced)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop_app.core.sqlite.values import RawText


def readable_text(raw: bytes) -> str:
    """`raw` decoded as UTF-8, each invalid byte written `\\xNN` (so `b"ab\\xff"` reads `ab\\xff`)."""
    return raw.decode("utf-8", "backslashreplace")


def plain_text(value: str) -> str:
    """Text as read, with the bytes of invalid UTF-8 written `\\xNN` (never hidden as U+FFFD)."""
    return readable_text(value.raw) if isinstance(value, RawText) else value


def is_valid_utf8(raw: bytes) -> bool:
    """True when `raw` decodes as UTF-8."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class InvalidText:
    """A TEXT value whose bytes are not valid UTF-8, kept exactly (bind `raw` to find it again)."""

    raw: bytes

    def __str__(self) -> str:
        return readable_text(self.raw)


def exact_text(value: Any, raw: bytes | None) -> Any:
    """`value` as read, or `InvalidText` when its bytes `raw` (given for text) are not valid UTF-8.

    Connections decode bad text with U+FFFD (see core/sqlite/connection.py); a reader that fetched the
    bytes too (`CAST(x AS BLOB)`) uses this to show them escaped instead.
    """
    if raw is None or not isinstance(value, str) or "\ufffd" not in value or is_valid_utf8(raw):
        return value
    return InvalidText(raw)
