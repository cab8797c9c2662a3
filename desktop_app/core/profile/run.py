"""Profile a table's columns on a snapshot connection: cheap figures first, then the expensive ones.

`profile_columns` is a generator. After the row count it yields every column's figures over the first
`LIMITS.profile_sample_rows` rows (one short statement: first figures in a fraction of a second on any
table), then each column's cheap figures (NULLs, storage classes, min/max, length range — one scan for
up to 16 columns at once), then each again complete (distinct, top values, histogram — one grouping
each). Asked to, it runs these statements in a thread of lower priority (a window's profile), and given
a way to open a second connection, two at a time (SQLite uses one core per statement), still yielding
in column order.
Every statement is read-only and stops at once when the `CancelToken` is cancelled.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from typing import Any, TypeVar

from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.profile.cache import ProfileCache
from desktop_app.core.profile.model import STORAGE_CLASSES, ColumnProfile, HistogramBin, Stage
from desktop_app.core.profile.queries import CHEAP_FIGURES, cheap_sql, detail_sql, sample_sql
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import Table
from desktop_app.core.sqlite.interrupt import stoppable
from desktop_app.core.values.text import exact_text
from desktop_app.core.values.timestamps import ENCODINGS, TimeEncoding, format_time, guess_time_encoding

#: Columns profiled by one sampling or cheap statement (10 figures each; SQLite allows 2,000 result
#: columns).
_COLUMNS_A_STATEMENT = 16
_JULIAN_DAY = next(e for e in ENCODINGS if e.name == "julian_day")
#: The nice value of the threads running column statements: the process's UI thread (nice 0) weighs
#: ten times more with the scheduler, so a busy profile never keeps it waiting for a core.
_LANE_NICE = 10
T = TypeVar("T")
#: A statement's worth of work: run on the connection given, stopping when the token is cancelled.
Job = Callable[[sqlite3.Connection, CancelToken], T]


class ProfileError(UserError):
    """A table or column cannot be profiled (unknown name, unreadable table)."""


def profiled_columns(table: Table) -> list[str]:
    """The columns a whole-table profile covers: all but a virtual table's hidden ones."""
    return [c.name for c in table.columns if c.hidden != 1]


def profile_columns(
    conn: sqlite3.Connection,
    table: Table,
    columns: Sequence[str] | None = None,
    *,
    generation: int | None = None,
    cancel: CancelToken | None = None,
    cache: ProfileCache | None = None,
    time_encodings: Mapping[str, str | None] | None = None,
    connect: Callable[[], sqlite3.Connection] | None = None,
    low_priority: bool = False,
) -> Iterator[ColumnProfile]:
    """Yield profiles of `columns` (all by default): each cheap one, then each complete one.

    Complete profiles are kept in `cache` under `generation` (the snapshot's) and yielded at once next
    time. `time_encodings` overrides the guess per column (an encoding's key, or None for "not a time");
    pass a different cache key (generation) or no cache when an override changes. `low_priority` runs
    the column statements in a thread of lower priority than the process's others (a window's UI thread
    then never waits for a core behind them). `connect`, when given, opens a second connection to the
    same snapshot (closed here): column statements then run two at a time, in such threads. On a
    memory snapshot two statements at once were slower than one after the other on a loaded 2-core
    machine (see README), so the window does not ask for it. Raises `Cancelled` when `cancel` is
    cancelled, `ProfileError` for an unknown column or an unreadable table.
    """
    if table.error:
        raise ProfileError(f"The table {table.name} cannot be read: {table.error}")
    names = list(columns) if columns is not None else profiled_columns(table)
    for name in names:
        if table.column(name) is None:
            known = ", ".join(c.name for c in table.columns)
            raise ProfileError(f"{table.name} has no column {name} (its columns: {known}).")
    token = cancel or CancelToken()

    def cached(name: str) -> ColumnProfile | None:
        if cache is None or generation is None:
            return None
        return cache.get((generation, table.schema, table.name, name))

    with stoppable(conn, token):
        pending = []
        for name in names:
            found = cached(name)
            if found is not None:
                yield found
            else:
                pending.append(name)
        if not pending:
            return
        rows = _fetch_one(conn, f"SELECT count(*) FROM {table.quoted}", token)[0]
        if rows > LIMITS.profile_sample_rows:
            yield from _sampled(conn, table, pending, rows, token)
        with _Lanes(conn, connect, token, low_priority) as lanes:
            cheap = []
            for chunk in lanes.run(
                [_cheap_job(table, group, rows, time_encodings) for group in lanes.split(pending)]
            ):
                for profile in chunk:
                    cheap.append(profile)
                    yield dataclasses.replace(profile)
            for complete in lanes.run([_complete_job(table, profile) for profile in cheap]):
                if cache is not None and generation is not None:
                    cache.put((generation, table.schema, table.name, complete.name), complete)
                yield complete


