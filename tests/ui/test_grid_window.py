"""A grid for any row count: the view shows a window of rows, row numbers and our scroll bar stay real.

The window is lowered to 1,000 rows (the default is a million) so a 100,000-row table exercises every
window move in a fraction of a second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop_app.core.browse.paging import Page, SortKey
from desktop_app.core.browse.row_sources import ColumnInfo
from desktop_app.ui.models import table_model
from desktop_app.ui.models.table_model import WindowedTableModel, track_viewport
from desktop_app.ui.panes.browse.pane import BrowsePane
from desktop_app.ui.widgets.grid_window import GridView, GridWindow
from desktop_app.ui.widgets.row_header import RowNumberHeader
from tests.ui.helpers import wait_for
from tests.ui.test_browse import browse, make_big_table, settle
from tests.ui.test_sql_pane import make_database, run, sql_pane

WINDOW = 1000
ROWS = 100_000


@pytest.fixture(autouse=True)
def small_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grids made by these tests show Qt at most `WINDOW` rows."""
    monkeypatch.setattr(
        table_model, "LIMITS", dataclasses.replace(table_model.LIMITS, grid_window_rows=WINDOW)
    )


def shown_numbers(pane: BrowsePane) -> list[int]:
    """The row numbers in the vertical header for the rows on screen, top to bottom."""
    view, model = pane.view, pane.model
    top = max(view.rowAt(0), 0)
    bottom = view.rowAt(view.viewport().height() - 1)
    bottom = bottom if bottom >= 0 else model.rowCount() - 1
    return [int(model.headerData(r, Qt.Orientation.Vertical)) for r in range(top, bottom + 1)]


def current_real_row(pane: BrowsePane) -> int:
    """The real row of the current cell."""
    return pane.model.real_row(pane.view.currentIndex().row())


def id_at(pane: BrowsePane, real_row: int) -> str:
    """What the grid shows in the `id` column of real row `real_row` (which must be in the window)."""
    return str(pane.model.data(pane.model.index(pane.model.view_row(real_row), 0)))


async def big_pane(pane: BrowsePane) -> None:
    pane.show_table("big")
    await settle(pane)
    assert pane.model.total_rows == ROWS
    assert pane.model.rowCount() == WINDOW
    assert pane.grid.bar.isVisible() and not pane.view.verticalScrollBar().isVisible()


