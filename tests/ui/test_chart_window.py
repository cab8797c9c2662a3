"""The chart window over real snapshots: what it draws, its thinning, PNG/SVG export, Stop, and its messages.

Screenshots are saved under tmp_path; with CHART_SHOTS set to a folder, copies go there too (for a person
to look at them).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QSettings
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from desktop_app.core.chart import read as read_module
from desktop_app.core.chart.spec import AxisKind, ChartData, ChartKind, ChartSpec, Series
from desktop_app.core.chart.thinning import LineThinner
from desktop_app.ui.context import AppContext
from desktop_app.ui.widgets.chart import ChartSource, open_chart
from desktop_app.ui.widgets.chart import plot as plot_module
from desktop_app.ui.widgets.chart.window import ChartWindow
from tests.conftest import CORPUS, folder_state
from tests.fixtures import database_over
from tests.ui.helpers import close_window, make_window, open_in, wait_for
from tests.ui.helpers import shot as save_shot
from tests.ui.test_sql_pane import run, sql_pane

CHINOOK = CORPUS / "chinook" / "Chinook_Sqlite.sqlite"


def shot(widget: Any, tmp_path: Path, name: str) -> Path:
    """Save a screenshot of `widget` under tmp_path (and in $CHART_SHOTS when set)."""
    return save_shot(widget, tmp_path, name, "CHART_SHOTS")


def _numbers_database(path: Path, rows: int) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE s (t INTEGER, v REAL, label TEXT, g TEXT)")
        conn.executemany(
            "INSERT INTO s VALUES (?, ?, ?, ?)",
            ((i, float(np.sin(i / 500.0) * 100 + (i % 97)), f"w{i % 5}", "ab"[i % 2]) for i in range(rows)),
        )
        conn.commit()
    return path


@asynccontextmanager
async def chart_over(
    qtbot: Any, tmp_path: Path, path: Path, sql: str, *, wait: bool = True
) -> AsyncIterator[ChartWindow]:
    """A shown chart window (1024x600) of `sql` on a snapshot of `path`, its first chart drawn."""
    async with database_over(path) as (database, catalog):
        context = AppContext(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        context.set_database(database, catalog)
        described = await database.execute(f"SELECT * FROM ({sql}) LIMIT 0", use_cache=False)
        columns = list(zip(described.columns.names, described.columns.declared_types, strict=True))
        window = open_chart(None, context, ChartSource("test", sql, (), columns))
        qtbot.addWidget(window)
        try:
            if wait:
                await drawn(window)
            yield window
        finally:
            await context.jobs.wait_all()
            context.set_database(None, None)


async def drawn(window: ChartWindow) -> None:
    """Wait for the read under way to end (drawn, failed or stopped)."""
    await wait_for(lambda: window.job is None and not window._debounce.isActive(), message="the chart")


async def redraw(window: ChartWindow, kind: ChartKind, x: int, ys: list[int], **kw: Any) -> None:
    window.set_choice(kind, x, ys, **kw)
    window.draw()
    await drawn(window)


async def test_invoices_by_date_draw_on_a_time_axis(qtbot: Any, tmp_path: Path) -> None:
    if not CHINOOK.exists():
        pytest.skip("corpus missing")
    sql = "SELECT InvoiceDate, Total, BillingCountry FROM Invoice"
    async with chart_over(qtbot, tmp_path, CHINOOK, sql) as window:
        data = window.data
        assert data is not None and data.x_kind is AxisKind.TIME and data.time_encoding == "ISO-8601 text"
        assert data.spec.ys == (1,) and window.plot.drawn_points() == 412
        assert type(window.plot.plotItem.getAxis("bottom")).__name__ == "DateAxisItem"
        shot(window, tmp_path, "chart-chinook-invoices-line.png")
        await redraw(window, ChartKind.SCATTER, 0, [1], series=2)
        assert (
            len(window.data.series) == 20
            and "rows of further BillingCountry values left out" in window.notes.text()
        )
        shot(window, tmp_path, "chart-chinook-invoices-by-country.png")
        await redraw(window, ChartKind.HISTOGRAM, 0, [])
        with closing(sqlite3.connect(CHINOOK)) as conn:
            first, last = conn.execute("SELECT min(InvoiceDate), max(InvoiceDate) FROM Invoice").fetchone()
        assert window.data.series[0].y.sum() == 412
        shot(window, tmp_path, "chart-chinook-invoices-histogram.png")
        assert first < last


async def test_bar_chart_of_text_x_has_one_bar_per_row(qtbot: Any, tmp_path: Path) -> None:
    if not CHINOOK.exists():
        pytest.skip("corpus missing")
    sql = "SELECT BillingCountry, sum(Total) AS total FROM Invoice GROUP BY 1 ORDER BY 2 DESC"
    async with chart_over(qtbot, tmp_path, CHINOOK, sql) as window:
        assert window.data is not None and window.data.spec.kind is ChartKind.BAR
        assert window.data.x_kind is AxisKind.CATEGORY and len(window.data.categories) == 24
        assert window.plot.drawn_points() == 24
        shot(window, tmp_path, "chart-chinook-countries-bar.png")


async def test_a_bar_chart_and_a_histogram_of_many_rows_are_grouped_in_sql_and_drawn(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not CHINOOK.exists():
        pytest.skip("corpus missing")
    lowered = dataclasses.replace(
        read_module.LIMITS,
        chart_bars_max=100,
        chart_page_rows=50,
        chart_bar_categories=8,
        chart_summary_rows=100,
    )
    monkeypatch.setattr(read_module, "LIMITS", lowered)
    sql = "SELECT BillingCountry, Total FROM Invoice"  # 412 rows: more than 100 bars
    async with chart_over(qtbot, tmp_path, CHINOOK, sql) as window:
        await redraw(window, ChartKind.BAR, 0, [1])
        data = window.data
        assert data is not None and not data.partial and data.rows == 412
        assert len(data.categories) == 9 and data.categories[:2] == ["USA", "Canada"]
        assert data.categories[-1] == "other" and window.plot.drawn_points() == 9
        assert "further BillingCountry values summed into the bar “other”" in window.notes.text()
        shot(window, tmp_path, "chart-chinook-countries-grouped-bar.png")
        window.bins.setValue(12)
        await redraw(window, ChartKind.HISTOGRAM, 1, [])
        assert window.data is not None and window.data.series[0].y.sum() == 412
        assert len(window.data.series[0].x) == 13
        shot(window, tmp_path, "chart-chinook-totals-binned-histogram.png")


def test_category_labels_all_show_where_they_fit_and_never_overlap(qtbot: Any) -> None:
    short = plot_module.CategoryAxis(["USA", "Canada", "France", "Brazil"])
    assert short.tickValues(-0.5, 3.5, 600) == [(1.0, [0.0, 1.0, 2.0, 3.0])]
    # Short labels but one long one: only the long one's neighbours are too close at every category.
    mixed = plot_module.CategoryAxis(["a", "b", "c", "d", "a rather long name", "e", "f", "g"])
    widths = mixed._label_px
    for size in (200, 400, 800):
        ((step, values),) = mixed.tickValues(-0.5, 7.5, size)
        spacing = step * size / 8
        shown = [widths[int(v)] for v in values]
        assert all((a + b) / 2 <= spacing for a, b in itertools.pairwise(shown))
    # Wide enough for the long label beside its short neighbours, not for two long ones: all shown.
    size = 8 * (widths[4] + widths[3]) / 2
    assert widths[4] > size / 8 and mixed.tickValues(-0.5, 7.5, size)[0][0] == 1.0


async def test_line_charts_draw_both_grids_and_bar_charts_only_the_value_grid(
    qtbot: Any, tmp_path: Path
) -> None:
    path = _numbers_database(tmp_path / "n.db", 300)
    async with chart_over(qtbot, tmp_path, path, "SELECT t, v, label FROM s") as window:
        plot = window.plot.plotItem
        assert plot.getAxis("bottom").grid and plot.getAxis("left").grid
        await redraw(window, ChartKind.BAR, 2, [1])
        assert isinstance(plot.getAxis("bottom"), plot_module.CategoryAxis)
        assert plot.getAxis("bottom").grid is False and plot.getAxis("left").grid


async def test_a_long_line_is_thinned_to_the_pixels_yet_keeps_its_extremes(
    qtbot: Any, tmp_path: Path
) -> None:
    path = _numbers_database(tmp_path / "n.db", 200_000)
    async with chart_over(qtbot, tmp_path, path, "SELECT t, v FROM s") as window:
        assert window.data is not None and window.data.points == 200_000
        (item,) = [i for i in window.plot.plotItem.items if hasattr(i, "getData")]
        x, y = item.getData()
        assert len(x) <= 2 * (window.plot.plotItem.getViewBox().width() + 3)
        assert y.min() == window.data.series[0].y.min() and y.max() == window.data.series[0].y.max()
        window.plot.plotItem.getViewBox().setXRange(1000, 2000, padding=0)
        window.plot.thin_to_view()
        x, _y = item.getData()
        assert x.min() < 1000 and x.max() > 2000 and len(x) <= 1003


async def test_scatter_draws_every_point_of_a_small_result(qtbot: Any, tmp_path: Path) -> None:
    path = _numbers_database(tmp_path / "n.db", 3000)
    async with chart_over(qtbot, tmp_path, path, "SELECT t, v, g FROM s") as window:
        await redraw(window, ChartKind.SCATTER, 0, [1], series=2)
        assert [s.name for s in window.data.series] == ["a", "b"]
        assert window.plot.drawn_points() == 3000


async def test_a_text_y_column_says_so(qtbot: Any, tmp_path: Path) -> None:
    path = _numbers_database(tmp_path / "n.db", 100)
    async with chart_over(qtbot, tmp_path, path, "SELECT t, label FROM s") as window:
        assert window.problem.text() == (
            "The Y column 'label' holds no numbers (100 text). "
            "A Y column must hold numbers; text can be the X of a bar chart, or the series."
        )
        assert window.problem.isVisible()


async def test_export_writes_png_and_svg_and_refuses_the_source(qtbot: Any, tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    path = _numbers_database(folder / "n.db", 5000)
    before = folder_state(folder)
    async with chart_over(qtbot, tmp_path, path, "SELECT t, v FROM s") as window:
        out = tmp_path / "out"
        out.mkdir()
        assert window.export_chart(out / "c.png", "png")
        image = QImage(str(out / "c.png"))
        assert not image.isNull() and image.width() >= 400
        assert window.export_chart(out / "c.svg", "svg")
        root = ET.parse(out / "c.svg").getroot()
        assert root.tag.endswith("svg") and any(e.tag.endswith("path") for e in root.iter())
        for target in (path, folder / "n.db-wal", folder / "n.db-journal"):
            assert not window.export_chart(target, "png")
            assert "database" in window.problem.text().lower()
        assert sorted(p.name for p in out.iterdir()) == ["c.png", "c.svg"]
    assert folder_state(folder) == before and sorted(p.name for p in folder.iterdir()) == ["n.db"]


async def test_stop_ends_a_long_read_and_keeps_the_window_usable(qtbot: Any, tmp_path: Path) -> None:
    path = _numbers_database(tmp_path / "n.db", 10)
    sql = (
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 100000000000) "
        "SELECT i, i AS v FROM c ORDER BY i DESC"
    )
    async with chart_over(qtbot, tmp_path, path, sql, wait=False) as window:
        await wait_for(lambda: window.job is not None and window.stop_button.isEnabled(), message="the read")
        job = window.job
        window.stop_button.click()
        assert job is not None
        await wait_for(lambda: job.done, message="the read to stop")
        assert window.data is None and window.progress_label.text() == "Stopped."
        assert not window.stop_button.isEnabled()


async def test_chart_buttons_of_browse_and_sql_results_open_a_chart(qtbot: Any, tmp_path: Path) -> None:
    path = _numbers_database(tmp_path / "n.db", 500)
    window = make_window(tmp_path)
    try:
        await open_in(window, path)
        window.panes.browse.show_table("s")
        await wait_for(lambda: window.panes.browse.source is not None, message="browse")
        window.panes.browse.chart_button.click()
        charts = [w for w in window.findChildren(ChartWindow)]
        assert len(charts) == 1
        await drawn(charts[0])
        assert charts[0].data is not None and charts[0].data.rows == 500
        charts[0].close()
    finally:
        await close_window(window)
    async with sql_pane(qtbot, tmp_path, path) as pane:
        (tab,) = await run(pane, "SELECT t, v FROM s WHERE t < 100")
        tab.chart_button.click()
        (chart,) = (
            pane.window().findChildren(ChartWindow)
            if pane.window() is not pane
            else pane.findChildren(ChartWindow)
        )
        await drawn(chart)
        assert chart.data is not None and chart.data.rows == 100
        chart.close()


async def test_a_big_scatter_is_a_picture_of_the_pixels_its_points_fall_in(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        plot_module, "LIMITS", dataclasses.replace(plot_module.LIMITS, chart_scatter_direct_points=1000)
    )
    path = _numbers_database(tmp_path / "n.db", 20_000)
    async with chart_over(qtbot, tmp_path, path, "SELECT t, v, g FROM s") as window:
        await redraw(window, ChartKind.SCATTER, 0, [1], series=2)
        pictures = [i for i in window.plot.plotItem.items if isinstance(i, plot_module.DensityPicture)]
        assert len(pictures) == 2 and all(0 < p.cells <= 10_000 for p in pictures)
        assert [label.text for _sample, label in window.plot.legend.items] == ["a", "b"]
        box = window.plot.plotItem.getViewBox()
        box.setRange(xRange=(1000, 3000), yRange=(0, 100), padding=0)
        window.plot.draw_pictures()
        rect = pictures[0].mapRectToParent(pictures[0].boundingRect())
        assert (round(rect.left()), round(rect.right())) == (1000, 3000)
        x, y = pictures[0].x, pictures[0].y
        inside = int(((x >= 1000) & (x < 3000) & (y >= 0) & (y < 100)).sum())
        assert 0 < pictures[0].cells <= inside
        shot(window, tmp_path, "chart-big-scatter.png")


async def test_a_long_read_is_drawn_while_it_goes_on(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lowered = dataclasses.replace(read_module.LIMITS, chart_page_rows=100, chart_partial_draw_s=0.0)
    monkeypatch.setattr(read_module, "LIMITS", lowered)
    path = _numbers_database(tmp_path / "n.db", 3000)
    async with chart_over(qtbot, tmp_path, path, "SELECT t, v FROM s", wait=False) as window:
        shown: list[tuple[int, bool]] = []
        show_data = window.plot.show_data
        monkeypatch.setattr(
            window.plot, "show_data", lambda d: (shown.append((d.rows, d.partial)), show_data(d))
        )
        await drawn(window)
        assert shown[-1] == (3000, False) and window.data is not None and not window.data.partial
        partial = [rows for rows, is_partial in shown if is_partial]
        assert partial and partial == sorted(partial) and all(rows % 100 == 0 for rows in partial)
        assert window.summary.text().startswith("3,000 rows read, 3,000 points")


async def test_zooming_a_summarised_line_reads_the_visible_range_again(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lowered = dataclasses.replace(read_module.LIMITS, chart_summary_rows=2000, chart_summary_buckets=300)
    monkeypatch.setattr(read_module, "LIMITS", lowered)
    path = _numbers_database(tmp_path / "n.db", 50_000)
    async with chart_over(qtbot, tmp_path, path, "SELECT t, v FROM s") as window:
        data = window.data
        assert data is not None and data.summary is not None and data.rows == 50_000 and data.points <= 600
        assert window.summary.text().startswith("50,000 rows summarised in SQLite")
        (item,) = [i for i in window.plot.plotItem.items if hasattr(i, "getData")]
        _x, y = item.getData()
        with closing(sqlite3.connect(path)) as conn:
            low, high = conn.execute("SELECT min(v), max(v) FROM s").fetchone()
            expected = conn.execute(
                "SELECT t, v FROM s WHERE t BETWEEN 20000 AND 21000 ORDER BY t"
            ).fetchall()
        assert (y.min(), y.max()) == pytest.approx((low, high))
        window.plot.plotItem.getViewBox().setXRange(20_000, 21_000, padding=0)
        await wait_for(lambda: window.plot.detail_range == (20_000, 21_000), message="the zoomed range")
        x, y = item.getData()
        inside = (x >= 20_000) & (x <= 21_000)
        assert list(zip(x[inside].tolist(), y[inside].tolist(), strict=True)) == expected  # every point
        shot(window, tmp_path, "chart-summarised-zoomed.png")
        window.plot.plotItem.getViewBox().setXRange(0, 50_000, padding=0)
        await wait_for(lambda: window.plot.detail_range is None, message="the whole line again")
        assert len(item.getData()[0]) <= 600


def _line(points: int, scale: float, *, partial: bool = False) -> ChartData:
    """A random walk of `points` points, X and Y scaled by `scale` (wider Y labels as it grows)."""
    x = np.arange(points, dtype=float) * scale
    y = np.cumsum(np.random.default_rng(points).uniform(-1, 1, points)) * scale
    series = [Series("v", x, y, LineThinner(x, y))]
    return ChartData(
        ChartSpec(ChartKind.LINE, 0, (1,)), AxisKind.NUMBER, "t", series, rows=points, partial=partial
    )


class _PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: Any, event: Any) -> bool:
        self.paints += event.type() == QEvent.Type.Paint
        return False


async def test_new_points_are_painted_once_and_not_in_the_turn_that_set_them(qtbot: Any) -> None:
    plot = plot_module.ChartPlot()
    qtbot.addWidget(plot)
    plot.resize(1024, 600)
    plot.show()
    plot.show_data(_line(1000, 1.0))
    await asyncio.sleep(0.2)
    counter = _PaintCounter()
    plot.viewport().installEventFilter(counter)
    # The rows read so far, then the whole line: its Y labels are wider (the plot is laid out again).
    for data in (_line(10_000, 1.0, partial=True), _line(8000, 625.0)):
        counter.paints = 0
        plot.show_data(data)
        QApplication.processEvents()  # the turn after: settled, not painted yet
        assert counter.paints == 0
        await asyncio.sleep(0.2)
        assert counter.paints == 1
        (x0, x1), (y0, y1) = plot.plotItem.getViewBox().viewRange()
        assert x0 < data.series[0].x[0] and x1 > data.series[0].x[-1]
        assert y0 < data.series[0].y.min() and y1 > data.series[0].y.max()


async def test_a_line_charts_grid_under_the_line_looks_as_the_translucent_one_over_it(
    qtbot: Any, tmp_path: Path
) -> None:
    plot = plot_module.ChartPlot()
    qtbot.addWidget(plot)
    plot.resize(1024, 600)
    plot.show()
    plot.show_data(_line(8000, 625.0))
    await asyncio.sleep(0.2)
    grid = plot.plotItem.getAxis("left")
    assert grid.under_items and grid.zValue() < plot.plotItem.getViewBox().zValue()
    under = plot.grab().toImage()
    grid.set_under_items(False)  # pyqtgraph's own grid: translucent, over the line
    over = plot.grab().toImage()
    difference = np.abs(_pixels(under).astype(int) - _pixels(over))
    differ = int(difference.any(axis=2).sum())
    # The same picture, but for the line's pixels on a grid line: no longer tinted by the grid (drawn at
    # 15% opacity), a few of them.
    assert 0 < differ < 0.005 * under.width() * under.height()
    assert int(difference.max()) <= 0.15 * 255
    plot.show_data(
        ChartData(
            ChartSpec(ChartKind.HISTOGRAM, 0, ()),
            AxisKind.NUMBER,
            "v",
            [Series("v", np.linspace(0, 100, 51), np.arange(50.0))],
        )
    )
    assert not grid.under_items and grid.zValue() > plot.plotItem.getViewBox().zValue()  # shows over bars
    shot(plot, tmp_path, "chart-grid-over-bars.png")


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[..., :3]
