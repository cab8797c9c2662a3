"""The tables, views and columns a search can look at, as seen from the catalog.

The search needs names, the storage classes each column's values can have, and how to find a hit's
row again; all of it is derived from `desktop_app.core.schema.catalog` tables.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace

from desktop_app.core.browse.rows import rowid_alias_column, rowid_name, virtual_rowid_name
from desktop_app.core.schema.catalog import Table, TableKind, read_tables
from desktop_app.core.schema.fts import FtsInfo, parse_fts
from desktop_app.core.search.options import BLOB, INTEGER, REAL, TEXT
from desktop_app.core.sqlite.quoting import quote_identifier

ANY_TYPE = frozenset({TEXT, INTEGER, REAL, BLOB})
_KINDS = {TableKind.VIEW: "view", TableKind.VIRTUAL: "virtual"}
_STRICT_TYPES = {
    "INT": frozenset({INTEGER}),
    "INTEGER": frozenset({INTEGER}),
    "REAL": frozenset({REAL}),
    "TEXT": frozenset({TEXT}),
    "BLOB": frozenset({BLOB}),
}


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
    #: "main", or the name of a database the program attached beside it (never `temp`).
    schema: str = "main"

    @property
    def sql_name(self) -> str:
        """`main."name"` or `other."name"`: the snapshot's own schema or an attached one, never `temp`."""
        return f"{quote_identifier(self.schema)}.{quote_identifier(self.name)}"

    @property
    def label(self) -> str:
        """The name a hit shows: `name` in the main database, `schema.name` in an attached one."""
        return self.name if self.schema == "main" else f"{self.schema}.{self.name}"

    def column(self, name: str) -> SearchColumn | None:
        """The column called `name` (exact, then case-insensitive as SQLite compares names)."""
        found = next((c for c in self.columns if c.name == name), None)
        return found or next((c for c in self.columns if c.name.lower() == name.lower()), None)


def read_search_tables(conn: sqlite3.Connection, schemas: Sequence[str] = ("main",)) -> list[SearchTable]:
    """Every searchable table, view and virtual table of `schemas`, by name (no shadow or sqlite_ tables)."""
    found: list[SearchTable] = []
    for schema in schemas:
        tables = [
            replace(search_table(conn, t), schema=schema) for t in read_tables(conn, schema, hidden=False)
        ]
        found.extend(_link_fts(tables))
    return found


def search_table(conn: sqlite3.Connection, table: Table) -> SearchTable:
    """How the search sees one catalog table: its columns' possible storage classes and its rows' key."""
    kind = _KINDS.get(table.kind, "table")
    found = SearchTable(name=table.name, kind=kind)
    if table.error is not None:
        return replace(found, error=table.error)
    if kind == "table" and not table.columns:
        return replace(found, error="its columns cannot be read")
    alias = rowid_alias_column(table)
    columns = tuple(
        _column(c.name, c.declared_type, strict=table.strict and kind == "table", rowid_alias=c.name == alias)
        for c in table.columns
        if c.hidden != 1  # hidden columns of virtual tables (an FTS table's own-name column, rank, ...)
    )
    found = replace(found, columns=columns, fts=parse_fts(table.sql) if kind == "virtual" else None)
    if kind == "view":
        return found
    if kind == "table" and table.without_rowid:
        names = tuple(table.primary_key)
        return replace(found, key_columns=names, key_sql=tuple(quote_identifier(n) for n in names))
    if kind == "table":
        name = rowid_name(table) or alias
    else:
        try:  # also finds virtual tables whose module is missing
            name = virtual_rowid_name(conn, table)
        except sqlite3.Error as exc:
            return replace(found, error=str(exc))
    if name is None:
        return found  # every rowid name is a column and none is the rowid: rows cannot be addressed
    return replace(found, key_columns=(name,), key_sql=(quote_identifier(name),), key_is_rowid=True)


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
