"""The instant search index: a trigram FTS5 index of every text value, outside the user's file and `main`.

Size: the index stores no text and no keys, only which entries hold which trigrams (FTS5 contentless,
`detail=none`, `columnsize=0`: 1.1–1.5 bytes per byte of text on large tables, where keeping the text
and the keys in the index as well took 5). An entry's rowid says where its value is:
`base + row * columns + column` of its table, where `row` is the rowid minus the table's smallest (or,
for WITHOUT ROWID tables and rowids too far apart to number so, the row's place in `rowkeys`, which
holds its key once). A search asks the index for the entries holding every trigram of the text, then
reads each candidate's value from the snapshot by its key (one join) and Python checks it exactly, as a
scan does: `detail=none` cannot answer phrases, so candidates are a superset (measured on word-like
text: 0–15% more candidates than hits for 4+ characters, a few more for two words; keystroke latency as
before). A table whose rows have no key to read them by is scanned instead (`scanned`).

Where: in a named memdb (`file:/search-<uuid>?vfs=memdb`) when its estimated size fits the memdb cap and
`search_index_ram_share` of the available memory; otherwise in a file in a private temporary folder
(`snapshot-browser-*`, with its OWNER file, removed on `close()` or by the next start, like the
snapshot's private copies), up to `search_index_max_bytes` and the folder's free space; beyond that the
build is refused with `IndexTooLarge`. `estimate_index` says which, and how large and long, before
building. Connections that search ATTACH it under the index's own schema name (`attach()`, done by
`search()` itself; a file read-only); building runs on a snapshot connection inside
`connection.scratch_writes` only while our own `INSERT ... SELECT` statements run, so the text never
passes through Python.

Trigram MATCH needs 3+ characters, folds case and finds substrings. Regular expressions, blobs, queries
shorter than 3 characters (and numbers, unless built with them) are answered by scanning instead. The
index belongs to one snapshot generation: drop it (`close()`, and detach or close the connections that
attached it) on reload.
"""

from __future__ import annotations

import functools
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.search.fts_match import fts5_phrase
from desktop_app.core.search.matching import Matcher
from desktop_app.core.search.options import BLOB, INTEGER, REAL, TEXT, SearchOptions
from desktop_app.core.search.results import Hit, Method, RowKey
from desktop_app.core.search.tables import SearchTable, read_search_tables
from desktop_app.core.snapshot.memory_copy import available_memory_bytes
from desktop_app.core.snapshot.private_folders import new_private_folder
from desktop_app.core.sqlite.connection import scratch_writes
from desktop_app.core.sqlite.guard import (
    PRIVATE_SCHEMA_PREFIX,
    attach_memory_database,
    attach_private_file,
    detach_database,
    forget_private_folder,
    register_private_folder,
)
from desktop_app.core.sqlite.interrupt import stoppable
from desktop_app.core.sqlite.library import raise_memdb_limit
from desktop_app.core.sqlite.quoting import quote_identifier, quote_string
from desktop_app.core.values.text import plain_text

#: Trigram MATCH (and LIKE) can use the index only for this many characters or more.
MIN_INDEX_CHARS = 3
#: Rows indexed per statement: progress moves and cancel is checked between them (~0.5 s each).
_ROWS_PER_STEP = 20_000
#: Progress units per table (per-mille of its rows).
_STEPS_PER_TABLE = 1000
#: A search asks for at most this many of its text's trigrams (spread over it): enough to be selective.
_MAX_QUERY_TRIGRAMS = 24
#: Entry rowids stay below this (FTS5 rowids are signed 64-bit).
_MAX_ENTRY = 1 << 62
_TRIGRAM_SQL = "CREATE VIRTUAL TABLE temp.probe USING fts5(value, tokenize='trigram')"
_ENTRIES_SQL = (
    "CREATE VIRTUAL TABLE entries USING fts5(value, tokenize='trigram', content='', detail=none, "
    "columnsize=0)"
)
_SQLITE_FULL = 13
#: Put in front of a value with a NUL character (the index cannot see past it): a candidate of every search.
_NUL_MARK = "\x02\x02\x02"
#: Page cache of the connection building an index in a temporary file.
_BUILD_CACHE_BYTES = 32 << 20

