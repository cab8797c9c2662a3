"""A big line chart summarised in SQLite: per column of X, the lowest and highest Y (M4-style, in C).

Reading millions of rows into Python is what a big chart costs (tests/bench/bench_chart.py). SQLite
reduces them instead, with one GROUP BY over the whole result, to a few thousand points that hold every
X column's lowest and highest Y, which is all a screen can show of them. Zooming reads only the visible
X range again at the new resolution (`LineSummary.view`), point by point once few rows are left in it.

The user's query is nested (`NestedQuery`); our own numbers are pasted in as literals so that its `?` or
`:name` parameters stay as they are. Run everything here on a worker thread (`Database.run_sync`).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from desktop_app.core.chart.columns import BLOB, NOT_A_TIME, NULL, TEXT, CategoryColumn, Column, TimeColumn
from desktop_app.core.progress import CancelToken
from desktop_app.core.sqlite.interrupt import stoppable
from desktop_app.core.sqlite.nested_query import NestedQuery
from desktop_app.core.sqlite.quoting import quote_identifier, sql_literal

# SQLite orders NULL < numbers < text < blobs: comparisons tell the kinds apart without a function call
# per row (typeof() costs more than the GROUP BY's aggregates on millions of rows).
_IS_NUMBER = "{0} < ''"
_IS_BLOB = "{0} >= X''"
_NUMBER = f"CASE WHEN {_IS_NUMBER} THEN {{0}} END"
#: Julian day of the Unix epoch: ISO-8601 text is bucketed as julianday() in SQL.
_UNIX_JULIAN_DAY = 2440587.5


@dataclass(frozen=True)
class XValues:
    """The X column as a number in SQL (`sql` with `{0}` for the column; NULL where it cannot be drawn),
    and that number on the axis: axis = (raw - zero) × scale + shift."""

    sql: str
    zero: float = 0.0
    scale: float = 1.0
    shift: float = 0.0
    #: ISO-8601 text read by julianday() (text that is not a time is left out as "not a date").
    text: bool = False

    def to_axis(self, raw: np.ndarray) -> np.ndarray:
        """Raw SQL numbers as axis values."""
        return (raw - self.zero) * self.scale + self.shift

    def to_raw(self, axis: float) -> float:
        """An axis value as the raw SQL number."""
        return (axis - self.shift) / self.scale + self.zero


def x_values(column: Column) -> XValues | None:
    """How SQLite reads `column` as numbers, or None when it cannot (categories)."""
    if isinstance(column, CategoryColumn):
        return None
    if isinstance(column, TimeColumn):
        if column.encoding.text:
            expression = "CASE WHEN {0} >= '' AND {0} < X'' THEN julianday({0}) END"
            return XValues(expression, _UNIX_JULIAN_DAY, 86_400.0, text=True)
        return XValues(_NUMBER, column.encoding.zero, column.scale, column.shift)
    return XValues(_NUMBER)


@dataclass
class ColumnCounts:
    """What one column holds over the whole result: drawable numbers, and what was left out by kind."""

    numbers: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass
class SummaryRead:
    """The first read of a summarised line: its points per Y and group, and the counts for the notes."""

    #: points[y][group] = (x on the axis, y), sorted along X.
    points: list[list[tuple[np.ndarray, np.ndarray]]]
    rows: int
    x: ColumnCounts
    ys: list[ColumnCounts]
    #: The series values drawn, in the order first met (empty without a series column).
    groups: list[Any]
    #: Rows of further series values, left out.
    groups_dropped: int


class LineSummary:
    """One line chart (X, Ys, optional series column) of a nested query, read as per-bucket extremes."""

    def __init__(
        self,
        nested: NestedQuery,
        x: XValues,
        x_name: str,
        y_names: list[str],
        series_name: str | None,
        series_max: int,
    ) -> None:
        self.nested = nested
        self.x = x
        self.x_name, self.y_names, self.series_name = x_name, y_names, series_name
        self.series_max = series_max
        #: The series values drawn (fixed by `read`).
        self.groups: list[Any] = []
        #: Whole X range in raw SQL numbers, and the bucket counts of the first read (fixed by `read`).
        self.raw_range = (0.0, 1.0)
        self._bucket_counts = np.zeros(0)
        #: X and each Y hold only numbers and NULLs (fixed by `read`): no type checks needed.
        self._x_plain = False
        self._ys_plain = [False] * len(y_names)
        #: The first read's points, kept outside a zoomed range so panning away shows them at once.
        self.overview: list[tuple[np.ndarray, np.ndarray]] = []

    @classmethod
    def plan(
        cls,
        nested: NestedQuery,
        names: list[str],
        x_index: int,
        y_indexes: tuple[int, ...],
        series_index: int | None,
        x_column: Column,
        series_max: int,
    ) -> LineSummary | None:
        """The summary of this line chart, or None when SQLite cannot bucket its X (categories)."""
        x = x_values(x_column)
        if x is None:
            return None
        series = names[series_index] if series_index is not None else None
        return cls(nested, x, names[x_index], [names[i] for i in y_indexes], series, series_max)

    # --- SQL ----------------------------------------------------------------------------------------

    def _inner(self) -> str:
        """Our columns over the user's query: x, y<i> as they are, and gi (the series' number, -1 for rows
        of further series values; 0 without a series column)."""
        parts = [f"{quote_identifier(self.x_name)} AS x"]
        parts += [f"{quote_identifier(name)} AS y{i}" for i, name in enumerate(self.y_names)]
        if self.series_name is None:
            parts.append("0 AS gi")
        else:
            s = quote_identifier(self.series_name)
            cases = " ".join(f"WHEN {s} IS {sql_literal(v)} THEN {n}" for n, v in enumerate(self.groups))
            parts.append(f"CASE {cases} ELSE -1 END AS gi" if cases else "-1 AS gi")
        return f"SELECT {', '.join(parts)} FROM {self.nested.subquery}"

    def _values(self) -> str:
        """xv (X as a raw number), gi, and v<i> (each Y as a number), NULL where a value cannot be drawn.
        A column that holds only numbers and NULLs is taken as it is (no check per row)."""
        xv = "x" if self._x_plain else self.x.sql.format("x")
        parts = [f"{xv} AS xv", "gi"]
        for i, plain in enumerate(self._ys_plain):
            parts.append(f"y{i} AS v{i}" if plain else f"{_NUMBER.format(f'y{i}')} AS v{i}")
        return f"SELECT {', '.join(parts)} FROM ({self._inner()})"

    def _grouped(self, raw0: float, raw1: float, buckets: int, *, within: bool) -> str:
        """One GROUP BY (series, bucket of X): rows, X extent, and each Y's lowest, highest and count.
        With `within`, only the rows of drawn series with X in [raw0, raw1]; else every row (those whose
        X cannot be drawn in bucket NULL, those of further series in series -1: the notes count them)."""
        span = raw1 - raw0
        k = buckets / span if span > 0 else 0.0
        bucket = f"min(CAST((xv - {sql_literal(raw0)}) * {sql_literal(k)} AS INTEGER), {buckets - 1})"
        aggregates = ["count(*)", "min(xv)", "max(xv)"]
        for i in range(len(self.y_names)):
            aggregates += [f"min(v{i})", f"max(v{i})", f"count(v{i})"]
        where = f" WHERE gi >= 0 AND xv BETWEEN {sql_literal(raw0)} AND {sql_literal(raw1)}" if within else ""
        return (
            f"SELECT gi, {bucket} AS b, {', '.join(aggregates)} FROM ({self._values()}){where} "
            "GROUP BY gi, b ORDER BY gi, b"
        )

    # --- reading ------------------------------------------------------------------------------------

    def read(self, conn: sqlite3.Connection, buckets: int, cancel: CancelToken | None = None) -> SummaryRead:
        """The whole result in `buckets` columns of X: the series values first met (when a column splits
        the rows), one pass for the columns' largest values (what kinds they hold) and X's range, then
        one GROUP BY. Columns holding more than numbers and NULLs cost one more pass, to count those."""
        params = self.nested.params
        inner = self._inner()
        names = ["x", *(f"y{i}" for i in range(len(self.y_names)))]
        with stoppable(conn, cancel):
            if self.series_name is not None:
                s = quote_identifier(self.series_name)
                sql = f"SELECT DISTINCT {s} FROM {self.nested.subquery} LIMIT {int(self.series_max)}"
                self.groups = [row[0] for row in conn.execute(sql, params)]
                inner = self._inner()
            largest = ", ".join(f"max({c})" for c in names)
            low, *highs = conn.execute(f"SELECT min(x), {largest} FROM ({inner})", params).fetchone()
            plain = [high is None or isinstance(high, int | float) for high in highs]
            self._x_plain, self._ys_plain = plain[0] and not self.x.text, plain[1:]
            kinds: dict[str, tuple[int, int, int]] = {}  # column → (numbers, blobs, not NULL)
            x_range = (low, highs[0])
            dirty = [n for n, p in zip(names, [self._x_plain, *self._ys_plain], strict=True) if not p]
            if dirty:
                xv = None if self._x_plain else self.x.sql.format("x")
                drawn_range, kinds = self._kinds(conn, inner, dirty, xv)
                x_range = x_range if xv is None else drawn_range
            if x_range[0] is not None and np.isfinite(x_range[0]) and np.isfinite(x_range[1]):
                self.raw_range = (float(x_range[0]), float(x_range[1]))
            raw0, raw1 = self.raw_range
            sql = self._grouped(raw0, raw1, buckets, within=False)
            table = _table(conn.execute(sql, params).fetchall(), 5 + 3 * len(self.y_names))
        rows = int(table[:, 2].sum())
        bucketed = ~np.isnan(table[:, 1])
        x_counts = self._x_counts(rows, int(table[bucketed, 2].sum()), kinds.get("x"))
        y_counts = []
        for i in range(len(self.y_names)):
            numbers = int(np.nansum(table[:, 7 + 3 * i]))
            y_counts.append(_counts(rows, numbers, kinds.get(f"y{i}")))
        drawn = table[bucketed & (table[:, 0] >= 0)]
        totals = np.zeros(buckets)
        np.add.at(totals, drawn[:, 1].astype(np.int64), drawn[:, 2])
        self._bucket_counts = totals
        groups = range(max(len(self.groups), 1))
        points = [[self._points(drawn, y, group) for group in groups] for y in range(len(self.y_names))]
        self.overview = [pair for per_y in points for pair in per_y]
        dropped = int(table[table[:, 0] < 0, 2].sum())
        return SummaryRead(points, rows, x_counts, y_counts, self.groups, dropped)

    def _kinds(
        self, conn: sqlite3.Connection, inner: str, columns: list[str], xv: str | None
    ) -> tuple[tuple[Any, Any], dict[str, tuple[int, int, int]]]:
        """The range of `xv` (X as drawn; None: not needed), and for each of `columns` its numbers, blobs
        and values that are not NULL."""
        parts = [f"min({xv})", f"max({xv})"] if xv is not None else ["NULL", "NULL"]
        for column in columns:
            parts += [
                f"sum({_IS_NUMBER.format(column)})",
                f"sum({_IS_BLOB.format(column)})",
                f"count({column})",
            ]
        values = conn.execute(f"SELECT {', '.join(parts)} FROM ({inner})", self.nested.params).fetchone()
        kinds = {c: tuple(int(v or 0) for v in values[2 + 3 * n : 5 + 3 * n]) for n, c in enumerate(columns)}
        return (values[0], values[1]), kinds  # type: ignore[return-value]

    def _x_counts(self, rows: int, drawn: int, kinds: tuple[int, int, int] | None) -> ColumnCounts:
        """X's counts for the notes, as the streamed read makes them."""
        if not self.x.text or kinds is None:
            return _counts(rows, drawn, kinds)
        numbers, blobs, present = kinds
        texts = present - numbers - blobs
        counts = ColumnCounts(drawn)
        # As the streamed read counts them: a number in a column of ISO-8601 text is "text" (not a time).
        for kind, count in (
            (NULL, rows - present),
            (NOT_A_TIME, texts - drawn),
            (TEXT, numbers),
            (BLOB, blobs),
        ):
            if count:
                counts.skipped[kind] += count
        return counts

    def _points(self, table: np.ndarray, y: int, group: int) -> tuple[np.ndarray, np.ndarray]:
        """The drawn points of Y number `y`, group `group`, from rows of (gi, b, count, xmin, xmax, then
        min, max and count of each Y)."""
        base = 5 + 3 * y
        rows = table[(table[:, 0] == group) & (table[:, base + 2] > 0)]
        low, high, count = rows[:, base], rows[:, base + 1], rows[:, base + 2]
        xs, ys = extremes_to_points(rows[:, 3], rows[:, 4], low, high, count)
        return self.x.to_axis(xs), ys

    def estimated_rows(self, x0: float, x1: float) -> int:
        """At most how many rows have X in [x0, x1] (axis values), from the first read's bucket counts."""
        raw0, raw1 = sorted((self.x.to_raw(x0), self.x.to_raw(x1)))
        low, high = self.raw_range
        buckets = len(self._bucket_counts)
        if not buckets:
            return 0
        span = high - low
        if span <= 0:
            return int(self._bucket_counts.sum()) if raw0 <= low <= raw1 else 0
        first = int(np.clip(np.floor((raw0 - low) / span * buckets), 0, buckets - 1))
        last = int(np.clip(np.floor((raw1 - low) / span * buckets), 0, buckets - 1))
        if raw1 < low or raw0 > high:
            return 0
        return int(self._bucket_counts[first : last + 1].sum())

    def view(
        self,
        conn: sqlite3.Connection,
        x0: float,
        x1: float,
        buckets: int,
        exact_rows: int,
        cancel: CancelToken | None = None,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Every series (in the order of the first read) for the axis range [x0, x1] at `buckets` columns:
        its extremes per column, or every point when at most `exact_rows` rows fall in the range; outside
        the range, the first read's points."""
        raw0, raw1 = sorted((self.x.to_raw(x0), self.x.to_raw(x1)))
        groups = max(len(self.groups), 1)
        params = self.nested.params
        with stoppable(conn, cancel):
            if self.estimated_rows(x0, x1) <= exact_rows:
                columns = ", ".join(f"v{i}" for i in range(len(self.y_names)))
                within = f"gi >= 0 AND xv BETWEEN {sql_literal(raw0)} AND {sql_literal(raw1)}"
                sql = f"SELECT gi, xv, {columns} FROM ({self._values()}) WHERE {within} ORDER BY xv"
                table = _table(conn.execute(sql, params).fetchall(), 2 + len(self.y_names))
                ys = range(len(self.y_names))
                detail = [self._exact(table, y, group) for y in ys for group in range(groups)]
            else:
                sql = self._grouped(raw0, raw1, buckets, within=True)
                table = _table(conn.execute(sql, params).fetchall(), 5 + 3 * len(self.y_names))
                ys = range(len(self.y_names))
                detail = [self._points(table, y, group) for y in ys for group in range(groups)]
        low, high = min(x0, x1), max(x0, x1)
        return [
            splice(xs, ys, dx, dy, low, high)
            for (xs, ys), (dx, dy) in zip(self.overview, detail, strict=True)
        ]

    def _exact(self, table: np.ndarray, y: int, group: int) -> tuple[np.ndarray, np.ndarray]:
        """The points of Y number `y`, group `group`, from rows of (gi, xv, v0, v1, …)."""
        rows = table[(table[:, 0] == group) & ~np.isnan(table[:, 2 + y])]
        return self.x.to_axis(rows[:, 1]), rows[:, 2 + y]


def _counts(rows: int, numbers: int, kinds: tuple[int, int, int] | None) -> ColumnCounts:
    """A number column's counts: `numbers` drawable of `rows`; the rest NULL unless `kinds` (numbers,
    blobs, not NULL) says some are text or blobs."""
    counts = ColumnCounts(numbers)
    present = numbers if kinds is None else kinds[2]
    blobs = 0 if kinds is None else kinds[1]
    for kind, count in ((NULL, rows - present), (TEXT, present - numbers - blobs), (BLOB, blobs)):
        if count:
            counts.skipped[kind] += count
    return counts


def _table(rows: list[tuple[Any, ...]], width: int) -> np.ndarray:
    """Result rows of numbers and NULLs as a float array (NaN for NULL)."""
    if not rows:
        return np.empty((0, width))
    return np.array(rows, dtype=np.float64)


def extremes_to_points(
    xmin: np.ndarray, xmax: np.ndarray, low: np.ndarray, high: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Points that draw each bucket's lowest and highest Y: one point for a bucket of one value, else two,
    at the bucket's first and last X, low then high where the line goes on upwards (high then low where
    it goes down), so that the segment to the next bucket stays short."""
    n = len(low)
    middle = (low + high) / 2
    rising = np.ones(n, dtype=bool)
    rising[:-1] = middle[1:] >= middle[:-1]
    first = np.where(rising, low, high)
    second = np.where(rising, high, low)
    xs = np.column_stack((xmin, xmax)).ravel()
    ys = np.column_stack((first, second)).ravel()
    keep = np.ones(2 * n, dtype=bool)
    keep[1::2] = count > 1
    return xs[keep], ys[keep]


def splice(
    xs: np.ndarray, ys: np.ndarray, detail_x: np.ndarray, detail_y: np.ndarray, x0: float, x1: float
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted points `xs, ys` with those in [x0, x1] replaced by the detail points."""
    before = xs < x0
    after = xs > x1
    return (
        np.concatenate((xs[before], detail_x, xs[after])),
        np.concatenate((ys[before], detail_y, ys[after])),
    )
