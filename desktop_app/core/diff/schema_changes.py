"""Schema changes between two catalogs: tables, columns, indexes, views and triggers."""

from __future__ import annotations

from desktop_app.core.diff.model import ChangeKind, SchemaChange
from desktop_app.core.schema.catalog import Catalog, Table, TableKind


def compared_tables(catalog: Catalog) -> dict[str, Table]:
    """Tables, virtual tables and views by name: shadow tables are left out (their virtual table stands
    for them, compared once)."""
    return {t.name: t for t in catalog.tables if t.kind is not TableKind.SHADOW}


def table_changes(old: Table | None, new: Table | None) -> list[SchemaChange]:
    """How the table (or view) itself changed: added, dropped, or altered with its columns named."""
    table = (new or old).name  # type: ignore[union-attr]
    kind = (new or old).kind  # type: ignore[union-attr]
    object_type = "view" if kind is TableKind.VIEW else "table"
    if old is None:
        return [SchemaChange(ChangeKind.ADDED, object_type, table, table, None, new.sql)]  # type: ignore[union-attr]
    if new is None:
        return [SchemaChange(ChangeKind.REMOVED, object_type, table, table, old.sql, None)]
    if old.sql == new.sql:
        return []
    return [
        SchemaChange(ChangeKind.CHANGED, object_type, table, table, old.sql, new.sql, column_detail(old, new))
    ]


def column_detail(old: Table, new: Table) -> str:
    """'column x added, column y dropped, column z: INTEGER → TEXT, columns reordered'."""
    before = {c.name: c for c in old.columns}
    after = {c.name: c for c in new.columns}
    parts = [f"column {name!r} added" for name in after if name not in before]
    parts += [f"column {name!r} dropped" for name in before if name not in after]
    for name, column in after.items():
        was = before.get(name)
        if was is None:
            continue
        if was.declared_type != column.declared_type:
            parts.append(
                f"column {name!r}: {was.declared_type or 'no type'} → {column.declared_type or 'no type'}"
            )
        if was.not_null != column.not_null:
            parts.append(f"column {name!r}: {'NOT NULL' if column.not_null else 'NULL allowed'}")
        if was.default != column.default:
            parts.append(f"column {name!r}: default {was.default} → {column.default}")
        if was.pk_position != column.pk_position:
            parts.append(f"column {name!r}: primary key position {was.pk_position} → {column.pk_position}")
    common_before = [n for n in before if n in after]
    common_after = [n for n in after if n in before]
    if common_before != common_after:
        parts.append("columns reordered")
    if old.without_rowid != new.without_rowid:
        parts.append("WITHOUT ROWID" if new.without_rowid else "now a rowid table")
    if old.strict != new.strict:
        parts.append("STRICT" if new.strict else "no longer STRICT")
    return ", ".join(parts) or "definition changed"


def object_changes(old: Catalog, new: Catalog) -> list[SchemaChange]:
    """Indexes (created ones: automatic indexes come with their table) and triggers added, dropped,
    altered."""
    changes: list[SchemaChange] = []
    for object_type, before, after in (
        ("index", _created_indexes(old), _created_indexes(new)),
        (
            "trigger",
            {t.name: (t.table, t.sql) for t in old.triggers},
            {t.name: (t.table, t.sql) for t in new.triggers},
        ),
    ):
        for name, (table, sql) in after.items():
            if name not in before:
                changes.append(SchemaChange(ChangeKind.ADDED, object_type, name, table, None, sql))
            elif before[name][1] != sql:
                changes.append(
                    SchemaChange(ChangeKind.CHANGED, object_type, name, table, before[name][1], sql)
                )
        for name, (table, sql) in before.items():
            if name not in after:
                changes.append(SchemaChange(ChangeKind.REMOVED, object_type, name, table, sql, None))
    return changes


def _created_indexes(catalog: Catalog) -> dict[str, tuple[str, str | None]]:
    return {i.name: (i.table, i.sql) for i in catalog.indexes if i.sql is not None}
