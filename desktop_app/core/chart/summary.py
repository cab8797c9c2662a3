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
from desktop_app.core.sqlite.side_by_side import side_by_side

# SQLite orders NULL < numbers < text < blobs: comparisons tell the kinds apart without a function call
# per row (typeof() costs more than the GROUP BY's aggregates on millions of rows).
IS_NUMBER = "{0} < ''"
IS_BLOB = "{0} >= X''"
#: A value as a number in SQL, NULL when it is not one (`{0}` for the value).
NUMBER = f"CASE WHEN {IS_NUMBER} THEN {{0}} END"
#: Julian day of the Unix epoch: ISO-8601 text is bucketed as julianday() in SQL.
_UNIX_JULIAN_DAY = 2440587.5
_NO_POINTS = (np.empty(0), np.empty(0))


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
        return XValues(NUMBER, column.encoding.zero, column.scale, column.shift)
    return XValues(NUMBER)


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


@dataclass
class Measured:
    """What the first pass over a summarised result found."""

    rows: int
    #: Rows of further series values, left out.
    dropped: int
    #: Per column (x, y0, …): its lowest and highest value that can be drawn, raw (None, None when none).
    ranges: list[tuple[Any, Any]]
    x: ColumnCounts
    ys: list[ColumnCounts]


def more_rows_than(conn: sqlite3.Connection, nested: NestedQuery, rows: int) -> bool:
    """True when the query returns more than `rows` rows (counted by SQLite, stopping past them)."""
    sql = f"SELECT count(*) FROM (SELECT 1 FROM {nested.subquery} LIMIT {int(rows) + 1})"
    return int(conn.execute(sql, nested.params).fetchone()[0]) > rows