async def test_ctrl_end_shows_the_real_last_row_and_ctrl_home_the_first(qtbot: Any, tmp_path: Path) -> None:
    make_big_table(tmp_path / "big.db", ROWS)
    async with browse(qtbot, tmp_path, tmp_path / "big.db") as pane:
        await big_pane(pane)
        pane.view.setFocus()
        QTest.keyClick(pane.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        await settle(pane)
        assert current_real_row(pane) == ROWS - 1
        assert id_at(pane, ROWS - 1) == str(ROWS)
        assert shown_numbers(pane)[-1] == ROWS
        assert pane.model.rowCount() == WINDOW and pane.model.offset == ROWS - WINDOW
        assert pane.grid.bar.value() == pane.grid.bar.maximum()
        QTest.keyClick(pane.view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
        await settle(pane)
        assert current_real_row(pane) == 0 and pane.model.offset == 0
        assert shown_numbers(pane)[0] == 1 and id_at(pane, 0) == "1"
        assert pane.grid.bar.value() == 0


async def test_go_to_row_in_the_middle_selects_that_real_row(qtbot: Any, tmp_path: Path) -> None:
    make_big_table(tmp_path / "big.db", ROWS)
    async with browse(qtbot, tmp_path, tmp_path / "big.db") as pane:
        await big_pane(pane)
        pane.goto.setText("54321")
        pane.goto.returnPressed.emit()
        await settle(pane)
        assert current_real_row(pane) == 54_320
        assert id_at(pane, 54_320) == "54321"
        assert 54_321 in shown_numbers(pane)
        assert pane.view.selectionModel().isRowSelected(pane.view.currentIndex().row())
        assert pane.model.rowCount() <= WINDOW


async def test_dragging_our_scroll_bar_lands_on_the_rows_it_points_at(qtbot: Any, tmp_path: Path) -> None:
    make_big_table(tmp_path / "big.db", ROWS)
    async with browse(qtbot, tmp_path, tmp_path / "big.db") as pane:
        await big_pane(pane)
        bar = pane.grid.bar
        for fraction in (0.1, 0.3, 0.75, 0.3):
            bar.setValue(round(bar.maximum() * fraction))  # a drag passes through values like these
            await asyncio.sleep(0)
        await settle(pane)
        top = pane.grid.top_row()
        assert top == bar.value() == round(bar.maximum() * 0.3)
        numbers = shown_numbers(pane)
        assert numbers[0] == top + 1
        assert numbers == list(range(top + 1, top + 1 + len(numbers)))
        assert [id_at(pane, top + i) for i in range(3)] == [str(top + 1), str(top + 2), str(top + 3)]


async def test_page_down_across_the_window_edge_continues_seamlessly(qtbot: Any, tmp_path: Path) -> None:
    make_big_table(tmp_path / "big.db", ROWS)
    async with browse(qtbot, tmp_path, tmp_path / "big.db") as pane:
        await big_pane(pane)
        pane.view.setFocus()
        pane.view.setCurrentIndex(pane.model.index(0, 0))
        tops: list[int] = []
        currents: list[int] = []
        for _ in range(150):  # ~3,000 rows: past the first window's end, and the window moves twice
            QTest.keyClick(pane.view, Qt.Key.Key_PageDown)
            await asyncio.sleep(0)
            assert pane.model.rowCount() == WINDOW
            numbers = shown_numbers(pane)
            assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
            tops.append(pane.grid.top_row())
            currents.append(current_real_row(pane))
        steps = {b - a for a, b in itertools.pairwise(currents)}
        assert len(steps) == 1 and steps.pop() > 0  # every PageDown moved by the same page
        assert tops == sorted(tops) and len(set(tops)) == len(tops)
        assert pane.model.offset > 0 and currents[-1] > WINDOW
        await settle(pane)
        assert id_at(pane, currents[-1]) == str(currents[-1] + 1)


async def test_the_wheel_scrolls_the_grid_and_our_bar_follows(qtbot: Any, tmp_path: Path) -> None:
    make_big_table(tmp_path / "big.db", ROWS)
    async with browse(qtbot, tmp_path, tmp_path / "big.db") as pane:
        await big_pane(pane)
        pane.scroll_to_row(40_000, select=False)
        await settle(pane)
        viewport = pane.view.viewport()
        centre = QPointF(viewport.rect().center())
        for _ in range(5):  # the view's own bar is hidden, yet the wheel still scrolls the view
            wheel = QWheelEvent(
                centre,
                QPointF(viewport.mapToGlobal(centre.toPoint())),
                QPoint(),
                QPoint(0, -120),
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
                Qt.ScrollPhase.NoScrollPhase,
                False,
            )
            QApplication.sendEvent(viewport, wheel)
        await settle(pane)
        top = pane.grid.top_row()
        assert top > 40_000
        assert pane.grid.bar.value() == top
        assert shown_numbers(pane)[0] == top + 1 and id_at(pane, top) == str(top + 1)


async def test_sort_and_reload_keep_the_place(qtbot: Any, tmp_path: Path) -> None:
    make_big_table(tmp_path / "big.db", ROWS)
    async with browse(qtbot, tmp_path, tmp_path / "big.db") as pane:
        await big_pane(pane)
        pane.scroll_to_row(60_000, select=False)
        await settle(pane)
        assert pane.grid.top_row() == 60_000
        pane.set_sort([SortKey("id", descending=True)])
        await settle(pane)
        assert pane.grid.top_row() == 60_000  # the same row number, now showing the other end's values
        assert id_at(pane, 60_000) == str(ROWS - 60_000)
        assert shown_numbers(pane)[0] == 60_001
        state = pane.save_state()
        assert state["top_row"] == 60_000
        pane.context.set_database(pane.context.database, pane.context.catalog)
        pane.restore_state(state)
        await settle(pane)
        assert pane.grid.top_row() == 60_000 and id_at(pane, 60_000) == str(ROWS - 60_000)
        pane.set_filters({"label": "row 9*"})  # different rows: from the top of the filtered ones
        await settle(pane)
        assert pane.grid.top_row() == 0 and pane.model.offset == 0
        assert pane.model.total_rows == 11_111 and pane.grid.bar.isVisible()


async def test_copy_and_open_cell_use_the_real_rows_of_the_selection(qtbot: Any, tmp_path: Path) -> None:
    make_big_table(tmp_path / "big.db", ROWS)
    async with browse(qtbot, tmp_path, tmp_path / "big.db") as pane:
        await big_pane(pane)
        pane.scroll_to_row(80_000)
        await settle(pane)
        assert pane.model.offset > 0 and pane.view.currentIndex().row() != 80_000
        text = await pane.copy_selection()
        assert text == "80001\trow 80001\t20000.25\n"
        pane.open_cell(pane.view.currentIndex().siblingAtColumn(1))
        await wait_for(lambda: pane.viewer is not None and pane.viewer.isVisible(), message="cell viewer")
        assert pane.viewer is not None
        assert pane.viewer.shown_text == "row 80001"
        assert pane.viewer.windowTitle() == "big.label — row 80,001 (rowid 80001)"  # position, then key
        pane.viewer.close()


async def test_a_search_hit_opens_its_row_outside_the_window(qtbot: Any, tmp_path: Path) -> None:
    make_big_table(tmp_path / "big.db", ROWS)
    async with browse(qtbot, tmp_path, tmp_path / "big.db") as pane:
        await big_pane(pane)
        pane.set_sort([SortKey("id", descending=True)])
        await settle(pane)
        pane.show_row("big", {"rowid": 7_777})  # as a search hit does: by key, wherever it sorts
        await wait_for(lambda: pane.model.offset > 0, message="the window to move to the row")
        await settle(pane)
        row = current_real_row(pane)
        assert row == ROWS - 7_777
        assert pane.model.row_key(row) == (7_777,) and id_at(pane, row) == "7777"
        assert str(row + 1) == pane.model.headerData(pane.view.currentIndex().row(), Qt.Orientation.Vertical)


async def test_small_tables_are_not_windowed(qtbot: Any, tmp_path: Path) -> None:
    make_big_table(tmp_path / "big.db", WINDOW)
    async with browse(qtbot, tmp_path, tmp_path / "big.db") as pane:
        pane.show_table("big")
        await settle(pane)
        pane.view.setFocus()
        QTest.keyClick(pane.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        await settle(pane)
        assert pane.model.offset == 0 and pane.model.rowCount() == WINDOW
        assert current_real_row(pane) == WINDOW - 1
        assert not pane.grid.bar.isVisible() and pane.view.verticalScrollBar().isVisible()


async def test_sql_results_reach_the_last_row_of_a_long_result(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite", rows=5000)) as pane:
        tab = (await run(pane, "SELECT id, name FROM t ORDER BY id DESC"))[0]
        await wait_for(lambda: tab.model.exact and tab.model.total_rows == 5000, message="exact count")
        assert tab.model.rowCount() == WINDOW and tab.grid.bar.isVisible()
        tab.view.setFocus()
        QTest.keyClick(tab.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        last = tab.view.currentIndex()
        assert tab.model.real_row(last.row()) == 4999
        assert tab.model.headerData(last.row(), Qt.Orientation.Vertical) == "5000"
        await wait_for(lambda: tab.model.is_loaded(4999), message="last page")
        assert tab.model.data(last) == "1"
        QTest.keyClick(tab.view, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)  # select the last two rows
        assert await tab.copy_selection() == "2\n1\n"


class HugeSource:
    """2**31 + 5 rows of (position,), without a database: only the pages asked for are made."""

    rows = 2**31 + 5

    def __init__(self) -> None:
        self.columns = [ColumnInfo("n")]

    async def estimate(self) -> int | None:
        return None

    async def count(self, cancel: Any) -> int:
        return self.rows

    async def prepare(self, cancel: Any, progress: Any = None) -> None:
        return None

    async def fetch(self, start: int, count: int, cancel: Any) -> Page:
        rows = [(i,) for i in range(start, min(start + count, self.rows))]
        return Page(start, rows, [() for _ in rows])

    async def full_value(self, column: int, key: tuple[Any, ...], position: int) -> Any:
        return position


@pytest.mark.timeout(60)
async def test_more_than_two_billion_rows_show_their_end_without_freezing(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default window: Qt holds a million rows, never the two billion behind them.
    monkeypatch.setattr(
        table_model, "LIMITS", dataclasses.replace(table_model.LIMITS, grid_window_rows=10**6)
    )
    model = WindowedTableModel()
    view = GridView()
    view.setVerticalHeader(RowNumberHeader(view))
    view.setModel(model)
    grid = GridWindow(view, model, track_viewport(view, model))
    qtbot.addWidget(grid)
    grid.resize(500, 400)
    grid.show()
    model.set_source(HugeSource())  # type: ignore[arg-type]
    await wait_for(lambda: model.exact and model.is_loaded(0), message="count and first rows")
    assert model.total_rows == HugeSource.rows and model.rowCount() == 10**6
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    await wait_for(lambda: model.is_loaded(HugeSource.rows - 1), message="the last page")
    grid.repaint()  # paints the header at its real row numbers: this froze for ever with 2**31 rows
    last = view.currentIndex()
    assert model.real_row(last.row()) == HugeSource.rows - 1
    assert model.headerData(last.row(), Qt.Orientation.Vertical) == str(HugeSource.rows)
    assert model.data(last) == str(HugeSource.rows - 1)
    assert grid.bar.value() == grid.bar.maximum() and grid.bar.maximum() < 2**31
    width = view.verticalHeader().sizeHint().width()
    assert width >= view.verticalHeader().fontMetrics().horizontalAdvance(str(HugeSource.rows))
    model.close()
    await model.wait_idle()


async def test_until_counted_the_grid_shows_the_rows_seen_so_far_as_a_lower_bound(qtbot: Any) -> None:
    counted = asyncio.Event()

    class SlowCount(HugeSource):
        rows = 5000

        async def count(self, cancel: Any) -> int:
            await counted.wait()
            return self.rows

    model = WindowedTableModel(page_rows=100)
    model.set_source(SlowCount())  # type: ignore[arg-type]
    await wait_for(lambda: model.is_loaded(0), message="the first page")
    assert not model.exact and not model.estimated  # no estimate: "≥ 100", never a blocking count
    assert model.total_rows == model.rowCount() == 100
    counted.set()
    await wait_for(lambda: model.exact, message="the count")
    assert model.total_rows == 5000 and model.rowCount() == WINDOW
    model.close()
    await model.wait_idle()


async def test_open_cell_sends_the_real_rows_blob_to_the_blobs_pane(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "blobs.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE b(id INTEGER PRIMARY KEY, data BLOB)")
        conn.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000) "
            "INSERT INTO b SELECT i, CAST(printf('blob %d', i) AS BLOB) FROM s"
        )
    conn.close()
    async with browse(qtbot, tmp_path, path) as pane:
        pane.show_table("b")
        await settle(pane)
        pane.scroll_to_row(2500)
        await settle(pane)
        assert pane.model.offset > 0 and pane.view.currentIndex().row() != 2500
        sent: list[tuple[Any, ...]] = []
        pane.show_blob_requested.connect(lambda *args: sent.append(args))
        pane.open_cell(pane.view.currentIndex().siblingAtColumn(1))
        await wait_for(lambda: bool(sent), message="the blob sent to the Blobs pane")
        assert sent == [("b", "data", {"rowid": 2501}, b"blob 2501")]
