"""The one place identifiers and values are quoted for SQL."""

from __future__ import annotations

import re

#: SQLite's keywords (https://sqlite.org/lang_keywords.html, 3.40) plus TRUE and FALSE, which name the
#: constants unless quoted. Quoting a word that needs no quotes is harmless; leaving a keyword bare is not.
#: Written out rather than taken from SQLAlchemy's dialect, whose import costs ~0.35 s of every start.
RESERVED_WORDS: frozenset[str] = frozenset(
    """
    abort action add after all alter always analyze and as asc attach autoincrement before begin between
    by cascade case cast check collate column commit conflict constraint create cross current current_date
    current_time current_timestamp database default deferrable deferred delete desc detach distinct do drop
    each else end escape except exclude exclusive exists explain fail false filter first following for
    foreign from full generated glob group groups having if ignore immediate in index indexed initially
    inner insert instead intersect into is isnull join key last left like limit match materialized natural
    no not nothing notnull null nulls of offset on or order others outer over partition plan pragma
    preceding primary query raise range recursive references regexp reindex release rename replace
    restrict returning right rollback row rows savepoint select set table temp temporary then ties to
    transaction trigger true unbounded union unique update using vacuum values view virtual when where
    window with without
    """.split()  # noqa: SIM905 (a word list reads better than 149 quoted strings)
)
#: SQLite's keywords in upper case, sorted: what the SQL editor highlights and offers to complete.
SQL_KEYWORDS: tuple[str, ...] = tuple(sorted(word.upper() for word in RESERVED_WORDS - {"true", "false"}))

_PLAIN_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def quote_identifier(name: str) -> str:
    """Return `name` as an SQL identifier: bare if a plain non-reserved word, else `"…"` with `"` doubled."""
    if _PLAIN_WORD.match(name) and name.lower() not in RESERVED_WORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_string(value: str) -> str:
    """Return `value` as an SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def qualified(schema: str | None, name: str) -> str:
    """Return `schema.name` quoted, or just `name` when schema is None or 'main'."""
    if schema and schema != "main":
        return f"{quote_identifier(schema)}.{quote_identifier(name)}"
    return quote_identifier(name)


def sql_literal(value: object) -> str:
    """Return a SQLite value as an SQL literal that recreates it exactly (type and value).

    Floats use `repr` (reads back as the same float, `-0.0` included) and `±1e999` for infinities;
    blobs are `X'…'`; text holding NUL, or text that was not valid UTF-8 (a `str` carrying its
    `raw` bytes), is `CAST(X'…' AS TEXT)` so every byte survives.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN: SQLite stores it as NULL
            return "NULL"
        if value in (float("inf"), float("-inf")):
            return "1e999" if value > 0 else "-1e999"
        return repr(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "X'" + bytes(value).hex().upper() + "'"
    if isinstance(value, str):
        raw = getattr(value, "raw", None)
        if isinstance(raw, bytes):
            return f"CAST(X'{raw.hex().upper()}' AS TEXT)"
        if "\0" in value:
            return f"CAST(X'{value.encode('utf-8', 'surrogatepass').hex().upper()}' AS TEXT)"
        return quote_string(value)
    return quote_string(str(value))
