"""Charts: the streamed arrays equal direct SQL, display thinning keeps every peak, bins equal SQL counts."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.chart import read as read_module
from desktop_app.core.chart.binning import histogram
from desktop_app.core.chart.read import read_chart
from desktop_app.core.chart.spec import AxisKind, ChartError, ChartKind, ChartSpec
from desktop_app.core.chart.thinning import LineThinner, cell_counts, minmax_per_bucket
from desktop_app.core.errors import Cancelled
from desktop_app.core.progress import CancelToken, Progress
from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.core.sqlite import side_by_side as side_by_side_module
from desktop_app.core.sqlite.guard import GuardRefused
from desktop_app.core.sqlite.interrupt import stoppable
from desktop_app.core.sqlite.side_by_side import side_by_side, spare_core
from tests.conftest import CORPUS
from tests.fixtures import snapshot_connection

#: id, day (ISO text), jd (Julian day), ts (Unix seconds), v (REAL, with NULLs and text), kind, n (INTEGER)
ROWS = 500


def _build(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE m (id INTEGER PRIMARY KEY, day TEXT, jd REAL, ts INTEGER, v, kind TEXT, n INTEGER)"
    )
    rows = []
    for i in range(ROWS):
        day = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00"
        v = None if i % 17 == 0 else ("n/a" if i % 50 == 3 else (i * 7919 % 1000) / 10)
        rows.append((i, day, 2460310.5 + i / 3, 1_700_000_000 + i * 3600, v, "abc"[i % 3], i % 9))
    conn.executemany(
        "INSERT INTO m VALUES (?, ?, julianday(?) , ?, ?, ?, ?)",
        [(r[0], r[1], r[1], r[3], r[4], r[5], r[6]) for r in rows],
    )
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    (tmp_path / "src").mkdir()
    with snapshot_connection(_build(tmp_path / "src" / "data.db")) as connection:
        yield connection


def test_scatter_arrays_equal_direct_sql_with_nulls_and_text_left_out(conn: sqlite3.Connection) -> None:
    data = read_chart(conn, "SELECT id, v FROM m", (), ChartSpec(ChartKind.SCATTER, 0, (1,)))
    expected = conn.execute("SELECT id, v FROM m WHERE typeof(v) IN ('integer', 'real')").fetchall()
    assert data.rows == ROWS and data.x_kind is AxisKind.NUMBER
    (series,) = data.series
    assert series.x.tolist() == [float(r[0]) for r in expected]
    assert series.y.tolist() == [float(r[1]) for r in expected]
    nulls = conn.execute("SELECT count(*) FROM m WHERE v IS NULL").fetchone()[0]
    texts = conn.execute("SELECT count(*) FROM m WHERE typeof(v) = 'text'").fetchone()[0]
    assert data.notes == [f"v: {nulls} NULL, {texts} text values left out."]


def test_a_table_query_reads_only_the_charted_columns_in_any_order(conn: sqlite3.Connection) -> None:
    spec = ChartSpec(ChartKind.SCATTER, 6, (0, 3))
    data = read_chart(conn, "SELECT * FROM m", (), spec)
    assert [s.name for s in data.series] == ["id", "ts"]
    assert data.series[1].y.tolist() == [float(r[0]) for r in conn.execute("SELECT ts FROM m")]
    assert data.series[0].x.tolist() == [float(r[0]) for r in conn.execute("SELECT n FROM m")]


def test_a_statement_that_cannot_be_nested_is_charted_from_its_rows(conn: sqlite3.Connection) -> None:
    data = read_chart(conn, "PRAGMA table_info(m)", (), ChartSpec(ChartKind.SCATTER, 0, (5,)))
    assert data.series[0].x.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert data.series[0].y.tolist() == [1, 0, 0, 0, 0, 0, 0]  # pk


def test_line_is_sorted_along_x(conn: sqlite3.Connection) -> None:
    data = read_chart(conn, "SELECT v, id FROM m ORDER BY id DESC", (), ChartSpec(ChartKind.LINE, 1, (0,)))
    x = data.series[0].x
    assert np.all(x[1:] >= x[:-1])
    by_id = dict(conn.execute("SELECT id, v FROM m WHERE typeof(v) = 'real'").fetchall())
    assert dict(zip(x.tolist(), data.series[0].y.tolist(), strict=True)) == {
        float(k): v for k, v in by_id.items()
    }


@pytest.mark.parametrize(
    ("column", "encoding"),
    [("day", "ISO-8601 text"), ("jd", "Julian day"), ("ts", "Unix seconds")],
)
def test_dates_become_epoch_seconds_on_a_time_axis(
    conn: sqlite3.Connection, column: str, encoding: str
) -> None:
    sql = f"SELECT {column} AS when_at, id FROM m"
    data = read_chart(conn, sql, (), ChartSpec(ChartKind.LINE, 0, (1,)))
    assert data.x_kind is AxisKind.TIME and data.time_encoding == encoding
    modifier = ", 'unixepoch'" if column == "ts" else ""
    expected = conn.execute(f"SELECT (julianday({column}{modifier}) - 2440587.5) * 86400.0 FROM m").fetchall()
    assert np.allclose(np.sort(data.series[0].x), np.sort([r[0] for r in expected]), atol=1e-3)


def test_text_x_of_a_bar_chart_becomes_categories(conn: sqlite3.Connection) -> None:
    sql = "SELECT kind, sum(n) FROM m GROUP BY kind ORDER BY kind DESC"
    data = read_chart(conn, sql, (), ChartSpec(ChartKind.BAR, 0, (1,)))
    expected = conn.execute(sql).fetchall()
    assert data.x_kind is AxisKind.CATEGORY and data.categories == [r[0] for r in expected]
    assert data.series[0].x.tolist() == [0, 1, 2]
    assert data.series[0].y.tolist() == [r[1] for r in expected]


def test_series_column_splits_rows_like_group_by(conn: sqlite3.Connection) -> None:
    data = read_chart(conn, "SELECT ts, n, kind FROM m", (), ChartSpec(ChartKind.SCATTER, 0, (1,), series=2))
    assert [s.name for s in data.series] == ["a", "b", "c"]
    for series in data.series:
        expected = conn.execute("SELECT n FROM m WHERE kind = ?", (series.name,)).fetchall()
        assert series.y.tolist() == [r[0] for r in expected]


def test_a_y_column_of_text_is_refused_with_what_it_holds(conn: sqlite3.Connection) -> None:
    with pytest.raises(ChartError) as caught:
        read_chart(conn, "SELECT id, kind FROM m", (), ChartSpec(ChartKind.LINE, 0, (1,)))
    assert caught.value.message == (
        "The Y column 'kind' holds no numbers (500 text). "
        "A Y column must hold numbers; text can be the X of a bar chart, or the series."
    )


def test_too_many_bars_are_refused_when_sql_cannot_group_them(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    lowered = dataclasses.replace(read_module.LIMITS, chart_bars_max=3, chart_page_rows=2)
    monkeypatch.setattr(read_module, "LIMITS", lowered)
    with pytest.raises(ChartError, match="at most 3 bars"):  # a PRAGMA cannot be nested in a GROUP BY
        read_chart(conn, "PRAGMA table_info(m)", (), ChartSpec(ChartKind.BAR, 0, (3,)))


def test_a_statement_that_writes_is_refused(conn: sqlite3.Connection) -> None:
    with pytest.raises(GuardRefused):
        read_chart(conn, "DELETE FROM m RETURNING id, n", (), ChartSpec(ChartKind.LINE, 0, (1,)))


def test_histogram_counts_equal_sql_counts(conn: sqlite3.Connection) -> None:
    data = read_chart(conn, "SELECT v FROM m", (), ChartSpec(ChartKind.HISTOGRAM, 0, bins=7))
    (series,) = data.series
    edges, counts = series.x, series.y
    assert (
        len(edges) == 8
        and counts.sum() == conn.execute("SELECT count(*) FROM m WHERE typeof(v)='real'").fetchone()[0]
    )
    for i, count in enumerate(counts.tolist()):
        upper = "<=" if i == len(counts) - 1 else "<"
        sql = f"SELECT count(*) FROM m WHERE typeof(v)='real' AND v >= ? AND v {upper} ?"
        assert count == conn.execute(sql, (edges[i], edges[i + 1])).fetchone()[0]


def test_histogram_of_few_integers_has_one_bin_per_value(conn: sqlite3.Connection) -> None:
    data = read_chart(conn, "SELECT n FROM m", (), ChartSpec(ChartKind.HISTOGRAM, 0, bins=20))
    expected = conn.execute("SELECT n, count(*) FROM m GROUP BY n ORDER BY n").fetchall()
    centres = (data.series[0].x[:-1] + data.series[0].x[1:]) / 2
    assert list(zip(centres.tolist(), data.series[0].y.tolist(), strict=True)) == [
        (float(n), c) for n, c in expected
    ]


def test_histogram_of_nothing_is_one_empty_bin() -> None:
    edges, counts = histogram(np.array([np.nan]), 10)
    assert edges.tolist() == [0.0, 1.0] and counts.tolist() == [0]


def test_stop_interrupts_a_long_statement(conn: sqlite3.Connection) -> None:
    token = CancelToken()
    sql = (
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 100000000000) "
        "SELECT i, i FROM c ORDER BY i DESC"  # the sort runs before the first row: only an interrupt ends it
    )
    timer = threading.Timer(0.3, token.cancel)
    timer.start()
    try:
        with pytest.raises((Cancelled, sqlite3.OperationalError)):
            read_chart(conn, sql, (), ChartSpec(ChartKind.LINE, 0, (1,)), cancel=token)
    finally:
        timer.cancel()
    assert conn.execute("SELECT count(*) FROM m").fetchone()[0] == ROWS  # the connection is still usable


def test_stop_between_pages_ends_the_read(conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read_module, "LIMITS", dataclasses.replace(read_module.LIMITS, chart_page_rows=10))
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        read_chart(conn, "SELECT id, n FROM m", (), ChartSpec(ChartKind.LINE, 0, (1,)), cancel=token)


def test_minmax_thinning_keeps_each_buckets_lowest_and_highest() -> None:
    rng = np.random.default_rng(7)
    x = np.sort(rng.uniform(0, 1000, 200_000))
    y = rng.standard_normal(len(x))
    out_x, out_y = minmax_per_bucket(x, y, 100.0, 600.0, 250)
    assert len(out_x) <= 2 * 251
    for bucket in range(250):
        low, high = 100.0 + bucket * 2.0, 100.0 + (bucket + 1) * 2.0
        inside = (x >= low) & (x < high)
        drawn = out_y[(out_x >= low) & (out_x < high)]
        assert drawn.min() == y[inside].min() and drawn.max() == y[inside].max()


def test_minmax_thinning_leaves_a_sparse_range_as_it_is() -> None:
    x = np.arange(100.0)
    y = x**2
    out_x, out_y = minmax_per_bucket(x, y, 10.0, 20.0, 100)
    assert out_x.tolist() == list(range(9, 22)) and out_y.tolist() == [v * v for v in range(9, 22)]


def test_cell_counts_equal_a_2d_histogram_of_the_view() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(0, 1, 300_000), rng.normal(0, 2, 300_000)
    counts = cell_counts(x, y, (-1.0, 2.0, -3.0, 1.0), (30, 20))
    expected, _xe, _ye = np.histogram2d(x, y, bins=(30, 20), range=((-1.0, 2.0), (-3.0, 1.0)))
    inside = (x >= -1) & (x < 2) & (y >= -3) & (y < 1)
    assert counts.shape == (30, 20) and counts.sum() == inside.sum()
    assert np.abs(counts - expected).sum() <= 2 * 4  # points exactly on an inner edge may fall either side


def test_line_thinner_from_runs_equals_thinning_every_point() -> None:
    rng = np.random.default_rng(11)
    x = np.arange(64 * 4000, dtype=np.float64)
    y = np.cumsum(rng.standard_normal(len(x)))
    thinner = LineThinner(x, y, chunk=64)
    out_x, out_y = thinner.view(0.0, 256_000.0, 1000)  # 256 points, 4 runs a bucket
    assert len(out_x) == 2000
    for bucket in range(1000):
        inside = y[bucket * 256 : (bucket + 1) * 256]
        drawn = out_y[2 * bucket : 2 * bucket + 2]
        assert (drawn.min(), drawn.max()) == (inside.min(), inside.max())


def test_line_thinner_keeps_the_extremes_of_any_view_and_the_last_points() -> None:
    rng = np.random.default_rng(12)
    x = np.sort(rng.uniform(0, 1e6, 300_001))
    y = rng.standard_normal(len(x))
    thinner = LineThinner(x, y, chunk=64)
    for x0, x1 in ((0.0, 1e6), (1e5, 9e5), (2e5, 2.5e5)):
        out_x, out_y = thinner.view(x0, x1, 800)
        inside = (x >= x0) & (x <= x1)
        assert len(out_x) <= 2 * 801 + 64
        assert out_y.max() >= y[inside].max() and out_y.min() <= y[inside].min()
    out_x, _out_y = thinner.view(0.0, 1e6, 800)
    assert out_x[-1] == x[-1]
    assert thinner.extent() == (x[0], x[-1], y.min(), y.max())


def test_a_long_read_is_handed_over_part_by_part(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    lowered = dataclasses.replace(read_module.LIMITS, chart_page_rows=100, chart_partial_draw_s=0.0)
    monkeypatch.setattr(read_module, "LIMITS", lowered)
    parts: list[tuple[int, int, bool]] = []
    spec = ChartSpec(ChartKind.LINE, 0, (1,))
    data = read_chart(
        conn, "SELECT id, n FROM m", (), spec, partial=lambda d: parts.append((d.rows, d.points, d.partial))
    )
    assert parts == [(rows, rows, True) for rows in range(100, ROWS + 1, 100)]
    assert (data.rows, data.points, data.partial) == (ROWS, ROWS, False)


# --- big lines summarised in SQLite (limits lowered: 3,000 rows count as big) ---------------------------

SUMMARY_ROWS = 3000


def _summary_limits(monkeypatch: pytest.MonkeyPatch, **more: int) -> None:
    lowered = dataclasses.replace(
        read_module.LIMITS, chart_page_rows=100, chart_summary_rows=500, chart_summary_buckets=50, **more
    )
    monkeypatch.setattr(read_module, "LIMITS", lowered)


@pytest.fixture
def walk(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """w(t REAL, v, g TEXT, day TEXT): 3,000 rows of a random walk in t order, a few NULL and text values
    (t is off the buckets' edges, where a row may fall either side)."""
    with snapshot_connection(_build_walk(tmp_path)) as connection:
        yield connection


def _build_walk(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    path = tmp_path / "src" / "walk.db"
    rng = np.random.default_rng(3)
    v = np.cumsum(rng.standard_normal(SUMMARY_ROWS)).tolist()
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE w (t REAL, v, g TEXT, day TEXT)")
        db.executemany(
            "INSERT INTO w VALUES (?, ?, ?, datetime(1700000000 + ? * 3600, 'unixepoch'))",
            (
                (0.123 + i * 0.5, None if i % 97 == 0 else ("n/a" if i % 301 == 5 else v[i]), "xyz"[i % 3], i)
                for i in range(SUMMARY_ROWS)
            ),
        )
        db.commit()
    return path


def _per_bucket(conn: sqlite3.Connection, x0: float, x1: float, buckets: int, where: str = "") -> dict:
    """Direct SQL: min and max of v for each of `buckets` equal buckets of t in [x0, x1]."""
    k = buckets / (x1 - x0)
    sql = (
        f"SELECT min(CAST((t - ?) * ? AS INTEGER), ?) AS b, min(v), max(v) FROM w "
        f"WHERE typeof(v) = 'real' AND t BETWEEN ? AND ? {where} GROUP BY b"
    )
    return {b: (low, high) for b, low, high in conn.execute(sql, (x0, k, buckets - 1, x0, x1))}


def _drawn_per_bucket(x: np.ndarray, y: np.ndarray, x0: float, x1: float, buckets: int) -> dict:
    inside = (x >= x0) & (x <= x1)
    b = np.minimum(((x[inside] - x0) * (buckets / (x1 - x0))).astype(np.int64), buckets - 1)
    return {int(n): (y[inside][b == n].min(), y[inside][b == n].max()) for n in np.unique(b)}


def _assert_extremes_within(drawn: dict, expected: dict, step: float) -> None:
    """Each bucket's drawn extremes hold SQL's, at most one row of Y (`step`) beyond them."""
    assert drawn.keys() == expected.keys()
    for bucket, (low, high) in expected.items():
        drawn_low, drawn_high = drawn[bucket]
        assert low - step <= drawn_low <= low and high <= drawn_high <= high + step, bucket


def test_a_big_line_is_summarised_in_sql_with_each_buckets_extremes(
    walk: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _summary_limits(monkeypatch)
    streamed = read_chart(walk, "SELECT t, v FROM w", (), ChartSpec(ChartKind.LINE, 0, (1,)))
    assert streamed.summary is not None and streamed.rows == SUMMARY_ROWS
    (series,) = streamed.series
    assert len(series.x) <= 2 * 50 and np.all(series.x[1:] >= series.x[:-1])
    x0, x1 = walk.execute("SELECT min(t), max(t) FROM w").fetchone()  # X of every row splits the buckets
    low, high = walk.execute("SELECT min(v), max(v) FROM w WHERE typeof(v) = 'real'").fetchone()
    assert (series.y.min(), series.y.max()) == pytest.approx((low, high))
    step = (high - low) / read_module.LIMITS.chart_summary_levels  # a quarter pixel of a screen-tall plot
    _assert_extremes_within(
        _drawn_per_bucket(series.x, series.y, x0, x1, 50), _per_bucket(walk, x0, x1, 50), step
    )


def test_an_integer_x_is_summarised_in_columns_of_whole_units_with_each_ones_extremes(
    walk: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _summary_limits(monkeypatch)
    sql = "SELECT 1000 + CAST(t * 6 AS INTEGER) AS n, v FROM w"  # 1000..18999, in steps of 3
    data = read_chart(walk, sql, (), ChartSpec(ChartKind.LINE, 0, (1,)))
    assert data.summary is not None
    (series,) = data.series
    first, last = walk.execute(f"SELECT min(n), max(n) FROM ({sql})").fetchone()
    width = (last - first) // 50 + 1
    expected = walk.execute(
        f"SELECT (n - ?) / ? AS b, min(v), max(v) FROM ({sql}) WHERE typeof(v) = 'real' GROUP BY b",
        (first, width),
    )
    low, high = walk.execute("SELECT min(v), max(v) FROM w WHERE typeof(v) = 'real'").fetchone()
    column = np.floor((series.x - first) / width).astype(np.int64)
    drawn = {int(b): (series.y[column == b].min(), series.y[column == b].max()) for b in np.unique(column)}
    step = (high - low) / read_module.LIMITS.chart_summary_levels
    _assert_extremes_within(drawn, {b: (lo, hi) for b, lo, hi in expected}, step)
    assert np.all(series.x >= first) and np.all(series.x <= last)


@pytest.mark.parametrize(
    ("sql", "notes"),
    [
        ("SELECT t, v FROM w", ["v: 31 NULL, 10 text values left out."]),
        (
            "SELECT CASE WHEN t > 1400 AND t < 1410 THEN 'later' WHEN t < 5 THEN NULL ELSE t END AS t, v "
            "FROM w",
            ["t: 20 text values, 10 NULL left out.", "v: 31 NULL, 10 text values left out."],
        ),
    ],
)
def test_a_summarised_line_says_what_it_left_out_as_a_streamed_one_does(
    walk: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, sql: str, notes: list[str]
) -> None:
    _summary_limits(monkeypatch)
    summarised = read_chart(walk, sql, (), ChartSpec(ChartKind.LINE, 0, (1,)))
    monkeypatch.setattr(
        read_module, "LIMITS", dataclasses.replace(read_module.LIMITS, chart_summary_rows=10**9)
    )
    streamed = read_chart(walk, sql, (), ChartSpec(ChartKind.LINE, 0, (1,)))
    assert summarised.summary is not None and streamed.summary is None
    assert summarised.notes == streamed.notes == notes
    assert summarised.rows == streamed.rows == SUMMARY_ROWS


@pytest.mark.parametrize(
    ("sql", "nulls"),
    [
        ("SELECT t, 2 * t - 1 AS v FROM w", {}),
        ("SELECT t, CASE WHEN typeof(v) = 'real' THEN v END AS v FROM w", {"v": 41}),
        ("SELECT CASE WHEN t < 5 THEN NULL ELSE t END AS t, 2 * t AS v FROM w", {"t": 10}),
        ("SELECT CAST(t * 2 AS INTEGER) AS t, CASE WHEN t < 5 THEN NULL ELSE t END AS v FROM w", {"v": 10}),
    ],
)
def test_a_summarised_line_of_numbers_counts_its_nulls_in_a_pass_only_when_it_has_some(
    walk: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, sql: str, nulls: dict[str, int]
) -> None:
    _summary_limits(monkeypatch)
    statements: list[str] = []
    walk.set_trace_callback(statements.append)
    try:
        data = read_chart(walk, sql, (), ChartSpec(ChartKind.LINE, 0, (1,)))
    finally:
        walk.set_trace_callback(None)
    assert data.summary is not None and data.rows == SUMMARY_ROWS
    direct = walk.execute(f"SELECT count(*) - count(t), count(*) - count(v) FROM ({sql})").fetchone()
    assert {name: n for name, n in zip("tv", direct, strict=True) if n} == nulls
    assert data.notes == [f"{name}: {n} NULL left out." for name, n in nulls.items()]
    counting = [s for s in statements if s.startswith("SELECT count(x)")]
    assert len(counting) == (1 if nulls else 0)
    (series,) = data.series  # the extremes still hold SQL's lowest and highest drawn value, to a row of Y
    low, high = walk.execute(f"SELECT min(v), max(v) FROM ({sql}) WHERE t IS NOT NULL").fetchone()
    every_low, every_high = walk.execute(f"SELECT min(v), max(v) FROM ({sql})").fetchone()
    step = (every_high - every_low) / read_module.LIMITS.chart_summary_levels
    assert low - step <= series.y.min() <= low and high <= series.y.max() <= high + step


def test_a_small_result_is_read_point_by_point(
    walk: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _summary_limits(monkeypatch)
    data = read_chart(walk, "SELECT t, v FROM w LIMIT 500", (), ChartSpec(ChartKind.LINE, 0, (1,)))
    numbers = walk.execute("SELECT count(*) FROM (SELECT v FROM w LIMIT 500) WHERE typeof(v) = 'real'")
    assert data.summary is None and data.points == numbers.fetchone()[0] == 492


def test_zooming_a_summarised_line_reads_the_range_again(
    walk: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _summary_limits(monkeypatch)
    data = read_chart(walk, "SELECT t, v FROM w", (), ChartSpec(ChartKind.LINE, 0, (1,)))
    assert data.summary is not None
    ((x, y),) = data.summary.view(walk, 200.0, 900.0, 40, exact_rows=100)
    inside = (x >= 200.0) & (x <= 900.0)
    low, high = walk.execute("SELECT min(v), max(v) FROM w WHERE typeof(v) = 'real'").fetchone()
    step = (high - low) / read_module.LIMITS.chart_summary_levels
    _assert_extremes_within(
        _drawn_per_bucket(x, y, 200.0, 900.0, 40), _per_bucket(walk, 200.0, 900.0, 40), step
    )
    overview = data.series[0]
    outside = (overview.x < 200.0) | (overview.x > 900.0)
    assert x[~inside].tolist() == overview.x[outside].tolist()  # the first read's points elsewhere
    # A range of few rows: every point, as SQL has them.
    ((x, y),) = data.summary.view(walk, 100.0, 120.0, 40, exact_rows=200)
    expected = walk.execute(
        "SELECT t, v FROM w WHERE typeof(v) = 'real' AND t BETWEEN 100 AND 120 ORDER BY t"
    )
    inside = (x >= 100.0) & (x <= 120.0)
    assert list(zip(x[inside].tolist(), y[inside].tolist(), strict=True)) == expected.fetchall()


def test_a_summarised_line_keeps_series_and_dates(
    walk: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _summary_limits(monkeypatch)
    spec = ChartSpec(ChartKind.LINE, 3, (1,), series=2)
    data = read_chart(walk, "SELECT t, v, g, day FROM w", (), spec)
    assert data.summary is not None and data.x_kind is AxisKind.TIME and data.time_encoding == "ISO-8601 text"
    assert [s.name for s in data.series] == ["x", "y", "z"]
    for series in data.series:
        seconds = "(julianday(day) - 2440587.5) * 86400.0"
        sql = (
            f"SELECT min({seconds}), max({seconds}), min(v), max(v) FROM w WHERE g = ? AND typeof(v) = 'real'"
        )
        first, last, low, high = walk.execute(sql, (series.name,)).fetchone()
        # Each bucket's points stand at its first and last X (of any row of the series): within a bucket.
        bucket = (2999 - 0) * 3600 / 50
        assert abs(series.x.min() - first) <= bucket and abs(series.x.max() - last) <= bucket
        assert series.y.min() == pytest.approx(low, abs=1e-9) or low - series.y.min() <= 1.0
        assert series.y.min() <= low and series.y.max() >= high


def test_stop_while_sqlite_summarises_ends_the_read(
    walk: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _summary_limits(monkeypatch)
    token = CancelToken()

    def progress(step: Progress) -> None:
        if step.label == read_module.SUMMARISING:
            token.cancel()  # as Stop does, once the summary begins

    with pytest.raises((Cancelled, sqlite3.OperationalError)):
        read_chart(walk, "SELECT t, v FROM w", (), ChartSpec(ChartKind.LINE, 0, (1,)), (), progress, token)
    assert walk.execute("SELECT count(*) FROM w").fetchone()[0] == SUMMARY_ROWS  # still usable


@pytest.mark.parametrize(
    ("sql", "spec"),
    [
        ("SELECT t, v FROM w", ChartSpec(ChartKind.LINE, 0, (1,))),
        ("SELECT 1000 + CAST(t * 6 AS INTEGER) AS n, v FROM w", ChartSpec(ChartKind.LINE, 0, (1,))),
        ("SELECT t, v, g, day FROM w", ChartSpec(ChartKind.LINE, 3, (1,), series=2)),
        ("SELECT t, v, -v AS minus, t % 7 AS week FROM w", ChartSpec(ChartKind.LINE, 0, (1, 2, 3))),
        (
            "SELECT CASE WHEN t > 1400 AND t < 1410 THEN 'later' ELSE t END AS t, v FROM w",
            ChartSpec(ChartKind.LINE, 0, (1,)),
        ),
        (  # numbers and NULLs only, in X and in Y: counted in a pass of their own
            "SELECT CASE WHEN t < 5 THEN NULL ELSE t END AS t, CASE WHEN typeof(v) = 'real' THEN v END AS v "
            "FROM w",
            ChartSpec(ChartKind.LINE, 0, (1,)),
        ),
    ],
)
def test_a_summary_split_over_two_connections_equals_the_one_of_one_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sql: str, spec: ChartSpec
) -> None:
    _summary_limits(monkeypatch)
    monkeypatch.setattr(read_module, "spare_core", lambda: True)  # (whatever the machine's load)
    snapshot = open_snapshot(_build_walk(tmp_path))
    opened: list[sqlite3.Connection] = []

    def connect() -> sqlite3.Connection:
        opened.append(snapshot.connect())
        return opened[-1]

    try:
        with closing(snapshot.connect()) as conn:
            alone = read_chart(conn, sql, (), spec)
            split = read_chart(conn, sql, (), spec, connect=connect)
    finally:
        snapshot.close()
    assert alone.summary is not None and split.summary is not None and len(opened) == 1
    assert (split.rows, split.notes, split.x_kind) == (alone.rows, alone.notes, alone.x_kind)
    assert [s.name for s in split.series] == [s.name for s in alone.series]
    for ours, theirs in zip(split.series, alone.series, strict=True):
        assert ours.x.tolist() == theirs.x.tolist() and ours.y.tolist() == theirs.y.tolist()
    with pytest.raises(sqlite3.ProgrammingError):  # the second connection is closed once the read ends
        opened[0].execute("SELECT 1")


@pytest.mark.parametrize(
    ("cores", "runnable", "load", "spare"),
    [
        (2, 1, 1.8, True),  # only the caller runs now: the minute's load (a read of our own) must not say no
        (2, 2, 0.4, True),  # another thread runs now, but the minute was quiet
        (2, 3, 1.8, False),
        (2, None, 0.9, True),  # no /proc/loadavg: the load average decides
        (2, None, 1.5, False),
        (1, 1, 0.0, False),  # one core: never
        (4, 3, 3.5, True),  # two others run on four cores: one is free
    ],
)
def test_a_core_is_spare_when_none_other_runs_now_or_the_last_minute_left_one_idle(
    monkeypatch: pytest.MonkeyPatch, cores: int, runnable: int | None, load: float, spare: bool
) -> None:
    monkeypatch.setattr(side_by_side_module.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(side_by_side_module.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(side_by_side_module, "_runnable_now", lambda: runnable)
    assert spare_core() is spare


def test_side_by_side_raises_the_failure_of_either_once_both_have_ended(walk: sqlite3.Connection) -> None:
    with closing(sqlite3.connect(":memory:", check_same_thread=False)) as other:
        ended: list[str] = []

        def slow(conn: sqlite3.Connection) -> int:
            sql = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 300000) "
            count = conn.execute(sql + "SELECT count(*) FROM c").fetchone()[0]
            ended.append("slow")
            return count

        def failing(conn: sqlite3.Connection) -> int:
            return conn.execute("SELECT no_such_function(1)").fetchone()[0]

        with pytest.raises(sqlite3.OperationalError, match="no_such_function"):
            side_by_side(walk, other, slow, failing)
        assert ended == ["slow"]
        assert side_by_side(walk, other, slow, slow) == (300000, 300000)
        assert side_by_side(walk, None, slow, lambda c: c.execute("SELECT 7").fetchone()[0]) == (300000, 7)


def test_stop_ends_both_statements_run_side_by_side(walk: sqlite3.Connection) -> None:
    endless = (
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 100000000000) "
        "SELECT max(i) FROM c"
    )
    token = CancelToken()
    timer = threading.Timer(0.3, token.cancel)
    with closing(sqlite3.connect(":memory:", check_same_thread=False)) as other:
        timer.start()
        try:
            with stoppable(walk, token), pytest.raises(sqlite3.OperationalError, match="interrupted"):
                side_by_side(
                    walk,
                    other,
                    lambda c: c.execute(endless).fetchone(),
                    lambda c: c.execute(endless).fetchone(),
                    token,
                )
        finally:
            timer.cancel()
        assert other.execute("SELECT 1").fetchone() == (1,)  # both usable again
    assert walk.execute("SELECT count(*) FROM w").fetchone()[0] == SUMMARY_ROWS


#: Bars grouped in SQL in the tests below: past 100 rows, the 5 largest X values and "other".
def _grouped_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    lowered = dataclasses.replace(
        read_module.LIMITS,
        chart_bars_max=100,
        chart_page_rows=50,
        chart_bar_categories=5,
        chart_summary_rows=100,
    )
    monkeypatch.setattr(read_module, "LIMITS", lowered)


@pytest.fixture
def sales(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """s(region TEXT, amount, shop TEXT, price REAL, n INTEGER, f REAL): 2,000 rows over 12 regions (some
    NULL), amounts with NULLs and text, three shops; f in tenths of 0..1, on (or within rounding of) the
    edges of 10 bins."""
    (tmp_path / "src").mkdir()
    path = tmp_path / "src" / "sales.db"
    rng = np.random.default_rng(7)
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE s (region TEXT, amount, shop TEXT, price REAL, n INTEGER, f REAL)")
        rows = []
        for i in range(2000):
            region = None if i % 101 == 0 else f"r{int(rng.integers(0, 12)) ** 2 % 13:02d}"
            amount = None if i % 37 == 0 else ("n/a" if i % 53 == 0 else float(rng.integers(-50, 500)))
            price = (i % 50) * (70.0 / 49) if i % 3 else float(i % 71)
            rows.append((region, amount, "xyz"[i % 3], price, i % 9, (i % 11) / 10))
        db.executemany("INSERT INTO s VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.commit()
    with snapshot_connection(path) as connection:
        yield connection


def test_a_big_bar_chart_is_grouped_in_sql_largest_first_with_the_rest_as_other(
    sales: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _grouped_limits(monkeypatch)
    data = read_chart(sales, "SELECT region, amount FROM s", (), ChartSpec(ChartKind.BAR, 0, (1,)))
    number = "CASE WHEN typeof(amount) IN ('integer', 'real') THEN amount END"
    totals = sales.execute(
        f"SELECT region, total({number}) FROM s WHERE region IS NOT NULL GROUP BY region "
        "ORDER BY abs(total({number})) DESC, region".replace("{number}", number)
    ).fetchall()
    assert data.rows == 2000 and data.x_kind is AxisKind.CATEGORY and data.summary is None
    assert data.categories == [r[0] for r in totals[:5]] + ["other"]
    (series,) = data.series
    assert series.x.tolist() == [0, 1, 2, 3, 4, 5]
    assert series.y.tolist() == pytest.approx([r[1] for r in totals[:5]] + [sum(r[1] for r in totals[5:])])
    nulls = sales.execute("SELECT count(*) FROM s WHERE region IS NULL").fetchone()[0]
    kinds = dict(sales.execute("SELECT typeof(amount), count(*) FROM s GROUP BY 1").fetchall())
    assert data.notes == [
        f"region: {nulls} NULL left out.",
        f"amount: {kinds['null']} NULL, {kinds['text']} text values left out.",
        f"{len(totals) - 5} further region values summed into the bar “other”.",
    ]


def test_a_grouped_bar_chart_keeps_series_and_puts_numbers_in_their_order(
    sales: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _grouped_limits(monkeypatch)
    spec = ChartSpec(ChartKind.BAR, 0, (1,), series=2)
    data = read_chart(sales, "SELECT n, amount, shop FROM s", (), spec)
    assert len(data.categories) == 6
    assert [s.name for s in data.series] == ["x", "y", "z"]
    labels = data.categories
    for series in data.series:
        expected = dict(
            sales.execute(
                "SELECT n, sum(amount) FROM s WHERE shop = ? AND typeof(amount) IN ('integer', 'real') "
                "GROUP BY n",
                (series.name,),
            ).fetchall()
        )
        shown = {labels[int(x)]: y for x, y in zip(series.x.tolist(), series.y.tolist(), strict=True)}
        named = {k: v for k, v in shown.items() if k != "other"}
        assert named == pytest.approx({str(k): v for k, v in expected.items() if str(k) in named})
        assert sum(shown.values()) == pytest.approx(sum(expected.values()))
    numbers = [float(c) for c in labels if c != "other"]
    assert numbers == sorted(numbers) and labels[-1] == "other"


def _assert_counts_equal_sql(
    conn: sqlite3.Connection, value: str, table: str, edges: np.ndarray, counts: np.ndarray
) -> None:
    """Each bin's count equals SQL's count of `edge[i] <= value < edge[i + 1]` (the last bin closed)."""
    assert len(edges) == len(counts) + 1
    for i, count in enumerate(counts.tolist()):
        upper = "<=" if i == len(counts) - 1 else "<"
        sql = f"SELECT count(*) FROM {table} WHERE {value} >= ? AND {value} {upper} ?"
        assert count == conn.execute(sql, (float(edges[i]), float(edges[i + 1]))).fetchone()[0], i


def test_a_big_histogram_is_binned_in_sql_with_values_on_the_edges_in_the_right_bin(
    sales: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _grouped_limits(monkeypatch)
    for column, bins in (("price", 7), ("f", 10)):
        data = read_chart(sales, f"SELECT {column} FROM s", (), ChartSpec(ChartKind.HISTOGRAM, 0, bins=bins))
        (series,) = data.series
        assert data.rows == 2000 and series.y.sum() == 2000
        _assert_counts_equal_sql(sales, column, "s", series.x, series.y)
        values = np.array([r[0] for r in sales.execute(f"SELECT {column} FROM s")], dtype=float)
        edges, counts = histogram(values, bins)  # as the streamed read bins the same values
        assert series.x.tolist() == edges.tolist() and series.y.tolist() == counts.tolist()


def test_a_big_histogram_of_few_integers_has_one_bin_per_value_and_counts_what_it_left_out(
    sales: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _grouped_limits(monkeypatch)
    data = read_chart(sales, "SELECT n FROM s", (), ChartSpec(ChartKind.HISTOGRAM, 0, bins=20))
    expected = sales.execute("SELECT n, count(*) FROM s GROUP BY n ORDER BY n").fetchall()
    centres = (data.series[0].x[:-1] + data.series[0].x[1:]) / 2
    assert list(zip(centres.tolist(), data.series[0].y.tolist(), strict=True)) == [
        (float(n), c) for n, c in expected
    ]
    data = read_chart(sales, "SELECT amount FROM s", (), ChartSpec(ChartKind.HISTOGRAM, 0, bins=9))
    kinds = dict(sales.execute("SELECT typeof(amount), count(*) FROM s GROUP BY 1").fetchall())
    assert data.notes == [f"amount: {kinds['null']} NULL, {kinds['text']} text values left out."]
    number = "CASE WHEN typeof(amount) IN ('integer', 'real') THEN amount END"
    _assert_counts_equal_sql(sales, number, "s", data.series[0].x, data.series[0].y)


@pytest.mark.skipif(not (CORPUS / "northwind" / "northwind.db").exists(), reason="corpus missing")
def test_grouped_bars_and_binned_dates_of_a_corpus_file_equal_direct_sql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _grouped_limits(monkeypatch)
    with snapshot_connection(CORPUS / "northwind" / "northwind.db") as conn:
        sql = "SELECT ShipCountry, Freight FROM Orders"
        data = read_chart(conn, sql, (), ChartSpec(ChartKind.BAR, 0, (1,)))
        totals = conn.execute(
            "SELECT ShipCountry, total(Freight) FROM Orders GROUP BY 1 ORDER BY abs(total(Freight)) DESC, 1"
        ).fetchall()
        assert data.categories == [r[0] for r in totals[:5]] + ["other"]
        assert data.series[0].y.tolist() == pytest.approx(
            [r[1] for r in totals[:5]] + [sum(r[1] for r in totals[5:])]
        )
        data = read_chart(
            conn, "SELECT OrderDate FROM Orders", (), ChartSpec(ChartKind.HISTOGRAM, 0, bins=12)
        )
        assert data.x_kind is AxisKind.TIME and data.rows == 830
        seconds = "((julianday(OrderDate) - 2440587.5) * 86400.0 + 0.0)"
        _assert_counts_equal_sql(conn, seconds, "Orders", data.series[0].x, data.series[0].y)
        detail = read_chart(
            conn, 'SELECT Quantity FROM "Order Details"', (), ChartSpec(ChartKind.HISTOGRAM, 0, bins=10)
        )
        _assert_counts_equal_sql(conn, "Quantity", '"Order Details"', detail.series[0].x, detail.series[0].y)


@pytest.mark.parametrize(
    ("sql", "spec"),
    [
        ("SELECT region, amount FROM s", ChartSpec(ChartKind.BAR, 0, (1,))),
        ("SELECT price FROM s", ChartSpec(ChartKind.HISTOGRAM, 0, bins=7)),
    ],
)
def test_stop_while_sqlite_groups_ends_the_read(
    sales: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, sql: str, spec: ChartSpec
) -> None:
    _grouped_limits(monkeypatch)
    token = CancelToken()

    def progress(step: Progress) -> None:
        if step.label == read_module.SUMMARISING:
            token.cancel()  # as Stop does, once the grouping begins

    with pytest.raises((Cancelled, sqlite3.OperationalError)):
        read_chart(sales, sql, (), spec, (), progress, token)
    assert sales.execute("SELECT count(*) FROM s").fetchone()[0] == 2000  # still usable
