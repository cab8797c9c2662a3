"""A table's changed rows for a grid (a row source), filtered, and exported as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.browse.paging import Page
from desktop_app.core.browse.row_sources import ColumnInfo, HeldRowSource
from desktop_app.core.diff.model import ChangeKind, RowChange, TableDiff
from desktop_app.core.diff.values import Value, display_value, json_value, same_value
from desktop_app.core.export.output_paths import ensure_not_source, write_file
from desktop_app.core.progress import CancelToken

#: The grid's first column: what happened to the row.
CHANGE_COLUMN = "change"
_MARKS = {ChangeKind.ADDED: "+ added", ChangeKind.REMOVED: "− removed", ChangeKind.CHANGED: "~ changed"}


@dataclass(frozen=True)
class CellChange:
    """A cell whose value differs: shown as `old → new`, highlighted by the grid."""

    old: Value
    new: Value

    def __str__(self) -> str:
        return f"{display_value(self.old)} → {display_value(self.new)}"


def grid_row(change: RowChange) -> tuple[Any, ...]:
    """The row the grid shows: the change, then each column's value (a `CellChange` where it differs)."""
    if change.old is None or change.new is None:
        values = change.new if change.old is None else change.old
        assert values is not None
        return (_label(change), *values)
    cells = tuple(
        a if same_value(a, b) else CellChange(a, b) for a, b in zip(change.old, change.new, strict=True)
    )
    return (_label(change), *cells)


def _label(change: RowChange) -> str:
    mark = _MARKS[change.kind]
    return f"{mark} ×{change.count}" if change.count != 1 else mark


def matches(change: RowChange, kind: ChangeKind | None, text: str) -> bool:
    """True when `change` is of `kind` (any when None) and holds `text` (case-insensitive) in a value."""
    if kind is not None and change.kind is not kind:
        return False
    if not text:
        return True
    needle = text.casefold()
    values = (change.old or ()) + (change.new or ()) + change.key
    return any(needle in display_value(v, 10_000).casefold() for v in values)


class ChangeRows(HeldRowSource):
    """The changed rows of one table as a `RowSource` (held in memory, filtered once when made)."""

    def __init__(
        self, table: TableDiff, changes: list[RowChange], kind: ChangeKind | None = None, text: str = ""
    ) -> None:
        self.table = table
        columns = [ColumnInfo(CHANGE_COLUMN)] + [
            ColumnInfo(
                name, primary_key=table.key_columns.index(name) + 1 if name in table.key_columns else 0
            )
            for name in table.columns
        ]
        self.changes = [c for c in changes if matches(c, kind, text)]
        super().__init__(columns, self.changes)  # type: ignore[arg-type]  # held as changes, shown as grid rows

    async def fetch(self, start: int, count: int, cancel: CancelToken) -> Page:
        """Grid rows from `start`."""
        part = self.changes[start : start + count]
        return Page(start, [grid_row(c) for c in part], [c.key for c in part])

    async def full_value(self, column: int, key: tuple[Any, ...], position: int) -> Any:
        """Values are held whole."""
        return grid_row(self.changes[position])[column]


def changes_csv(table: TableDiff, changes: list[RowChange]) -> bytes:
    """CSV: change, count, then `column (old)` and `column (new)` for every column; blobs in hex."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = [CHANGE_COLUMN, "count"]
    for name in table.columns:
        header += [f"{name} (old)", f"{name} (new)"]
    writer.writerow(header)
    for change in changes:
        row: list[Any] = [change.kind.value, change.count]
        for i in range(len(table.columns)):
            row += [_csv_value(change.old, i), _csv_value(change.new, i)]
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def _csv_value(values: tuple[Value, ...] | None, index: int) -> Any:
    if values is None:
        return ""
    value = values[index]
    if value is None:
        return ""
    if isinstance(value, bytes):
        return "x'" + value.hex() + "'"
    return value


def row_json(table: TableDiff, change: RowChange) -> dict[str, Any]:
    """One changed row for JSON: change, key, count (when not 1), old and new values by column."""
    row: dict[str, Any] = {"change": change.kind.value}
    if change.key:
        row["key"] = dict(zip(table.key_columns, (json_value(v) for v in change.key), strict=True))
    if change.count != 1:
        row["count"] = change.count
    for side, values in (("old", change.old), ("new", change.new)):
        if values is not None:
            row[side] = {c: json_value(v) for c, v in zip(table.columns, values, strict=True)}
    return row


def changes_json(table: TableDiff, changes: list[RowChange]) -> bytes:
    """JSON: the table, its columns and key, and each row's change with old and new values."""
    rows = [row_json(table, change) for change in changes]
    data = {"table": table.name, "columns": table.columns, "key": table.key_columns, "rows": rows}
    return (json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False) + "\n").encode("utf-8")


def export_changes(
    path: str | Path, table: TableDiff, changes: list[RowChange], *, sources: tuple[Path | None, ...] = ()
) -> None:
    """Write `changes` to `path` as CSV, or JSON when it ends in `.json`; never over a compared file."""
    data = (
        changes_json(table, changes) if str(path).lower().endswith(".json") else changes_csv(table, changes)
    )
    for source in sources:
        ensure_not_source(path, source)
    write_file(path, data, source_path=next((s for s in sources if s is not None), None))
