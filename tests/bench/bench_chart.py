"""Issue 22 figures: a chart of 5M points — the whole line drawn, the UI stall meanwhile, pan/zoom speed; a bar
chart and a histogram of 5M rows grouped in SQLite against a plain GROUP BY.

`python -m tests.bench.bench_chart [POINTS]` (default 5,000,000). The line is summarised in SQLite (each X
column's lowest and highest Y, `core/chart/summary.py`), as the window does past `chart_summary_rows`; the
same chart read row by row into arrays ("before", the path small results keep) is measured in the same
run. Baselines: reading the same two columns with a plain `SELECT` into Python rows (what any reader
pays), and, for pan/zoom, pyqtgraph's own peak downsampling (auto, clip to view) and no downsampling at
all on every point. A frame is: set the view range, thin to it, repaint the plot (offscreen, 1024x600).

The UI stall is the largest gap of a 10 ms timer from the read's start until the whole line is painted
(Qt paints on its own, after the update new data asks), against the idle loop and the same read with
nothing drawn; beside it, the GUI thread's longest callback (CPU time, and wall time less run-queue
wait) and the gap less run-queue wait (`CallbackClock`): what a quiet machine would show.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from typing import Any

from desktop_app.core.chart import read as read_module
from desktop_app.core.chart.read import read_chart
from desktop_app.core.chart.spec import ChartKind, ChartSpec
from desktop_app.core.database import Database
from desktop_app.core.progress import ignore_progress
from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.core.sqlite.side_by_side import spare_core
from tests.bench import common
from tests.bench.common import Figure

DEFAULT_POINTS = 5_000_000
#: Frames of simulated pan/zoom per method (fewer for the slow baseline without downsampling).
FRAMES = 60
#: Runs of those frames; the median is reported (one run swings with the machine's load).
PAN_RUNS = 5
#: Interleaved runs of the grouped charts and their baselines; the median is reported.
GROUPED_RUNS = 3
#: Runs of the whole line read as the window does it (its median is the figure).
WHOLE_RUNS = 3
SQL = "SELECT t, v FROM series"
#: `BENCH_VERBOSE=1`: print the five longest GUI-thread callbacks while the line is read and drawn.
VERBOSE = bool(os.environ.get("BENCH_VERBOSE"))


def make_series(points: int) -> str:
    """A table `series(t, v, g)` of `points` rows: t = 0.., v a random walk, g one of four groups."""
    path = common.bench_folder() / f"chart-{points}.db"
    if path.exists():
        return str(path)
    part = path.with_suffix(".part")
    part.unlink(missing_ok=True)
    with closing(sqlite3.connect(part)) as conn:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("CREATE TABLE series (t INTEGER, v REAL, g TEXT)")
        conn.execute(
            "WITH RECURSIVE c(i, v) AS (SELECT 0, 0.0 UNION ALL "
            "SELECT i + 1, v + ((abs(random()) % 2001) - 1000) / 1000.0 FROM c WHERE i + 1 < ?) "
            "INSERT INTO series SELECT i, v, char(97 + i % 4) FROM c",
            (points,),
        )
        conn.commit()
    part.rename(path)
    return str(path)


def _plain_select(conn: sqlite3.Connection) -> int:
    rows = 0
    cursor = conn.execute("SELECT t, v FROM series")
    while page := cursor.fetchmany(10_000):
        rows += len(page)
    return rows


def _plain_group_by(conn: sqlite3.Connection) -> list[Any]:
    return conn.execute("SELECT g, count(*) FROM series GROUP BY g").fetchall()


async def _grouped_figures(database: Database, plot: Any, n: str) -> list[Figure]:
    """A bar chart (X = g, 4 values; Y = v) and a histogram of v, each grouped in SQLite over every row,
    read and drawn; and the line read on one connection and on two side by side, without drawing. Runs
    of each interleaved with the plain statements they are measured against; medians of `GROUPED_RUNS`."""
    times: dict[str, list[float]] = {}
    bar = ChartSpec(ChartKind.BAR, 1, (2,))
    histogram = ChartSpec(ChartKind.HISTOGRAM, 1, bins=50)
    line = ChartSpec(ChartKind.LINE, 0, (1,))
    for _run in range(GROUPED_RUNS):
        for name, work in (
            ("group by", lambda: database.run_sync(_plain_group_by)),
            ("bar", lambda: database.run_sync(read_chart, "SELECT t, g, v FROM series", (), bar)),
            ("histogram", lambda: database.run_sync(read_chart, "SELECT t, v FROM series", (), histogram)),
            ("select", lambda: database.run_sync(_plain_select)),
            ("line alone", lambda: database.run_sync(read_chart, SQL, (), line)),
            (
                "line side by side",
                lambda: database.run_sync(read_chart, SQL, (), line, (), connect=database.connect),
            ),
        ):
            gc.collect()
            started = time.perf_counter()
            # Side by side whatever the load (the window only splits a pass when a core is free).
            read_module.spare_core = (lambda: True) if name == "line side by side" else spare_core
            try:
                data = await work()
            finally:
                read_module.spare_core = spare_core
            if name in ("bar", "histogram"):
                assert data.rows == DEFAULT_POINTS or not n.startswith("5M")
                plot.show_data(data)
                plot.repaint()
            times.setdefault(name, []).append(time.perf_counter() - started)
    median = {name: statistics.median(values) for name, values in times.items()}
    runs = {name: ", ".join(f"{v:.2f}" for v in values) for name, values in times.items()}
    group_by = "plain SELECT g, count(*) … GROUP BY g"
    return [
        Figure(
            f"{n} rows: bar chart grouped in SQLite, read and drawn (runs {runs['bar']})",
            median["bar"],
            baseline=median["group by"],
            baseline_name=f"{group_by} (runs {runs['group by']})",
        ),
        Figure(
            f"{n} rows: histogram binned in SQLite, read and drawn (runs {runs['histogram']})",
            median["histogram"],
            baseline=median["group by"],
            baseline_name=group_by,
        ),
        Figure(
            f"{n} points: line summarised, passes side by side (runs {runs['line side by side']})",
            median["line side by side"],
            baseline=median["line alone"],
            baseline_name=f"the same on one connection (runs {runs['line alone']})",
        ),
        Figure(
            f"{n} points: line summarised on one connection",
            median["line alone"],
            baseline=median["select"],
            baseline_name=f"plain SELECT of the same columns (runs {runs['select']})",
        ),
    ]


def _frames(plot: Any, app: Any, frames: int) -> float:
    """Frames per second of simulated pan/zoom: zoom in step by step while panning, then out again. A frame
    is what the window does: set the range, let the plot react (our thinning runs from its timer), paint."""
    box = plot.plotItem.getViewBox()
    (x0, x1), _ = box.viewRange()
    span = x1 - x0
    started = time.perf_counter()
    for frame in range(frames):
        zoom = 1.0 / (1 + (frame % 20))
        left = x0 + (span - span * zoom) * ((frame * 7) % 13) / 12
        box.setXRange(left, left + span * zoom, padding=0)
        app.processEvents()
        plot.repaint()
    return frames / (time.perf_counter() - started)


def run(points: int = DEFAULT_POINTS) -> list[Figure]:
    """Read, first draw and pan/zoom figures for a line (and a scatter) of `points` points."""
    path = make_series(points)
    common.use_callback_clock()
    return common.run_on_qasync(lambda: _measure(path, points))


def _median_fps(plot: Any, app: Any, frames: int, runs: int = PAN_RUNS) -> float:
    return statistics.median(_frames(plot, app, frames) for _ in range(runs))


class _Paints:
    """When the plot's viewport is painted (Qt paints on its own, after the update new data asks)."""

    def __init__(self, plot: Any) -> None:
        from PySide6.QtCore import QEvent, QObject

        loop = asyncio.get_running_loop()
        self.times: list[float] = []
        self._waiting: list[asyncio.Future[None]] = []
        paints = self

        class Filter(QObject):
            def eventFilter(self, watched: Any, event: Any) -> bool:
                if event.type() == QEvent.Type.Paint:
                    loop.call_soon(paints._painted)  # (after the paint this event is about to run)
                return False

        self._filter = Filter()
        self._viewport = plot.viewport()
        self._viewport.installEventFilter(self._filter)

    def _painted(self) -> None:
        self.times.append(time.perf_counter())
        waiting, self._waiting = self._waiting, []
        for future in waiting:
            if not future.done():
                future.set_result(None)

    def next(self) -> asyncio.Future[None]:
        """Done once the viewport has been painted again."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        return future

    def close(self) -> None:
        self._viewport.removeEventFilter(self._filter)


async def _read_as_the_window_does(
    database: Database, plot: Any, spec: ChartSpec, side_by_side: bool = True
) -> tuple[float, float, float, Any]:
    """Read and draw the chart as the window does (the rows read so far drawn while the read goes on, the
    summary's passes split over two connections when a core is free, the whole line once read), with the
    largest gap of the UI's timer meanwhile, the final paint included: (time to the first picture, time
    until the whole line is painted, stall, data)."""
    connect = database.connect if side_by_side else None
    loop = asyncio.get_running_loop()
    paints = _Paints(plot)
    shown: list[float] = []
    # The garbage of what ran before (the baseline's 5M rows) is collected now, not on the GUI thread
    # (ui/gui_thread_gc.py) in the middle of the read measured: a full collection there took ~0.2 s.
    gc.collect()
    await asyncio.sleep(0.1)  # what ran before (a cleared chart's paint) is not part of this read

    def draw_partial(partial: Any) -> None:  # the window's `_drawn`: Qt paints it afterwards, on its own
        shown.append(time.perf_counter())
        plot.show_data(partial)

    def partial(data: Any) -> None:
        loop.call_soon_threadsafe(draw_partial, data)

    async def read_and_draw() -> Any:
        data = await database.run_sync(
            read_chart, SQL, (), spec, (), ignore_progress, None, None, partial, connect
        )
        painted = paints.next()
        plot.show_data(data)  # the job's on_done, as in the window
        await painted
        return data

    if common.CLOCK is not None:
        common.CLOCK.start()
    started = time.perf_counter()
    try:
        stall_s, data = await common.largest_timer_gap(read_and_draw())
    finally:
        if common.CLOCK is not None:
            common.CLOCK.stop()
        paints.close()
    whole_s = paints.times[-1] - started
    first = [t for t in paints.times if shown and t > shown[0]]
    return (first[0] - started if first else whole_s), whole_s, stall_s, data


async def _measure(path: str, points: int) -> list[Figure]:
    from PySide6.QtWidgets import QApplication

    from desktop_app.app import finish_start_up
    from desktop_app.ui.widgets.chart.plot import ChartPlot

    app = QApplication.instance()
    finish_start_up()  # as the app does once its window is up (start-up objects out of the collector's way)
    snapshot = open_snapshot(path)
    database = Database(snapshot)
    n = f"{points / 1e6:g}M"
    figures: list[Figure] = []
    try:
        plain_s = min(
            [await _timed_async(database.run_sync(_plain_select)) for _ in range(2)], key=lambda r: r[0]
        )[0]
        spec = ChartSpec(ChartKind.LINE, 0, (1,))
        plot = ChartPlot()
        plot.resize(1024, 600)
        plot.show()
        app.processEvents()
        # A first small chart, as the window's first one pays it: code used the first time (numpy,
        # time guessing) would otherwise count as a stall of the read measured.
        plot.show_data(await database.run_sync(read_chart, f"{SQL} LIMIT 1000", (), spec))
        plot.clear_chart()

        # Summarised in SQLite (what the window does for a line of more than chart_summary_rows rows).
        split = "passes side by side" if spare_core() else "one connection: no core free"
        # The whole read is a few seconds of two cores: its median of WHOLE_RUNS runs (one run swung
        # 1.6-2.8 s on the shared machine). The callback clock's figures are the last run's.
        runs = []
        for _ in range(WHOLE_RUNS):
            plot.clear_chart()
            runs.append(await _read_as_the_window_does(database, plot, spec))
        first_s, whole_s, stall_s = (statistics.median(run[i] for run in runs) for i in range(3))
        data = runs[-1][3]
        whole_runs = ", ".join(f"{run[1]:.2f}" for run in runs)
        stall_runs = ", ".join(f"{run[2] * 1000:.1f}" for run in runs)
        clock = common.CLOCK
        assert clock is not None
        longest, longest_quiet, quiet_gap = clock.longest, clock.longest_quiet, clock.quiet_gap
        idle_clock = common.CallbackClock()  # the idle loop's gap less run-queue wait: the same reading
        idle_clock.start()
        idle_s = await common.idle_timer_gap(min(whole_s, 3.0))
        idle_clock.stop()
        # The same read with nothing drawn: the gap the read itself leaves (its thread's turns with the
        # GIL, the cores it takes from the loop's thread on this machine), which drawing adds to.
        read_only_s, _data = await common.largest_timer_gap(database.run_sync(read_chart, SQL, (), spec))
        if VERBOSE:
            for seconds, what in longest:
                print(f"  longest callback CPU {seconds * 1000:.1f} ms: {what}", file=sys.stderr)
        assert data.rows == points and data.summary is not None
        drawn = plot.drawn_points()
        ours_fps = _median_fps(plot, app, FRAMES)
        (x0, x1), _y = plot.plotItem.getViewBox().viewRange()
        zoom_s, _lines = await _timed_async(
            database.run_sync(data.summary.view, x0 + (x1 - x0) * 0.4, x0 + (x1 - x0) * 0.5, 1000, 20_000)
        )
        deep_s, _lines = await _timed_async(
            database.run_sync(data.summary.view, x0 + (x1 - x0) * 0.4, x0 + (x1 - x0) * 0.401, 1000, 20_000)
        )

        # Before: every row read into arrays (the streamed read, as for a result of up to 200,000 rows).
        plot.clear_chart()
        streamed_limits = dataclasses.replace(read_module.LIMITS, chart_summary_rows=10**12)
        with _limits(streamed_limits):
            streamed_first_s, streamed_whole_s, streamed_stall_s, streamed = await _read_as_the_window_does(
                database, plot, spec
            )
        streamed_fps = _median_fps(plot, app, FRAMES)

        # pyqtgraph's own peak downsampling on the same data, and no downsampling at all.
        plot.clear_chart()
        started = time.perf_counter()
        item = plot.plotItem.plot(streamed.series[0].x, streamed.series[0].y)
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        plot.plotItem.autoRange()
        plot.repaint()
        app.processEvents()
        peak_draw_s = time.perf_counter() - started
        peak_fps = _median_fps(plot, app, FRAMES)
        plot.plotItem.clear()
        started = time.perf_counter()
        plot.plotItem.plot(streamed.series[0].x, streamed.series[0].y)
        plot.plotItem.autoRange()
        plot.repaint()
        app.processEvents()
        raw_draw_s = time.perf_counter() - started
        raw_fps = _frames(plot, app, 3)
        plot.plotItem.clear()
        del streamed

        scatter_spec = ChartSpec(ChartKind.SCATTER, 0, (1,))
        scatter = await database.run_sync(read_chart, SQL, (), scatter_spec)
        started = time.perf_counter()
        plot.show_data(scatter)
        plot.repaint()
        app.processEvents()
        scatter_draw_s = time.perf_counter() - started
        scatter_fps = _median_fps(plot, app, FRAMES)
        settle_s = min(_timed(plot.draw_pictures) for _ in range(3))
        plot.clear_chart()
        grouped = await _grouped_figures(database, plot, n)
        plot.close()

        figures = [
            Figure(
                f"{n} points: line chart drawn whole (summarised in SQLite, {split}, {drawn:,} points; "
                f"median of runs {whole_runs} s)",
                whole_s,
                baseline=plain_s,
                baseline_name="plain SELECT of the same columns into Python rows",
                target="≤ 2 s",
                ok=whole_s <= 2.0,
            ),
            Figure(
                f"{n} points: first picture (the rows read before SQLite summarises)",
                first_s,
                target="≤ 2 s",
                ok=first_s <= 2.0,
            ),
            common.stall_figure(
                f"{n} points: UI stall while the line is read and drawn (median of runs {stall_runs} ms)",
                stall_s,
                idle_s,
            ),
            common.stall_figure(f"{n} points: UI stall while it is read, nothing drawn", read_only_s, idle_s),
            _against_stall_target(
                f"{n} points: UI stall less run-queue wait (what a quiet machine would show)",
                quiet_gap,
                idle_clock.quiet_gap,
            ),
            _against_stall_target(
                f"{n} points: longest GUI-thread callback meanwhile, CPU time",
                longest[0][0] if longest else 0.0,
            ),
            _against_stall_target(
                f"{n} points: longest GUI-thread callback meanwhile, wall less run-queue wait",
                longest_quiet[0][0] if longest_quiet else 0.0,
            ),
            Figure(
                f"{n} points: pan/zoom, summarised line (median of {PAN_RUNS} runs)",
                ours_fps,
                "frames/s",
                baseline=peak_fps,
                baseline_name="pyqtgraph peak downsampling + clip to view, all points",
                target="≥ 30 frames/s",
                ok=ours_fps >= 30,
            ),
            Figure(
                f"{n} points: zoomed range (a tenth of X) read again in SQLite",
                zoom_s,
                baseline=whole_s,
                baseline_name="the whole line",
            ),
            Figure(f"{n} points: deep zoom (5,000 rows) read again point by point", deep_s),
            Figure(
                f"{n} points, before: every row read into arrays, then drawn",
                streamed_whole_s,
                baseline=plain_s,
                baseline_name="plain SELECT of the same columns",
                target="≤ 2 s",
                ok=streamed_whole_s <= 2.0,
            ),
            Figure(f"{n} points, before: its first picture (rows read so far)", streamed_first_s),
            common.stall_figure(f"{n} points, before: UI stall while reading", streamed_stall_s, idle_s),
            Figure(
                f"{n} points, before: pan/zoom over every point (median of {PAN_RUNS} runs)",
                streamed_fps,
                "frames/s",
                baseline=peak_fps,
                baseline_name="pyqtgraph peak downsampling + clip to view",
            ),
            Figure(
                f"{n} points: pan/zoom, line without downsampling",
                raw_fps,
                "frames/s",
                baseline=raw_draw_s,
                baseline_name="its first draw (s)",
            ),
            Figure(
                f"{n} points: pyqtgraph peak downsampling, first draw",
                peak_draw_s,
            ),
            Figure(f"{n} points: scatter first draw (picture of the pixels hit)", scatter_draw_s),
            Figure(
                f"{n} points: pan/zoom, scatter (picture scaled with the view, median of {PAN_RUNS} runs)",
                scatter_fps,
                "frames/s",
                target="≥ 30 frames/s",
                ok=scatter_fps >= 30,
            ),
            Figure(f"{n} points: scatter picture painted again once the view settles", settle_s),
            *grouped,
        ]
    finally:
        await database.close()
        snapshot.close()
    return figures


def _against_stall_target(name: str, seconds: float, idle_s: float | None = None) -> Figure:
    """`seconds` in ms against the UI stall target, beside the idle loop's same reading when given."""
    idle = (idle_s * 1000, "idle loop, same run, same reading") if idle_s is not None else (None, "")
    return Figure(name, seconds * 1000, "ms", *idle, "≤ 30 ms", seconds <= common.STALL_TARGET_S)


@contextmanager
def _limits(limits: Any) -> Iterator[None]:
    saved = read_module.LIMITS
    read_module.LIMITS = limits
    try:
        yield
    finally:
        read_module.LIMITS = saved


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


async def _timed_async(work: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await work
    return time.perf_counter() - started, result


if __name__ == "__main__":
    for figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_POINTS):
        ratio = f" (x{figure.ratio:.2f} vs {figure.baseline_name})" if figure.ratio is not None else ""
        print(f"{figure.figure}: {figure.value:.3f} {figure.unit}{ratio} {figure.target}")