def first_values(conn: sqlite3.Connection, nested: NestedQuery, column: str | None, most: int) -> list[Any]:
    """The first `most` distinct values of `column` in the result (the series drawn); [] without one."""
    if column is None:
        return []
    sql = f"SELECT DISTINCT {quote_identifier(column)} FROM {nested.subquery} LIMIT {int(most)}"
    return [row[0] for row in conn.execute(sql, nested.params)]


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
        levels: int = 2400,
    ) -> None:
        self.nested = nested
        #: Rows of Y a column's extremes are placed in (a few per pixel of a plot as tall as the screen).
        self.levels = levels
        #: Rows whose X can be drawn, and the columns of X of the first read (fixed by `read`).
        self._drawn_rows = 0
        self._buckets = 1
        self.x = x
        self.x_name, self.y_names, self.series_name = x_name, y_names, series_name
        self.series_max = series_max
        #: The series values drawn (fixed by `read`).
        self.groups: list[Any] = []
        #: Whole X range in raw SQL numbers (fixed by `read`).
        self.raw_range = (0.0, 1.0)
        #: X and each Y hold only numbers and NULLs (fixed by `read`): no type checks needed.
        self._x_plain = False
        self._ys_plain = [False] * len(y_names)
        #: What `measure` found of the columns that hold more than numbers and NULLs.
        self._kinds_found: dict[str, tuple[int, int, int]] = {}
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
        levels: int,
    ) -> LineSummary | None:
        """The summary of this line chart, or None when SQLite cannot bucket its X (categories)."""
        x = x_values(x_column)
        if x is None:
            return None
        series = names[series_index] if series_index is not None else None
        return cls(nested, x, names[x_index], [names[i] for i in y_indexes], series, series_max, levels)

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

    def values_sql(self) -> str:
        """xv (X as a raw number), gi, and v<i> (each Y as a number), NULL where a value cannot be drawn.
        A column that holds only numbers and NULLs is taken as it is (no check per row)."""
        xv = "x" if self._x_plain else self.x.sql.format("x")
        parts = [f"{xv} AS xv", "gi"]
        for i, plain in enumerate(self._ys_plain):
            parts.append(f"y{i} AS v{i}" if plain else f"{NUMBER.format(f'y{i}')} AS v{i}")
        return f"SELECT {', '.join(parts)} FROM ({self._inner()})"

    # --- reading ------------------------------------------------------------------------------------

    def read(
        self,
        conn: sqlite3.Connection,
        buckets: int,
        cancel: CancelToken | None = None,
        other: sqlite3.Connection | None = None,
    ) -> SummaryRead:
        """The whole result in `buckets` columns of X: `measure`, then each Y's `_extremes` (no sort). With
        `other` (a second connection to the same snapshot) each pass is split in two run side by side: the
        same answers, in about half the time on two free cores."""
        with stoppable(conn, cancel):
            measured = self.measure(conn, cancel, other, counted=False)
            x_range = measured.ranges[0]
            # Integer X over a span floats hold exactly: columns of a whole number of X units, found by
            # integer division (an integer times a real costs SQLite ~0.1 s more on 5M rows).
            x_integers = self._x_plain and all(type(v) is int for v in x_range)
            width = (x_range[1] - x_range[0]) // buckets + 1 if x_integers else None
            if width is not None and x_range[1] - x_range[0] >= 2**53:
                width = None
            self._buckets = buckets
            boxes = {
                i: (*self.raw_range, *y_range)
                for i, y_range in enumerate(measured.ranges[1:])
                if measured.x.numbers and y_range[0] is not None
            }
            found = self._all_keys(conn, other, boxes, buckets, width, cancel)
            # A key is NULL where X or a Y is (or is not a number): only then are NULLs counted, in a pass
            # of their own; without them every row's values count (`measure` left the counts out).
            if len(boxes) < len(self.y_names) or any(np.isnan(keys).any() for keys in found.values()):
                measured = self._counted(conn, measured)
            points = [
                self._points(found[i], boxes[i], buckets, width)
                if i in boxes
                else [_NO_POINTS] * max(len(self.groups), 1)
                for i in range(len(self.y_names))
            ]
        self.overview = [pair for per_y in points for pair in per_y]
        return SummaryRead(points, measured.rows, measured.x, measured.ys, self.groups, measured.dropped)

    def measure(
        self,
        conn: sqlite3.Connection,
        cancel: CancelToken | None = None,
        other: sqlite3.Connection | None = None,
        counted: bool = True,
    ) -> Measured:
        """The series values first met (when a column splits the rows), then one pass for the ranges and
        counts (one more where a column holds more than numbers and NULLs): fixes `groups`, `raw_range`.
        Without `counted`, a column of numbers and NULLs is not counted (two aggregates less per row): it
        counts as full (any row when it has a value) until `_counted` counts it."""
        names = ["x", *(f"y{i}" for i in range(len(self.y_names)))]
        per = 3 if counted else 2
        with stoppable(conn, cancel):
            self.groups = first_values(conn, self.nested, self.series_name, self.series_max)
            inner = self._inner()
            rows, dropped, *stats = self._ranges(conn, other, inner, names, cancel, counted)
            ranges = [(stats[per * n], stats[per * n + 1]) for n in range(len(names))]
            plain = [high is None or isinstance(high, int | float) for _low, high in ranges]
            self._x_plain, self._ys_plain = plain[0] and not self.x.text, plain[1:]
            kinds: dict[str, tuple[int, int, int]] = {}  # column → (numbers, blobs, not NULL)
            present = {
                c: stats[3 * n + 2] if counted else (rows if ranges[n][0] is not None else 0)
                for n, c in enumerate(names)
            }
            dirty = [n for n, p in zip(names, [self._x_plain, *self._ys_plain], strict=True) if not p]
            x_drawn = present["x"]
            if dirty:
                drawn_ranges, kinds, dirty_x_drawn = self._kinds(conn, inner, dirty)
                ranges = [drawn_ranges.get(c, r) for c, r in zip(names, ranges, strict=True)]
                x_drawn = dirty_x_drawn if "x" in dirty else x_drawn
        self._kinds_found = kinds
        return self._measured(int(rows), int(dropped or 0), ranges, present, kinds, x_drawn)

    def _measured(
        self,
        rows: int,
        dropped: int,
        ranges: list[tuple[Any, Any]],
        present: dict[str, int],
        kinds: dict[str, tuple[int, int, int]],
        x_drawn: int | None,
    ) -> Measured:
        """`measure`'s answer from its figures (`present`: each column's values that are not NULL)."""
        x_range = ranges[0]
        if x_drawn and np.isfinite(x_range[0]) and np.isfinite(x_range[1]):
            self.raw_range = (float(x_range[0]), float(x_range[1]))
        self._drawn_rows = int(x_drawn or 0)
        x_counts = self._x_counts(rows, int(x_drawn or 0), kinds.get("x"))
        y_counts = [
            kind_counts(
                rows, int(kinds[f"y{i}"][0] if f"y{i}" in kinds else present[f"y{i}"]), kinds.get(f"y{i}")
            )
            for i in range(len(self.y_names))
        ]
        return Measured(rows, dropped, ranges, x_counts, y_counts)

    def _counted(self, conn: sqlite3.Connection, measured: Measured) -> Measured:
        """`measured` (made without counts) with the values of its columns of numbers and NULLs counted."""
        names = ["x", *(f"y{i}" for i in range(len(self.y_names)))]
        plain = [n for n, p in zip(names, [self._x_plain, *self._ys_plain], strict=True) if p]
        if not plain:  # (`_kinds` counted every column)
            return measured
        sql = f"SELECT {', '.join(f'count({c})' for c in plain)} FROM ({self._inner()})"
        counts = dict(zip(plain, conn.execute(sql, self.nested.params).fetchone(), strict=True))
        present = {c: counts.get(c, 0) for c in names}
        kinds = self._kinds_found
        x_drawn = measured.x.numbers if "x" not in plain else present["x"]
        return self._measured(measured.rows, measured.dropped, measured.ranges, present, kinds, x_drawn)

    def _ranges(
        self,
        conn: sqlite3.Connection,
        other: sqlite3.Connection | None,
        inner: str,
        names: list[str],
        cancel: CancelToken | None,
        counted: bool = True,
    ) -> list[Any]:
        """rows, rows of further series values, then min, max (and with `counted` count) of each of `names`
        (x, y0, …): one pass, or with `other` X's figures here and the Ys' there, side by side."""
        params = self.nested.params
        dropped_rows = "sum(gi < 0)" if self.series_name is not None else "0"
        count = ", count({0})" if counted else ""
        parts = ["count(*)", dropped_rows, *(f"min({c}), max({c}){count.format(c)}" for c in names)]
        if other is None or len(parts) == 3:
            return list(conn.execute(f"SELECT {', '.join(parts)} FROM ({inner})", params).fetchone())
        here, there = (f"SELECT {', '.join(p)} FROM ({inner})" for p in (parts[:3], parts[3:]))
        first, rest = side_by_side(
            conn,
            other,
            lambda c: c.execute(here, params).fetchone(),
            lambda c: c.execute(there, params).fetchone(),
            cancel,
        )
        return [*first, *rest]

    def _all_keys(
        self,
        conn: sqlite3.Connection,
        other: sqlite3.Connection | None,
        boxes: dict[int, tuple[float, float, float, float]],
        buckets: int,
        width: int | None,
        cancel: CancelToken | None,
    ) -> dict[int, np.ndarray]:
        """`_keys` of each Y in `boxes` over the whole X range. With `other`, the statements are shared out
        between the two connections: one Y's split at the middle of X, several Ys each whole."""
        statements = [(y, self._key_sql(y, box, buckets, width)) for y, box in boxes.items()]
        if other is not None and len(statements) == 1:
            ((y, sql),) = statements
            raw0, raw1 = self.raw_range
            middle = raw0 + (buckets // 2) * width if width is not None else (raw0 + raw1) / 2
            statements = [
                (y, f"{sql} WHERE xv < {sql_literal(middle)}"),
                # (a NULL X keeps its NULL key, which tells `read` that NULLs must be counted)
                (y, f"{sql} WHERE xv >= {sql_literal(middle)} OR xv IS NULL"),
            ]

        def run(c: sqlite3.Connection, share: list[tuple[int, str]]) -> list[tuple[int, np.ndarray]]:
            return [(y, _fetch(c.execute(sql, self.nested.params), 1)[:, 0]) for y, sql in share]

        here, there = side_by_side(
            conn, other, lambda c: run(c, statements[0::2]), lambda c: run(c, statements[1::2]), cancel
        )
        found: dict[int, list[np.ndarray]] = {}
        for y, keys in [*here, *there]:
            found.setdefault(y, []).append(keys)
        return {y: np.concatenate(parts) for y, parts in found.items()}

    def _extremes(
        self,
        conn: sqlite3.Connection,
        y: int,
        box: tuple[float, float, float, float],
        buckets: int,
        within: bool,
        width: int | None = None,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Y number `y`'s lowest and highest value in each of `buckets` columns of X, per series, over `box`
        (raw X from, to; Y from, to): `_key_sql`'s keys drawn by `_points`."""
        sql = self._key_sql(y, box, buckets, width)
        if within:
            raw0, raw1, low, high = box
            sql += f" WHERE xv BETWEEN {sql_literal(raw0)} AND {sql_literal(raw1)}"
            sql += f" AND v{y} BETWEEN {sql_literal(float(low))} AND {sql_literal(float(high))}"
        keys = _fetch(conn.execute(sql, self.nested.params), 1)[:, 0]
        return self._points(keys, box, buckets, width)

    def _scales(
        self, box: tuple[float, float, float, float], buckets: int, width: int | None
    ) -> tuple[float, float]:
        """Columns per raw X unit and rows per Y unit over `box` (0 for a range of one value)."""
        raw0, raw1, low, high = box
        kx = buckets / (raw1 - raw0) if raw1 > raw0 else 0.0
        if width is not None:
            kx = 1 / width
        ky = self.levels / (high - low) if high > low else 0.0
        return kx, ky

    def _key_sql(
        self, y: int, box: tuple[float, float, float, float], buckets: int, width: int | None
    ) -> str:
        """A SELECT DISTINCT of which of `levels` rows of Y each column's values fall in, per series, over
        `box` (raw X from, to; Y from, to): SQLite keeps the distinct pairs in an index, no sort of every
        row (unlike a GROUP BY). `width` (integer X from an integer `raw0`): columns of that many X units
        instead of `buckets` over the range. Ends with its FROM, so a WHERE may follow."""
        raw0, _raw1, low, _high = box
        kx, ky = self._scales(box, buckets, width)
        # One integer per (series, column, row) pair: DISTINCT compares one value, not a record of three
        # (a third less time on 5M rows). Columns run 0..buckets and rows 0..levels (the range's top edge
        # lands on the last + 1: clamped by `_points`, not per row in SQL). A NULL X or Y makes the key NULL
        # and a row of further series values (gi = -1) a negative key: both dropped there, with no WHERE.
        column_stride, row_stride = buckets + 1, self.levels + 1
        column = f"CAST((xv - {sql_literal(raw0)}) * {sql_literal(kx)} AS INTEGER)"
        if width is not None:
            # (CAST, a no-op on integers, floors a real that slipped in: xv - raw0 is never negative.)
            column = f"(CAST(xv - {int(raw0)} AS INTEGER) / {int(width)})"
        row = f"CAST((v{y} - {sql_literal(float(low))}) * {sql_literal(ky)} AS INTEGER)"
        if self.series_name is not None:
            column = f"(gi * {column_stride} + {column})"
        key = f"{column} * {row_stride} + {row}"
        return f"SELECT DISTINCT {key} FROM ({self.values_sql()})"

    def _points(
        self, keys: np.ndarray, box: tuple[float, float, float, float], buckets: int, width: int | None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The points of `_key_sql`'s keys, per series: each column's lowest and highest row of Y, drawn at
        those rows' edges (a quarter pixel of a plot as tall as the screen). Keys may repeat."""
        raw0, raw1, low, high = box
        levels = self.levels
        kx, ky = self._scales(box, buckets, width)
        column_stride, row_stride = buckets + 1, levels + 1
        keys = keys[keys >= 0].astype(np.int64)  # (NaN, from NULL, compares False)
        rest, rows = np.divmod(keys, row_stride)
        groups, columns = np.divmod(rest, column_stride)
        table = np.column_stack((groups, np.minimum(columns, buckets - 1), np.minimum(rows, levels - 1)))
        out = []
        for group in range(max(len(self.groups), 1)):
            cells = table[table[:, 0] == group]
            lowest = np.full(buckets, levels, dtype=np.int64)
            highest = np.full(buckets, -1, dtype=np.int64)
            np.minimum.at(lowest, cells[:, 1], cells[:, 2])
            np.maximum.at(highest, cells[:, 1], cells[:, 2])
            hit = np.flatnonzero(highest >= 0)
            step = 1 / ky if ky else 0.0
            bottom = np.clip(low + lowest[hit] * step, low, high)
            top = np.clip(low + (highest[hit] + 1) * step, low, high)
            left = raw0 + (hit + 0.25) / kx if kx else np.full(len(hit), raw0)
            right = raw0 + (hit + 0.75) / kx if kx else np.full(len(hit), raw0)
            xs, ys = extremes_to_points(
                np.clip(left, raw0, raw1),
                np.clip(right, raw0, raw1),
                bottom,
                top,
                np.where(top > bottom, 2, 1),
            )
            out.append((self.x.to_axis(xs), ys))
        return out

    def _kinds(
        self, conn: sqlite3.Connection, inner: str, columns: list[str]
    ) -> tuple[dict[str, tuple[Any, Any]], dict[str, tuple[int, int, int]], int]:
        """For each of `columns` (holding more than numbers and NULLs) the range of what can be drawn, and
        its numbers, blobs and values that are not NULL; and the X values that can be drawn."""
        parts = []
        for column in columns:
            drawn = self.x.sql.format("x") if column == "x" else NUMBER.format(column)
            parts += [f"min({drawn})", f"max({drawn})", f"count({drawn})"]
            parts += [
                f"sum({IS_NUMBER.format(column)})",
                f"sum({IS_BLOB.format(column)})",
                f"count({column})",
            ]
        values = conn.execute(f"SELECT {', '.join(parts)} FROM ({inner})", self.nested.params).fetchone()
        ranges, kinds, x_drawn = {}, {}, 0
        for n, column in enumerate(columns):
            low, high, drawn, numbers, blobs, present = values[6 * n : 6 * n + 6]
            ranges[column] = (low, high)
            kinds[column] = (int(numbers or 0), int(blobs or 0), int(present or 0))
            if column == "x":
                x_drawn = int(drawn or 0)
        return ranges, kinds, x_drawn

    def _x_counts(self, rows: int, drawn: int, kinds: tuple[int, int, int] | None) -> ColumnCounts:
        """X's counts for the notes, as the streamed read makes them."""
        if not self.x.text or kinds is None:
            return kind_counts(rows, drawn, kinds)
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
        every point when at most `exact_rows` rows fall in the range, else each column's extremes (in
        rows of the Y range the first read shows there); outside the range, the first read's points."""
        low, high = min(x0, x1), max(x0, x1)
        raw0, raw1 = sorted((self.x.to_raw(low), self.x.to_raw(high)))
        groups = max(len(self.groups), 1)
        ys = range(len(self.y_names))
        params = self.nested.params
        detail: list[tuple[np.ndarray, np.ndarray]] | None = None
        with stoppable(conn, cancel):
            if self._share(raw0, raw1) * self._drawn_rows <= 4 * exact_rows:
                columns = ", ".join(f"v{i}" for i in ys)
                within = f"gi >= 0 AND xv BETWEEN {sql_literal(raw0)} AND {sql_literal(raw1)}"
                values = self.values_sql()
                sql = f"SELECT gi, xv, {columns} FROM ({values}) WHERE {within} LIMIT {exact_rows + 1}"
                found = conn.execute(sql, params).fetchall()
                if len(found) <= exact_rows:
                    table = _table(found, 2 + len(self.y_names))
                    table = table[np.argsort(table[:, 1], kind="stable")]
                    detail = [self._exact(table, y, group) for y in ys for group in range(groups)]
            if detail is None:
                detail = []
                for y in ys:
                    shown = self.overview[y * groups : (y + 1) * groups]
                    # The first read's columns that reach into the range (its points stand inside them).
                    width = float(np.diff(self.x.to_axis(np.array(self.raw_range)))[0]) / self._buckets
                    inside = [oy[(ox >= low - width) & (ox <= high + width)] for ox, oy in shown]
                    values = np.concatenate(inside) if inside else np.empty(0)
                    if not len(values):
                        detail += [_NO_POINTS] * groups
                        continue
                    box = (raw0, raw1, float(values.min()), float(values.max()))
                    detail += self._extremes(conn, y, box, buckets, within=True)
        return [
            splice(xs, ys_, dx, dy, low, high)
            for (xs, ys_), (dx, dy) in zip(self.overview, detail, strict=True)
        ]

    def _share(self, raw0: float, raw1: float) -> float:
        """The share of the whole X range that [raw0, raw1] covers (0 to 1)."""
        low, high = self.raw_range
        if high <= low:
            return 1.0 if raw0 <= low <= raw1 else 0.0
        return max(0.0, min(raw1, high) - max(raw0, low)) / (high - low)

    def _exact(self, table: np.ndarray, y: int, group: int) -> tuple[np.ndarray, np.ndarray]:
        """The points of Y number `y`, group `group`, from rows of (gi, xv, v0, v1, …)."""
        rows = table[(table[:, 0] == group) & ~np.isnan(table[:, 2 + y])]
        return self.x.to_axis(rows[:, 1]), rows[:, 2 + y]


def kind_counts(rows: int, numbers: int, kinds: tuple[int, int, int] | None) -> ColumnCounts:
    """A number column's counts: `numbers` drawable of `rows`; the rest NULL unless `kinds` (numbers,
    blobs, not NULL) says some are text or blobs."""
    counts = ColumnCounts(numbers)
    present = numbers if kinds is None else kinds[2]
    blobs = 0 if kinds is None else kinds[1]
    for kind, count in ((NULL, rows - present), (TEXT, present - numbers - blobs), (BLOB, blobs)):
        if count:
            counts.skipped[kind] += count
    return counts


def _fetch(cursor: sqlite3.Cursor, width: int) -> np.ndarray:
    """A cursor's rows of numbers and NULLs as a float array, converted a page at a time: one conversion
    of 100,000 rows would hold the GIL (and stall the UI) for tens of milliseconds."""
    pages = [_table(page, width) for page in iter(lambda: cursor.fetchmany(10_000), [])]
    return np.concatenate(pages) if pages else np.empty((0, width))


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
