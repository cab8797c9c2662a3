"""Running a search over every table in scope: streaming hit batches and per-table progress."""

from __future__ import annotations

import sqlite3
import time
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from typing import Any

from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.schema.catalog import attached_schemas
from desktop_app.core.search.index import SearchIndex
from desktop_app.core.search.matching import FilterKind, Matcher
from desktop_app.core.search.options import SearchOptions
from desktop_app.core.search.results import (
    Hit,
    HitBatch,
    Method,
    SearchEvent,
    SearchFinished,
    SearchResult,
    SearchStarted,
    TableDone,
)
from desktop_app.core.search.scan import run_query, searchable_columns, table_queries
from desktop_app.core.search.tables import SearchColumn, SearchTable, read_search_tables
from desktop_app.core.sqlite.interrupt import stoppable


@dataclass(frozen=True)
class _Target:
    """A table to search, and which of its columns (None: all)."""

    table: SearchTable
    columns: frozenset[str] | None
    explicit: bool


@dataclass
class _Tally:
    """Counts shared by every table of one search."""

    hits: int = 0
    truncated: bool = False
    last_flush: float = float("-inf")


def search(
    conn: sqlite3.Connection,
    options: SearchOptions,
    *,
    index: SearchIndex | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> Iterator[SearchEvent]:
    """Search the snapshot behind `conn`, yielding SearchStarted, HitBatch/TableDone events, SearchFinished.

    Raises `UserError` for a bad query or scope (before anything is yielded) and `Cancelled` when
    `cancel` fires. Closing the generator early stops the search and frees the connection.
    """
    started = time.perf_counter()
    matcher = Matcher(options, encoding=conn.execute("PRAGMA encoding").fetchone()[0])
    targets = _plan(read_search_tables(conn, ["main", *attached_schemas(conn)]), options)
    index_note = index.unusable_for(options) if index is not None else None
    use_index = index is not None and index_note is None
    return _run(conn, matcher, targets, index if use_index else None, index_note, progress, cancel, started)


def collect(
    conn: sqlite3.Connection,
    options: SearchOptions,
    *,
    index: SearchIndex | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> SearchResult:
    """Run `search` to the end and return everything it reported."""
    events = search(conn, options, index=index, progress=progress, cancel=cancel)
    first = next(events)
    assert isinstance(first, SearchStarted)
    result = SearchResult(first)
    for event in events:
        if isinstance(event, HitBatch):
            result.hits.extend(event.hits)
        elif isinstance(event, TableDone):
            result.tables.append(event)
        elif isinstance(event, SearchFinished):
            result.finished = event
    return result


@dataclass(frozen=True)
class MoreHits:
    """The next hits of one table a search stopped at its per-table limit."""

    table: str
    hits: tuple[Hit, ...]
    #: True when the table has still more hits past these.
    more: bool
    #: Every hit of the table, once known (the search reached its end), else None.
    total: int | None


def more_hits(
    conn: sqlite3.Connection,
    options: SearchOptions,
    table: str,
    shown: int,
    *,
    index: SearchIndex | None = None,
    cancel: CancelToken | None = None,
) -> MoreHits:
    """The hits of `table` after the `shown` first ones, up to the per-table limit again.

    The table's search runs again over the same snapshot (same queries, same order) and its first
    `shown` hits are passed over, so no cursor stays open between the user's requests.
    """
    step = options.limit_per_table or LIMITS.search_hits_per_table
    columns = tuple(pair for pair in options.columns if pair[0] == table and table not in options.tables)
    scoped = replace(
        options,
        tables=() if columns else (table,),
        columns=columns,
        limit_per_table=shown + step,
        limit=None,
    )
    result = collect(conn, scoped, index=index, cancel=cancel)
    report = result.table(table) or (result.tables[0] if result.tables else None)
    more = report is not None and report.truncated
    hits = tuple(result.hits[shown:])
    return MoreHits(table, hits, more, None if more else shown + len(hits))


def _run(
    conn: sqlite3.Connection,
    matcher: Matcher,
    targets: list[_Target],
    index: SearchIndex | None,
    index_note: str | None,
    progress: ProgressCallback,
    cancel: CancelToken | None,
    started: float,
) -> Iterator[SearchEvent]:
    cancel = cancel or CancelToken()
    if index is not None:
        index.attach(conn)
    if matcher.filter_kind is FilterKind.FUNCTION:
        matcher.register(conn)
    tally = _Tally()
    total = len(targets)
    done = 0
    try:
        with stoppable(conn, cancel):
            yield SearchStarted(tuple(t.table.label for t in targets), index is not None, index_note)
            for target in targets:
                cancel.raise_if_cancelled()
                if matcher.options.limit is not None and tally.hits >= matcher.options.limit:
                    tally.truncated = True
                    break
                progress(Progress(done, total, target.table.label))
                report = yield from _search_table(conn, target, matcher, index, tally, cancel)
                done += 1
                yield TableDone(tables_done=done, tables_total=total, **report)
            progress(Progress(done, total, "Search finished"))
            yield SearchFinished(tally.hits, done, total, tally.truncated, time.perf_counter() - started)
    finally:
        if matcher.filter_kind is FilterKind.FUNCTION:
            Matcher.unregister(conn)


def _search_table(
    conn: sqlite3.Connection,
    target: _Target,
    matcher: Matcher,
    index: SearchIndex | None,
    tally: _Tally,
    cancel: CancelToken,
) -> Generator[HitBatch, None, dict[str, Any]]:
    """Yield hit batches of one table; return the fields of its TableDone."""
    table = target.table
    report: dict[str, Any] = {"table": table.label, "hits": 0, "truncated": False, "method": Method.SKIPPED}
    if table.error:
        return {**report, "note": f"cannot be read: {table.error}", "error": True}
    if table.skip_note and not target.explicit:
        return {**report, "note": table.skip_note}
    columns = searchable_columns(table, matcher.options.value_types, target.columns)
    if not columns:
        return {**report, "method": Method.SCAN}
    note = None
    if index is not None and table.schema == "main" and table.name in index.tables:
        pending = deque([(Method.INDEX, index.table_hits(conn, table.name, matcher, target.columns))])
    else:
        pending = deque(_query_sources(conn, table, columns, matcher, use_fts=matcher.options.use_fts))
    while pending and not report["truncated"]:
        method, hits = pending.popleft()
        report["method"] = method
        try:
            yield from _drain(table.label, hits, matcher.options, tally, report)
        except sqlite3.Error as exc:
            if cancel.cancelled:
                raise Cancelled() from None
            if method is Method.FTS and report["hits"] == 0:
                # The full-text table failed (e.g. its tokenizer is missing): scan instead.
                note = f"full-text table not used: {exc}"
                pending = deque(_query_sources(conn, table, columns, matcher, use_fts=False))
                continue
            return {**report, "note": f"stopped by an error: {exc}", "error": True}
    return {**report, "note": note}


def _query_sources(
    conn: sqlite3.Connection,
    table: SearchTable,
    columns: tuple[SearchColumn, ...],
    matcher: Matcher,
    *,
    use_fts: bool,
) -> list[tuple[Method, Iterator[Hit]]]:
    queries = table_queries(table, columns, matcher, use_fts=use_fts)
    return [(query.method, run_query(conn, table, query, matcher)) for query in queries]


def _drain(
    table: str, hits: Iterator[Hit], options: SearchOptions, tally: _Tally, report: dict[str, Any]
) -> Generator[HitBatch, None, None]:
    """Pass `hits` on in batches (a hit after a quiet spell goes out at once); stop at the limits.

    Counts into `report["hits"]` as it goes, so a failure part-way still knows what was passed on.
    """
    batch: list[Hit] = []
    try:
        for hit in hits:
            batch.append(hit)
            report["hits"] += 1
            tally.hits += 1
            now = time.perf_counter()
            if len(batch) >= LIMITS.page_rows or now - tally.last_flush >= LIMITS.search_batch_s:
                yield HitBatch(table, tuple(batch))
                batch = []
                tally.last_flush = now
            per_table_full = options.limit_per_table is not None and report["hits"] >= options.limit_per_table
            overall_full = options.limit is not None and tally.hits >= options.limit
            if per_table_full or overall_full:
                report["truncated"] = True
                tally.truncated = True
                break
    except sqlite3.Error:
        if batch:  # hits found before the error are real: hand them over first
            yield HitBatch(table, tuple(batch))
        raise
    finally:
        close = getattr(hits, "close", None)
        if close is not None:
            close()
    if batch:
        yield HitBatch(table, tuple(batch))
        tally.last_flush = time.perf_counter()


def _plan(tables: list[SearchTable], options: SearchOptions) -> list[_Target]:
    """The tables (and columns) in scope, in name order; unknown names are the user's error."""
    if not options.scoped:
        return [_Target(t, None, False) for t in tables if t.kind != "view" or options.include_views]
    chosen: dict[str, set[str] | None] = {}
    for name in options.tables:
        chosen[_find_table(tables, name).label] = None
    for table_name, column_name in options.columns:
        table = _find_table(tables, table_name)
        if chosen.get(table.label, set()) is None:
            continue  # the whole table is already chosen
        column = table.column(column_name)
        if column is None and not table.error:
            raise UserError(f"Table {table.label!r} has no column {column_name!r} to search.")
        chosen.setdefault(table.label, set())
        columns = chosen[table.label]
        if columns is not None:
            columns.add(column.name if column else column_name)
    return [
        _Target(t, frozenset(chosen[t.label] or ()) if chosen[t.label] is not None else None, True)
        for t in tables
        if t.label in chosen
    ]


def _find_table(tables: list[SearchTable], name: str) -> SearchTable:
    found = next((t for t in tables if t.label == name), None)
    found = found or next((t for t in tables if t.label.lower() == name.lower()), None)
    if found is None:
        raise UserError(f"No table or view named {name!r} to search.")
    return found
