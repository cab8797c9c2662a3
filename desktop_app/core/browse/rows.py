"""Addressing a row: by rowid (under a name no column shadows), by primary key, or by position only.

An ordinary table's rows have a rowid, reachable as `rowid`, `_rowid_` or `oid` unless a column takes
that name (an INTEGER PRIMARY KEY column is another name for it). A WITHOUT ROWID table's rows are found
by their primary key. A virtual table has a rowid when its module gives it one (ask SQLite). A view's
rows have neither: they are found only by their position in a scan.
"""

from __future__ import annotations

import sqlite3

from desktop_app.core.schema.catalog import Table, TableKind
from desktop_app.core.sqlite.quoting import quote_identifier

#: The names SQLite accepts for a table's rowid, in the order we prefer them.
ROWID_NAMES = ("rowid", "_rowid_", "oid")


def unshadowed_rowid_name(table: Table) -> str | None:
    """The first of `rowid`, `_rowid_`, `oid` that no column of `table` is called, or None."""
    taken = {c.name.lower() for c in table.columns}
    return next((n for n in ROWID_NAMES if n not in taken), None)


def rowid_name(table: Table) -> str | None:
    """A name that reaches the rowid of `table` and is not shadowed by a column, or None.

    None for views, virtual tables (see `virtual_rowid_name`), WITHOUT ROWID tables, and tables whose
    every rowid name is a column.
    """
    return unshadowed_rowid_name(table) if table.has_rowid else None


def rowid_alias_column(table: Table) -> str | None:
    """The INTEGER PRIMARY KEY column that is another name for the rowid, if the table has one."""
    keyed = [c for c in table.columns if c.pk_position]
    if table.has_rowid and len(keyed) == 1 and keyed[0].declared_type.strip().upper() == "INTEGER":
        return keyed[0].name
    return None


def names_rowid(table: Table, name: str) -> bool:
    """True when `name` (say a key's name) means the rowid of `table`, not one of its columns."""
    return table.has_rowid and name.lower() in ROWID_NAMES and table.column(name) is None


def key_columns(table: Table) -> list[str] | None:
    """How rows of `table` are addressed: [rowid name], primary-key columns, or None (by position)."""
    rowid = rowid_name(table)
    if rowid is not None:
        return [rowid]
    if table.kind is TableKind.TABLE and table.without_rowid and table.primary_key:
        return table.primary_key
    return None


def virtual_rowid_name(conn: sqlite3.Connection, table: Table) -> str | None:
    """The unshadowed rowid name of a virtual table whose module gives its rows one, else None.

    Asks SQLite (a module may declare its table WITHOUT ROWID); raises `sqlite3.Error` when the table
    cannot be read at all (a missing module, an FTS table whose content table is gone).
    """
    name = unshadowed_rowid_name(table)
    if name is None:
        return None
    try:
        source = f"{quote_identifier(table.schema)}.{quote_identifier(table.name)}"  # never a temp namesake
        conn.execute(f"SELECT {name} FROM {source} LIMIT 0").fetchall()
    except sqlite3.Error as exc:
        if "no such column" in str(exc):
            return None
        raise
    return name