# The size and time model of `estimate_index`, measured on generated word-like and hex text and on the
# corpus files (index bytes ≈ 1.3–1.5 x the text's characters on large tables; tests/bench/bench_search.py
# prints estimate against actual): bytes per character, per value, per keyed row, per table (its
# segments' leftover pages), and the empty index.
_BYTES_PER_CHAR = 1.4
_BYTES_PER_VALUE = 2.0
_BYTES_PER_KEYED_ROW = 24
_BYTES_PER_TABLE = 24 << 10
_EMPTY_INDEX_BYTES = 20 << 10
#: Build time per character and per value (seconds), measured on this project's reference machine.
_SECONDS_PER_CHAR = 0.15e-6
_SECONDS_PER_VALUE = 1.0e-6
#: Rows read at each of `_SAMPLE_PROBES` places of a table to estimate its text.
_SAMPLE_PROBES = 32
_SAMPLE_ROWS = 8


class IndexUnavailable(UserError):
    """This SQLite cannot build the search index (no FTS5 trigram tokenizer)."""


class IndexTooLarge(IndexUnavailable):
    """The index would not fit (or outgrew) the memory and temporary-file budgets."""


class IndexLocation(StrEnum):
    """Where an index is (or would be) built."""

    MEMORY = "memory"
    FILE = "temporary file"


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


# --- estimate -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexEstimate:
    """What building the index would take, from a sample of each table (see `estimate_index`)."""

    #: Characters of text (and numbers, if asked) to index, and how many values hold them.
    text_chars: int
    values: int
    size_bytes: int
    seconds: float
    location: IndexLocation
    #: Why it cannot be built at all (too large for every budget), or None.
    refusal: str | None = None

    def summary(self) -> str:
        """E.g. "about 120 MB of memory, ~8 s" or "about 3.1 GB in a temporary file, ~4 min"."""
        where = "of memory" if self.location is IndexLocation.MEMORY else "in a temporary file"
        return f"about {format_size(self.size_bytes)} {where}, ~{format_duration(self.seconds)}"

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "text_chars": self.text_chars,
            "values": self.values,
            "size_bytes": self.size_bytes,
            "seconds": round(self.seconds, 2),
            "location": self.location.value,
            "refusal": self.refusal,
        }


def estimate_index(conn: sqlite3.Connection, *, include_numbers: bool = False) -> IndexEstimate:
    """Estimate the index's size, build time and place, reading a sample of each table (milliseconds).

    A rowid table is sampled at `_SAMPLE_PROBES` places between its smallest and largest rowid (its row
    count is counted up to `search_estimate_count_max_bytes` of database, else estimated from how many
    rows each probe finds per rowid from where it started, and never more than the database's bytes hold
    at the sampled row size); other tables are counted and their first rows read.
    """
    types = _value_types(include_numbers)
    chars = values = keyed_rows = overhead = 0.0
    for table in _indexable(read_search_tables(conn)):
        columns = [c.name for c in table.columns if c.storage & types]
        if not columns:
            continue
        try:
            rows, per_row_chars, per_row_values = _sample_table(conn, table, columns, types)
        except sqlite3.Error:
            continue  # unreadable: the build will note it
        # Each table's commits leave partly used pages behind, up to about _BYTES_PER_TABLE.
        overhead += min(_BYTES_PER_TABLE, 2 * rows * per_row_chars * _BYTES_PER_CHAR)
        chars += rows * per_row_chars
        values += rows * per_row_values
        if not _direct_rowid(table):
            keyed_rows += rows
    size = int(
        _EMPTY_INDEX_BYTES
        + overhead
        + chars * _BYTES_PER_CHAR
        + values * _BYTES_PER_VALUE
        + keyed_rows * _BYTES_PER_KEYED_ROW
    )
    seconds = chars * _SECONDS_PER_CHAR + values * _SECONDS_PER_VALUE
    # A connection that keeps its temporary storage in memory (a decrypted database's) keeps the index there.
    memory_only = conn.execute("PRAGMA temp_store").fetchone()[0] == TEMP_STORE_MEMORY
    location, refusal = _choose_location(size, memory_only)
    return IndexEstimate(int(chars), int(values), size, seconds, location, refusal)


