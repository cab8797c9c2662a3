"""The one place identifiers and values are quoted for SQL."""

from __future__ import annotations

import re

from sqlalchemy.dialects.sqlite.base import SQLiteIdentifierPreparer

#: SQLite keywords: the SQLAlchemy dialect's list plus newer ones it lacks (window functions, RETURNING...).
#: Quoting a word that needs no quotes is harmless; leaving a keyword bare is not.
RESERVED_WORDS: frozenset[str] = frozenset(SQLiteIdentifierPreparer.reserved_words) | {
    "always", "current", "do", "exclude", "filter", "first", "following", "generated", "groups", "last",
    "materialized", "nothing", "nulls", "others", "over", "partition", "preceding", "range", "recursive",
    "returning", "rows", "ties", "unbounded", "window", "without",
}  # fmt: skip

_PLAIN_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def quote_identifier(name: str) -> str:
    """Return `name` as an SQL identifier: bare if a plain non-reserved word, else `"…"` with `"` doubled."""
    if _PLAIN_WORD.match(name) and name.lower() not in RESERVED_WORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_always(name: str) -> str:
    """Return `name` in double quotes with `"` doubled, whatever it is."""
    return '"' + name.replace('"', '""') + '"'


def quote_string(value: str) -> str:
    """Return `value` as an SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def qualified(schema: str | None, name: str) -> str:
    """Return `schema.name` quoted, or just `name` when schema is None or 'main'."""
    if schema and schema != "main":
        return f"{quote_identifier(schema)}.{quote_identifier(name)}"
    return quote_identifier(name)
