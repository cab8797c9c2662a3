"""Random access by row position over a table, view or virtual table, for the browse grid.

Rows are ordered by the user's sort keys, tie-broken by the row's key (rowid, or the primary key
of a WITHOUT ROWID table) so every position names exactly one row. A page is found by *keyset*
seeks from the nearest known position (an *anchor*): dense rowids map a position straight to a
rowid, every fetched page leaves an anchor, and `build_index` adds one every `index_step` rows in
one background pass. Without an anchor nearby, OFFSET runs from the nearer end (the order reversed
for the second half). Views and virtual tables have no key, so they page by OFFSET alone.

All functions are synchronous over a configured sqlite3 connection; run them with `Database.run_sync`.
"""

from __future__ import annotations

import bisect
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.core.browse.filters import Condition, where_clause
from desktop_app.core.browse.rows import ROWID_NAMES, key_columns, names_rowid, rowid_alias_column, rowid_name
from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.schema.catalog import Table
from desktop_app.core.sqlite.quoting import quote_identifier

#: Largest row count guessed from the rowid range (a grid cannot show more than 2**31 - 1 rows anyway).
MAX_ESTIMATE = 2**31 - 2
_SCAN_CHUNK_ROWS = 4096
_PROGRESS_EVERY_STEPS = 64
#: Index entries taken from SQLite's walk at a time (~65,000 rows, ~1 ms): each batch is usable at once,
#: so a jump made while the index is still being built seeks from the walk's frontier when nearer.
_INDEX_ENTRIES_PER_FETCH = 64


@dataclass(frozen=True)
class SortKey:
    """One column of the grid's sort order."""

    column: str
    descending: bool = False


def toggle_sort(sort: list[SortKey], column: str, add: bool) -> list[SortKey]:
    """The sort after a click on `column`: ascending → descending → off; `add` (Ctrl) keeps the others."""
    current = next((k for k in sort if k.column == column), None)
    following = (
        SortKey(column) if current is None else SortKey(column, True) if not current.descending else None
    )
    if not add:
        if sort != [current]:
            return [SortKey(column)]
        return [following] if following is not None else []
    result = [k if k.column != column else following for k in sort]
    if current is None:
        result.append(following)
    return [k for k in result if k is not None]


def sort_markers(sort: Sequence[SortKey], columns: Sequence[str]) -> dict[int, str]:
    """Header markers by column index: `▲`/`▼`, numbered `▲1`, `▼2`… when several columns sort."""
    many = len(sort) > 1
    return {
        list(columns).index(key.column): ("▼" if key.descending else "▲") + (str(n) if many else "")
        for n, key in enumerate(sort, start=1)
        if key.column in columns
    }


@dataclass(frozen=True)
class Truncated:
    """A long value held only in part: its first characters/bytes and its whole size."""

    head: str | bytes
    size: int  #: characters for text, bytes for a blob

    @property
    def is_blob(self) -> bool:
        """True when the value is a blob."""
        return isinstance(self.head, bytes)


@dataclass
class Page:
    """Rows from position `start` on, each with its key values (empty tuples when there is no key)."""

    start: int
    rows: list[tuple[Any, ...]]
    keys: list[tuple[Any, ...]]


@dataclass(frozen=True)
class _Term:
    sql: str
    descending: bool

    def flipped(self) -> _Term:
        return _Term(self.sql, not self.descending)


