"""The whole comparison of two snapshots: a `TableDiff` per table, rows streamed as they are found."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.core.diff.model import ChangeKind, DatabaseDiff, Matching, RowChange, TableDiff
from desktop_app.core.diff.pairing import B_SCHEMA, Pair, compared_columns, open_pair, usable_rowid
from desktop_app.core.diff.rows import TablePlan, count_changes, plan_table, row_changes
from desktop_app.core.diff.schema_changes import compared_tables, object_changes, table_changes
from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.schema.catalog import Table, TableKind
from desktop_app.core.schema.fts import parse_fts
from desktop_app.core.snapshot.snapshot import Snapshot, open_snapshot
from desktop_app.core.sqlite.interrupt import cancellable
from desktop_app.core.sqlite.quoting import qualified, quote_identifier

if TYPE_CHECKING:
    from desktop_app.core.diff.changed_pages import RowidRanges

#: Called with a table and a page of its changed rows, as they are found (on the comparing thread).
RowsCallback = Callable[[TableDiff, list[RowChange]], None]


class TableNotFound(UserError):
    """The table asked for is on neither side."""


def _table_kind(table: Table) -> str:
    return {TableKind.VIEW: "view", TableKind.VIRTUAL: "virtual"}.get(table.kind, "table")


def outline(
    pair: Pair, only: str | None = None
) -> tuple[DatabaseDiff, dict[str, tuple[Table | None, Table | None]]]:
    """Every table and view with its schema changes (no rows compared yet), and the catalog entries."""
    old_tables, new_tables = compared_tables(pair.catalog_a), compared_tables(pair.catalog_b)
    names = list(old_tables) + [n for n in new_tables if n not in old_tables]
    if only is not None:
        if only not in names:
            raise TableNotFound(f"There is no table called “{only}” in either database.")
        names = [only]
    objects = object_changes(pair.catalog_a, pair.catalog_b)
    diff = DatabaseDiff(settings=list(pair.settings))
    sides: dict[str, tuple[Table | None, Table | None]] = {}
    for name in names:
        old, new = old_tables.get(name), new_tables.get(name)
        either = new or old
        assert either is not None
        entry = TableDiff(
            name, _table_kind(either), old is not None, new is not None, columns=compared_columns(either)
        )
        entry.schema_changes = table_changes(old, new) + [c for c in objects if c.table == name]
        diff.tables.append(entry)
        sides[name] = (old, new)
    if only is None:
        diff.other_changes = [c for c in objects if c.table not in sides]
    return diff, sides


def compare(
    pair: Pair,
    *,
    only: str | None = None,
    rows: bool = True,
    on_rows: RowsCallback | None = None,
    on_table: Callable[[TableDiff], None] | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressCallback = ignore_progress,
    candidates: Mapping[str, RowidRanges | None] | None = None,
) -> DatabaseDiff:
    """Compare every table of the pair (or `only` one). With `rows`, changed rows go to `on_rows` page by
    page as they are found; without, only the counts are computed (faster). `on_table` hears each table
    when it is done. `candidates` (from `changed_tables`) names the only tables whose rows may differ, with
    the rowid ranges their differences lie in (counts only): the others are known equal and not read.
    Raises `Cancelled` when `cancel` fires."""
    cancel = cancel or CancelToken()
    diff, sides = outline(pair, only)
    for number, entry in enumerate(diff.tables):
        progress(Progress(number, len(diff.tables), entry.name))
        old, new = sides[entry.name]
        if candidates is not None and entry.name not in candidates:
            entry.done = True
            if on_table is not None:
                on_table(entry)
            continue
        try:
            with cancellable(pair.conn, cancel):
                ranges = candidates.get(entry.name) if candidates is not None else None
                _compare_table(pair, entry, old, new, rows, on_rows, ranges)
        except sqlite3.Error as exc:  # one unreadable table (a damaged page, a name that is not UTF-8)
            entry.error = str(exc)
            entry.note = f"its rows could not be compared: {exc}"
        entry.done = True
        if on_table is not None:
            on_table(entry)
    progress(Progress(len(diff.tables), len(diff.tables), "done"))
    diff.complete = True
    return diff


def _compare_table(
    pair: Pair,
    entry: TableDiff,
    old: Table | None,
    new: Table | None,
    rows: bool,
    on_rows: RowsCallback | None,
    ranges: RowidRanges | None = None,
) -> None:
    table = new or old
    assert table is not None
    if old is None or new is None:
        pages = _one_side(pair, entry, table, new is not None, rows)
    else:
        pages = _both_sides(pair, entry, old, new, rows, ranges)
    for page in pages:
        for change in page:
            entry.count(change)
        if on_rows is not None:
            on_rows(entry, page)


def _both_sides(
    pair: Pair, entry: TableDiff, old: Table, new: Table, rows: bool, ranges: RowidRanges | None
) -> Iterator[list[RowChange]]:
    plan = plan_table(pair, old, new)
    if isinstance(plan, str):
        entry.note = plan
        return iter(())
    entry.matching, entry.columns, entry.key_columns = plan.matching, plan.columns, plan.key_names
    entry.note = plan.note
    if not rows:
        count_changes(pair.conn, plan, entry, ranges)
        return iter(())
    return row_changes(pair.conn, plan)


def _one_side(
    pair: Pair, entry: TableDiff, table: Table, in_b: bool, rows: bool
) -> Iterator[list[RowChange]]:
    """A table on one side only: all its rows are added (or removed)."""
    if table.kind is TableKind.VIEW or table.error:
        entry.note = (
            "a view: only its definition is compared" if table.kind is TableKind.VIEW else table.error or ""
        )
        return iter(())
    fts = parse_fts(table.sql) if table.kind is TableKind.VIRTUAL else None
    if fts is not None and fts.content is not None:
        entry.note = "a full-text index over another table: that table's rows are compared"
        return iter(())
    name = qualified(B_SCHEMA, pair.b_names.get(table.name, table.name)) if in_b else table.quoted
    kind = ChangeKind.ADDED if in_b else ChangeKind.REMOVED
    rowid = usable_rowid(table)
    entry.matching = Matching.ROWID if rowid else (Matching.KEY if table.primary_key else Matching.CONTENT)
    entry.key_columns = [rowid] if rowid else list(table.primary_key)
    keys = [quote_identifier(rowid)] if rowid else [quote_identifier(k) for k in table.primary_key]
    columns = [quote_identifier(c) for c in entry.columns]
    if not rows:
        count = pair.conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        entry.added, entry.removed = (count, 0) if in_b else (0, count)
        return iter(())
    cursor = pair.conn.execute(f"SELECT {', '.join(keys + columns) or 'NULL'} FROM {name}")
    return _pages(cursor, len(keys), kind)


def _pages(cursor, n_key: int, kind: ChangeKind) -> Iterator[list[RowChange]]:  # type: ignore[no-untyped-def]
    while rows := cursor.fetchmany(LIMITS.page_rows):
        if kind is ChangeKind.ADDED:
            yield [RowChange(kind, tuple(r[:n_key]), None, tuple(r[n_key:])) for r in rows]
        else:
            yield [RowChange(kind, tuple(r[:n_key]), tuple(r[n_key:]), None) for r in rows]


def snapshot_both(
    path_a: str | Path,
    path_b: str | Path,
    cancel: CancelToken | None = None,
    opener: Callable[[str | Path, int], Snapshot] | None = None,
) -> tuple[Snapshot, Snapshot]:
    """Snapshot both files at once (two copies in parallel); neither is left open when one fails.

    `opener(path, side)` (side 0 for A, 1 for B) opens each one, e.g. with its key; by default
    `open_snapshot(path, cancel=cancel)`."""

    def open_one(path: str | Path, side: int) -> Snapshot:
        return opener(path, side) if opener is not None else open_snapshot(path, cancel=cancel)

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(open_one, path, side) for side, path in enumerate((path_a, path_b))]
        wait(futures)
    failures = [f.exception() for f in futures if f.exception() is not None]
    if failures:
        for future in futures:
            if future.exception() is None:
                future.result().close()
        raise failures[0]  # type: ignore[misc]
    return futures[0].result(), futures[1].result()


def count_between(a: Snapshot, b: Snapshot, cancel: CancelToken | None = None) -> DatabaseDiff:
    """The counts of what changed from `a` to `b` (blocking), reading only the tables whose pages differ
    when both are memory snapshots small enough to compare page by page (two generations of one file)."""
    from desktop_app.core.diff.changed_pages import changed_tables  # page reading: watch mode only

    pair = open_pair(a, b, cancel)
    try:
        candidates = changed_tables(a, b, pair.catalog_a, pair.catalog_b)
        diff = compare(pair, rows=False, cancel=cancel, candidates=candidates)
        if pair.note:
            diff.settings.append(pair.note)
        return diff
    finally:
        pair.close()


def diff_snapshots(
    a: Snapshot,
    b: Snapshot,
    *,
    only: str | None = None,
    rows: bool = True,
    on_rows: RowsCallback | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressCallback = ignore_progress,
) -> DatabaseDiff:
    """Compare snapshot `a` with `b` (blocking: run it off the UI thread)."""
    pair = open_pair(a, b, cancel, progress)
    try:
        diff = compare(pair, only=only, rows=rows, on_rows=on_rows, cancel=cancel, progress=progress)
        if pair.note:
            diff.settings.append(pair.note)
        return diff
    finally:
        pair.close()


__all__ = ["TablePlan", "compare", "count_between", "diff_snapshots", "outline"]
