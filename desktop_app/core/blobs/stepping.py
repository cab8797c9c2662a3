"""Stepping through a table's rows one at a time, for the Blobs pane's row picker.

A table with a key (its rowid, or the primary key of a WITHOUT ROWID table) is stepped in key order by
seeking past the current key; views and virtual tables have no key, so their rows are reached by
position (OFFSET). All functions are synchronous over a configured sqlite3 connection; run them with
`Database.run_sync`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from desktop_app.core.schema.catalog import Table
from desktop_app.core.sqlite.quoting import quote_identifier


def neighbour_key(
    conn: sqlite3.Connection,
    table: Table,
    keys: Sequence[str],
    current: Mapping[str, Any] | None,
    direction: int,
) -> dict[str, Any] | None:
    """The key of the row after (1) or before (-1) `current` in key order, or None past the end.

    Without a `current` key in `keys`' columns, or with `direction` 0, the first row (the last for -1).
    """
    names = ", ".join(quote_identifier(name) for name in keys)
    where, params = "", ()
    if current is not None and direction != 0 and list(current) == list(keys):
        placeholders = ", ".join("?" * len(keys))
        where = f" WHERE ({names}) {'<' if direction < 0 else '>'} ({placeholders})"
        params = tuple(current.values())
    order = "DESC" if direction < 0 else "ASC"
    order_by = ", ".join(f"{quote_identifier(name)} {order}" for name in keys)
    sql = f"SELECT {names} FROM {table.quoted}{where} ORDER BY {order_by} LIMIT 1"
    row = conn.execute(sql, params).fetchone()
    return dict(zip(keys, row, strict=True)) if row is not None else None


def has_row_at(conn: sqlite3.Connection, table: Table, position: int) -> bool:
    """True when `table` has a row at `position` (from 0)."""
    sql = f"SELECT 1 FROM {table.quoted} LIMIT 1 OFFSET ?"
    return conn.execute(sql, (position,)).fetchone() is not None


def value_at(conn: sqlite3.Connection, table: Table, column: str, position: int) -> Any:
    """The value of `column` in the row at `position` (from 0) of `table`, or None when there is none."""
    sql = f"SELECT {quote_identifier(column)} FROM {table.quoted} LIMIT 1 OFFSET ?"
    row = conn.execute(sql, (position,)).fetchone()
    return row[0] if row is not None else None
