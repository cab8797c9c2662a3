"""The file names a bulk blob export would give its first rows, for the export dialog's live preview."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.core.blobs.names import format_name_value, parse_name_pattern, sanitize_file_name
from desktop_app.core.blobs.sniff import extension_for, sniff_mime
from desktop_app.core.browse.paging import Truncated
from desktop_app.core.browse.rows import rowid_name
from desktop_app.core.limits import LIMITS
from desktop_app.core.schema.catalog import Table
from desktop_app.core.sqlite.quoting import quote_identifier

#: Rows whose file names the dialog previews.
PREVIEW_ROWS = 5


@dataclass(frozen=True)
class NameSample:
    """One row for the name preview: its values (rowid, pk, columns) and the value's first bytes.

    `head` is None when the row gets no file; `missing` says why ("NULL", "a number").
    """

    values: Mapping[str, Any]
    head: bytes | None
    missing: str = "NULL"


def preview_names(
    pattern: str, fields: Sequence[str], samples: Sequence[NameSample], *, skip_empty: bool = False
) -> list[str]:
    """The file names the first rows would get (before collision numbering); UserError for a bad pattern."""
    name_pattern = parse_name_pattern(pattern)
    name_pattern.check_fields(list(fields))
    names = []
    for n, sample in enumerate(samples, start=1):
        if sample.head is None:
            names.append(f"({sample.missing}: no file)")
            continue
        if not sample.head and skip_empty:
            names.append("(empty: no file)")
            continue
        values = dict(sample.values)
        rowid, pk = values.get("rowid"), values.get("pk")
        pk = pk if pk is not None else rowid if rowid is not None else n  # as the export names them
        values.update(rowid=rowid if rowid is not None else pk, pk=pk, n=n)
        values["ext"] = extension_for(sniff_mime(sample.head))
        names.append(sanitize_file_name(name_pattern.render(values), fallback=f"blob-{n}"))
    return names


def table_name_samples(conn: sqlite3.Connection, table: Table, column: str) -> list[NameSample]:
    """The first rows of `table` with the values the export names files by, and each value's head."""
    names = [c.name for c in table.columns]
    keys = table.primary_key
    name_max = LIMITS.blob_file_name_max_bytes

    def as_name(name: str) -> str:
        quoted = quote_identifier(name)
        short = f"substr({quoted}, 1, {name_max})"
        return f"CASE WHEN typeof({quoted}) IN ('text', 'blob') THEN {short} ELSE {quoted} END"

    value = quote_identifier(column)
    sniff = LIMITS.blob_sniff_bytes
    head = f"CASE WHEN typeof({value}) IN ('blob', 'text') THEN substr(CAST({value} AS BLOB), 1, {sniff}) END"
    select = [rowid_name(table) or "NULL", f"typeof({value})", head, *map(as_name, names)]
    sql = f"SELECT {', '.join(select)} FROM {table.quoted} LIMIT {PREVIEW_ROWS}"
    samples = []
    for row_id, storage, first_bytes, *values in conn.execute(sql).fetchmany(PREVIEW_ROWS):
        row: dict[str, Any] = dict(zip(names, values, strict=True))
        pk = "-".join(format_name_value(row[key]) for key in keys) if keys else row_id
        row.update(rowid=row_id, pk=pk)
        data = bytes(first_bytes) if isinstance(first_bytes, bytes) else None
        samples.append(NameSample(row, data, "NULL" if storage == "null" else "a number"))
    return samples


def result_name_samples(names: Sequence[str], rows: Sequence[Sequence[Any]], column: int) -> list[NameSample]:
    """Name-preview rows from a result's rows already in hand (values may be held in part)."""
    samples = []
    for row in rows[:PREVIEW_ROWS]:
        values: dict[str, Any] = {}
        for name, value in zip(names, row, strict=False):
            values.setdefault(name, value.head if isinstance(value, Truncated) else value)
        value = row[column]
        head = value.head if isinstance(value, Truncated) else value
        if isinstance(head, str):
            head = head.encode("utf-8")
        if isinstance(head, bytes):
            samples.append(NameSample(values, head))
        else:
            samples.append(NameSample(values, None, "NULL" if head is None else "a number"))
    return samples
