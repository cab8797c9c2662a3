"""Big bar charts and histograms summarised in SQLite: one GROUP BY over the whole result, no rows in Python.

A bar chart of more than `chart_bars_max` rows draws each X value's total of each Y (per series): the
`chart_bar_categories` values of largest total (of the first Y, in absolute value) as bars, every further
value summed into one "other" bar — one statement (GROUP BY, then window functions over the groups).

A histogram of more than `chart_summary_rows` rows is binned as the streamed read bins it
(`binning.histogram`: equal bins from the lowest value to the highest, one bin per integer when few):
one pass for the range (`LineSummary.measure`), then one GROUP BY of each value's bin number, found by
a multiplication cut to an integer. Each group's lowest and highest value check it against the bin's
edges; should a value lie within rounding of an edge, the bins are counted again with the edges compared
row by row (so the counts always equal `edge[i] <= value < edge[i + 1]`, the last bin closed).

The user's query is nested (`NestedQuery`) and our numbers pasted in as literals, as in `summary.py`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np

from desktop_app.core.chart.columns import Column, NumberColumn, category_label
from desktop_app.core.chart.notes import check_has_values, dropped_note, series_name, skipped_note, value_text
from desktop_app.core.chart.spec import AxisKind, ChartData, ChartSpec, Series
from desktop_app.core.chart.summary import (
    IS_BLOB,
    NUMBER,
    LineSummary,
    Measured,
    first_values,
    kind_counts,
    x_values,
)
from desktop_app.core.progress import CancelToken
from desktop_app.core.sqlite.interrupt import stoppable
from desktop_app.core.sqlite.nested_query import NestedQuery
from desktop_app.core.sqlite.quoting import quote_identifier, sql_literal

#: The label of the bar that sums the categories past the largest ones.
OTHER = "other"


def bar_summary(
    conn: sqlite3.Connection,
    nested: NestedQuery,
    names: list[str],
    spec: ChartSpec,
    x_column: Column,
    top: int,
    series_max: int,
    cancel: CancelToken | None = None,
) -> ChartData:
    """Each X value's total of each Y over the whole result (per series value): the `top` largest values
    as bars, the rest summed into one "other" bar; numbers and times in X order, text largest first."""
    x_name, y_names = names[spec.x], [names[i] for i in spec.ys]
    series_column = names[spec.series] if spec.series is not None else None
    with stoppable(conn, cancel):
        groups = first_values(conn, nested, series_column, series_max)
        inner = _bar_inner(nested, x_name, y_names, series_column, groups)
        table = conn.execute(_bar_sql(inner, len(y_names), series_column is not None, top), nested.params)
        table = table.fetchall()
        # Rows (k, gi, lowest X value, highest rank, rows, then per Y: total, numbers, not NULL); k is -1 for
        # NULL X, -2 for further series values, 1..top for the largest X values and top + 1 for the rest.
        rows = sum(r[4] for r in table)
        kinds = [
            (int(sum(r[6 + 3 * i] or 0 for r in table)), int(sum(r[7 + 3 * i] for r in table)))
            for i in range(len(y_names))
        ]
        # Blobs are told from text only where a Y holds more than numbers and NULLs (one more pass).
        mixed = [i for i, (numbers, present) in enumerate(kinds) if present > numbers]
        blobs = dict.fromkeys(range(len(y_names)), 0)
        if mixed:
            parts = ", ".join(f"sum({IS_BLOB.format(f'y{i}')})" for i in mixed)
            found = conn.execute(f"SELECT {parts} FROM ({inner})", nested.params).fetchone()
            blobs.update({i: int(b or 0) for i, b in zip(mixed, found, strict=True)})
    first_value: dict[int, Any] = {}
    for r in table:
        if r[0] > 0 and r[1] >= 0:
            first_value.setdefault(r[0], r[2])
    drawn = sorted(first_value)
    if x_column.kind is not AxisKind.CATEGORY:  # numbers and times read best in their own order
        drawn.sort(key=lambda k: (k > top, _sortable(first_value[k])))
    position = {k: n for n, k in enumerate(drawn)}
    y_columns = []
    for i, name in enumerate(y_names):
        numbers, present = kinds[i]
        column = NumberColumn(name)
        counts = kind_counts(rows, numbers, (numbers, blobs[i], present))
        column.numbers, column.skipped = counts.numbers, counts.skipped
        check_has_values(column, rows, "Y")
        y_columns.append(column)
    x_nulls = sum(r[4] for r in table if r[0] == -1)
    notes = [f"{x_name}: {x_nulls:,} NULL left out."] if x_nulls else []
    notes += [skipped_note(c.name, c.skipped) for c in y_columns if c.skipped]
    others = max((r[3] - top for r in table if r[0] == top + 1), default=0)
    if others:
        notes.append(f"{others:,} further {x_name} values summed into the bar “{OTHER}”.")
    dropped = sum(r[4] for r in table if r[1] < 0)
    if dropped:
        notes.append(dropped_note(dropped, series_column or "", series_max))
    labels = [value_text(v) for v in groups] if series_column is not None else [None]
    series = []
    for i, column in enumerate(y_columns):
        for gi, label in enumerate(labels):
            mine = [r for r in table if r[1] == gi and r[0] > 0 and r[6 + 3 * i]]
            xs = np.array([position[r[0]] for r in mine], dtype=np.float64)
            ys = np.array([r[5 + 3 * i] for r in mine], dtype=np.float64)
            order = np.argsort(xs, kind="stable")
            name = series_name(column.name, label, several_ys=len(y_columns) > 1)
            series.append(Series(name, xs[order], ys[order]))
    return ChartData(
        spec=spec,
        x_kind=AxisKind.CATEGORY,
        x_label=x_name,
        series=series,
        categories=[OTHER if k > top else category_label(first_value[k]) for k in drawn],
        rows=int(rows),
        notes=notes,
    )


def _bar_inner(
    nested: NestedQuery, x_name: str, y_names: list[str], series_name: str | None, groups: list[Any]
) -> str:
    """c (X), y<i> (each Y) and gi (the series' number, -1 for further values) over the user's query."""
    parts = [f"{quote_identifier(x_name)} AS c"]
    parts += [f"{quote_identifier(name)} AS y{i}" for i, name in enumerate(y_names)]
    if series_name is None:
        parts.append("0 AS gi")
    else:
        s = quote_identifier(series_name)
        cases = " ".join(f"WHEN {s} IS {sql_literal(v)} THEN {n}" for n, v in enumerate(groups))
        parts.append(f"CASE {cases} ELSE -1 END AS gi" if cases else "-1 AS gi")
    return f"SELECT {', '.join(parts)} FROM {nested.subquery}"


def _bar_sql(inner: str, ys: int, series: bool, top: int) -> str:
    """One statement: GROUP BY X (and series), then the X values ranked by the first Y's absolute total
    (window functions over the groups, not the rows), then the groups past `top` summed as one."""
    sums = []
    for i in range(ys):
        number = NUMBER.format(f"y{i}")
        sums += [f"total({number}) AS s{i}", f"count({number}) AS k{i}", f"count(y{i}) AS p{i}"]
    # (grouping by X alone when there is no series: a second key costs SQLite's sort a fifth more)
    grouped = (
        f"SELECT c, gi, count(*) AS n, {', '.join(sums)} FROM ({inner}) GROUP BY c{', gi' if series else ''}"
    )
    weighed = (
        "SELECT *, sum(CASE WHEN gi >= 0 AND k0 THEN abs(s0) END) OVER (PARTITION BY c) AS w "
        f"FROM ({grouped})"
    )
    ranked = (
        "SELECT *, dense_rank() OVER (PARTITION BY c IS NULL OR gi < 0 ORDER BY w DESC, c) AS r "
        f"FROM ({weighed})"
    )
    k = f"CASE WHEN c IS NULL THEN -1 WHEN gi < 0 THEN -2 WHEN r <= {int(top)} THEN r ELSE {int(top) + 1} END"
    totals = []
    for i in range(ys):
        totals += [f"total(s{i})", f"sum(k{i})", f"sum(p{i})"]
    return f"SELECT {k} AS k, gi, min(c), max(r), sum(n), {', '.join(totals)} FROM ({ranked}) GROUP BY 1, 2"


def histogram_summary(
    conn: sqlite3.Connection,
    nested: NestedQuery,
    names: list[str],
    spec: ChartSpec,
    x_column: Column,
    cancel: CancelToken | None = None,
    other: sqlite3.Connection | None = None,
) -> tuple[Measured, np.ndarray, np.ndarray]:
    """The histogram of the X column over the whole result, as `binning.histogram` bins it: what the first
    pass measured (rows, and X's counts for the notes), the bin edges (on the axis) and the counts."""
    values = x_values(x_column)
    if values is None:
        raise ValueError("a histogram of categories is read row by row")
    measuring = LineSummary(nested, values, names[spec.x], [], None, 0)
    with stoppable(conn, cancel):
        measured = measuring.measure(conn, cancel, other)
        if not measured.x.numbers:
            return measured, np.array([0.0, 1.0]), np.array([0], dtype=np.int64)
        raw_low, raw_high = measuring.raw_range
        low, high = (float(v) for v in values.to_axis(np.array([raw_low, raw_high])))
        axis = "xv"
        if (values.zero, values.scale, values.shift) != (0.0, 1.0, 0.0):  # as `XValues.to_axis` computes it
            zero, scale, shift = (sql_literal(v) for v in (values.zero, values.scale, values.shift))
            axis = f"((xv - {zero}) * {scale} + {shift})"
        source = f"SELECT {axis} AS v FROM ({measuring.values_sql()})"
        bins = spec.bins
        few = high - low < bins
        if low == high:
            edges = np.linspace(low - 0.5, high + 0.5, bins + 1)
        else:
            edges = np.linspace(low, high, bins + 1)
        first, last = float(edges[0]), float(edges[-1])
        bin_of = f"CAST((v - {sql_literal(first)}) * {sql_literal(bins / (last - first))} AS INTEGER)"
        fractions = ", sum(v <> CAST(v AS INTEGER))" if few else ""
        sql = (
            f"SELECT {bin_of} AS b, count(*), min(v), max(v){fractions} FROM ({source}) "
            "WHERE v IS NOT NULL GROUP BY b"
        )
        table = conn.execute(sql, nested.params).fetchall()
        if few and not any(r[4] for r in table):  # few integers: one bin per integer, centred on it
            edges = np.arange(low - 0.5, high + 1.0, 1.0)
            counts = np.zeros(len(edges) - 1, dtype=np.int64)
            for _b, count, value, _high, _fraction in table:
                counts[int(value - low)] += count
            return measured, edges, counts
        counts = np.zeros(bins, dtype=np.int64)
        exact = True
        for b, count, lowest, highest, *_ in table:
            t = min(int(b), bins - 1)
            right_ok = highest < edges[t + 1] or (t == bins - 1 and highest <= edges[-1])
            if lowest < edges[t] or not right_ok:
                exact = False
                break
            counts[t] += count
        if not exact:
            counts = _counted_against_edges(conn, nested, source, bin_of, edges)
    return measured, edges, counts


def _counted_against_edges(
    conn: sqlite3.Connection, nested: NestedQuery, source: str, bin_of: str, edges: np.ndarray
) -> np.ndarray:
    """Counts per bin with each value compared with its bin's edges (a value within rounding of an edge
    moves to the bin the edges put it in): edges computed in SQL as numpy's `linspace` computes them."""
    bins = len(edges) - 1
    first, step = float(edges[0]), (float(edges[-1]) - float(edges[0])) / bins
    t = f"min({bin_of}, {bins - 1})"
    edge = f"(t * {sql_literal(step)} + {sql_literal(first)})"
    upper = f"((t + 1) * {sql_literal(step)} + {sql_literal(first)})"
    fixed = f"t - (v < {edge}) + (t + 1 < {bins} AND v >= {upper})"
    sql = (
        f"SELECT {fixed} AS b, count(*) FROM (SELECT v, {t} AS t FROM ({source}) WHERE v IS NOT NULL) "
        "GROUP BY b"
    )
    counts = np.zeros(bins, dtype=np.int64)
    for b, count in conn.execute(sql, nested.params):
        counts[int(b)] += count
    return counts


def _sortable(value: Any) -> tuple[int, Any]:
    """SQLite's order of values of mixed kinds: numbers, then text, then blobs."""
    if isinstance(value, int | float):
        return (0, value)
    return (1, value) if isinstance(value, str) else (2, bytes(value))
