"""Where a windowed grid's rows come from: a table (keyset paging) or any SELECT (offset paging).

A row source answers in positions: `count`, `fetch(start, n)`; its work runs off the UI thread
through the `Database`. The grid model (`table_model.py`) knows nothing else about the data.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from desktop_app.core.browse.paging import Page, SortKey, TablePager
from desktop_app.core.database import Database, Params
from desktop_app.core.progress import CancelToken, ProgressCallback, ignore_progress
from desktop_app.core.schema.catalog import Table


@dataclass(frozen=True)
class ColumnInfo:
    """A grid column: its name, declared type and what the header tooltip says about it."""

    name: str
    declared_type: str = ""
    primary_key: int = 0  #: 1-based position in the primary key, 0 when not part of it
    references: str = ""  #: "table(column)" for a foreign key

    @property
    def tooltip(self) -> str:
        """Name, type and key markers, one per line."""
        lines = [self.name, self.declared_type or "(no declared type)"]
        if self.primary_key:
            lines.append(f"🔑 primary key (#{self.primary_key})")
        if self.references:
            lines.append(f"→ foreign key to {self.references}")
        return "\n".join(lines)


class RowSource(Protocol):
    """Rows by position, for `WindowedTableModel`."""

    columns: list[ColumnInfo]

    async def estimate(self) -> int | None:
        """A quick row count guess (None when there is none)."""
        ...

    async def count(self, cancel: CancelToken) -> int:
        """The exact row count (may scan)."""
        ...

    async def prepare(self, cancel: CancelToken, progress: ProgressCallback = ignore_progress) -> None:
        """Background work that makes later fetches fast (e.g. the position index)."""
        ...

    async def fetch(self, start: int, count: int, cancel: CancelToken) -> Page:
        """Up to `count` rows from position `start`."""
        ...

    async def full_value(self, column: int, key: tuple[Any, ...], position: int) -> Any:
        """The whole value of one cell (grid cells may hold only the head of a long value)."""
        ...


class TableRowSource:
    """A table, view or virtual table under a sort order and column filters (keyset paging)."""

    def __init__(
        self,
        database: Database,
        table: Table,
        sort: Sequence[SortKey] = (),
        filters: Mapping[str, str] | None = None,
    ) -> None:
        self.database = database
        self.table = table
        self.pager = TablePager(table, sort, filters)
        references = {
            column: f"{fk.target_table}({target or '?'})"
            for fk in table.foreign_keys
            for column, target in zip(fk.from_columns, fk.to_columns, strict=False)
        }
        self.columns = [
            ColumnInfo(c.name, c.declared_type, c.pk_position, references.get(c.name, ""))
            for c in table.columns
            if c.name in self.pager.columns
        ]

    async def estimate(self) -> int | None:
        """max(rowid) for an unfiltered rowid table, else None."""
        return await self.database.run_sync(self.pager.estimate)

    async def count(self, cancel: CancelToken) -> int:
        """COUNT(*) under the filters; also detects dense rowids."""
        return await self.database.run_sync(self.pager.count, cancel=cancel)

    async def prepare(self, cancel: CancelToken, progress: ProgressCallback = ignore_progress) -> None:
        """Build the sparse position index."""
        await self.database.run_sync(self.pager.build_index, progress, cancel, cancel=cancel)

    async def fetch(self, start: int, count: int, cancel: CancelToken) -> Page:
        """One page by keyset seek."""
        return await self.database.run_sync(self.pager.fetch, start, count, cancel=cancel)

    async def full_value(self, column: int, key: tuple[Any, ...], position: int) -> Any:
        """The whole value, by key."""
        name = self.columns[column].name
        return await self.database.run_sync(self.pager.full_value, name, key, position)

    async def position_of(self, key: Mapping[str, Any]) -> int | None:
        """Where the row with `key` is under the current order and filters."""
        return await self.database.run_sync(self.pager.position_of, key)


class QueryRowSource:
    """The result of any SELECT, paged by `SELECT * FROM (<sql>) LIMIT n OFFSET start`."""

    def __init__(self, database: Database, sql: str, params: Params, columns: list[ColumnInfo]) -> None:
        self.database = database
        self.sql = sql
        self.params = params
        self.columns = columns

    @classmethod
    async def create(cls, database: Database, sql: str, params: Params = ()) -> QueryRowSource:
        """Describe the result's columns (runs the statement with LIMIT 0) and return the source."""
        inner = _as_subquery(sql)
        result = await database.execute(f"SELECT * FROM {inner} LIMIT 0", params, use_cache=False)
        columns = [
            ColumnInfo(name, declared)
            for name, declared in zip(result.columns.names, result.columns.declared_types, strict=False)
        ]
        return cls(database, inner, params, columns)

    async def estimate(self) -> int | None:
        """None: a query has no cheap estimate."""
        return None

    async def count(self, cancel: CancelToken) -> int:
        """COUNT(*) over the query."""
        sql = f"SELECT count(*) FROM {self.sql}"

        def run(conn: sqlite3.Connection) -> int:
            return int(conn.execute(sql, self.params).fetchone()[0])

        return await self.database.run_sync(run, cancel=cancel)

    async def prepare(self, cancel: CancelToken, progress: ProgressCallback = ignore_progress) -> None:
        """Nothing to prepare for OFFSET paging."""

    async def fetch(self, start: int, count: int, cancel: CancelToken) -> Page:
        """One page by OFFSET."""
        # LIMIT/OFFSET are our own integers; pasting them keeps the user's ? or :name parameters intact.
        sql = f"SELECT * FROM {self.sql} LIMIT {int(count)} OFFSET {int(start)}"

        def run(conn: sqlite3.Connection) -> Page:
            rows = [tuple(r) for r in conn.execute(sql, self.params).fetchmany(count)]
            return Page(start, rows, [() for _ in rows])

        return await self.database.run_sync(run, cancel=cancel)

    async def full_value(self, column: int, key: tuple[Any, ...], position: int) -> Any:
        """Rows hold whole values already: read it again by position."""
        page = await self.fetch(position, 1, CancelToken())
        return page.rows[0][column] if page.rows else None


def _as_subquery(sql: str) -> str:
    """`(<sql>)` with trailing semicolons dropped; newlines keep a trailing `--` comment inside."""
    body = sql.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    return f"(\n{body}\n)"