#: `PRAGMA temp_store` of a connection whose temporary storage stays in memory.
TEMP_STORE_MEMORY = 2


def _choose_location(size: int, memory_only: bool = False) -> tuple[IndexLocation, str | None]:
    available = available_memory_bytes()
    memory_budget = LIMITS.memdb_max_bytes * 0.9
    if available is not None:
        memory_budget = min(memory_budget, available * LIMITS.search_index_ram_share)
    if size <= memory_budget:
        return IndexLocation.MEMORY, None
    if memory_only:
        return IndexLocation.FILE, (
            f"The search index would take about {format_size(size)}: more than fits in memory, and this "
            "database was decrypted into memory only, so its index is never written to a file. Searches "
            "scan the tables instead."
        )
    folder = tempfile.gettempdir()
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = 0
    cap = LIMITS.search_index_max_bytes
    if size <= cap and size * 1.1 <= free:
        return IndexLocation.FILE, None
    bound = f"the limit for a search index ({format_size(cap)})" if size > cap else "the free space"
    return IndexLocation.FILE, (
        f"The search index would take about {format_size(size)}: more than fits in memory and more than "
        f"{bound} in the temporary folder ({format_size(free)} free). Searches scan the tables instead; "
        "free some space or point TMPDIR at a larger disk to build it."
    )


def _sample_table(
    conn: sqlite3.Connection, table: SearchTable, columns: list[str], types: frozenset[str]
) -> tuple[float, float, float]:
    """(rows, characters a row, values a row) of `table`, from a sample."""
    kinds = ", ".join(quote_string(t) for t in sorted(types))
    names = [quote_identifier(c) for c in columns]
    lengths = " + ".join(
        f"(CASE WHEN typeof({c}) IN ({kinds}) THEN length(CAST({c} AS TEXT)) ELSE 0 END)" for c in names
    )
    counts = " + ".join(f"(typeof({c}) IN ({kinds}))" for c in names)
    measure = f"{lengths}, {counts}"
    # Bytes a row takes at the least: each value's bytes and a byte of header, and its rowid.
    stored = " + ".join(
        f"coalesce(length(CAST({quote_identifier(c.name)} AS BLOB)), 0) + 1" for c in table.columns
    )
    stored = f"1 + {stored}" if stored else "1"
    if table.kind == "table" and table.key_is_rowid:
        rowid = table.key_sql[0]
        ends = [
            conn.execute(f"SELECT {rowid} FROM {table.sql_name} ORDER BY {rowid} {way} LIMIT 1").fetchone()
            for way in ("ASC", "DESC")
        ]
        if ends[0] is None:
            return 0.0, 0.0, 0.0
        low, high = ends[0][0], ends[1][0]
        span = high - low + 1
        if span <= _SAMPLE_PROBES * _SAMPLE_ROWS:
            rows = conn.execute(f"SELECT {rowid}, {measure} FROM {table.sql_name}").fetchall()
            return _averages(rows, len(rows))
        sampled: dict[int, tuple[Any, ...]] = {}
        densities = []
        for probe in range(_SAMPLE_PROBES):
            start = low + span * probe // _SAMPLE_PROBES
            found = conn.execute(
                f"SELECT {rowid}, {measure}, {stored} FROM {table.sql_name} WHERE {rowid} >= ? "
                f"ORDER BY {rowid} LIMIT {_SAMPLE_ROWS}",
                (start,),
            ).fetchall()
            for row in found:
                sampled[row[0]] = row
            if found:  # rows found per rowid from a place chosen without looking: no bias to clusters
                densities.append(len(found) / (found[-1][0] - start + 1))
        pages, page_size = conn.execute("SELECT * FROM pragma_page_count, pragma_page_size").fetchone()
        if pages * page_size <= LIMITS.search_estimate_count_max_bytes:
            count = conn.execute(f"SELECT count(*) FROM {table.sql_name}").fetchone()[0]
            return _averages(list(sampled.values()), count)
        rows = span * min(1.0, sum(densities) / len(densities)) if densities else 0.0
        # However the rowids lie, the table fits in the database: at most its bytes / a row's bytes.
        row_bytes = max(1.0, sum(r[3] or 0 for r in sampled.values()) / max(1, len(sampled)))
        most = pages * page_size / row_bytes
        return _averages(list(sampled.values()), max(len(sampled), min(rows, most)))
    count = conn.execute(f"SELECT count(*) FROM {table.sql_name}").fetchone()[0]
    rows = conn.execute(
        f"SELECT 0, {measure} FROM {table.sql_name} LIMIT {_SAMPLE_PROBES * _SAMPLE_ROWS}"
    ).fetchall()
    return _averages(rows, count)


