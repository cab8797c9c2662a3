"""Where a result grid's rows come from, by position: a table, a query, or rows already in hand.

A row source answers in positions (row 0 is the first row under the current order and filters):
`count`, `fetch(start, n)`. Its SQLite work runs on the `Database`'s worker threads, so the grid model
(`ui/models/table_model.py`) takes a row source and never sees SQL. Not to be confused with
`core/snapshot/source_file.py`, the user's database file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from desktop_app.core.browse.paging import Page, SortKey, TablePager
from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, ProgressCallback, ignore_progress
from desktop_app.core.schema.catalog import Table
from desktop_app.core.sqlite.nested_query import NestedQuery

if TYPE_CHECKING:  # the database service sits above browse; rows only need its types
    from desktop_app.core.database import Database, Params, QueryResult


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

    def shown_rows_query(self, columns: Sequence[str] | None = None) -> tuple[str, tuple[Any, ...]]:
        """The statement giving every row as the grid shows it (filters and sort), for export."""
        return self.pager.shown_rows_query(columns)

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
    """The result of one nestable query (SELECT, VALUES, WITH), paged by OFFSET."""

    def __init__(self, database: Database, query: NestedQuery, columns: list[ColumnInfo]) -> None:
        self.database = database
        self.query = query
        self.columns = columns

    @classmethod
    async def create(cls, database: Database, sql: str, params: Params = ()) -> QueryRowSource:
        """Describe the result's columns (runs the statement with LIMIT 0) and return the source."""
        query = NestedQuery.of(sql, params)
        if query is None:
            raise UserError("Only one SELECT, VALUES or WITH query can be shown page by page.")
        described = await query.describe(database)
        return cls(database, query, columns_of(described.names, described.declared_types))

    async def estimate(self) -> int | None:
        """None: a query has no cheap estimate."""
        return None

    async def count(self, cancel: CancelToken) -> int:
        """COUNT(*) over the query."""
        return await self.database.run_sync(self.query.count, cancel=cancel)

    async def prepare(self, cancel: CancelToken, progress: ProgressCallback = ignore_progress) -> None:
        """Nothing to prepare for OFFSET paging."""

    async def fetch(self, start: int, count: int, cancel: CancelToken) -> Page:
        """One page by OFFSET."""
        rows = await self.database.run_sync(self.query.rows, start, count, cancel=cancel)
        return Page(start, rows, [() for _ in rows])

    async def full_value(self, column: int, key: tuple[Any, ...], position: int) -> Any:
        """Rows hold whole values already: read it again by position."""
        page = await self.fetch(position, 1, CancelToken())
        return page.rows[0][column] if page.rows else None


class QueryResultSource(QueryRowSource):
    """A long query result: its first rows and its count from the run, later rows by OFFSET."""

    def __init__(
        self,
        database: Database,
        query: NestedQuery,
        columns: list[ColumnInfo],
        first_rows: list[tuple[Any, ...]],
    ) -> None:
        super().__init__(database, query, columns)
        self.first_rows = first_rows
        self._total: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        # Nobody may be waiting when the run stops: mark a stored exception as seen.
        self._total.add_done_callback(lambda f: f.cancelled() or f.exception())

    def set_total(self, total: int | UserError | None) -> None:
        """The run's count; an error (Stop) leaves the grid growing page by page; None = count here."""
        if self._total.done():
            return
        if isinstance(total, UserError):
            self._total.set_exception(total)
        else:
            self._total.set_result(total)

    async def count(self, cancel: CancelToken) -> int:
        """The count the run finds (the grid does not count a second time)."""
        total = await asyncio.shield(self._total)
        return total if total is not None else await super().count(cancel)

    async def fetch(self, start: int, count: int, cancel: CancelToken) -> Page:
        """Rows the run already fetched are served from memory; the rest by OFFSET."""
        if start + count <= len(self.first_rows):
            rows = self.first_rows[start : start + count]
            return Page(start, rows, [() for _ in rows])
        return await super().fetch(start, count, cancel)


class HeldRowSource:
    """A result small enough to have been fetched whole (at most a page or the cache's row limit)."""

    def __init__(self, columns: list[ColumnInfo], rows: list[tuple[Any, ...]]) -> None:
        self.columns = columns
        self.rows = rows

    async def estimate(self) -> int | None:
        """The number of rows held."""
        return len(self.rows)

    async def count(self, cancel: CancelToken) -> int:
        """The number of rows held."""
        return len(self.rows)

    async def prepare(self, cancel: CancelToken, progress: ProgressCallback = ignore_progress) -> None:
        """Nothing to prepare."""

    async def fetch(self, start: int, count: int, cancel: CancelToken) -> Page:
        """A slice of the held rows."""
        rows = self.rows[start : start + count]
        return Page(start, rows, [() for _ in rows])

    async def full_value(self, column: int, key: tuple[Any, ...], position: int) -> Any:
        """Values are held whole."""
        return self.rows[position][column]


def columns_of(names: Sequence[str], declared_types: Sequence[str]) -> list[ColumnInfo]:
    """Grid columns for a result (duplicate names kept as SQLite gave them)."""
    types = list(declared_types) + [""] * (len(names) - len(declared_types))
    return [ColumnInfo(name, declared) for name, declared in zip(names, types, strict=False)]


@dataclass(frozen=True)
class FirstRows:
    """A statement's first rows, and the query that fetches the rest when there are more to page through."""

    result: QueryResult
    more: NestedQuery | None


async def run_first_rows(
    database: Database, sql: str, cancel: CancelToken | None = None, params: Params = ()
) -> FirstRows:
    """Run a statement for a result grid (through the result cache).

    A nestable query is run for its first page: when it has more rows, `more` pages through them by
    OFFSET. Any other statement (PRAGMA, EXPLAIN…) is run for up to `result_cache_max_rows` rows.
    """
    query = NestedQuery.of(sql, params)
    max_rows = LIMITS.page_rows if query is not None else LIMITS.result_cache_max_rows
    result = await database.execute(sql, params, max_rows=max_rows, cancel=cancel)
    return FirstRows(result, query if result.truncated else None)
