"""Values as SQLite stores them: text that is not valid UTF-8 kept byte for byte, exact comparison,
SQL literals that give back the same value and storage class, JSON for the CLI."""

from __future__ import annotations

import math
import sqlite3
from typing import Any

Value = None | int | float | str | bytes


class RawText(str):
    """TEXT whose bytes are not valid UTF-8: shown with U+FFFD, compared and written by its bytes."""

    raw: bytes

    def __new__(cls, raw: bytes) -> RawText:
        text = super().__new__(cls, raw.decode("utf-8", "replace"))
        text.raw = raw
        return text


def exact_text(raw: bytes) -> str:
    """A `text_factory` that keeps text that is not valid UTF-8 as `RawText` (nothing is lost)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return RawText(raw)


def use_exact_text(conn: sqlite3.Connection) -> None:
    """Make `conn` return text exactly (`exact_text`), so a diff never confuses two damaged strings."""
    conn.text_factory = exact_text


def same_value(old: Value, new: Value) -> bool:
    """True when SQLite stores the same thing: the same storage class and the same value (1 ≠ 1.0 ≠ '1')."""
    if type(old) is not type(new):
        if isinstance(old, str) and isinstance(new, str):  # str vs RawText: only equal bytes are equal
            return _text_bytes(old) == _text_bytes(new)
        return False
    if isinstance(old, RawText):
        return old.raw == new.raw  # type: ignore[union-attr]
    return old == new


def _text_bytes(text: str) -> bytes:
    return text.raw if isinstance(text, RawText) else text.encode("utf-8", "surrogatepass")


def sql_literal(value: Value) -> str:
    """`value` as an SQL literal that stores the same value with the same storage class."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "9e999" if value > 0 else "-9e999"
        text = repr(value)
        return text if ("." in text or "e" in text or "n" in text) else text + ".0"
    if isinstance(value, RawText):
        return f"CAST(X'{value.raw.hex()}' AS TEXT)"
    if isinstance(value, str):
        if "\x00" in value:  # a NUL inside a literal would end it in SQLite's C string
            return f"CAST(X'{value.encode('utf-8').hex()}' AS TEXT)"
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"X'{bytes(value).hex()}'"
    raise TypeError(f"not an SQLite value: {type(value).__name__}")


def json_value(value: Value) -> Any:
    """`value` for JSON: blobs as {"blob": hex}, text that is not UTF-8 as {"text_bytes": hex}, infinities
    as strings."""
    if isinstance(value, RawText):
        return {"text_bytes": value.raw.hex()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"blob": bytes(value).hex()}
    if isinstance(value, float) and not math.isfinite(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def display_value(value: Value, max_chars: int = 200) -> str:
    """A short, one-line text for a cell: NULL, numbers, text, blob size."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"BLOB {len(value):,} bytes"
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return text if len(text) <= max_chars else text[:max_chars] + "…"


def storage_class(value: Value) -> str:
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