def profile_table(
    conn: sqlite3.Connection,
    table: Table,
    columns: Sequence[str] | None = None,
    **options: Any,
) -> list[ColumnProfile]:
    """The complete profiles of `columns` (all by default), in column order (see `profile_columns`)."""
    done = {p.name: p for p in profile_columns(conn, table, columns, **options) if p.stage is Stage.COMPLETE}
    return [done[name] for name in (columns if columns is not None else profiled_columns(table))]


def _execute(conn: sqlite3.Connection, sql: str, cancel: CancelToken) -> list[tuple[Any, ...]]:
    cancel.raise_if_cancelled()
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.Error as exc:
        if cancel.cancelled:
            raise Cancelled() from None
        # A missing module, an FTS table whose content is gone, a damaged page: the user's file, not us.
        raise ProfileError(f"The table cannot be read: {exc}") from None


def _fetch_one(conn: sqlite3.Connection, sql: str, cancel: CancelToken) -> tuple[Any, ...]:
    return _execute(conn, sql, cancel)[0]


class _Lanes:
    """Runs jobs on the profile's connection (in a thread of lower priority when asked) and, given
    `connect`, on a second one at the same time.

    `run` yields the jobs' results in the jobs' order. Both lanes stop at once when `cancel` is cancelled,
    when a job fails (its error is raised, not the `Cancelled` of the other lane it stopped), and when the
    caller stops iterating; no lane outlives `run`, and the second connection is closed on exit.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        connect: Callable[[], sqlite3.Connection] | None,
        cancel: CancelToken,
        low_priority: bool,
    ) -> None:
        self.conn, self._connect, self.cancel = conn, connect, cancel
        self._threads = low_priority or connect is not None
        self._second: sqlite3.Connection | None = None

    def __enter__(self) -> _Lanes:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._second is not None:
            self._second.close()
            self._second = None

    @property
    def count(self) -> int:
        """How many statements run at a time."""
        return 2 if self._connect is not None else 1

    def split(self, names: list[str]) -> list[list[str]]:
        """`names` in groups of at most `_COLUMNS_A_STATEMENT`, at least one group a lane when there are
        enough columns."""
        size = min(_COLUMNS_A_STATEMENT, max(1, -(-len(names) // self.count)))
        return [names[start : start + size] for start in range(0, len(names), size)]

    def run(self, jobs: list[Job[T]]) -> Iterator[T]:
        """Yield each job's result, in order."""
        if not self._threads:
            for job in jobs:
                yield job(self.conn, self.cancel)
            return
        conns = [self.conn]
        if self._connect is not None and len(jobs) > 1:
            if self._second is None:
                self.cancel.raise_if_cancelled()
                self._second = self._connect()
            conns.append(self._second)
        yield from _in_lanes(jobs, conns, self.cancel)


def _in_lanes(jobs: list[Job[T]], conns: Sequence[sqlite3.Connection], cancel: CancelToken) -> Iterator[T]:
    """Run `jobs` on a thread per connection of `conns` (each takes the next job when done), at a lower
    priority than the process's other threads; yield their results in the jobs' order."""
    stop = CancelToken()  # the lanes': cancelled by `cancel`, a failed job or the caller leaving early
    unregister = cancel.on_cancel(stop.cancel)
    ready = threading.Condition()
    results: dict[int, T] = {}
    failures: list[BaseException] = []  # the first one is the cause
    queue = iter(range(len(jobs)))

    def lane(conn: sqlite3.Connection) -> None:
        _lower_priority()
        with stoppable(conn, stop):
            while not stop.cancelled:
                with ready:
                    index = next(queue, None)
                if index is None:
                    return
                try:
                    result = jobs[index](conn, stop)
                except BaseException as exc:  # handed to the caller's thread
                    with ready:
                        failures.append(exc)
                        ready.notify_all()
                    stop.cancel()
                    return
                with ready:
                    results[index] = result
                    ready.notify_all()

    threads = [threading.Thread(target=lane, args=(c,), name="profile lane", daemon=True) for c in conns]
    for thread in threads:
        thread.start()
    try:
        for index in range(len(jobs)):
            with ready:
                while index not in results and not failures and any(t.is_alive() for t in threads):
                    ready.wait(0.5)
                if index not in results:
                    if failures:
                        raise failures[0]
                    cancel.raise_if_cancelled()
                    raise Cancelled()
                result = results.pop(index)
            yield result
    finally:
        stop.cancel()
        unregister()
        for thread in threads:
            thread.join()


def _lower_priority() -> None:
    """Lower the calling thread's priority (Linux: a thread has its own nice value), so that the UI
    thread gets a core at once when it wakes instead of waiting for a profile statement's time slice."""
    if sys.platform.startswith("linux"):
        with suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _LANE_NICE)


