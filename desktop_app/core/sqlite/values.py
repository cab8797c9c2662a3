"""Values as SQLite stores them: text that is not valid UTF-8 kept byte for byte, and storage classes."""

from __future__ import annotations

from typing import Any, Self


class RawText(str):
    """TEXT whose bytes are not valid UTF-8: shown with U+FFFD, compared and written by its bytes (`raw`)."""

    raw: bytes

    def __new__(cls, raw: bytes) -> Self:
        text = super().__new__(cls, raw.decode("utf-8", "replace"))
        text.raw = raw
        return text


def exact_text(raw: bytes) -> str:
    """A `text_factory`: plain `str` for valid UTF-8, `RawText` otherwise (nothing is lost)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return RawText(raw)


def storage_class(value: Any) -> str:
    """SQLite's name for the storage class of `value` (what `typeof()` says)."""
    if value is None:
        return "null"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "real"
    if isinstance(value, str):
        return "text"
    return "blob"
