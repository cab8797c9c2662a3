"""Text that is not valid UTF-8, shown with escapes for the bad bytes (never hidden or replaced)."""

from __future__ import annotations


def readable_text(raw: bytes) -> str:
    """`raw` decoded as UTF-8, each invalid byte written `\\xNN` (so `b"ab\\xff"` reads `ab\\xff`)."""
    return raw.decode("utf-8", "backslashreplace")


def is_valid_utf8(raw: bytes) -> bool:
    """True when `raw` decodes as UTF-8."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
