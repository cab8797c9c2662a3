"""The Recovered pane: scan as a job, per-table entries and "Unknown table", filter, export, report."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QModelRoleData, QModelRoleDataSpan, QObject, QSettings, Qt
from PySide6.QtWidgets import QApplication, QTableView

from desktop_app.core.recovery.record import LOST
from desktop_app.ui import theme
from desktop_app.ui.context import AppContext
from desktop_app.ui.panes.recovery.pane import ALL_RECORDS, RecoveryPane
from desktop_app.ui.theme import ThemeChoice
from desktop_app.ui.widgets.column_fit import fit_columns_to_rows_in_view
from tests import recovery_cases as cases
from tests.conftest import folder_state
from tests.fixtures import database_over
from tests.ui.helpers import close_window, make_window, open_in, wait_for

#: The roles Qt's item delegate paints a cell with.
_PAINTED_ROLES = [
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.DecorationRole,
    Qt.ItemDataRole.FontRole,
    Qt.ItemDataRole.TextAlignmentRole,
    Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.BackgroundRole,
]


@asynccontextmanager
async def pane_over(qtbot: Any, path: Path, tmp_path: Path) -> AsyncIterator[RecoveryPane]:
    """A shown Recovered pane over a snapshot of `path`, scanned."""
    async with database_over(path) as (database, catalog):
        context = AppContext(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        context.set_database(database, catalog)
        pane = RecoveryPane(context)
        qtbot.addWidget(pane)
        pane.resize(1024, 600)
        pane.show()
        pane.scan()
        await wait_for(lambda: pane.result is not None, message="recovery scan")
        try:
            yield pane
        finally:
            await context.jobs.wait_all()
            context.set_database(None, None)
            pane.close()


@pytest.fixture
def light_again() -> Iterator[None]:
    """The test switches themes; the next test starts light, as the test run does."""
    yield
    theme.apply_theme(ThemeChoice.LIGHT)


def _entries(pane: RecoveryPane) -> list[str]:
    return [pane.tables.item(i).text() for i in range(pane.tables.count())]


async def test_scan_lists_each_table_and_shows_provenance(qtbot: Any, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    keep = cases.scattered(source, rows=400)
    before = folder_state(source)
    async with pane_over(qtbot, keep.path, tmp_path) as pane:
        assert _entries(pane)[0].startswith(ALL_RECORDS)
        assert any(e.startswith("t — recovered rows") for e in _entries(pane))
        pane.tables.setCurrentRow(1)
        model = pane.model
        assert model.columns[:6] == ["id", "marker", "n", "x", "note", "data"]
        assert model.columns[6:9] == ["likely table", "source", "page"]
        assert pane.result is not None
        assert model.rowCount() == len(pane.result.for_table("t")) == cases.score(keep, pane.result).real
        assert model.value(0, 0) is LOST
        assert model.data(model.index(0, 0)) == "‹lost›"
        assert model.value(0, 7) == "freeblock"
        # The grid paints through multiData (every role of a cell in one call): it answers as data does.
        roles = [*_PAINTED_ROLES, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.CheckStateRole]
        confidence = model.columns.index("confidence")
        assert model.data(model.index(0, confidence)) == f"{model.records[0].confidence:.2f}"
        for row, column in [(0, 0), (0, 7), (1, 2), (1, confidence), (2, len(model.columns) - 1)]:
            for view_model, index in [
                (model, model.index(row, column)),
                (pane.proxy, pane.proxy.index(row, column)),
            ]:
                for role in roles:
                    answer = QModelRoleData(role)
                    view_model.multiData(index, QModelRoleDataSpan(answer))
                    assert answer.data() == model.data(model.index(row, column), role), (row, column, role)
        assert pane.grab().save(str(tmp_path / "recovered.png"))
        marker = model.value(3, 1)
        pane.filter_edit.setText(str(marker))
        assert [r.values[1] for r in pane.filtered_records()] == [marker]
    assert folder_state(source) == before


async def test_dropped_table_records_without_schema_match_go_to_their_entries(
    qtbot: Any, tmp_path: Path
) -> None:
    case = cases.dropped_table(tmp_path)
    async with pane_over(qtbot, case.path, tmp_path) as pane:
        assert _entries(pane) == [f"{ALL_RECORDS} (800)", "doomed (dropped) — recovered rows (800)"]


async def test_secure_delete_says_why_nothing_is_listed(qtbot: Any, tmp_path: Path) -> None:
    case = cases.scattered(tmp_path, "secure", rows=300, secure_delete=True)
    async with pane_over(qtbot, case.path, tmp_path) as pane:
        assert pane.model.rowCount() == 0
        assert "secure_delete was probably on" in pane.status.text()
        assert not pane.export_button.isEnabled()


async def test_export_writes_the_shown_rows_with_provenance(qtbot: Any, tmp_path: Path) -> None:
    case = cases.scattered(tmp_path, rows=300)
    async with pane_over(qtbot, case.path, tmp_path) as pane:
        pane.tables.setCurrentRow(1)
        out = tmp_path / "out"
        out.mkdir()
        job = pane.export_to(str(out / "rows.csv"))
        assert job is not None
        await wait_for(lambda: job.done, message="csv export")
        with (out / "rows.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0][6:] == [
            "likely table",
            "source",
            "page",
            "offset",
            "confidence",
            "rowid",
            "lost columns",
        ]
        assert len(rows) - 1 == pane.model.rowCount()
        assert rows[1][6:8] == ["t", "freeblock"] and rows[1][12] == "id"
        job = pane.export_to(str(out / "rows.json"))
        assert job is not None
        await wait_for(lambda: job.done, message="json export")
        data = json.loads((out / "rows.json").read_text(encoding="utf-8"))
        assert len(data) == pane.model.rowCount() and data[0]["source"] == "freeblock"


async def test_export_report_from_the_window_proves_the_file_unchanged(qtbot: Any, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    case = cases.dropped_table(source)
    before = folder_state(source)
    window = make_window(tmp_path)
    try:
        await open_in(window, case.path)
        pane = window.panes.recovery
        written: list[Any] = []
        pane.report_written.connect(lambda path, data: written.append(data))
        job = pane.write_report(str(tmp_path / "report.json"))
        assert job is not None
        await wait_for(lambda: written, message="report")
        data = written[0]
        assert data["file_unchanged"] is True
        assert data["file"]["sha256"] == data["file_at_end"]["sha256"]
        assert (
            json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["recovery"]["records"] == 800
        )
        assert pane.model.rowCount() == 800
        window.resize(1024, 600)
        window.show_pane(pane)
        assert window.grab().save(str(tmp_path / "window.png"))
    finally:
        await close_window(window)
    assert folder_state(source) == before


def _select(pane: RecoveryPane, wanted: Any) -> None:
    """Make the grid's current row the first record `wanted(record)` accepts."""
    for row in range(pane.proxy.rowCount()):
        index = pane.proxy.index(row, 0)
        if wanted(pane.model.records[pane.proxy.mapToSource(index).row()]):
            pane.grid.setCurrentIndex(index)
            return
    raise AssertionError("no such record")


