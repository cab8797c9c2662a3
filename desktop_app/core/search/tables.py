"""The tables, views and columns a search can look at, read straight from the schema.

A small private reader (the search only needs names, possible storage classes and row keys); it
could be swapped for `desktop_app.core.schema.catalog` calls.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, replace

from desktop_app.core.schema.fts import FTS_MODULES, SHADOW_SUFFIXES, FtsInfo, parse_fts, virtual_module
from desktop_app.core.search.options import BLOB, INTEGER, REAL, TEXT
from desktop_app.core.sqlite.quoting import quote_identifier

ANY_TYPE = frozenset({TEXT, INTEGER, REAL, BLOB})
_ROWID_NAMES = ("rowid", "_rowid_", "oid")
_STRICT_TYPES = {
    "INT": frozenset({INTEGER}),
    "INTEGER": frozenset({INTEGER}),
    "REAL": frozenset({REAL}),
    "TEXT": frozenset({TEXT}),
    "BLOB": frozenset({BLOB}),
}
_WITHOUT_ROWID = re.compile(r"\)\s*(?:STRICT\s*,\s*)?WITHOUT\s+ROWID\s*(?:,\s*STRICT\s*)?;?\s*$", re.I)


@dataclass(frozen=True)
class SearchColumn:
    """A column and the storage classes its values can have."""

    name: str
    storage: frozenset[str]


@dataclass(frozen=True)
class FtsCover:
    """An FTS table that indexes some of this table's columns."""

    fts_table: str
    info: FtsInfo
    columns: frozenset[str]
    #: True when this table *is* the FTS table (MATCH it directly); else its external content table.
    direct: bool


@dataclass(frozen=True)
class SearchTable:
    """A table, view or virtual table as the search sees it."""

    name: str
    kind: str  #: "table", "view" or "virtual"
    columns: tuple[SearchColumn, ...] = ()
    #: Names reported in a hit's key ("rowid", or the primary key of a WITHOUT ROWID table).
    key_columns: tuple[str, ...] = ()
    #: SQL expressions selecting the key.
    key_sql: tuple[str, ...] = ()
    key_is_rowid: bool = False
    fts: FtsInfo | None = None
    cover: FtsCover | None = None
    #: Why it is not searched when not chosen explicitly (e.g. an external-content FTS table).
    skip_note: str | None = None
    #: Why it cannot be read at all (missing module, corrupt schema).
    error: str | None = None

    @property
    def sql_name(self) -> str:
        """`main."name"`: always the snapshot's own schema, never a temp or attached table."""
        return f"main.{quote_identifier(self.name)}"

    def column(self, name: str) -> SearchColumn | None:
        """The column called `name` (exact, then case-insensitive as SQLite compares names)."""
        found = next((c for c in self.columns if c.name == name), None)
        return found or next((c for c in self.columns if c.name.lower() == name.lower()), None)


def read_search_tables(conn: sqlite3.Connection) -> list[SearchTable]:
    """Every searchable table, view and virtual table of `main`, by name (no shadow or sqlite_ tables)."""
    entries = conn.execute(
        "SELECT type, name, sql FROM main.sqlite_schema WHERE type IN ('table', 'view') ORDER BY name"
    ).fetchall()
    flags = _table_list_flags(conn)
    virtual = {
        name for kind, name, sql in entries if (sql or "").lstrip().upper().startswith("CREATE VIRTUAL")
    }
    fts_names = {name for name in virtual if virtual_module(_sql_of(entries, name))[0] in FTS_MODULES}
    tables = []
    for kind, name, sql in entries:
        if name.lower().startswith("sqlite_") or _is_shadow(name, flags, virtual, fts_names):
            continue
        if kind == "view":
            tables.append(_read_table(conn, name, "view", sql, flags))
        elif name in virtual:
            tables.append(_read_table(conn, name, "virtual", sql, flags))
        else:
            tables.append(_read_table(conn, name, "table", sql, flags))
    return _link_fts(tables)


def _sql_of(entries: list[tuple[str, str, str | None]], name: str) -> str | None:
    return next(sql for _kind, entry, sql in entries if entry == name)


def _table_list_flags(conn: sqlite3.Connection) -> dict[str, tuple[str, bool, bool]]:
    """name → (type, without_rowid, strict) from `PRAGMA table_list` (SQLite ≥ 3.37), else empty."""
    try:
        rows = conn.execute("SELECT name, type, wr, strict FROM pragma_table_list WHERE schema = 'main'")
        return {name: (kind, bool(wr), bool(strict)) for name, kind, wr, strict in rows}
    except sqlite3.Error:
        return {}


