"""Export in any format and Copy as from the UI: Browse exports what it shows, copies are the exact cells."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from desktop_app.core.browse.paging import SortKey
from desktop_app.core.export.clipboard import CopyFormat
from desktop_app.core.export.formats import ExportFormat
from desktop_app.core.export.json_file import JsonOptions
from desktop_app.core.export.sql_file import SqlOptions
from desktop_app.ui.context import AppContext
from desktop_app.ui.export_actions import load_export_options, start_export
from desktop_app.ui.widgets.export_dialog import ExportDialog
from tests.conftest import folder_state
from tests.ui.helpers import close_window, make_window, open_in, wait_for
from tests.ui.test_browse import browse, settle
from tests.ui.test_csv_export_ui import export_through_dialog
from tests.ui.test_sql_pane import make_database, run, sql_pane


def people(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT, age INTEGER, photo BLOB)")
        conn.executemany(
            "INSERT INTO people VALUES (?, ?, ?, ?)",
            [(1, "Ann", 30, b"\x01"), (2, "Bob", 25, None), (3, "Cy", 41, b"\x02"), (4, "Di", 35, None)],
        )
    conn.close()
    return path


def ctrl_click(view: Any, row: int, column: int) -> None:
    rect = view.visualRect(view.model().index(row, column))
    QTest.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, rect.center()
    )


async def test_ctrl_clicked_rows_copy_only_those_rows(qtbot: Any, tmp_path: Path) -> None:
    async with browse(qtbot, tmp_path, people(tmp_path / "p.db")) as pane:
        pane.show_table("people")
        await settle(pane)
        pane.view.clearSelection()
        ctrl_click(pane.view, 0, 1)
        ctrl_click(pane.view, 2, 1)
        assert await pane.copy_selection() == "Ann\nCy\n"  # not Bob, who sits between them
        assert QGuiApplication.clipboard().text() == "Ann\nCy\n"
        ctrl_click(pane.view, 2, 2)  # a second cell of row 3 only
        assert await pane.copy_as(CopyFormat.CSV, headers=True) == "name,age\nAnn,\nCy,41\n"
        assert json.loads(await pane.copy_as(CopyFormat.JSON)) == [{"name": "Ann"}, {"name": "Cy", "age": 41}]
        assert (
            await pane.copy_as(CopyFormat.WHERE) == "WHERE (name = 'Ann')\n   OR (name = 'Cy' AND age = 41)"
        )
        assert await pane.copy_as(CopyFormat.SQL_INSERT) == (
            "INSERT INTO people(name) VALUES ('Ann');\nINSERT INTO people(name, age) VALUES ('Cy', 41);\n"
        )
        assert (
            await pane.copy_as(CopyFormat.MARKDOWN) == "| name | age |\n|---|---|\n| Ann |  |\n| Cy | 41 |\n"
        )


async def test_sql_results_copy_as_the_exact_cells(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite", rows=20)) as pane:
        tab = (await run(pane, "SELECT id, name FROM t ORDER BY id"))[0]
        await wait_for(lambda: tab.model.is_loaded(0), message="first rows")
        tab.view.clearSelection()
        ctrl_click(tab.view, 1, 0)
        ctrl_click(tab.view, 4, 0)
        assert await tab.copy_selection() == "2\n5\n"
        assert await tab.copy_as(CopyFormat.TSV, headers=True) == "id\n2\n5\n"
        assert (
            await tab.copy_as(CopyFormat.SQL_INSERT)
            == "INSERT INTO t(id) VALUES (2);\nINSERT INTO t(id) VALUES (5);\n"
        )


async def test_browsed_table_export_honours_filter_sort_and_hidden_columns(
    qtbot: Any, tmp_path: Path
) -> None:
    (tmp_path / "user").mkdir()
    db = people(tmp_path / "user" / "p.db")
    before = folder_state(db.parent)
    window = make_window(tmp_path)
    await open_in(window, db)
    browse_pane = window.panes.browse
    browse_pane.show_table("people")
    await settle(browse_pane)
    browse_pane.set_filters({"age": ">= 30"})
    browse_pane.set_sort([SortKey("age", descending=True)])
    await settle(browse_pane)
    browse_pane.set_column_visible(3, False)
    window.export_browsed_table()
    dialog = next(w for w in window.findChildren(ExportDialog) if w.isVisible())
    assert "as Browse shows it" in dialog.intro.text()
    dialog.set_format(ExportFormat.JSON)
    assert dialog.path().endswith("people.json")
    target = tmp_path / "out" / "people.json"
    target.parent.mkdir()
    job = await export_through_dialog(dialog, target)
    assert job.last_progress is not None and job.last_progress.total == 3
    assert json.loads(target.read_text()) == [
        {"id": 3, "name": "Cy", "age": 41},
        {"id": 4, "name": "Di", "age": 35},
        {"id": 1, "name": "Ann", "age": 30},
    ]
    assert load_export_options(window.context.settings, ExportFormat.JSON) == JsonOptions()
    await close_window(window)
    assert folder_state(db.parent) == before


async def test_each_format_keeps_its_own_options_and_the_last_format(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        dialog = start_export(pane, pane.context, "SELECT id, name FROM t ORDER BY id", "t")
        qtbot.addWidget(dialog)
        dialog.set_format(ExportFormat.SQL)
        assert dialog.sql_table.text() == "t", "the statements fill a table named after the export"
        dialog.sql_table.setText("")
        assert not dialog.export_button.isEnabled() and "needs a table name" in dialog.problem.text()
        dialog.sql_table.setText("copy of t")
        dialog.sql_transaction.setChecked(False)
        target = tmp_path / "t.sql"
        await export_through_dialog(dialog, target)
        fresh = sqlite3.connect(":memory:")
        fresh.executescript(target.read_text(encoding="utf-8"))
        assert fresh.execute('SELECT count(*) FROM "copy of t"').fetchone() == (50,)
        saved = load_export_options(pane.context.settings, ExportFormat.SQL)
        assert saved == SqlOptions(table="copy of t", transaction=False)
        reopened = start_export(pane, pane.context, "SELECT 1", "one")
        qtbot.addWidget(reopened)
        assert reopened.format() is ExportFormat.SQL and reopened.path().endswith("one.sql")
        reopened.set_format(ExportFormat.CSV)
        assert reopened.path().endswith("one.csv") and reopened.windowTitle() == "Export as CSV"
        reopened.reject()


def test_parquet_is_offered_only_when_installed(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from desktop_app.core.export import formats

    real = formats.importlib.util.find_spec
    monkeypatch.setattr(formats.importlib.util, "find_spec", lambda n: None if n == "pyarrow" else real(n))
    context = AppContext(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    dialog = start_export(None, context, "SELECT 1", "q")
    qtbot.addWidget(dialog)
    combo = dialog.format_combo
    item = combo.model().item(combo.findData(ExportFormat.PARQUET))
    assert not item.isEnabled()
    assert 'pip install "sqlite-snapshot-browser[parquet]"' in dialog.install_note.text()
    assert dialog.install_note.isVisibleTo(dialog)
    dialog.grab().save(str(tmp_path / "export-dialog.png"))
    dialog.reject()
