"""Values as SQLite stores them: text that is not valid UTF-8 kept byte for byte, exact comparison,
SQL literals that give back the same value and storage class, JSON for the CLI."""

from __future__ import annotations

import math
import sqlite3
from typing import Any

from desktop_app.core.sqlite.quoting import sql_literal
from desktop_app.core.sqlite.values import RawText, exact_text

# RawText and sql_literal live with SQLite's own value helpers; the diff modules import them from here.
__all__ = ["RawText", "Value", "display_value", "json_value", "same_value", "sql_literal", "use_exact_text"]

Value = None | int | float | str | bytes


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
