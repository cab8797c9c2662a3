"""The instant search index: a trigram FTS5 index of every text value, in its own memory database.

The index lives in a named memdb (`file:/search-<uuid>?vfs=memdb`), never in the user's file and
never in the snapshot's `main`. A keeper connection owned by the index holds it alive; every connection
that searches ATTACHes it under the index's own schema name (`attach()`, done by `search()` itself), so
all pooled readers share one copy and read it in parallel. Building runs on a snapshot connection inside
`connection.scratch_writes` (query_only and the authorizer lifted) only while our own
`INSERT INTO <index schema>.entries SELECT ... FROM main.t` statements run, so the text never passes
through Python.

Each row of `entries` is one value: its text (`CAST(value AS TEXT)`), the column it came from, its
storage class and its row key (rowid or primary-key values in k0..kN). A table's rows are inserted
row by row (in rowid slices, for progress and cancel), so they occupy one contiguous rowid range,
which is how a search asks for one table at a time. Trigram MATCH needs 3+ characters, folds case
and finds substrings: a superset of the hits, which Python checks exactly as a scan does. Regular
expressions, blobs, queries shorter than 3 characters (and numbers, unless built with them) are
answered by scanning instead.

The index belongs to one snapshot generation: the snapshot never changes, so the index is never stale;
drop it (`close()`, and detach or close the connections that attached it) on reload.
"""

from __future__ import annotations

import functools
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from desktop_app.core.connection import scratch_writes
from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.jobs import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.limits import LIMITS
from desktop_app.core.quoting import quote_identifier, quote_string
from desktop_app.core.search.fts import fts5_phrase
from desktop_app.core.search.matching import Matcher
from desktop_app.core.search.options import BLOB, INTEGER, REAL, TEXT, SearchOptions
from desktop_app.core.search.results import Hit, Method, RowKey
from desktop_app.core.search.schema import SearchTable, read_search_tables
from desktop_app.core.sqlite.guard import attach_memory_database, detach_database
from desktop_app.core.sqlite_lib import raise_memdb_limit

#: Trigram MATCH (and LIKE) can use the index only for this many characters or more.
MIN_INDEX_CHARS = 3
#: Rows indexed per statement: progress moves and cancel is checked between them (~0.5 s each).
_ROWS_PER_STEP = 20_000
#: Progress units per table (per-mille of its rows).
_STEPS_PER_TABLE = 1000
_TRIGRAM_SQL = "CREATE VIRTUAL TABLE temp.probe USING fts5(value, tokenize='trigram')"


class IndexUnavailable(UserError):
    """This SQLite cannot build the search index (no FTS5 trigram tokenizer)."""


@functools.cache
def trigram_support() -> str | None:
    """None when this SQLite has the FTS5 trigram tokenizer, else why not (a message for the user)."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute(_TRIGRAM_SQL)
        return None
    except sqlite3.Error as exc:
        return (
            "The instant search index needs SQLite 3.34 or newer with FTS5 "
            f"(this is {sqlite3.sqlite_version}: {exc}); searches scan the tables instead."
        )
    finally:
        probe.close()


def auto_index_wanted(conn: sqlite3.Connection) -> bool:
    """True when the snapshot is small enough to build the index without being asked."""
    if trigram_support() is not None:
        return False
    pages, page_size = conn.execute("SELECT * FROM pragma_page_count, pragma_page_size").fetchone()
    return bool(pages * page_size <= LIMITS.auto_index_max_bytes)


@dataclass(frozen=True)
class IndexedTable:
    """Where one table's values are in the index."""

    name: str
    key_columns: tuple[str, ...]
    key_is_rowid: bool
    first_entry: int
    last_entry: int
    #: column id → column name
    columns: dict[int, str]


