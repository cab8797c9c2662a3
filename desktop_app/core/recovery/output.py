"""Recovered records as plain data: the CLI's JSON, and the rows of an export with provenance columns."""

from __future__ import annotations

import os
from typing import Any

from desktop_app.core.export.formats import ExportFormat
from desktop_app.core.export.run import export_rows
from desktop_app.core.export.writer import ExportResult
from desktop_app.core.progress import CancelToken, ProgressCallback, ignore_progress
from desktop_app.core.recovery.model import RecoveredRecord, RecoveryResult
from desktop_app.core.recovery.record import LOST

#: The provenance columns an export adds after a record's values.
PROVENANCE_COLUMNS = ("likely table", "source", "page", "offset", "confidence", "rowid", "lost columns")
#: How a lost value is shown in text (grids, text output); JSON has it as null with its index in "lost".
LOST_TEXT = "‹lost›"


def record_as_dict(record: RecoveredRecord) -> dict[str, Any]:
    """One record in the `recover --json` shape (lost values are null and listed by index in "lost")."""
    return {
        "table": record.table,
        "values": [None if v is LOST else v for v in record.values],
        "source": record.source.value,
        "page": record.page,
        "offset": record.offset,
        "confidence": record.confidence,
        "columns": list(record.columns),
        "rowid": None if record.rowid is LOST else record.rowid,
        "lost": list(record.lost),
        "table_dropped": record.table_dropped,
        "defaulted": list(record.defaulted),
    }


def result_as_dict(result: RecoveryResult, records: list[RecoveredRecord] | None = None) -> dict[str, Any]:
    """The whole result in the `recover --json` shape ("records" first: the documented contract)."""
    chosen = result.records if records is None else records
    return {
        "records": [record_as_dict(r) for r in chosen],
        "note": result.note,
        "dropped_tables": result.dropped_tables,
        "live_copies_set_aside": result.live_copies,
        "by_source": result.by_source(),
        "free_pages": result.free_pages,
        "freeblock_bytes": result.freeblock_bytes,
        "unallocated_bytes": result.unallocated_bytes,
    }


def provenance_row(record: RecoveredRecord) -> tuple[object, ...]:
    """A record's values (lost ones as None) followed by its provenance columns, for an export."""
    values = tuple(None if v is LOST else v for v in record.values)
    lost = ", ".join(record.columns[i] for i in record.lost)
    rowid = None if record.rowid is LOST else record.rowid
    table = record.table if record.table is not None else "unknown table"
    return (*values, table, record.source.value, record.page, record.offset, record.confidence, rowid, lost)


def summary(result: RecoveryResult, shown: int | None = None) -> str:
    """One line: how many records came from where, and what was set aside."""
    count = len(result.records) if shown is None else shown
    parts = [f"{count} record{'s' if count != 1 else ''} recovered"]
    sources = result.by_source()
    if sources:
        parts[0] += " (" + ", ".join(f"{k} {v}" for k, v in sorted(sources.items())) + ")"
    if result.live_copies:
        parts.append(f"{result.live_copies} copies of rows still live set aside")
    if result.dropped_tables:
        parts.append("dropped tables: " + ", ".join(result.dropped_tables))
    return "; ".join(parts) + "."


def export_columns(records: list[RecoveredRecord]) -> list[str]:
    """Column names of an export of `records`: the table's columns when they all share them, else
    "value 1" … "value N"; the provenance columns follow."""
    shapes = {r.columns for r in records}
    if len(shapes) == 1:
        names = list(next(iter(shapes)))
    else:
        names = [f"value {i + 1}" for i in range(max((len(r.values) for r in records), default=0))]
    return names + list(PROVENANCE_COLUMNS)


def export_recovered(
    records: list[RecoveredRecord],
    path: str | os.PathLike[str],
    fmt: ExportFormat,
    *,
    source_path: str | os.PathLike[str] | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> ExportResult:
    """Write `records` with their provenance columns to `path` in `fmt` (CSV, JSON… as every export)."""
    columns = export_columns(records)
    width = len(columns) - len(PROVENANCE_COLUMNS)

    def rows() -> list[tuple[object, ...]]:
        out = []
        for record in records:
            row = provenance_row(record)
            values, provenance = row[: len(record.values)], row[len(record.values) :]
            out.append((*values, *(None,) * (width - len(values)), *provenance))
        return out

    return export_rows(
        [rows()],
        columns,
        path,
        fmt,
        progress=progress,
        cancel=cancel,
        total_rows=len(records),
        source_path=source_path,
    )
