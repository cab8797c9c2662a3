"""Which columns of a table hold timestamps, guessed from a sample of their non-NULL values (a job on the
snapshot: a column NULL in its first rows, as Firefox's `last_visit_date` often is, is still recognised)."""

from __future__ import annotations

import sqlite3

from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import Table
from desktop_app.core.sqlite.quoting import quote_identifier
from desktop_app.core.values.timestamps import TimeEncoding, guess_time_encoding


def sample_values_sql(source: str, column: str, values: int, scanned_rows: int) -> str:
    """Up to `values` non-NULL values of `column` among the first `scanned_rows` rows of `source`
    (bounded: a sparse column of a huge table costs one bounded scan, not a full one)."""
    c = quote_identifier(column)
    return (
        f"SELECT {c} FROM (SELECT {c} FROM {source} LIMIT {int(scanned_rows)}) "
        f"WHERE {c} IS NOT NULL LIMIT {int(values)}"
    )


def guess_table_times(
    conn: sqlite3.Connection,
    table: Table,
    cancel: CancelToken | None = None,
    values: int = LIMITS.profile_time_sample_rows,
    scanned_rows: int = LIMITS.profile_sample_rows,
) -> dict[str, TimeEncoding]:
    """Column name → the time encoding its sample reads as (columns reading as no time left out);
    `cancel` is checked between columns (the caller's interrupt stops a statement)."""
    found: dict[str, TimeEncoding] = {}
    for column in table.columns:
        if cancel is not None:
            cancel.raise_if_cancelled()
        sql = sample_values_sql(table.quoted, column.name, values, scanned_rows)
        sample = [row[0] for row in conn.execute(sql)]
        encoding = guess_time_encoding(column.name, column.declared_type, sample)
        if encoding is not None:
            found[column.name] = encoding
    return found
