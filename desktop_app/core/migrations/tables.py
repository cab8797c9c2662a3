"""Reading the database side: table shapes and streamed rows of tracking tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.core.browse.rows import rowid_name
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import TableKind, read_tables
from desktop_app.core.sqlite.interrupt import cancellable
from desktop_app.core.sqlite.quoting import quote_identifier


@dataclass(frozen=True)
class TableShape:
    """A table's name and columns; column keys are lower-cased because SQLite names are case-insensitive."""

    name: str
    #: lower-cased column name → (column name as declared, declared type upper-cased)
    columns: dict[str, tuple[str, str]]
    #: the name that reaches the rowid (None: a WITHOUT ROWID table, or every rowid name is a column)
    rowid: str | None = None

    @property
    def column_set(self) -> frozenset[str]:
        """The lower-cased column names."""
        return frozenset(self.columns)

    def declared_type(self, column: str) -> str:
        """The declared type of `column` (lower-case key), upper-cased, '' when none."""
        return self.columns[column][1]


def read_shapes(conn: sqlite3.Connection) -> dict[str, TableShape]:
    """Return every ordinary table of the main schema, keyed by lower-cased name."""
    shapes: dict[str, TableShape] = {}
    for table in read_tables(conn, "main"):
        # Errors: e.g. a virtual table whose module is not loaded.
        if table.kind is TableKind.VIEW or table.internal or table.error is not None:
            continue
        columns = {c.name.lower(): (c.name, c.declared_type.upper()) for c in table.columns if not c.hidden}
        shapes[table.name.lower()] = TableShape(name=table.name, columns=columns, rowid=rowid_name(table))
    return shapes


def user_version(conn: sqlite3.Connection) -> int:
    """Return `PRAGMA user_version`."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def stream_rows(
    conn: sqlite3.Connection,
    shape: TableShape,
    wanted: Sequence[str],
    *,
    order_by: Sequence[str] = (),
    where: str = "",
    limit: int | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield rows of `shape` as dicts keyed by the lower-cased `wanted` columns (absent ones are None)."""
    present = [c for c in wanted if c in shape.columns]
    if not present:
        return
    select = ", ".join(quote_identifier(shape.columns[c][0]) for c in present)
    sql = f"SELECT {select} FROM {quote_identifier(shape.name)}"
    if where:
        sql += f" WHERE {where}"
    order = [quote_identifier(shape.columns[c][0]) for c in order_by if c in shape.columns]
    sql += f" ORDER BY {', '.join(order)}" if order else f" ORDER BY {shape.rowid}" if shape.rowid else ""
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with cancellable(conn, cancel):
        cursor = conn.execute(sql)
        while True:
            if cancel:
                cancel.raise_if_cancelled()
            page = cursor.fetchmany(LIMITS.page_rows)
            if not page:
                break
            for row in page:
                record = dict.fromkeys(wanted)
                record.update(zip(present, row, strict=True))
                yield record


def text(value: Any) -> str | None:
    """Return a cell as text (None stays None; blobs as hex)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def flag(value: Any) -> bool | None:
    """Return a stored boolean (0/1, 'true'/'false', 't'/'f') as bool, None when NULL or unreadable."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return bool(value)
    lowered = str(value).strip().lower()
    if lowered in {"1", "true", "t", "yes", "y"}:
        return True
    if lowered in {"0", "false", "f", "no", "n", ""}:
        return False
    return None


def integer(value: Any) -> int | None:
    """Return a cell as int, None when it is not a whole number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return int(number) if number.is_integer() else None