class TablePager:
    """Pages of one table under one sort order and one set of column filters (immutable once made).

    Safe to share between worker threads: only the anchor map changes, under a lock.
    """

    def __init__(
        self,
        table: Table,
        sort: Sequence[SortKey] = (),
        filters: Mapping[str, str] | None = None,
        *,
        index_step: int = LIMITS.grid_index_step,
        cell_max_chars: int = LIMITS.grid_cell_max_chars,
    ) -> None:
        visible = [c.name for c in table.columns if c.hidden != 1]
        if table.error or not visible:
            raise UserError(f"The columns of “{table.name}” cannot be read.", details=table.error or "")
        self.table = table
        self.columns: list[str] = visible
        self.sort = tuple(sort)
        self.filters = {name: text for name, text in (filters or {}).items() if text.strip()}
        self.index_step = max(2, index_step)
        self._cell_max = int(cell_max_chars)
        self._source = table.quoted
        self._filter = where_clause(self.filters)
        for name in self.filters:
            self._column_sql(name)
        rowid = rowid_name(table)
        self.key_columns: list[str] = key_columns(table) or []
        self._key_sql = [rowid] if rowid is not None else [quote_identifier(c) for c in self.key_columns]
        self._terms = self._order_terms(rowid)
        self._row_values = [t.sql for t in self._terms] == self._key_sql and (
            len({t.descending for t in self._terms}) == 1
        )
        self.total: int | None = None
        self._dense_first: int | None = None
        self._lock = threading.Lock()
        self._anchor_positions: list[int] = []
        self._anchors: dict[int, tuple[Any, ...]] = {}
        self.indexed = False

    def _column_sql(self, name: str) -> str:
        if self.table.column(name) is None or name not in self.columns:
            raise UserError(f"“{self.table.name}” has no column “{name}”.")
        return quote_identifier(name)

    def _order_terms(self, rowid: str | None) -> list[_Term]:
        alias = rowid_alias_column(self.table)
        terms: list[_Term] = []
        for key in self.sort:
            sql = rowid if rowid is not None and key.column == alias else self._column_sql(key.column)
            if all(t.sql != sql for t in terms):
                terms.append(_Term(sql, key.descending))
        terms.extend(_Term(k, False) for k in self._key_sql if all(t.sql != k for t in terms))
        return terms

    @property
    def _rowid_key(self) -> str | None:
        """The rowid's name when the rows are keyed by rowid."""
        return self._key_sql[0] if self.table.has_rowid and self._key_sql else None

    @property
    def has_key(self) -> bool:
        """True when every row has a key, so pages are found by keyset seeks."""
        return bool(self._key_sql)

    @property
    def dense(self) -> bool:
        """True when positions map straight to rowids (known after `count`)."""
        return self._dense_first is not None

    def key_dict(self, key: tuple[Any, ...]) -> dict[str, Any]:
        """The key of a row as {column: value}, as other panes pass it around."""
        return dict(zip(self.key_columns, key, strict=True))

    # --- counting and the position index -------------------------------------------------------

    def estimate(self, conn: sqlite3.Connection) -> int | None:
        """A quick guess of the row count without a scan (None when there is none)."""
        rowid = self._rowid_key
        if self._filter is not None or rowid is None:
            return None
        ends = f"SELECT {rowid} FROM {self._source} ORDER BY {rowid}"
        first = conn.execute(f"{ends} LIMIT 1").fetchone()
        last = conn.execute(f"{ends} DESC LIMIT 1").fetchone()
        if first is None or last is None:
            return 0
        span = int(last[0]) - int(first[0]) + 1
        # Rowids far apart (e.g. 1 and 2**63-1) say nothing about the count: better no guess than that.
        return span if span <= MAX_ESTIMATE else None

    def shown_rows_query(self, columns: Sequence[str] | None = None) -> tuple[str, tuple[Any, ...]]:
        """The statement (and its parameters) giving every row as shown: `columns` (default all), whole
        values, under the filters, in the sort order (ties broken by the row key, as the grid does)."""
        where, params = self._where(None)
        columns = ", ".join(self._column_sql(name) for name in (columns or self.columns))
        return f"SELECT {columns} FROM {self._source}{where}{self._order_by(False)}", params

    def count(self, conn: sqlite3.Connection) -> int:
        """Count the rows under the filters (a scan: run it in the background) and detect dense rowids."""
        where, params = self._where(None)
        total = int(conn.execute(f"SELECT count(*) FROM {self._source}{where}", params).fetchone()[0])
        rowid = self._rowid_key
        if self._filter is None and rowid is not None and [t.sql for t in self._terms] == [rowid]:
            ends = f"SELECT {rowid} FROM {self._source} ORDER BY {rowid}"
            first = conn.execute(f"{ends} LIMIT 1").fetchone()
            last = conn.execute(f"{ends} DESC LIMIT 1").fetchone()
            if first and last and total == last[0] - first[0] + 1:
                self._dense_first = first[0] if not self._terms[0].descending else last[0]
        self.total = total
        return total

    def build_index(
        self,
        conn: sqlite3.Connection,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> int:
        """Record the order values of every `index_step`-th row, in one pass; returns the entries added."""
        if self.dense or not self.has_key or self.indexed:
            return 0
        total = self.total if self.total is not None else self.count(conn)
        if self._row_values and len(self._terms) == 1:
            added = self._index_in_sql(conn, total, progress, cancel)
        elif self._row_values:
            added = self._index_by_steps(conn, total, progress, cancel)
        else:
            added = self._index_by_scan(conn, total, progress, cancel)
        self.indexed = True
        return added

    def _index_in_sql(
        self, conn: sqlite3.Connection, total: int, progress: ProgressCallback, cancel: CancelToken | None
    ) -> int:
        """Step along a one-column key inside SQLite (a recursive CTE), so no Python runs per step."""
        term = self._terms[0]
        order = self._order_by(reverse=False)
        where, params = self._where(None)
        after, after_params = self._where(Condition(f"{term.sql} {'<' if term.descending else '>'} idx.k"))
        sql = (
            f"WITH RECURSIVE idx(n, k) AS ("
            f"SELECT 0, (SELECT {term.sql} FROM {self._source}{where}{order} LIMIT 1) "
            f"UNION ALL SELECT n + 1, (SELECT {term.sql} FROM {self._source}{after}{order} LIMIT 1 OFFSET ?) "
            f"FROM idx WHERE idx.k IS NOT NULL) SELECT n, k FROM idx WHERE k IS NOT NULL"
        )
        cursor = conn.execute(sql, (*params, *after_params, self.index_step - 1))
        added = 0
        while rows := cursor.fetchmany(_INDEX_ENTRIES_PER_FETCH):
            if cancel is not None:
                cancel.raise_if_cancelled()
            for n, key in rows:
                self._add_anchor(n * self.index_step, (key,))
            added += len(rows)
            progress(Progress(min(added * self.index_step, total), total, "Indexing rows"))
        return added

    def _index_by_steps(
        self, conn: sqlite3.Connection, total: int, progress: ProgressCallback, cancel: CancelToken | None
    ) -> int:
        """Jump `index_step` rows at a time along the key: each step is one indexed seek plus a short walk."""
        terms_sql = ", ".join(t.sql for t in self._terms)
        order = self._order_by(reverse=False)
        where, params = self._where(None)
        row = conn.execute(f"SELECT {terms_sql} FROM {self._source}{where}{order} LIMIT 1", params).fetchone()
        position, added = 0, 0
        while row is not None:
            if cancel is not None:
                cancel.raise_if_cancelled()
            self._add_anchor(position, tuple(row))
            added += 1
            if added % _PROGRESS_EVERY_STEPS == 0:
                progress(Progress(position, total, "Indexing rows"))
            where, params = self._where(self._seek(tuple(row), reverse=False, inclusive=False))
            row = conn.execute(
                f"SELECT {terms_sql} FROM {self._source}{where}{order} LIMIT 1 OFFSET ?",
                (*params, self.index_step - 1),
            ).fetchone()
            position += self.index_step
        progress(Progress(total, total, "Indexing rows"))
        return added

    def _index_by_scan(
        self, conn: sqlite3.Connection, total: int, progress: ProgressCallback, cancel: CancelToken | None
    ) -> int:
        """Walk the whole sorted order once (a sort without an index cannot be stepped cheaply)."""
        terms_sql = ", ".join(t.sql for t in self._terms)
        where, params = self._where(None)
        cursor = conn.execute(f"SELECT {terms_sql} FROM {self._source}{where}{self._order_by(False)}", params)
        position, added = 0, 0
        while rows := cursor.fetchmany(_SCAN_CHUNK_ROWS):
            if cancel is not None:
                cancel.raise_if_cancelled()
            first = (-position) % self.index_step
            for offset in range(first, len(rows), self.index_step):
                self._add_anchor(position + offset, tuple(rows[offset]))
                added += 1
            position += len(rows)
            progress(Progress(position, total, "Indexing rows"))
        return added

    def _add_anchor(self, position: int, values: tuple[Any, ...]) -> None:
        with self._lock:
            if position not in self._anchors:
                bisect.insort(self._anchor_positions, position)
            self._anchors[position] = values

    def _anchor_at_or_before(self, position: int) -> tuple[int, tuple[Any, ...]] | None:
        with self._lock:
            i = bisect.bisect_right(self._anchor_positions, position)
            found = self._anchor_positions[i - 1] if i else None
            return (found, self._anchors[found]) if found is not None else None

    def _anchor_at_or_after(self, position: int) -> tuple[int, tuple[Any, ...]] | None:
        with self._lock:
            i = bisect.bisect_left(self._anchor_positions, position)
            found = self._anchor_positions[i] if i < len(self._anchor_positions) else None
            return (found, self._anchors[found]) if found is not None else None

    # --- fetching ------------------------------------------------------------------------------

    def fetch(self, conn: sqlite3.Connection, start: int, count: int) -> Page:
        """Return up to `count` rows from position `start` (fewer at the end)."""
        if self.total is not None:
            count = min(count, self.total - start)
        if count <= 0 or start < 0:
            return Page(start, [], [])
        if self._dense_first is not None:
            term = self._terms[0]
            rowid = self._dense_first + (-start if term.descending else start)
            seek = Condition(f"{term.sql} {'<=' if term.descending else '>='} ?", (rowid,))
            return self._run(conn, start, seek, False, count, 0)
        return self._fetch_nearest(conn, start, count)

    def _fetch_nearest(self, conn: sqlite3.Connection, start: int, count: int) -> Page:
        """Seek from whichever known place is fewest rows away."""
        last = start + count - 1
        # (rows walked, seek condition, reverse, offset)
        plans: list[tuple[int, Condition | None, bool, int]] = [(start, None, False, start)]
        if self.has_key:
            before, after = self._anchor_at_or_before(start), self._anchor_at_or_after(last)
            if before is not None:
                walk = start - before[0]
                plans.append((walk, self._seek(before[1], reverse=False, inclusive=True), False, walk))
            if after is not None:
                walk = after[0] - last
                plans.append((walk, self._seek(after[1], reverse=True, inclusive=True), True, walk))
            if self.total is not None:
                walk = self.total - 1 - last
                plans.append((walk, None, True, walk))
        _, seek, reverse, offset = min(plans, key=lambda plan: plan[0])
        return self._run(conn, start, seek, reverse, count, offset)

    def _run(
        self,
        conn: sqlite3.Connection,
        start: int,
        seek: Condition | None,
        reverse: bool,
        count: int,
        offset: int,
    ) -> Page:
        where, params = self._where(seek)
        order = self._order_by(reverse)
        n_terms, n_keys = len(self._terms), len(self._key_sql)
        raw: list[tuple[Any, ...]] = []
        # A wide table needs more result columns than SQLite allows in one SELECT: the same seek in the
        # same order (unique, because the key ends it) is read once per slice of columns and zipped.
        for part, columns in enumerate(self._column_slices(conn)):
            sql = f"SELECT {self._select_list(columns)} FROM {self._source}{where}{order} LIMIT ? OFFSET ?"
            rows = conn.execute(sql, (*params, count, offset)).fetchmany(count)
            if part == 0:
                raw = rows
            else:
                raw = [whole + row[n_terms + n_keys :] for whole, row in zip(raw, rows, strict=True)]
        if reverse:
            raw.reverse()
        if raw and self.has_key:
            self._add_anchor(start, tuple(raw[0][:n_terms]))
        rows = [_display_values(r[n_terms + n_keys :]) for r in raw]
        return Page(start, rows, [tuple(r[n_terms : n_terms + n_keys]) for r in raw])

    def _column_slices(self, conn: sqlite3.Connection) -> list[list[str]]:
        """The columns in slices small enough for one SELECT each (one slice unless the table is wide)."""
        most = conn.getlimit(sqlite3.SQLITE_LIMIT_COLUMN) - len(self._terms) - len(self._key_sql)
        per_query = max(1, most // 2)  # two result columns per cell: the value and, when cut, its size
        if len(self.columns) > per_query and not self.has_key:
            raise UserError(
                f"“{self.table.name}” has {len(self.columns):,} columns, more than can be browsed without a "
                "row key; select the columns you need in the SQL pane."
            )
        return [self.columns[i : i + per_query] for i in range(0, len(self.columns), per_query)]

    def _select_list(self, columns: Sequence[str]) -> str:
        limit = self._cell_max
        cells = [
            f"CASE WHEN length({c}) > {limit} THEN substr({c}, 1, {limit}) ELSE {c} END, "
            f"CASE WHEN length({c}) > {limit} THEN length({c}) END"
            for c in (quote_identifier(name) for name in columns)
        ]
        return ", ".join([t.sql for t in self._terms] + self._key_sql + cells)

    def _where(self, extra: Condition | None) -> tuple[str, tuple[Any, ...]]:
        parts = [c for c in (self._filter, extra) if c is not None]
        if not parts:
            return "", ()
        params = tuple(v for p in parts for v in p.params)
        return " WHERE " + " AND ".join(f"({p.sql})" for p in parts), params

    def _order_by(self, reverse: bool) -> str:
        if not self._terms:
            return ""
        return " ORDER BY " + ", ".join(
            f"{t.sql} {'DESC' if t.descending != reverse else 'ASC'}" for t in self._terms
        )

    def _seek(self, values: tuple[Any, ...], *, reverse: bool, inclusive: bool) -> Condition:
        """Rows at (when `inclusive`) or after `values` in the order (or before them, when `reverse`)."""
        terms = [t.flipped() for t in self._terms] if reverse else self._terms
        if self._row_values:
            operator = ("<" if terms[0].descending else ">") + ("=" if inclusive else "")
            if len(terms) == 1:
                return Condition(f"{terms[0].sql} {operator} ?", values)
            columns = ", ".join(t.sql for t in terms)
            marks = ", ".join("?" for _ in terms)
            return Condition(f"({columns}) {operator} ({marks})", values)
        return _lexicographic_after(terms, values, inclusive)

    # --- single rows ---------------------------------------------------------------------------

    def _key_condition(self, key: Mapping[str, Any]) -> Condition:
        parts: list[str] = []
        for name in key:
            if names_rowid(self.table, name):
                sql = self._key_sql[0] if self.key_columns and self.key_columns[0] in ROWID_NAMES else name
            else:
                sql = self._column_sql(name)
            parts.append(f"{sql} IS ?")
        if not parts:
            raise UserError("No row key was given.")
        return Condition(" AND ".join(parts), tuple(key.values()))

    def position_of(self, conn: sqlite3.Connection, key: Mapping[str, Any]) -> int | None:
        """The position of the row with `key` (any identifying columns) under the order and filters."""
        if not self._terms:
            return None
        where, params = self._where(self._key_condition(key))
        terms_sql = ", ".join(t.sql for t in self._terms)
        row = conn.execute(f"SELECT {terms_sql} FROM {self._source}{where} LIMIT 1", params).fetchone()
        if row is None:
            return None
        if self._dense_first is not None:
            return abs(row[0] - self._dense_first)
        where, params = self._where(self._seek(tuple(row), reverse=True, inclusive=False))
        return int(conn.execute(f"SELECT count(*) FROM {self._source}{where}", params).fetchone()[0])

    def full_value(self, conn: sqlite3.Connection, column: str, key: tuple[Any, ...], position: int) -> Any:
        """The whole value of one cell, found by its row's key (or by position when there is no key)."""
        column_sql = self._column_sql(column)
        if self.has_key:
            where, params = self._where(self._key_condition(self.key_dict(key)))
            sql, bound = f"SELECT {column_sql} FROM {self._source}{where} LIMIT 1", params
        else:
            where, params = self._where(None)
            sql = f"SELECT {column_sql} FROM {self._source}{where}{self._order_by(False)} LIMIT 1 OFFSET ?"
            bound = (*params, position)
        row = conn.execute(sql, bound).fetchone()
        return row[0] if row else None


def _display_values(cells: Sequence[Any]) -> tuple[Any, ...]:
    """Pair up (value, size-if-cut) columns into values, `Truncated` where the value was cut."""
    return tuple(
        Truncated(cells[i], cells[i + 1]) if cells[i + 1] is not None else cells[i]
        for i in range(0, len(cells), 2)
    )


def _greater(term: _Term, value: Any) -> Condition:
    """`term` sorts strictly after `value` (NULLs sort first ascending, last descending); never NULL."""
    if value is None:
        return Condition("0") if term.descending else Condition(f"{term.sql} IS NOT NULL")
    if term.descending:
        return Condition(f"({term.sql} < ? OR {term.sql} IS NULL)", (value,))
    return Condition(f"{term.sql} > ?", (value,))


def _lexicographic_after(terms: Sequence[_Term], values: Sequence[Any], inclusive: bool) -> Condition:
    """Rows after (or at) `values` in the order `terms`, NULL-safe, for mixed directions."""
    last, value = terms[-1], values[-1]
    condition = _greater(last, value)
    if inclusive:
        condition = Condition(f"({condition.sql} OR {last.sql} IS ?)", (*condition.params, value))
    for term, value in zip(reversed(terms[:-1]), reversed(values[:-1]), strict=True):
        greater = _greater(term, value)
        condition = Condition(
            f"({greater.sql} OR ({term.sql} IS ? AND {condition.sql}))",
            (*greater.params, value, *condition.params),
        )
    return condition
