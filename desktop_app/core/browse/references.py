"""Foreign keys of a row: where its values point (declared, or inferred from `<name>_id` columns) and how
many rows of other tables point at it. Results are plain data: a table and key values to open, no SQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop_app.core.browse.rows import rowid_alias_column, rowid_name
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import Catalog, Table, TableKind
from desktop_app.core.sqlite.interrupt import cancellable
from desktop_app.core.sqlite.quoting import quote_identifier


@dataclass(frozen=True)
class RowLink:
    """A reference from columns of one row to a row of `table`, found by `key` (column → value)."""

    from_columns: tuple[str, ...]
    table: str
    key: dict[str, Any]
    inferred: bool  #: guessed from a `<name>_id` column, not declared by a FOREIGN KEY


@dataclass(frozen=True)
class IncomingReference:
    """`count` rows of `table` whose `columns` hold `values` (open them as a filter on equality)."""

    table: str
    columns: tuple[str, ...]
    values: tuple[Any, ...]
    count: int
    inferred: bool


def _key_of(target: Table) -> list[str]:
    """The columns a reference without named target columns points at: the primary key, or the rowid."""
    if target.primary_key:
        return target.primary_key
    rowid = rowid_name(target)
    return [rowid] if rowid else []


def _declared(catalog: Catalog, table: Table) -> list[tuple[tuple[str, ...], Table, tuple[str, ...]]]:
    found = []
    for fk in table.foreign_keys:
        target = catalog.table(fk.target_table)
        if target is None:
            continue
        to = fk.to_columns if all(fk.to_columns) else tuple(_key_of(target))
        if len(to) == len(fk.from_columns):
            found.append((fk.from_columns, target, tuple(str(c) for c in to)))
    order = {c.name: i for i, c in enumerate(table.columns)}  # in column order, as the grid shows them
    return sorted(found, key=lambda ref: order.get(ref[0][0], len(order)))


def _inferred_target(catalog: Catalog, column: str) -> tuple[Table, str] | None:
    """The table a `<name>_id` column probably points at (`<name>` or `<name>s`) and its key column."""
    if not column.lower().endswith("_id") or len(column) <= 3:
        return None
    base = column[:-3]
    for candidate in (base, base + "s"):
        target = catalog.table(candidate)
        if target is None or target.kind is not TableKind.TABLE:
            continue
        if target.column("id") is not None:
            return target, "id"
        rowid = rowid_name(target)
        if rowid is not None:
            return target, rowid
    return None


def _inferred(catalog: Catalog, table: Table) -> list[tuple[tuple[str, ...], Table, tuple[str, ...]]]:
    declared = {c.lower() for fk in table.foreign_keys for c in fk.from_columns}
    found = []
    for column in table.columns:
        if column.name.lower() in declared:
            continue
        hit = _inferred_target(catalog, column.name)
        if hit is not None:
            found.append(((column.name,), hit[0], (hit[1],)))
    return found


def link_columns(catalog: Catalog, table: Table) -> dict[str, tuple[str, bool]]:
    """The columns of `table` that refer to another table's rows: column → (`target(key columns)`, True
    when the reference is only inferred from a `<name>_id` column rather than declared)."""
    links: dict[str, tuple[str, bool]] = {}
    for inferred, found in ((False, _declared(catalog, table)), (True, _inferred(catalog, table))):
        for from_columns, target, to_columns in found:
            for column in from_columns:
                links.setdefault(column, (f"{target.name}({', '.join(to_columns)})", inferred))
    return links


def outgoing_references(catalog: Catalog, table: Table, row: Mapping[str, Any]) -> list[RowLink]:
    """The rows `row` (column → value) of `table` refers to: declared foreign keys, then inferred ones.

    A reference whose values are NULL (or missing from `row`) points nowhere and is left out.
    """
    links = []
    for inferred, found in ((False, _declared(catalog, table)), (True, _inferred(catalog, table))):
        for from_columns, target, to_columns in found:
            values = [row.get(c) for c in from_columns]
            if any(v is None for v in values):
                continue
            links.append(
                RowLink(from_columns, target.name, dict(zip(to_columns, values, strict=True)), inferred)
            )
    return links


def incoming_references(
    conn: sqlite3.Connection,
    catalog: Catalog,
    table: Table,
    key: Mapping[str, Any],
    cancel: CancelToken | None = None,
) -> list[IncomingReference]:
    """How many rows of each table refer to the row of `table` with `key` (column → value, or the rowid).

    Covers declared foreign keys of every table and inferred `<name>_id` columns; tables that refer
    to it with no row are listed with count 0. Raises `Cancelled` when `cancel` is cancelled.
    """
    token = cancel or CancelToken()
    known = _row_values(conn, table, key)
    result = []
    for other in catalog.visible_tables():
        if other.kind is not TableKind.TABLE or other.error:
            continue
        for inferred, found in ((False, _declared(catalog, other)), (True, _inferred(catalog, other))):
            for from_columns, target, to_columns in found:
                if target.name != table.name or target.schema != table.schema:
                    continue
                values = tuple(known.get(c.lower()) for c in to_columns)
                if any(v is None for v in values):
                    continue
                count = _count(conn, other, from_columns, values, token)
                result.append(IncomingReference(other.name, from_columns, values, count, inferred))
    return result


def _row_values(conn: sqlite3.Connection, table: Table, key: Mapping[str, Any]) -> dict[str, Any]:
    """Every column value of the row found by `key` (lower-cased names; the rowid under its names too)."""
    where = " AND ".join(f"{quote_identifier(c)} = ?" for c in key)
    rowid = rowid_name(table)
    extra = f", {rowid}" if rowid else ""
    cursor = conn.execute(f"SELECT *{extra} FROM {table.quoted} WHERE {where} LIMIT 1", tuple(key.values()))
    row = cursor.fetchone()
    if row is None:
        return {}
    names = [d[0] for d in cursor.description]
    values = {name.lower(): value for name, value in zip(names, row, strict=True)}
    alias = rowid_alias_column(table)
    if rowid and alias:
        values.setdefault(alias.lower(), values.get(rowid))
    return values


def _count(
    conn: sqlite3.Connection,
    table: Table,
    columns: tuple[str, ...],
    values: tuple[Any, ...],
    cancel: CancelToken,
) -> int:
    where = " AND ".join(f"{quote_identifier(c)} = ?" for c in columns)
    with cancellable(conn, cancel):
        return int(conn.execute(f"SELECT count(*) FROM {table.quoted} WHERE {where}", values).fetchone()[0])