def _averages(rows: list[Any], count: float) -> tuple[float, float, float]:
    if not rows:
        return 0.0, 0.0, 0.0
    return float(count), sum(r[1] or 0 for r in rows) / len(rows), sum(r[2] or 0 for r in rows) / len(rows)


def format_size(size: float) -> str:
    """A size for people: "850 KB", "120 MB", "3.1 GB"."""
    if size >= 2**30:
        return f"{size / 2**30:,.1f} GB"
    if size >= 2**20:
        return f"{size / 2**20:,.0f} MB"
    return f"{max(1.0, size / 1024):,.0f} KB"


def format_duration(seconds: float) -> str:
    """A duration for people: "1 s", "40 s", "4 min", "1.5 h"."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


# --- the index ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexedTable:
    """Where one table's values are in the index: entry `base + row * len(columns) + column`."""

    name: str
    sql_name: str
    key_columns: tuple[str, ...]
    key_sql: tuple[str, ...]
    key_is_rowid: bool
    first_entry: int
    last_entry: int
    #: column number (0, 1, ...) → column name
    columns: dict[int, str]
    #: Row 0's rowid, or (`keyed`) its `seq` in `rowkeys`.
    origin: int
    keyed: bool


@dataclass
class SearchIndex:
    """A built trigram index of one snapshot generation (see the module docstring)."""

    generation: int
    schema: str
    include_numbers: bool
    key_width: int
    location: IndexLocation = IndexLocation.MEMORY
    #: The memdb URI (memory) or the file's path (temporary file).
    uri: str = ""
    path: Path | None = None
    tables: dict[str, IndexedTable] = field(default_factory=dict)
    #: Tables that could not be indexed → why.
    notes: dict[str, str] = field(default_factory=dict)
    #: Tables searched by scanning although the index is there → why (their rows have no key to read).
    scanned: dict[str, str] = field(default_factory=dict)
    built_at: float = 0.0  #: time.time() when the build finished
    build_seconds: float = 0.0
    size_bytes: int = 0
    entries: int = 0
    estimate: IndexEstimate | None = None
    _keeper: sqlite3.Connection | None = None
    _folder: tempfile.TemporaryDirectory[str] | None = None
    _closed: bool = False
    _next_entry: int = 1
    _next_seq: int = 1

    @classmethod
    def build(
        cls,
        conn: sqlite3.Connection,
        *,
        generation: int,
        include_numbers: bool = False,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
        estimate: IndexEstimate | None = None,
    ) -> SearchIndex:
        """Index every text value (and numbers, if asked) of the snapshot behind `conn`; cancellable.

        Estimates first (unless given `estimate`) to choose memory or a temporary file; raises
        `IndexTooLarge` when neither can hold it, or when it outgrows its place while building.
        """
        reason = trigram_support()
        if reason is not None:
            raise IndexUnavailable(reason)
        started = time.perf_counter()
        estimate = estimate or estimate_index(conn, include_numbers=include_numbers)
        if estimate.refusal is not None:
            raise IndexTooLarge(estimate.refusal)
        found = read_search_tables(conn)
        tables = _indexable(found)
        name = uuid.uuid4().hex
        index = cls(
            generation=generation,
            schema=f"{PRIVATE_SCHEMA_PREFIX}{name[:12]}",
            include_numbers=include_numbers,
            key_width=max((len(t.key_sql) for t in tables), default=0),
            location=estimate.location,
            notes={t.name: t.error for t in found if t.error and t.kind != "view"},
            scanned={
                t.name: "its rows have no rowid or key to look them up by" for t in tables if not t.key_sql
            },
            estimate=estimate,
        )
        try:
            index._create(conn, name, conn.execute("PRAGMA encoding").fetchone()[0])
            index._fill(conn, [t for t in tables if t.key_sql], progress, cancel or CancelToken())
            schema = quote_identifier(index.schema)
            pages = conn.execute(f"PRAGMA {schema}.page_count").fetchone()[0]
            index.size_bytes = pages * conn.execute(f"PRAGMA {schema}.page_size").fetchone()[0]
            if index.location is IndexLocation.FILE:
                index.detach(conn)  # written by this connection only while building; read-only from now
        except BaseException:
            index.detach(conn)
            index.close()
            raise
        index.build_seconds = time.perf_counter() - started
        index.built_at = time.time()
        return index

    @property
    def value_types(self) -> frozenset[str]:
        """The storage classes the index holds."""
        return _value_types(self.include_numbers)

    def unusable_for(self, options: SearchOptions) -> str | None:
        """None when the index can answer `options`, else why a scan is needed instead."""
        if self._closed:
            return "the search index was closed"
        if options.regex:
            return "regular expressions are not answered by the search index"
        if BLOB in options.value_types:
            return "blobs are not in the search index"
        if not options.value_types <= self.value_types:
            return "numbers are not in the search index"
        if len(options.text) < MIN_INDEX_CHARS:
            return f"the search index needs at least {MIN_INDEX_CHARS} characters"
        if not trigram_query(options.text):
            return "the search index cannot look up text with NUL characters"
        return None

    def attach(self, conn: sqlite3.Connection) -> None:
        """ATTACH the index to `conn` under `self.schema` (once per connection; a file read-only)."""
        if self._attached(conn):
            return
        if self.path is not None:
            attach_private_file(conn, self.path, self.schema)
        else:
            attach_memory_database(conn, self.uri, self.schema)

    def detach(self, conn: sqlite3.Connection) -> None:
        """DETACH the index from `conn` if attached (no statement may be running on `conn`)."""
        if self._attached(conn):
            detach_database(conn, self.schema)

    def close(self) -> None:
        """Release the index; its memory goes once every connection that attached it detaches or closes.

        A temporary file's folder is removed at once (connections still reading it keep their open file).
        """
        self._closed = True
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None
        if self._folder is not None:
            forget_private_folder(Path(self._folder.name))
            self._folder.cleanup()
            self._folder = None

    def table_hits(
        self, conn: sqlite3.Connection, table: str, matcher: Matcher, chosen: frozenset[str] | None
    ) -> Iterator[Hit]:
        """Hits of `matcher` in `table` (its `chosen` columns, if given), answered from the index."""
        entry = self.tables.get(table)
        if entry is None:
            return
        self.attach(conn)
        wanted = {cid for cid, name in entry.columns.items() if chosen is None or name in chosen}
        if not wanted:
            return
        value_types = matcher.options.value_types
        sql, params = self._hits_sql(entry, trigram_query(matcher.options.text))
        cursor = conn.execute(sql, params)
        try:
            for column_id, value_type, value, *key_values in cursor:
                if column_id not in wanted or value_type not in value_types:
                    continue
                snippet = matcher.snippet(plain_text(value))  # invalid UTF-8 escaped, as Browse shows it
                if snippet is None:
                    continue
                key = RowKey(entry.key_columns, tuple(key_values), entry.key_is_rowid)
                yield Hit(
                    table, entry.columns[column_id], key, value_type,
                    snippet.text, snippet.spans, snippet.match_start, Method.INDEX,
                )  # fmt: skip
        finally:
            cursor.close()

    def _hits_sql(self, entry: IndexedTable, query: str) -> tuple[str, dict[str, Any]]:
        """The candidates of `query` in `entry`'s range, joined to their rows: (column, type, text, keys)."""
        schema = quote_identifier(self.schema)
        width = len(entry.columns)
        column = "(e.rowid - :base) % :width"
        row = ":origin + (e.rowid - :base) / :width"
        choose = " ".join(
            f"WHEN {cid} THEN src.{quote_identifier(name)}" for cid, name in entry.columns.items()
        )
        inner_keys = ", ".join(f"src.{sql} AS k{i}" for i, sql in enumerate(entry.key_sql))
        outer_keys = ", ".join(f"k{i}" for i in range(len(entry.key_sql)))
        if entry.keyed:
            on = " AND ".join(f"src.{sql} = m.k{i}" for i, sql in enumerate(entry.key_sql))
            join = f"CROSS JOIN {schema}.rowkeys AS m ON m.seq = {row} "
            join += f"CROSS JOIN {entry.sql_name} AS src ON {on}"
        else:
            join = f"CROSS JOIN {entry.sql_name} AS src ON src.{entry.key_sql[0]} = {row}"
        sql = (
            f"SELECT cid, typeof(v), CAST(v AS TEXT), {outer_keys} FROM ("
            f"SELECT {column} AS cid, CASE {column} {choose} END AS v, {inner_keys} "
            f"FROM {schema}.entries AS e {join} "
            "WHERE e.entries MATCH :query AND e.rowid BETWEEN :first AND :last)"
        )
        params = {
            "base": entry.first_entry,
            "width": width,
            "origin": entry.origin,
            "query": query,
            "first": entry.first_entry,
            "last": entry.last_entry,
        }
        return sql, params

    def _attached(self, conn: sqlite3.Connection) -> bool:
        return any(row[1] == self.schema for row in conn.execute("PRAGMA database_list"))

    def _create(self, conn: sqlite3.Connection, name: str, encoding: str) -> None:
        """Create the empty index (memdb or private file) and attach it to the builder's `conn`."""
        keys = "".join(f", k{i}" for i in range(self.key_width))
        statements = [
            # SQLite attaches only databases in the main database's text encoding (UTF-16 files exist).
            f"PRAGMA encoding = {quote_string(encoding)}",
            _ENTRIES_SQL,
            f"CREATE TABLE rowkeys (seq INTEGER PRIMARY KEY{keys})",
        ]
        if self.location is IndexLocation.MEMORY:
            self.uri = f"file:/search-{name}?vfs=memdb"
            self._keeper = sqlite3.connect(self.uri, uri=True, check_same_thread=False, isolation_level=None)
            raise_memdb_limit(self.uri, LIMITS.memdb_max_bytes)
            for statement in statements:
                self._keeper.execute(statement)
            attach_memory_database(conn, self.uri, self.schema)
            return
        self._folder = new_private_folder()
        folder = Path(self._folder.name).resolve()
        register_private_folder(folder)
        self.path = folder / "search-index.db"
        creator = sqlite3.connect(self.path, isolation_level=None)
        try:
            creator.execute("PRAGMA journal_mode = OFF")
            for statement in statements:
                creator.execute(statement)
        finally:
            creator.close()
        attach_private_file(conn, self.path, self.schema, writable=True)
        schema = quote_identifier(self.schema)
        with scratch_writes(conn):
            conn.execute(f"PRAGMA {schema}.journal_mode = OFF").fetchall()
            conn.execute(f"PRAGMA {schema}.synchronous = OFF")
            # FTS5 merges re-read its segments: a page cache of its own (default 2 MB) saves reading them.
            conn.execute(f"PRAGMA {schema}.cache_size = {-(_BUILD_CACHE_BYTES >> 10)}")
            page_size = conn.execute(f"PRAGMA {schema}.page_size").fetchone()[0]
            conn.execute(f"PRAGMA {schema}.max_page_count = {LIMITS.search_index_max_bytes // page_size}")

    def _fill(
        self,
        conn: sqlite3.Connection,
        tables: list[SearchTable],
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> None:
        total = len(tables) * _STEPS_PER_TABLE
        with stoppable(conn, cancel):
            # Only our own INSERT INTO <index schema>.entries / rowkeys statements run in this block.
            with scratch_writes(conn):
                for done, table in enumerate(tables):
                    cancel.raise_if_cancelled()
                    columns = dict(enumerate(c.name for c in table.columns if c.storage & self.value_types))

                    def report(fraction: float, done: int = done, name: str = table.name) -> None:
                        units = int((done + fraction) * _STEPS_PER_TABLE)
                        progress(Progress(units, total, f"Indexing {name}"))

                    report(0.0)
                    if columns:
                        self._index_table(conn, table, columns, cancel, report)
            progress(Progress(total, total, "Indexed"))

    def _index_table(
        self,
        conn: sqlite3.Connection,
        table: SearchTable,
        columns: dict[int, str],
        cancel: CancelToken,
        report: Callable[[float], None],
    ) -> None:
        """Insert the table's values row-major, so its entries are contiguous, ascending and in scan order."""
        width = len(columns)
        base = self._next_entry
        keyed = not _direct_rowid(table)
        rows = 0
        try:
            origin, rows = (self._next_seq, 0) if keyed else _rowid_range(conn, table)
            if not keyed and base + rows * width >= _MAX_ENTRY:
                keyed, origin, rows = True, self._next_seq, 0  # rowids too far apart to number directly
            for where, params, fraction in _row_steps(conn, table):
                cancel.raise_if_cancelled()
                if keyed:
                    low = self._next_seq
                    added = self._insert_keys(conn, table, where, params)
                    self._next_seq += added
                    rows += added
                    where, params = "", {"low": low, "high": self._next_seq - 1}
                self.entries += self._insert_entries(conn, table, columns, where, params, base, origin, keyed)
                conn.commit()
                report(fraction)
        except sqlite3.Error as exc:
            conn.rollback()
            if cancel.cancelled:
                raise Cancelled() from None
            if exc.sqlite_errorcode == _SQLITE_FULL:
                raise self._outgrown() from None
            self.notes[table.name] = str(exc)
            # Slices committed before the error stay in the index: the next table numbers after them.
            self._next_entry = base + max(rows, 1) * width
            return
        last = base + max(rows, 1) * width - 1
        self._next_entry = last + 1
        self.tables[table.name] = IndexedTable(
            table.name, table.sql_name, table.key_columns, table.key_sql, table.key_is_rowid,
            base, last, columns, origin, keyed,
        )  # fmt: skip

    def _insert_keys(
        self, conn: sqlite3.Connection, table: SearchTable, where: str, params: dict[str, Any]
    ) -> int:
        names = ", ".join(f"k{i}" for i in range(len(table.key_sql)))
        keys = ", ".join(f"src.{sql}" for sql in table.key_sql)
        sql = (
            f"INSERT INTO {quote_identifier(self.schema)}.rowkeys (seq, {names}) "
            f"SELECT :next + row_number() OVER () - 1, {keys} FROM {table.sql_name} AS src {where}"
        )
        return max(conn.execute(sql, {"next": self._next_seq, **params}).rowcount, 0)

    def _insert_entries(
        self,
        conn: sqlite3.Connection,
        table: SearchTable,
        columns: dict[int, str],
        where: str,
        params: dict[str, Any],
        base: int,
        origin: int,
        keyed: bool,
    ) -> int:
        """INSERT ... SELECT of every (row, column) value of a slice, as entry `base + row * width + col`.

        The trigram tokenizer stops at a NUL character (and SQLite's replace() cannot remove one), so a
        value holding one is indexed with `_NUL_MARK` in front: every search takes it as a candidate.
        """
        schema = quote_identifier(self.schema)
        choose = " ".join(f"WHEN {cid} THEN src.{quote_identifier(name)}" for cid, name in columns.items())
        picks = ", ".join(f"({cid})" for cid in columns)
        types = ", ".join(quote_string(t) for t in sorted(self.value_types))
        if keyed:
            on = " AND ".join(f"src.{sql} = m.k{i}" for i, sql in enumerate(table.key_sql))
            source = f"{schema}.rowkeys AS m CROSS JOIN {table.sql_name} AS src ON {on}"
            row, where = "m.seq", "WHERE m.seq BETWEEN :low AND :high"
        else:
            source, row = f"{table.sql_name} AS src", f"src.{table.key_sql[0]}"
        sql = (
            f"INSERT INTO {schema}.entries (rowid, value) "
            f"SELECT :base + (r - :origin) * {len(columns)} + cid, "
            "CASE WHEN instr(t, char(0)) THEN :nul_mark || t ELSE t END FROM ("
            "SELECT r, cid, CAST(v AS TEXT) AS t FROM ("
            f"SELECT CASE picked.column1 {choose} END AS v, picked.column1 AS cid, {row} AS r "
            f"FROM {source} CROSS JOIN (VALUES {picks}) AS picked {where}) "
            f"WHERE typeof(v) IN ({types}))"
        )
        values = {"base": base, "origin": origin, "nul_mark": _NUL_MARK, **params}
        return max(conn.execute(sql, values).rowcount, 0)

    def _outgrown(self) -> IndexTooLarge:
        if self.location is IndexLocation.MEMORY:
            where = f"the memory a search index may take ({format_size(LIMITS.memdb_max_bytes)})"
        else:
            cap = format_size(LIMITS.search_index_max_bytes)
            where = f"the limit for a search index ({cap}) or the free space"
        return IndexTooLarge(
            f"The search index outgrew {where} while it was built; searches scan the tables instead."
        )


def trigram_query(text: str) -> str:
    """The MATCH string for entries holding every trigram of `text` (a superset of its hits); "" if none.

    `detail=none` answers no phrase, so each trigram is its own term (FTS5 folds case as it indexed);
    trigrams with a NUL are left out (SQLite would cut the query there), and a long text asks for
    `_MAX_QUERY_TRIGRAMS` of them spread over it. Values the index could not read whole (a NUL inside)
    are candidates too.
    """
    grams = list(dict.fromkeys(text[i : i + 3] for i in range(len(text) - 2)))
    grams = [g for g in grams if "\x00" not in g]
    if not grams:
        return ""
    if len(grams) > _MAX_QUERY_TRIGRAMS:
        step = (len(grams) - 1) / (_MAX_QUERY_TRIGRAMS - 1)
        grams = [grams[round(i * step)] for i in range(_MAX_QUERY_TRIGRAMS)]
    return f"({' AND '.join(fts5_phrase(g) for g in grams)}) OR {fts5_phrase(_NUL_MARK)}"


def _value_types(include_numbers: bool) -> frozenset[str]:
    return frozenset({TEXT, INTEGER, REAL} if include_numbers else {TEXT})


def _indexable(found: list[SearchTable]) -> list[SearchTable]:
    return [t for t in found if t.kind != "view" and not t.error and not t.skip_note]


def _direct_rowid(table: SearchTable) -> bool:
    """True when entries can be numbered by the table's rowid (read back by rowid, no key stored)."""
    return table.key_is_rowid and len(table.key_sql) == 1


def _rowid_range(conn: sqlite3.Connection, table: SearchTable) -> tuple[int, int]:
    """(smallest rowid, rowids from it to the largest) of a rowid table; (0, 0) when it is empty."""
    rowid = table.key_sql[0]
    ends = [
        conn.execute(f"SELECT {rowid} FROM {table.sql_name} ORDER BY {rowid} {way} LIMIT 1").fetchone()
        for way in ("ASC", "DESC")
    ]
    if ends[0] is None or ends[1] is None:
        return 0, 0
    return ends[0][0], ends[1][0] - ends[0][0] + 1


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
