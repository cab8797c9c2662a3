"""Read the columns of a whole table or query result for a chart: streamed, stoppable, off the UI thread.

Run `read_chart` with `Database.run_sync`. A query that can be nested is wrapped so SQLite hands over only
the charted columns; any other statement runs as it is and the columns are picked from its rows.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import numpy as np

from desktop_app.core.chart.binning import histogram
from desktop_app.core.chart.columns import CategoryColumn, Column, NumberColumn, TimeColumn, x_column
from desktop_app.core.chart.grouped import bar_summary, histogram_summary
from desktop_app.core.chart.notes import check_has_values, dropped_note, series_name, skipped_note, value_text
from desktop_app.core.chart.spec import ChartData, ChartError, ChartKind, ChartSpec, Series
from desktop_app.core.chart.summary import ColumnCounts, LineSummary, more_rows_than, x_values
from desktop_app.core.chart.thinning import LineThinner
from desktop_app.core.errors import QueryError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.sqlite.guard import check_user_sql
from desktop_app.core.sqlite.interrupt import stoppable
from desktop_app.core.sqlite.nested_query import NestedQuery
from desktop_app.core.sqlite.quoting import quote_identifier
from desktop_app.core.sqlite.side_by_side import spare_core
from desktop_app.core.sqlite.statements import split_statements

_LABEL = "Reading chart data"
#: The progress label while SQLite summarises a big line (one statement: no count of rows done).
SUMMARISING = "Summarising the rows in SQLite"
_NUMBERS = frozenset({int, float, type(None)})


def read_chart(
    conn: sqlite3.Connection,
    sql: str,
    params: Sequence[Any] | dict[str, Any],
    spec: ChartSpec,
    declared_types: Sequence[str] = (),
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    total_rows: int | None = None,
    partial: Callable[[ChartData], None] | None = None,
    connect: Callable[[], sqlite3.Connection] | None = None,
) -> ChartData:
    """Every row of one read-only statement, its `spec` columns as numeric arrays ready to draw.

    `partial(data)`, when given, gets the rows read so far after `LIMITS.chart_partial_draw_s` seconds, then
    after twice as long each time (each hand-over copies what was read: doubling keeps their sum below the
    read itself), so a long read is drawn while it goes on (`data.partial` is then True).

    A line chart of a nestable query with more than `LIMITS.chart_summary_rows` rows is summarised in
    SQLite instead (`LineSummary`): the first page read is handed to `partial`, then SQLite gives each X
    column's lowest and highest Y, and `data.summary` reads a zoomed range again. A bar chart of more than
    `LIMITS.chart_bars_max` rows and a histogram of more than `LIMITS.chart_summary_rows` are grouped in
    SQLite (`grouped.py`). `connect`, when given, opens a second connection to the same snapshot
    (`Database.connect`) when a core is free: the passes of a line are then split in two and run side by
    side (closed before returning).
    """
    started = time.perf_counter()
    statements = split_statements(sql)
    if len(statements) != 1:
        raise QueryError("A chart is drawn from one statement.", sql=sql)
    check_user_sql(statements[0])
    wanted = [spec.x, *spec.ys, *([spec.series] if spec.series is not None else [])]
    token = cancel if cancel is not None else CancelToken()
    with stoppable(conn, token):
        cursor, names, positions, nested = _open(conn, statements[0].text, params, wanted)
        summarised = False
        try:
            reader = _Reader(spec, names, declared_types)
            progress(Progress(0, total_rows, _LABEL))
            reported = drawn = time.monotonic()
            wait = LIMITS.chart_partial_draw_s
            summarise = nested is not None
            # (a bar chart's pages stop at its most bars, so that more are grouped in SQL, not refused)
            size = LIMITS.chart_page_rows
            if spec.kind is ChartKind.BAR and nested is not None:
                size = min(size, LIMITS.chart_bars_max)
            while page := cursor.fetchmany(size):
                token.raise_if_cancelled()
                if summarise and reader.x is not None:  # (X's kind is known from the first page)
                    summarise = False
                    rows = _summary_rows(spec, reader.x)
                    # Counted in SQLite (no rows to Python): streaming 200,000 rows first held the GIL
                    # in steps of tens of milliseconds, a UI stall before the summary even began.
                    if rows is not None and more_rows_than(conn, nested, rows):  # type: ignore[arg-type]
                        summarised = True
                        break
                reader.add([positions(row) for row in page] if positions is not None else page)
                if time.monotonic() - reported >= LIMITS.progress_interval_s:
                    progress(Progress(reader.rows, total_rows, _LABEL))
                    reported = time.monotonic()
                if partial is not None and time.monotonic() - drawn >= wait:
                    _draw_partial(reader, partial, started)
                    drawn, wait = time.monotonic(), max(wait * 2, LIMITS.chart_partial_draw_s)
            token.raise_if_cancelled()
        finally:
            cursor.close()
        if summarised:
            if partial is not None:  # a first picture of the rows read so far, while SQLite summarises
                _draw_partial(reader, partial, started)
            progress(Progress(reader.rows, None, SUMMARISING))
            split = spec.kind is ChartKind.LINE and spare_core()  # (only a line's passes are split)
            other = connect() if connect is not None and split else None
            try:
                data = _summarised(conn, nested, reader, token, other)  # type: ignore[arg-type]
            finally:
                if other is not None:
                    other.close()
            data.elapsed_s = time.perf_counter() - started
            progress(Progress(data.rows, data.rows, _LABEL))
            return data
    data = reader.finish()
    data.elapsed_s = time.perf_counter() - started
    progress(Progress(data.rows, data.rows, _LABEL))
    return data


def _draw_partial(reader: _Reader, partial: Callable[[ChartData], None], started: float) -> None:
    """Hand the rows read so far to `partial`, unless they cannot be drawn yet (then the end says why)."""
    try:
        data = reader.finish()
    except ChartError:
        return
    data.partial = True
    data.elapsed_s = time.perf_counter() - started
    partial(data)


def _open(
    conn: sqlite3.Connection, sql: str, params: Any, wanted: list[int]
) -> tuple[sqlite3.Cursor, list[str], Any, NestedQuery | None]:
    """A cursor over the wanted columns (in `wanted` order), the result's column names, the function
    that picks the wanted columns from a row (None when SQLite already gives only those), and the query
    nested (None when it cannot be, or its column names repeat)."""
    nested = NestedQuery.of(sql, params)
    if nested is not None:
        names = [d[0] for d in conn.execute(f"SELECT * FROM {nested.subquery} LIMIT 0", params).description]
        if len(set(names)) == len(names) and all(0 <= i < len(names) for i in wanted):
            columns = ", ".join(quote_identifier(names[i]) for i in wanted)
            cursor = conn.execute(f"SELECT {columns} FROM {nested.subquery}", params)
            return cursor, names, None, nested
    cursor = conn.execute(sql, params)
    if cursor.description is None:
        cursor.close()
        raise QueryError("This statement returns no rows to chart.", sql=sql)
    names = [d[0] for d in cursor.description]
    if not all(0 <= i < len(names) for i in wanted):
        cursor.close()
        raise ChartError("The chosen columns are not in this result any more: run it again.")
    picker = itemgetter(*wanted) if len(wanted) > 1 else lambda row: (row[wanted[0]],)
    return cursor, names, picker, None


def _summary_rows(spec: ChartSpec, x: Column) -> int | None:
    """Past how many rows this chart of a nestable query is summarised in SQLite (None: it never is)."""
    if spec.kind is ChartKind.BAR:
        return LIMITS.chart_bars_max  # (more bars are refused when they cannot be grouped in SQL)
    if spec.kind is ChartKind.LINE and x_values(x) is not None:
        return LIMITS.chart_summary_rows
    if spec.kind is ChartKind.HISTOGRAM and spec.series is None and x_values(x) is not None:
        return LIMITS.chart_summary_rows
    return None


def _summarised(
    conn: sqlite3.Connection,
    nested: NestedQuery,
    reader: _Reader,
    token: CancelToken,
    other: sqlite3.Connection | None,
) -> ChartData:
    """The chart summarised in SQLite, its notes and checks as the streamed read makes them."""
    spec, x = reader.spec, reader.x
    assert x is not None  # (a summary is planned once X is known)
    if spec.kind is ChartKind.BAR:
        return bar_summary(
            conn, nested, reader.names, spec, x, LIMITS.chart_bar_categories, LIMITS.chart_series_max, token
        )
    if spec.kind is ChartKind.HISTOGRAM:
        return _histogram(conn, nested, reader, x, token, other)
    summary = LineSummary.plan(
        nested,
        reader.names,
        spec.x,
        spec.ys,
        spec.series,
        x,
        LIMITS.chart_series_max,
        LIMITS.chart_summary_levels,
    )
    assert summary is not None  # (`_summary_rows` planned it)
    read = summary.read(conn, LIMITS.chart_summary_buckets, token, other)
    x_reader = x
    _counted(x_reader, read.x)
    check_has_values(x_reader, read.rows, "X")
    y_columns = [_counted(NumberColumn(c.name), counts) for c, counts in zip(reader.ys, read.ys, strict=True)]
    for column in y_columns:
        check_has_values(column, read.rows, "Y")
    notes = [skipped_note(c.name, c.skipped) for c in (x_reader, *y_columns) if c.skipped]
    if read.groups_dropped:
        notes.append(
            dropped_note(read.groups_dropped, reader.names[spec.series or 0], LIMITS.chart_series_max)
        )
    labels = [value_text(v) for v in read.groups] if spec.series is not None else [None]
    series = []
    for column, per_group in zip(y_columns, read.points, strict=True):
        for label, (xs, ys) in zip(labels, per_group, strict=True):
            name = series_name(column.name, label, several_ys=len(y_columns) > 1)
            series.append(Series(name, xs, ys, LineThinner(xs, ys)))
    return ChartData(
        spec=spec,
        x_kind=x_reader.kind,
        x_label=x_reader.name,
        series=series,
        rows=read.rows,
        notes=notes,
        time_encoding=x_reader.encoding.label if isinstance(x_reader, TimeColumn) else "",
        summary=summary,
    )


def _histogram(
    conn: sqlite3.Connection,
    nested: NestedQuery,
    reader: _Reader,
    x: Column,
    token: CancelToken,
    other: sqlite3.Connection | None,
) -> ChartData:
    """The histogram of the whole result binned in SQLite, with the streamed read's notes."""
    measured, edges, counts = histogram_summary(conn, nested, reader.names, reader.spec, x, token, other)
    _counted(x, measured.x)
    check_has_values(x, measured.rows, "value")
    return ChartData(
        spec=reader.spec,
        x_kind=x.kind,
        x_label=x.name,
        series=[Series(x.name, edges, counts)],
        rows=measured.rows,
        notes=[skipped_note(x.name, x.skipped)] if x.skipped else [],
        time_encoding=x.encoding.label if isinstance(x, TimeColumn) else "",
    )


