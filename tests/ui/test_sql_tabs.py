"""SQL editor tabs: each runs on its own, Stop and closing act on one tab, unsaved work is asked about,
the tabs of each database come back, and DB Browser for SQLite's keys run what they say."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_app.ui.context import AppContext
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.sql.editor_tab import SqlTab
from desktop_app.ui.panes.sql.pane import SqlPane
from tests.fixtures import database_over
from tests.ui.helpers import close_window, make_window, open_in, wait_for
from tests.ui.test_sql_pane import RUNAWAY_CTE, grid_rows, make_database, run, sql_pane

Answer = QMessageBox.StandardButton


def answer_prompts(monkeypatch: pytest.MonkeyPatch, answer: QMessageBox.StandardButton) -> list[str]:
    """Answer every Save / Discard / Cancel question with `answer`; returns the questions asked."""
    asked: list[str] = []

    def exec_(box: QMessageBox) -> int:
        asked.append(box.text())
        return answer.value

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return asked


@pytest.fixture(autouse=True)
def no_unexpected_question(monkeypatch: pytest.MonkeyPatch) -> None:
    """A question nobody answers would wait forever: fail instead."""

    def exec_(box: QMessageBox) -> int:
        raise AssertionError(f"unexpected question: {box.text()}")

    monkeypatch.setattr(QMessageBox, "exec", exec_)


async def focus(pane: SqlPane) -> None:
    pane.activateWindow()
    pane.editor.setFocus()
    await wait_for(lambda: QApplication.focusWidget() is pane.editor, message="focus on the editor")


async def ended(tab: SqlTab) -> None:
    await wait_for(lambda: not tab.running, message=f"the run of {tab.title()}")


async def test_two_tabs_run_at_once_each_with_its_results_and_stop_acts_on_the_current_one(
    qtbot: Any, tmp_path: Path
) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        first = pane.tab
        pane.set_sql(RUNAWAY_CTE)
        assert pane.run_all() is not None
        second = pane.new_tab()
        assert pane.tab is second and first.running, "the first tab's run goes on in the background"
        pane.set_sql(RUNAWAY_CTE.replace("SELECT count(*)", "SELECT max(x)"))
        assert pane.run_all() is not None
        assert first.running and second.running
        assert pane.stop_button.isEnabled()
        pane.stop()
        await ended(second)
        await asyncio.sleep(0.2)
        assert first.running, "Stop stops only the current tab's run"
        assert second.run_label.text().startswith("Stopped")
        await run(pane, "SELECT 42 AS answer")
        assert await grid_rows(second.result_tabs()[0], 1) == [(42,)]
        pane.tabs.setCurrentWidget(first)
        assert pane.stop_button.isEnabled() and not pane.run_button.isEnabled()
        assert pane.run_all() is None and "stop it first" in first.run_label.text()
        pane.stop_button.click()
        await ended(first)
        assert [tab.sql for tab in first.result_tabs()] == [RUNAWAY_CTE]
        assert first.result_tabs()[0].info.text().startswith("Stopped after")
        assert [tab.sql for tab in second.result_tabs()] == ["SELECT 42 AS answer"], "each keeps its own"


async def test_closing_a_tab_with_a_running_query_stops_it(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        kept = pane.tab
        pane.set_sql("SELECT 1")
        tab = pane.show_sql(RUNAWAY_CTE)
        job = pane.run_all()
        assert job is not None and pane.tabs.count() == 2
        await wait_for(lambda: len(tab.result_tabs()) == 1, message="the statement's tab")
        assert pane.close_tab(tab), "SQL shown by the window and not edited closes without asking"
        await wait_for(lambda: job.done, timeout=2, message="the stop")
        assert job.cancel_token.cancelled
        assert pane.editor_tabs() == [kept] and pane.editor.sql() == "SELECT 1"
        asked = answer_prompts(monkeypatch, Answer.Discard)
        pane.close_current_tab()
        assert asked == ["Save the SQL in “SQL 1” before closing the tab?"], "typed text is asked about"
        assert pane.tabs.count() == 1 and pane.tab is not kept, "the last tab gives way to an empty one"


async def test_closing_a_changed_file_tab_asks_save_discard_or_cancel(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "report.sql"
    script.write_text("SELECT 1;\n", encoding="utf-8")
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        assert pane.open_sql_file(script)
        tab = pane.tab
        tab.editor.set_sql("SELECT 2;\n")
        assert pane.tabs.tabText(pane.tabs.indexOf(tab)) == "report.sql*"
        asked = answer_prompts(monkeypatch, Answer.Cancel)
        assert not pane.close_tab(tab)
        assert asked == ["Save the changes to report.sql before closing the tab?"]
        assert pane.tab is tab and script.read_text(encoding="utf-8") == "SELECT 1;\n"
        answer_prompts(monkeypatch, Answer.Save)
        assert pane.close_tab(tab)
        assert script.read_text(encoding="utf-8") == "SELECT 2;\n" and tab not in pane.editor_tabs()

        assert pane.open_sql_file(script)
        pane.editor.set_sql("SELECT 3;\n")
        answer_prompts(monkeypatch, Answer.Discard)
        assert pane.close_tab(pane.tab)
        assert script.read_text(encoding="utf-8") == "SELECT 2;\n", "Discard leaves the file as it was"


async def test_closing_a_typed_tab_asks_and_save_chooses_a_file_first(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        asked = answer_prompts(monkeypatch, Answer.Discard)
        pane.new_tab()
        assert pane.close_tab(pane.tab) and asked == [], "an empty tab closes without a question"
        typed = pane.new_tab()
        QTest.keyClicks(typed.editor, "SELECT 'mine'")
        assert typed.title().endswith("*")
        answer_prompts(monkeypatch, Answer.Save)
        assert not pane.close_tab(typed), "Save asks where first: the tab stays until it is saved"
        dialog = pane.file_dialog
        assert dialog is not None
        dialog.fileSelected.emit(str(tmp_path / "mine.sql"))
        assert (tmp_path / "mine.sql").read_text(encoding="utf-8") == "SELECT 'mine'"
        assert typed not in pane.editor_tabs()


async def test_window_close_asks_once_for_every_changed_file(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [tmp_path / "a.sql", tmp_path / "b.sql"]
    for path in files:
        path.write_text("SELECT 1;", encoding="utf-8")
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        for path in files:
            assert pane.open_sql_file(path)
            pane.editor.set_sql(f"SELECT '{path.stem}';")
        pane.show_sql("SELECT 'typed'")
        pane.editor.set_sql("SELECT 'typed, kept with the tabs'")
        asked = answer_prompts(monkeypatch, Answer.Cancel)
        assert not pane.confirm_close()
        assert asked == ["Save the changes to 2 SQL files?"], "asked once, for the files only"
        asked = answer_prompts(monkeypatch, Answer.Save)
        assert pane.confirm_close() and len(asked) == 1
        assert [p.read_text(encoding="utf-8") for p in files] == ["SELECT 'a';", "SELECT 'b';"]
        assert pane.confirm_close() and len(asked) == 1, "nothing left to ask about"


async def test_open_tabs_come_back_for_their_database_only(qtbot: Any, tmp_path: Path) -> None:
    script = tmp_path / "report.sql"
    script.write_text("SELECT 'from the file';", encoding="utf-8")
    other = make_database(tmp_path / "other.sqlite")
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        pane.set_sql("SELECT 'typed'")
        assert pane.open_sql_file(script)
        pane.rename_tab(pane.tab, "Monthly")
        pane.new_tab()
        pane.set_sql("SELECT 'third'")
        pane.tabs.setCurrentIndex(1)
        context = pane.context
        shown = (context.database, context.catalog)
        async with database_over(other) as (database, catalog):
            context.set_database(database, catalog)
            assert [t.editor.sql() for t in pane.editor_tabs()] == [""], "another database: its own tabs"
            pane.set_sql("SELECT 'on the other one'")
            context.set_database(*shown)
        titles = [pane.tabs.tabText(i) for i in range(pane.tabs.count())]
        assert titles == ["SQL 1*", "Monthly", "SQL 3*"]
        assert pane.tab.sql_path == script.absolute() and pane.editor.sql() == "SELECT 'from the file';"
        pane.keep_tabs()

        again = SqlPane(context)  # the database opened again later: a new pane over the same settings
        qtbot.addWidget(again)
        assert [t.editor.sql() for t in again.editor_tabs()] == [
            "SELECT 'typed'",
            "SELECT 'from the file';",
            "SELECT 'third'",
        ]
        assert again.tab.name == "Monthly" and again.tab.sql_path == script.absolute()
        assert not again.tab.modified and again.editor_tabs()[0].modified, "typed text is still unsaved"


async def test_ctrl_e_runs_the_statement_under_the_cursor_and_shift_f5_the_line(
    qtbot: Any, tmp_path: Path
) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        sql = "SELECT 1 AS a; SELECT 2 AS b;\nSELECT 3 AS c\n  FROM t WHERE id = 1;\nSELECT 4 AS d;"
        pane.set_sql(sql)
        pane.editor.set_cursor_index(sql.index("FROM t"))
        await focus(pane)
        QTest.keyClick(pane.editor, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        assert pane.running, "Ctrl+E runs"
        await ended(pane.tab)
        assert [tab.sql for tab in pane.tab.result_tabs()] == ["SELECT 3 AS c\n  FROM t WHERE id = 1;"]
        pane.editor.set_cursor_index(sql.index("2 AS b"))
        QTest.keyClick(pane.editor, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)
        await ended(pane.tab)
        assert [tab.sql for tab in pane.tab.result_tabs()] == ["SELECT 1 AS a;", "SELECT 2 AS b;"]
        pane.editor.set_cursor_index(sql.index("WHERE"))
        QTest.keyClick(pane.editor, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)
        await ended(pane.tab)
        assert [tab.sql for tab in pane.tab.result_tabs()] == ["SELECT 3 AS c\n  FROM t WHERE id = 1;"], (
            "a line inside a statement runs the whole statement"
        )
        QTest.keyClick(pane.editor, Qt.Key.Key_F5)
        await ended(pane.tab)
        assert len(pane.tab.result_tabs()) == 4, "F5 runs every statement"
        assert pane.editor.sql() == sql, "and none of the keys typed anything"
        QTest.keyClick(pane.editor, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
        assert pane.tabs.count() == 2 and pane.editor.sql() == ""
        QTest.keyClick(pane.editor, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        assert pane.tabs.count() == 1 and pane.editor.sql() == sql


async def test_show_sql_opens_a_tab_and_leaves_typed_text_alone(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        first = pane.show_sql("SELECT * FROM t")
        assert pane.tabs.count() == 1, "an empty tab is used for it"
        pane.editor.set_sql("SELECT 'typed'")
        shown = pane.show_sql('SELECT * FROM "Order Details"')
        assert pane.tab is shown and shown is not first
        assert first.editor.sql() == "SELECT 'typed'", "the old text is intact"
        assert not shown.modified and not pane.tabs.tabText(1).endswith("*")
        pane.set_sql("SELECT 'from the history'")
        pane.editor.undo()
        assert pane.editor.sql() == 'SELECT * FROM "Order Details"', "replacing the text is undoable"


async def test_rename_by_double_click_and_the_shortcut_list(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        pane.tabs.tabBarDoubleClicked.emit(0)
        dialog = pane.rename_dialog
        assert dialog is not None and dialog.textValue() == "SQL 1"
        dialog.setTextValue("Orders by month")
        dialog.accept()
        assert pane.tabs.tabText(0) == "Orders by month"
        pane.tabs.tabBarDoubleClicked.emit(-1)
        assert pane.tabs.tabText(1) == "SQL 2", "a double-click beside the tabs opens one"
        keys = dict(pane.shortcuts())
        assert keys["Ctrl+E, Shift+F9"] == "Run the statement under the cursor"
        assert keys["F5, Ctrl+Return, Ctrl+Enter, F9"].startswith("Run every statement")
        assert {"Shift+F5", "Ctrl+T", "Ctrl+W", "Ctrl+Shift+O", "Ctrl+S"} <= set(keys)
        assert Pane.shortcuts(pane) == [] and Pane.confirm_close(pane)


async def test_in_the_window_f5_and_ctrl_w_act_on_the_sql_tab_and_close_asks_first(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "report.sql"
    script.write_text("SELECT 1;", encoding="utf-8")
    window = make_window(tmp_path)
    try:
        await open_in(window, make_database(tmp_path / "db.sqlite"))
        sql = window.panes.sql
        window.show_sql("SELECT count(*) FROM t")
        assert window.tabs.currentWidget() is sql
        await focus(sql)
        QTest.keyClick(sql.editor, Qt.Key.Key_F5)
        assert sql.running, "F5 runs in the SQL pane (Reload elsewhere)"
        await ended(sql.tab)
        assert await grid_rows(sql.tab.result_tabs()[0], 1) == [(50,)]
        assert not window.session.reloaded
        sql.new_tab()
        QTest.keyClick(sql.editor, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        assert sql.tabs.count() == 1 and window.session.snapshot is not None, "a tab closed, not the database"
        assert sql.open_sql_file(script)
        sql.editor.set_sql("SELECT 2;")
        asked = answer_prompts(monkeypatch, Answer.Cancel)
        assert not window.close() and window.isVisible() and len(asked) == 1
        window.close_database()
        assert window.session.snapshot is not None and len(asked) == 2, "closing the database asks too"
        answer_prompts(monkeypatch, Answer.Discard)
    finally:
        await close_window(window)
    assert script.read_text(encoding="utf-8") == "SELECT 1;"


async def test_a_file_opened_before_the_database_stays_beside_its_kept_tabs(
    qtbot: Any, tmp_path: Path
) -> None:
    script = tmp_path / "report.sql"
    script.write_text("SELECT 'report';", encoding="utf-8")
    db = make_database(tmp_path / "db.sqlite")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    async with database_over(db) as (database, catalog):
        earlier = AppContext(settings)
        earlier.set_database(database, catalog)
        before = SqlPane(earlier)
        qtbot.addWidget(before)
        before.set_sql("SELECT 'typed last time'")
        assert before.open_sql_file(script)
        assert before.confirm_close()  # the window closing: the tabs are kept

        context = AppContext(settings)  # `snapshot-browser db.sqlite --sql report.sql`
        pane = SqlPane(context)
        qtbot.addWidget(pane)
        assert pane.open_sql_file(script) and pane.tabs.count() == 1
        context.set_database(database, catalog)
        assert [t.editor.sql() for t in pane.editor_tabs()] == [
            "SELECT 'typed last time'",
            "SELECT 'report';",
        ]
        assert pane.tab.sql_path == script.absolute(), "the file asked for is shown, and only once"
        for each in (earlier, context):
            each.set_database(None, None)