async def test_selected_record_is_shown_next_to_its_live_row_with_differing_cells_highlighted(
    qtbot: Any, tmp_path: Path, light_again: None
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    path = source / "updated.db"
    updated, deleted = cases.updated_without_rowid(path)
    before = folder_state(source)
    async with pane_over(qtbot, path, tmp_path) as pane:
        compared: list[Any] = []
        pane.compared.connect(lambda record, comparison: compared.append(comparison))
        view = pane.live_view
        _select(pane, lambda r: r.values[0] in updated and LOST not in r.values)
        await wait_for(lambda: compared, message="live comparison")
        record = pane.current_record()
        assert record is not None
        old = updated[record.values[0]]
        assert view.model.rowCount() == 2
        assert [view.model.value(1, c) for c in range(3)] == [old[0], -old[1] - 1, f"{old[2]}longer now"]
        changed = theme.diff_colours()[2]
        assert view.model.data(view.model.index(0, 0), Qt.ItemDataRole.BackgroundRole) is None
        for row in (0, 1):
            for column in (1, 2):
                assert (
                    view.model.data(view.model.index(row, column), Qt.ItemDataRole.BackgroundRole) == changed
                )
        assert view.label.text() == f"The live row with k = '{old[0]}' differs in 2 columns: n, note."
        assert "live: " in view.model.data(view.model.index(0, 1), Qt.ItemDataRole.ToolTipRole)
        for choice in (ThemeChoice.LIGHT, ThemeChoice.DARK):
            theme.apply_theme(choice)
            QApplication.processEvents()  # the palette change reaches the widgets
            assert (
                view.model.data(view.model.index(0, 1), Qt.ItemDataRole.BackgroundRole)
                == (theme.diff_colours()[2])
            )
            assert pane.grab().save(str(tmp_path / f"live-{choice.value}.png"))
        theme.apply_theme(ThemeChoice.LIGHT)
        compared.clear()
        _select(pane, lambda r: r.values[0] in deleted)
        await wait_for(lambda: compared, message="live comparison of a deleted row")
        assert view.label.text().startswith("No live row with this key (k = 'key-")
        assert view.model.rowCount() == 1
    assert folder_state(source) == before


async def test_a_record_from_before_an_added_column_shows_the_default_marked(
    qtbot: Any, tmp_path: Path
) -> None:
    case = cases.altered(tmp_path)
    async with pane_over(qtbot, case.path, tmp_path) as pane:
        pane.tables.setCurrentRow(1)
        model = pane.model
        row = next(i for i, r in enumerate(model.records) if r.defaulted == (4, 5, 6))
        assert model.data(model.index(row, 4)) == "none"
        assert model.data(model.index(row, 4), Qt.ItemDataRole.FontRole).italic()
        assert "ALTER TABLE ADD COLUMN" in model.data(model.index(row, 6), Qt.ItemDataRole.ToolTipRole)
        assert model.data(model.index(row, 1), Qt.ItemDataRole.FontRole) is None


async def test_clearing_the_filter_shows_every_record_and_a_selected_row_is_still_compared(
    qtbot: Any, tmp_path: Path
) -> None:
    path = tmp_path / "updated.db"
    updated, _deleted = cases.updated_without_rowid(path)
    async with pane_over(qtbot, path, tmp_path) as pane:
        everything = pane.filtered_records()
        assert len(everything) == pane.model.rowCount() > 1
        marker = next(r for r in everything if r.values[0] in updated).values[0]
        pane.filter_edit.setText(str(marker))
        assert {r.values[0] for r in pane.filtered_records()} == {marker}
        pane.filter_edit.setText("")
        assert pane.filtered_records() == everything
        compared: list[Any] = []
        pane.compared.connect(lambda record, comparison: compared.append(record))
        _select(pane, lambda r: r.values[0] == marker)
        await wait_for(lambda: compared, message="live comparison after the filter was cleared")
        assert compared[0].values[0] == marker and pane.current_record() is compared[0]


async def test_the_scan_runs_in_a_child_process_and_shows_what_the_calling_thread_would_find(
    qtbot: Any, tmp_path: Path
) -> None:
    import multiprocessing

    from desktop_app.core.recovery.in_child import finish_cleanups, last_run
    from desktop_app.core.recovery.scan import recover
    from desktop_app.core.snapshot.snapshot import open_snapshot

    source = tmp_path / "src"
    source.mkdir()
    case = cases.overwritten(source, longer=False)
    before = sorted(source.iterdir()), folder_state(source)
    last_run.clear()
    async with pane_over(qtbot, case.path, tmp_path) as pane:
        shown = pane.result
    assert last_run["in_place"] is True and "start_s" in last_run  # the child scanned, without a copy
    snapshot = open_snapshot(case.path)
    try:
        with closing(snapshot.connect()) as conn:
            assert shown == recover(conn)
    finally:
        snapshot.close()
    finish_cleanups()
    assert multiprocessing.active_children() == []
    assert (sorted(source.iterdir()), folder_state(source)) == before


async def test_a_new_database_mid_scan_stops_the_child_and_leaves_nothing_behind(
    qtbot: Any, tmp_path: Path
) -> None:
    import multiprocessing
    from multiprocessing.shared_memory import SharedMemory

    from desktop_app.core.recovery.in_child import finish_cleanups, last_run

    source = tmp_path / "src"
    source.mkdir()
    case = cases.pages_freed(source)
    before = sorted(source.iterdir()), folder_state(source)
    last_run.clear()
    async with database_over(case.path) as (database, catalog):
        context = AppContext(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        context.set_database(database, catalog)
        pane = RecoveryPane(context)
        qtbot.addWidget(pane)
        pane.scan()
        job = pane.job
        assert job is not None
        await wait_for(lambda: "start_s" in last_run or job.done, message="the child started")
        pane.on_database_changed()  # as when the window closes or opens another file mid-scan
        await context.jobs.wait_all()
        assert pane.result is None
        context.set_database(None, None)
        pane.close()
    finish_cleanups()
    assert multiprocessing.active_children() == []
    with pytest.raises(FileNotFoundError):
        SharedMemory(str(last_run["shared_name"]))
    assert (sorted(source.iterdir()), folder_state(source)) == before


class _PaintCounter(QObject):
    """Counts the paints of the widget it filters."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


async def test_the_rows_of_a_scan_are_painted_once_their_scroll_bar_included(
    qtbot: Any, tmp_path: Path
) -> None:
    case = cases.scattered(tmp_path, rows=1500)
    async with pane_over(qtbot, case.path, tmp_path) as pane:
        pane.on_database_changed()  # the grid empty again, with no scroll bar
        await wait_for(lambda: not pane.grid.verticalScrollBar().isVisible(), message="grid emptied")
        counter = _PaintCounter()
        pane.grid.viewport().installEventFilter(counter)
        pane.recovered.connect(lambda _: setattr(counter, "paints", 0))  # what the result's display paints
        pane.scan()
        await wait_for(lambda: pane.result is not None, message="the second scan")
        await wait_for(lambda: counter.paints, message="the rows painted")
        await asyncio.sleep(0.3)
        assert pane.grid.verticalScrollBar().isVisible()
        # Laid out at the paint, the scroll bar would appear after it and the grid be painted again.
        assert counter.paints == 1


async def test_row_numbers_are_the_records_and_their_header_as_wide_as_qts_own(
    qtbot: Any, tmp_path: Path
) -> None:
    case = cases.scattered(tmp_path, rows=1500)
    async with pane_over(qtbot, case.path, tmp_path) as pane:
        header = pane.grid.verticalHeader()
        plain = QTableView()  # Qt's own header, sized from the first and last hundred rows
        qtbot.addWidget(plain)
        plain.setModel(pane.proxy)
        assert pane.model.rowCount() >= 100
        assert header.sizeHint().width() == plain.verticalHeader().sizeHint().width() > 0
        assert [pane.proxy.headerData(r, Qt.Orientation.Vertical) for r in (0, 99)] == ["1", "100"]
        marker = pane.model.value(99, 1)
        pane.filter_edit.setText(str(marker))
        assert pane.proxy.rowCount() == 1
        assert pane.proxy.headerData(0, Qt.Orientation.Vertical) == "100"  # the record's number, filtered
        plain.setModel(pane.proxy)
        assert header.sizeHint().width() == plain.verticalHeader().sizeHint().width()


async def test_columns_are_fitted_to_the_texts_the_cells_show(qtbot: Any, tmp_path: Path) -> None:
    case = cases.scattered(tmp_path, rows=1500)
    async with pane_over(qtbot, case.path, tmp_path) as pane:
        pane.grid.scrollTo(pane.proxy.index(40, 0))
        for text in ("", "a"):
            pane.filter_edit.setText(text)
            fit_columns_to_rows_in_view(pane.grid, pane.grid_row_texts)
            widths = [pane.grid.columnWidth(c) for c in range(pane.proxy.columnCount())]
            fit_columns_to_rows_in_view(pane.grid)  # each cell's text read through Qt's data()
            assert [pane.grid.columnWidth(c) for c in range(pane.proxy.columnCount())] == widths
            assert len(set(widths)) > 3