def _is_shadow(name: str, flags: dict[str, tuple[str, bool, bool]], virtual: set[str], fts: set[str]) -> bool:
    if name in flags:
        return flags[name][0] == "shadow"
    return name not in virtual and any(
        name.startswith(owner + "_") and name[len(owner) :] in SHADOW_SUFFIXES for owner in fts
    )


def _read_table(
    conn: sqlite3.Connection, name: str, kind: str, sql: str | None, flags: dict[str, tuple[str, bool, bool]]
) -> SearchTable:
    table = SearchTable(name=name, kind=kind)
    try:
        rows = conn.execute(
            "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?, 'main') ORDER BY cid", (name,)
        ).fetchall()
    except sqlite3.Error as exc:
        return replace(table, error=str(exc))
    except UnicodeDecodeError:  # SQLite's message quotes a name whose bytes are not UTF-8
        return replace(table, error="its definition refers to a name that is not valid UTF-8")
    if kind == "table" and not rows:
        return replace(table, error="its columns cannot be read")
    without_rowid, strict = flags.get(name, ("", bool(_WITHOUT_ROWID.search(sql or "")), False))[1:]
    pk_rows = sorted((row for row in rows if row[2]), key=lambda row: row[2])
    rowid_alias = None
    if (
        kind == "table"
        and not without_rowid
        and len(pk_rows) == 1
        and (pk_rows[0][1] or "").upper() == "INTEGER"
    ):
        rowid_alias = pk_rows[0][0]
    columns = tuple(
        _column(col_name, decl or "", strict=strict and kind == "table", rowid_alias=col_name == rowid_alias)
        for col_name, decl, _pk, hidden in rows
        if hidden != 1  # hidden columns of virtual tables (an FTS table's own-name column, rank, ...)
    )
    table = replace(table, columns=columns, fts=parse_fts(sql) if kind == "virtual" else None)
    if kind == "view":
        return table
    if without_rowid and kind == "table":
        names = tuple(row[0] for row in pk_rows)
        return replace(table, key_columns=names, key_sql=tuple(quote_identifier(n) for n in names))
    return _with_rowid_key(conn, table, rowid_alias)


def _with_rowid_key(conn: sqlite3.Connection, table: SearchTable, rowid_alias: str | None) -> SearchTable:
    taken = {c.name.lower() for c in table.columns}
    name = next((n for n in _ROWID_NAMES if n not in taken), rowid_alias)
    if name is None:
        return table  # every rowid name is a column and none is the rowid: rows cannot be addressed
    if table.kind == "virtual":
        try:  # also finds virtual tables whose module is missing
            conn.execute(f"SELECT {quote_identifier(name)} FROM {table.sql_name} LIMIT 0").fetchall()
        except sqlite3.Error as exc:
            if "no such column" not in str(exc):
                return replace(table, error=str(exc))
            return table
    return replace(table, key_columns=(name,), key_sql=(quote_identifier(name),), key_is_rowid=True)


def _column(name: str, declared: str, *, strict: bool, rowid_alias: bool) -> SearchColumn:
    if rowid_alias:
        return SearchColumn(name, frozenset({INTEGER}))
    if strict:
        return SearchColumn(name, _STRICT_TYPES.get(declared.upper(), ANY_TYPE))
    if _affinity(declared) == TEXT:
        return SearchColumn(name, frozenset({TEXT, BLOB}))  # numbers stored here become text
    return SearchColumn(name, ANY_TYPE)


def _affinity(declared: str) -> str:
    """SQLite's column affinity rules (only TEXT matters here: numbers stored there become text)."""
    upper = declared.upper()
    if "INT" in upper:
        return INTEGER
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return TEXT
    return ""


def _link_fts(tables: list[SearchTable]) -> list[SearchTable]:
    """Attach each FTS table to what it covers: itself, or its external content table."""
    by_name = {t.name.lower(): i for i, t in enumerate(tables)}
    for index, table in enumerate(list(tables)):
        info = table.fts
        if info is None or table.error:
            continue
        indexed = frozenset(c.name for c in table.columns if c.name not in info.unindexed)
        if info.contentless:
            tables[index] = replace(table, skip_note="contentless full-text table: it stores no text")
        elif info.external:
            target = by_name.get((info.content or "").lower())
            if target is None or tables[target].kind != "table" or tables[target].error:
                continue  # content missing or a view: scan the FTS table itself (it reads the content)
            owner = tables[target]
            tables[index] = replace(
                table, skip_note=f"its text is searched in its content table {owner.name}"
            )
            if owner.cover is None:
                covered = frozenset(c.name for c in owner.columns if c.name in indexed)
                tables[target] = replace(owner, cover=FtsCover(table.name, info, covered, direct=False))
        elif indexed == {c.name for c in table.columns}:
            tables[index] = replace(table, cover=FtsCover(table.name, info, indexed, direct=True))
    return tables