@dataclass
class SearchIndex:
    """A built trigram index of one snapshot generation (see the module docstring)."""

    generation: int
    uri: str
    schema: str
    include_numbers: bool
    key_width: int
    tables: dict[str, IndexedTable] = field(default_factory=dict)
    #: Tables that could not be indexed → why.
    notes: dict[str, str] = field(default_factory=dict)
    built_at: float = 0.0  #: time.time() when the build finished
    build_seconds: float = 0.0
    size_bytes: int = 0
    entries: int = 0
    _keeper: sqlite3.Connection | None = None

    @classmethod
    def build(
        cls,
        conn: sqlite3.Connection,
        *,
        generation: int,
        include_numbers: bool = False,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> SearchIndex:
        """Index every text value (and numbers, if asked) of the snapshot behind `conn`; cancellable."""
        reason = trigram_support()
        if reason is not None:
            raise IndexUnavailable(reason)
        started = time.perf_counter()
        found = read_search_tables(conn)
        tables = [t for t in found if t.kind != "view" and not t.error and not t.skip_note]
        name = uuid.uuid4().hex
        index = cls(
            generation=generation,
            uri=f"file:/search-{name}?vfs=memdb",
            schema=f"search_index_{name[:12]}",
            include_numbers=include_numbers,
            key_width=max((len(t.key_sql) for t in tables), default=0),
            notes={t.name: t.error for t in found if t.error and t.kind != "view"},
        )
        index._create(conn.execute("PRAGMA encoding").fetchone()[0])
        try:
            index._fill(conn, tables, progress, cancel or CancelToken())
        except BaseException:
            index.detach(conn)
            index.close()
            raise
        index.build_seconds = time.perf_counter() - started
        index.built_at = time.time()
        schema = quote_identifier(index.schema)
        pages = conn.execute(f"PRAGMA {schema}.page_count").fetchone()[0]
        index.size_bytes = pages * conn.execute(f"PRAGMA {schema}.page_size").fetchone()[0]
        return index

    @property
    def value_types(self) -> frozenset[str]:
        """The storage classes the index holds."""
        return frozenset({TEXT, INTEGER, REAL} if self.include_numbers else {TEXT})

    def unusable_for(self, options: SearchOptions) -> str | None:
        """None when the index can answer `options`, else why a scan is needed instead."""
        if self._keeper is None:
            return "the search index was closed"
        if options.regex:
            return "regular expressions are not answered by the search index"
        if BLOB in options.value_types:
            return "blobs are not in the search index"
        if not options.value_types <= self.value_types:
            return "numbers are not in the search index"
        if len(options.text) < MIN_INDEX_CHARS:
            return f"the search index needs at least {MIN_INDEX_CHARS} characters"
        return None

    def attach(self, conn: sqlite3.Connection) -> None:
        """ATTACH the index to `conn` under `self.schema` (once per connection)."""
        if not self._attached(conn):
            attach_memory_database(conn, self.uri, self.schema)

    def detach(self, conn: sqlite3.Connection) -> None:
        """DETACH the index from `conn` if attached (no statement may be running on `conn`)."""
        if self._attached(conn):
            detach_database(conn, self.schema)

    def close(self) -> None:
        """Release the index; its memory goes once every connection that attached it detaches or closes."""
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None

    def table_hits(
        self, conn: sqlite3.Connection, table: str, matcher: Matcher, chosen: frozenset[str] | None
    ) -> Iterator[Hit]:
        """Hits of `matcher` in `table` (its `chosen` columns, if given), answered from the index."""
        entry = self.tables.get(table)
        if entry is None:
            return
        self.attach(conn)
        wanted = {cid for cid, name in entry.columns.items() if chosen is None or name in chosen}
        value_types = matcher.options.value_types
        keys = ", ".join(f"k{i}" for i in range(len(entry.key_columns)))
        sql = (
            f"SELECT column_id, value_type, value{', ' + keys if keys else ''} "
            f"FROM {quote_identifier(self.schema)}.entries WHERE entries MATCH ? AND rowid BETWEEN ? AND ?"
        )
        cursor = conn.execute(sql, (fts5_phrase(matcher.options.text), entry.first_entry, entry.last_entry))
        try:
            for column_id, value_type, value, *key_values in cursor:
                if column_id not in wanted or value_type not in value_types:
                    continue
                snippet = matcher.snippet(value)
                if snippet is None:
                    continue
                key = RowKey(entry.key_columns, tuple(key_values), entry.key_is_rowid) if keys else None
                yield Hit(
                    table, entry.columns[column_id], key, value_type,
                    snippet.text, snippet.spans, snippet.match_start, Method.INDEX,
                )  # fmt: skip
        finally:
            cursor.close()

    def _attached(self, conn: sqlite3.Connection) -> bool:
        return any(row[1] == self.schema for row in conn.execute("PRAGMA database_list"))

    def _create(self, encoding: str) -> None:
        self._keeper = sqlite3.connect(self.uri, uri=True, check_same_thread=False, isolation_level=None)
        raise_memdb_limit(self.uri, LIMITS.memdb_max_bytes)
        # SQLite attaches only databases in the main database's text encoding (UTF-16 files exist).
        self._keeper.execute(f"PRAGMA encoding = {quote_string(encoding)}")
        keys = "".join(f", k{i} UNINDEXED" for i in range(self.key_width))
        self._keeper.execute(
            "CREATE VIRTUAL TABLE entries USING fts5("
            f"value, column_id UNINDEXED, value_type UNINDEXED{keys}, tokenize='trigram')"
        )

    def _fill(
        self,
        conn: sqlite3.Connection,
        tables: list[SearchTable],
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> None:
        self.attach(conn)
        unregister = cancel.on_cancel(conn.interrupt)
        total = len(tables) * _STEPS_PER_TABLE
        next_column_id = 0
        try:
            # Only our own INSERT INTO <index schema>.entries statements run in this block.
            with scratch_writes(conn):
                for done, table in enumerate(tables):
                    cancel.raise_if_cancelled()
                    columns = {
                        next_column_id + i: c.name
                        for i, c in enumerate(c for c in table.columns if c.storage & self.value_types)
                    }
                    next_column_id += len(columns)

                    def report(fraction: float, done: int = done, name: str = table.name) -> None:
                        units = int((done + fraction) * _STEPS_PER_TABLE)
                        progress(Progress(units, total, f"Indexing {name}"))

                    report(0.0)
                    self._index_table(conn, table, columns, cancel, report)
            progress(Progress(total, total, "Indexed"))
        finally:
            unregister()

    def _index_table(
        self,
        conn: sqlite3.Connection,
        table: SearchTable,
        columns: dict[int, str],
        cancel: CancelToken,
        report: Callable[[float], None],
    ) -> None:
        """Insert the table's values row-major, so its entries are contiguous and in scan order."""
        first = self.entries + 1
        try:
            if columns:
                for where, params, fraction in _row_steps(conn, table):
                    cancel.raise_if_cancelled()
                    sql = self._insert_sql(table, columns, where)
                    inserted = conn.execute(sql, {"base": self.entries, **params}).rowcount
                    conn.commit()
                    self.entries += max(inserted, 0)
                    report(fraction)
        except sqlite3.Error as exc:
            conn.rollback()
            if cancel.cancelled:
                raise Cancelled() from None
            self.notes[table.name] = str(exc)
            return
        self.tables[table.name] = IndexedTable(
            table.name, table.key_columns, table.key_is_rowid, first, self.entries, columns
        )

    def _insert_sql(self, table: SearchTable, columns: dict[int, str], where: str) -> str:
        """INSERT ... SELECT of every (row, column) value: one pass over the table, rowids from :base."""
        choose = " ".join(f"WHEN {cid} THEN src.{quote_identifier(name)}" for cid, name in columns.items())
        picks = ", ".join(f"({cid})" for cid in columns)
        types = ", ".join(f"'{t}'" for t in sorted(self.value_types))
        keys_out = "".join(f", k{i}" for i in range(len(table.key_sql)))
        keys_in = "".join(f", src.{sql} AS k{i}" for i, sql in enumerate(table.key_sql))
        return (
            f"INSERT INTO {quote_identifier(self.schema)}.entries"
            f"(rowid, value, column_id, value_type{keys_out}) "
            f"SELECT :base + row_number() OVER (), CAST(v AS TEXT), cid, typeof(v){keys_out} FROM ("
            f"SELECT CASE picked.column1 {choose} END AS v, picked.column1 AS cid{keys_in} "
            f"FROM {table.sql_name} AS src CROSS JOIN (VALUES {picks}) AS picked {where}) "
            f"WHERE typeof(v) IN ({types})"
        )


def _row_steps(conn: sqlite3.Connection, table: SearchTable) -> Iterator[tuple[str, dict[str, Any], float]]:
    """(WHERE clause, parameters, fraction done) for each slice of a rowid table; one slice for others.

    Slicing by rowid lets progress move and cancel land between statements on a large table.
    """
    if table.kind != "table" or not table.key_is_rowid:
        yield "", {}, 1.0
        return
    rowid = f"src.{table.key_sql[0]}"
    rows = max(1, conn.execute(f"SELECT count(*) FROM {table.sql_name}").fetchone()[0])
    after: Any = None
    done = 0
    while True:
        lower = [] if after is None else [f"{rowid} > :after"]
        upto = conn.execute(
            f"SELECT {rowid} FROM {table.sql_name} AS src {'WHERE ' + lower[0] if lower else ''} "
            f"ORDER BY {rowid} LIMIT 1 OFFSET {_ROWS_PER_STEP - 1}",
            {"after": after},
        ).fetchone()
        conditions = lower + ([f"{rowid} <= :upto"] if upto else [])
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        done += _ROWS_PER_STEP
        yield (
            where,
            {"after": after, "upto": upto[0] if upto else None},
            min(1.0, done / rows) if upto else 1.0,
        )
        if upto is None:
            return
        after = upto[0]