def _counted(column: Column, counts: ColumnCounts) -> Column:
    """`column` holding the whole result's counts (not those of the rows streamed before the summary)."""
    column.numbers, column.skipped = counts.numbers, counts.skipped
    return column


class _Reader:
    """Pages of (x, y…, series) rows into growing arrays."""

    def __init__(self, spec: ChartSpec, names: list[str], declared_types: Sequence[str]) -> None:
        self.spec = spec
        self.names = names
        self.declared = list(declared_types) + [""] * (len(names) - len(declared_types))
        self.x: Column | None = None
        self.ys = [NumberColumn(names[i]) for i in spec.ys]
        self.x_chunks: list[np.ndarray] = []
        self.y_chunks: list[list[np.ndarray]] = [[] for _ in spec.ys]
        self.group_chunks: list[np.ndarray] = []
        self.groups: dict[Any, int] = {}
        self.groups_dropped = 0
        self.rows = 0

    def add(self, page: list[Sequence[Any]]) -> None:
        if self.x is not None and self._all_numbers(page):
            return
        columns = list(zip(*page, strict=True))
        if self.x is None:
            sample = [v for v in columns[0][: LIMITS.profile_time_sample_rows * 4] if v is not None]
            self.x = x_column(
                self.names[self.spec.x],
                self.declared[self.spec.x],
                self.spec.x_axis,
                sample[: LIMITS.profile_time_sample_rows],
                LIMITS.chart_categories_max,
            )
        self.x_chunks.append(self.x.convert(columns[0]))
        for number, column in enumerate(self.ys):
            self.y_chunks[number].append(column.convert(columns[1 + number]))
        if self.spec.series is not None:
            self.group_chunks.append(self._groups(columns[-1]))
        self._counted(page)

    def _all_numbers(self, page: list[Sequence[Any]]) -> bool:
        """Convert a page of only numbers and NULLs in one step (in C); False when it holds anything else."""
        if self.spec.series is not None or not self.x.takes_numbers:  # type: ignore[union-attr]
            return False
        kinds = set(map(type, itertools.chain.from_iterable(page)))
        if not _NUMBERS.issuperset(kinds):
            return False
        width = 1 + len(self.ys)
        if type(None) in kinds:
            numbers = np.array(page, dtype=np.float64)  # None becomes NaN
        else:  # 10x faster than np.array on a list of tuples
            cells = itertools.chain.from_iterable(page)
            numbers = np.fromiter(cells, np.float64, len(page) * width).reshape(len(page), width)
        self.x_chunks.append(self.x.take(numbers[:, 0]))  # type: ignore[union-attr]
        for number, column in enumerate(self.ys):
            self.y_chunks[number].append(column.take(numbers[:, 1 + number]))
        self._counted(page)
        return True

    def _counted(self, page: list[Sequence[Any]]) -> None:
        self.rows += len(page)
        if self.spec.kind is ChartKind.BAR and self.rows > LIMITS.chart_bars_max:
            raise ChartError(
                f"A bar chart draws at most {LIMITS.chart_bars_max:,} bars, and this result has more rows. "
                "Group the rows in SQL (GROUP BY), or choose a line chart or a histogram."
            )

    def _groups(self, values: Sequence[Any]) -> np.ndarray:
        out = np.empty(len(values), dtype=np.int32)
        groups = self.groups
        for i, value in enumerate(values):
            group = groups.get(value)
            if group is None:
                if len(groups) >= LIMITS.chart_series_max:
                    out[i] = -1
                    self.groups_dropped += 1
                    continue
                group = groups[value] = len(groups)
            out[i] = group
        return out

    def finish(self) -> ChartData:
        spec = self.spec
        x_reader = self.x if self.x is not None else NumberColumn(self.names[spec.x])
        x = np.concatenate(self.x_chunks) if self.x_chunks else np.empty(0)
        notes: list[str] = []
        check_has_values(x_reader, self.rows, "X" if spec.kind is not ChartKind.HISTOGRAM else "value")
        for column in self.ys:
            check_has_values(column, self.rows, "Y")
        for column in (x_reader, *self.ys):
            if column.skipped:
                notes.append(skipped_note(column.name, column.skipped))
        group_of = np.concatenate(self.group_chunks) if self.group_chunks else None
        if self.groups_dropped:
            notes.append(
                dropped_note(self.groups_dropped, self.names[spec.series or 0], LIMITS.chart_series_max)
            )
        groups = [(None, None)] if group_of is None else [(g, value_text(v)) for v, g in self.groups.items()]
        series: list[Series] = []
        if spec.kind is ChartKind.HISTOGRAM:
            for group, label in groups:
                values = x if group is None else x[group_of == group]
                edges, counts = histogram(values[~np.isnan(values)], spec.bins)
                series.append(Series(label or x_reader.name, edges, counts))
        else:
            for number, column in enumerate(self.ys):
                y = np.concatenate(self.y_chunks[number]) if self.y_chunks[number] else np.empty(0)
                drawable = ~np.isnan(x) & ~np.isnan(y)
                everything = bool(drawable.all())
                for group, label in groups:
                    mask = drawable if group is None else drawable & (group_of == group)
                    name = series_name(column.name, label, several_ys=len(self.ys) > 1)
                    # Indexing copies under the GIL (a UI stall on millions): only when some are left out.
                    xs, ys = (x, y) if group is None and everything else (x[mask], y[mask])
                    if spec.kind is ChartKind.LINE and len(xs) > 1 and np.any(xs[1:] < xs[:-1]):
                        order = np.argsort(xs, kind="stable")  # a line is drawn along X
                        xs, ys = xs[order], ys[order]
                    thinner = LineThinner(xs, ys) if spec.kind is ChartKind.LINE else None
                    series.append(Series(name, xs, ys, thinner))
        return ChartData(
            spec=spec,
            x_kind=x_reader.kind,
            x_label=x_reader.name,
            series=series,
            categories=x_reader.labels if isinstance(x_reader, CategoryColumn) else [],
            rows=self.rows,
            notes=notes,
            time_encoding=x_reader.encoding.label if isinstance(x_reader, TimeColumn) else "",
        )