def _sampled(
    conn: sqlite3.Connection, table: Table, names: list[str], rows: int, cancel: CancelToken
) -> Iterator[ColumnProfile]:
    """The figures of the first rows, a few columns a statement (SQLite caps a result's columns)."""
    size = LIMITS.profile_sample_rows
    for start in range(0, len(names), _COLUMNS_A_STATEMENT):
        chunk = names[start : start + _COLUMNS_A_STATEMENT]
        figures = _fetch_one(conn, cheap_sql(table.quoted, chunk, size), cancel)
        for i, name in enumerate(chunk):
            part = figures[i * CHEAP_FIGURES : (i + 1) * CHEAP_FIGURES]
            profile = _figures(table, name, rows, part, Stage.SAMPLE, sampled=size)
            yield profile


def _cheap_job(
    table: Table, names: list[str], rows: int, time_encodings: Mapping[str, str | None] | None
) -> Job[list[ColumnProfile]]:
    """The cheap figures of `names` over every row (one scan), with each column's time encoding."""

    def job(conn: sqlite3.Connection, cancel: CancelToken) -> list[ColumnProfile]:
        figures = _fetch_one(conn, cheap_sql(table.quoted, names), cancel)
        profiles = []
        for i, name in enumerate(names):
            profile = _figures(
                table, name, rows, figures[i * CHEAP_FIGURES : (i + 1) * CHEAP_FIGURES], Stage.CHEAP
            )
            if time_encodings is not None and name in time_encodings:
                profile.time_encoding = time_encodings[name]
            else:
                profile.time_encoding = _time_encoding(conn, table, name, cancel)
            profiles.append(profile)
        return profiles

    return job


def _complete_job(table: Table, profile: ColumnProfile) -> Job[ColumnProfile]:
    return lambda conn, cancel: _complete(conn, table, profile, cancel)


def _figures(
    table: Table, name: str, rows: int, figures: tuple[Any, ...], stage: Stage, sampled: int | None = None
) -> ColumnProfile:
    non_null, integers, reals, texts, low, high, shortest, longest, low_bytes, high_bytes = figures
    counts = (integers, reals, texts, non_null - integers - reals - texts)
    return ColumnProfile(
        name=name,
        count=rows,
        stage=stage,
        sampled_rows=sampled,
        nulls=(sampled if sampled is not None else rows) - non_null,
        types={kind: n for kind, n in zip(STORAGE_CLASSES, counts, strict=True) if n},
        min=exact_text(low, low_bytes),
        max=exact_text(high, high_bytes),
        length=(shortest, longest) if shortest is not None else None,
    )


def _time_encoding(conn: sqlite3.Connection, table: Table, name: str, cancel: CancelToken) -> str | None:
    sample = _execute(conn, sample_sql(table.quoted, name, LIMITS.profile_time_sample_rows), cancel)
    column = table.column(name)
    encoding = guess_time_encoding(name, column.declared_type if column else "", [r[0] for r in sample])
    return encoding.name if encoding else None


def _complete(
    conn: sqlite3.Connection, table: Table, profile: ColumnProfile, cancel: CancelToken
) -> ColumnProfile:
    encoding = next((e for e in ENCODINGS if e.name == profile.time_encoding), None)
    iso = encoding is not None and encoding.text
    bins = LIMITS.profile_histogram_bins
    sql = detail_sql(table.quoted, profile.name, LIMITS.profile_top_values, bins, iso_time=iso)
    distinct, top, counts, bounds = 0, [], {}, (None, None, None)
    for kind, n, value, hi, width in _execute(conn, sql, cancel):
        if kind == 0:
            distinct, bounds = n, (value, hi, width)
        elif kind == 1:
            top.append((exact_text(value, hi), n))
        else:
            counts[int(value)] = n
    histogram = _histogram(bounds, counts, bins, _JULIAN_DAY if iso else encoding)
    return dataclasses.replace(profile, stage=Stage.COMPLETE, distinct=distinct, top=top, histogram=histogram)


def _histogram(
    bounds: tuple[Any, Any, Any], counts: dict[int, int], bins: int, encoding: TimeEncoding | None
) -> list[HistogramBin] | None:
    low, high, width = bounds
    if low is None:
        return None
    if width == 0:
        edges = [(low, high)]
    elif isinstance(low, int) and isinstance(high, int) and width == 1:
        edges = [(low + i, low + i + 1) for i in range(high - low + 1)]
    else:
        edges = [(low + i * width, high if i == bins - 1 else low + (i + 1) * width) for i in range(bins)]
    return [_bin(a, b, counts.get(i, 0), encoding) for i, (a, b) in enumerate(edges)]


def _bin(low: float, high: float, count: int, encoding: TimeEncoding | None) -> HistogramBin:
    if encoding is None:
        return HistogramBin(low, high, count)
    start, end = encoding.decode(low), encoding.decode(high)
    return HistogramBin(
        low,
        high,
        count,
        format_time(start) if start else None,
        format_time(end) if end else None,
    )
