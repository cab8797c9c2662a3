"""The SQL pane over real snapshots: tabs per statement, errors marked, Stop, read-only, cache, completion."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

from desktop_app.ui.context import AppContext
from desktop_app.ui.panes.sql.pane import SqlPane
from desktop_app.ui.panes.sql.results import ErrorView, PlanView, ResultTab
from desktop_app.ui.widgets.sql_highlighter import SqlHighlighter
from tests.fixtures import database_over
from tests.ui.helpers import wait_for

RUNAWAY_CTE = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def make_database(path: Path, rows: int = 50) -> Path:
    """A small database with awkward names and `rows` rows in `t`."""
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL);
            CREATE TABLE "Order Details"("it's" TEXT, "q""t" INTEGER);
            CREATE VIEW v AS SELECT id, name FROM t;
            """
        )
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO t SELECT i, 'name ' || i, i * 1.5 FROM n",
            (rows,),
        )
    conn.close()
    return path


@asynccontextmanager
async def sql_pane(qtbot: Any, tmp_path: Path, path: Path) -> AsyncIterator[SqlPane]:
    """A shown SQL pane over a snapshot of `path`."""
    async with database_over(path) as (database, catalog):
        context = AppContext(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        context.set_database(database, catalog)
        pane = SqlPane(context)
        unexpected: list[str] = []
        context.jobs.unexpected_error.connect(lambda message, _log: unexpected.append(message))
        qtbot.addWidget(pane)
        pane.resize(1000, 700)
        pane.show()
        try:
            yield pane
        finally:
            pane.stop_all()
            await wait_for(lambda: not pane.any_running, message="the runs to end")
            await pane.wait_idle()
            models = [tab.model for editor_tab in pane.editor_tabs() for tab in editor_tab.result_tabs()]
            pane.on_database_changed()
            for model in models:
                await model.wait_idle()
            assert unexpected == [], "no job failed unexpectedly"


async def run(pane: SqlPane, sql: str, *, timeout: float = 10.0) -> list[ResultTab]:
    """Put `sql` in the editor, run it all, and wait for the run to end."""
    pane.set_sql(sql)
    job = pane.run_all()
    assert job is not None
    await wait_for(lambda: not pane.running, timeout=timeout, message=f"run of {sql!r}")
    return tabs(pane)


def tabs(pane: SqlPane) -> list[ResultTab]:
    """The result tabs, in order."""
    found = [pane.results.widget(i) for i in range(pane.results.count())]
    assert all(isinstance(tab, ResultTab) for tab in found)
    return found  # type: ignore[return-value]


async def grid_rows(tab: ResultTab, count: int) -> list[tuple[Any, ...]]:
    """The first `count` rows of a tab's grid."""
    return list(await tab.model.rows(0, count))


async def test_script_of_several_statements_gives_one_tab_each(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        script = "SELECT 1 AS a;\n-- a comment; with a ;\nSELECT 'x;y' AS b, 3 AS c;\nPRAGMA table_info(t);"
        result = await run(pane, script)
        assert len(result) == 3
        assert [tab.outcome.rows for tab in result] == [1, 1, 3]  # type: ignore[union-attr]
        assert await grid_rows(result[1], 1) == [("x;y", 3)]
        assert [c.name for c in result[2].model.source.columns][:3] == ["cid", "name", "type"]  # type: ignore[union-attr]
        assert "1 row in" in result[0].info.text()
        assert "Ran 3 statements" in pane.run_label.text()


async def test_syntax_error_shows_message_and_marks_its_position(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        sql = "SELECT 1;\nSELECT name FROM t WHERE;\nSELECT 3;"
        result = await run(pane, sql)
        assert len(result) == 2, "the run stops at the failing statement"
        error = result[1].custom_view
        assert isinstance(error, ErrorView)
        assert 'near ";": syntax error' in error.message.text()
        marked = pane.editor.error_range
        assert marked is not None
        assert marked[0] == sql.index("WHERE;") + len("WHERE")
        assert pane.editor.cursor_index() == marked[0]
        assert pane.editor.error_line == 1
        assert "line 2, column 25" in " ".join(label.text() for label in error.findChildren(QLabel))
        assert pane.run_label.text().startswith("Statement 2 of 3 failed")
        pane.editor.insertPlainText(" ")
        assert pane.editor.error_range is None, "editing clears the marker"


async def test_unknown_table_marks_the_name_in_the_editor(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        sql = "SELECT 'café 😀';\nSELECT * FROM nowhere"
        result = await run(pane, sql)
        assert "no such table: nowhere" in result[1].custom_view.message.text()  # type: ignore[union-attr]
        assert pane.editor.error_range == (sql.index("nowhere"), sql.index("nowhere") + len("nowhere"))


async def test_runaway_recursive_cte_is_stopped_by_stop(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        pane.set_sql(RUNAWAY_CTE)
        pane.run_all()
        await asyncio.sleep(0.4)
        assert pane.running
        assert pane.run_label.text().startswith("Running…")
        pane.stop_button.click()
        # Unstopped, the query runs forever: ending at all is the proof (no timed assertion).
        await wait_for(lambda: not pane.running, timeout=30, message="the stop")
        assert tabs(pane)[0].info.text().startswith("Stopped after")
        assert pane.run_label.text().startswith("Stopped")
        result = await run(pane, "SELECT 42")
        assert await grid_rows(result[0], 1) == [(42,)]


async def test_write_statements_are_refused_as_read_only(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        sql = "SELECT 1;\n  DELETE FROM t;"
        result = await run(pane, sql)
        error = result[1].custom_view
        assert isinstance(error, ErrorView)
        assert "read-only" in error.message.text()
        assert pane.editor.error_range == (sql.index("DELETE"), len(sql))
        after = await run(pane, "SELECT count(*) FROM t; PRAGMA user_version; PRAGMA index_list(t)")
        assert await grid_rows(after[0], 1) == [(50,)]
        assert after[1].outcome is not None and after[1].outcome.rows == 1


async def test_rerun_is_answered_from_cache(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite", rows=3000)) as pane:
        for sql in ("SELECT * FROM t WHERE id < 10", "SELECT * FROM t"):
            first = await run(pane, sql)
            assert "(from cache)" not in first[0].info.text()
            assert " in " in first[0].info.text()
            again = await run(pane, sql)
            assert "(from cache)" in again[0].info.text()
            assert again[0].outcome is not None and again[0].outcome.rows == first[0].outcome.rows  # type: ignore[union-attr]


async def test_long_result_is_counted_but_fetched_in_windows(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite", rows=200_000)) as pane:
        result = await run(pane, "SELECT id, name FROM t ORDER BY id DESC")
        tab = result[0]
        assert tab.outcome is not None and tab.outcome.rows == 200_000
        assert tab.info.text().startswith("200,000 rows in")
        await wait_for(lambda: tab.model.exact and tab.model.rowCount() == 200_000, message="exact count")
        assert tab.model.loaded_rows <= 2000
        tab.view.scrollToBottom()
        await wait_for(lambda: tab.model.is_loaded(199_999), message="last page")
        assert tab.model.row_values(199_999) == (1, "name 1")
        assert tab.model.loaded_rows < 20_000


async def test_explain_shows_the_query_plan_as_a_tree(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        pane.set_sql("SELECT 1;\nSELECT * FROM t WHERE id IN (SELECT id FROM t WHERE score > 2)")
        pane.editor.set_cursor_index(len(pane.editor.sql()) - 3)
        assert pane.explain() is not None
        await wait_for(lambda: not pane.running, message="explain")
        plan = tabs(pane)[0].custom_view
        assert isinstance(plan, PlanView)
        lines = plan.lines()
        assert any("t USING INTEGER PRIMARY KEY" in line for line in lines)
        assert any(line.startswith("  ") for line in lines), "the subquery is a child node"
        pane.set_sql("DELETE FROM t WHERE id = 3")
        pane.explain()
        await wait_for(lambda: not pane.running, message="explain of a write")
        assert isinstance(tabs(pane)[0].custom_view, PlanView), "explaining a write runs nothing"


async def test_run_statement_runs_only_the_one_under_the_cursor(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        pane.set_sql("SELECT 1;\nSELECT 2;\nSELECT 3;")
        pane.editor.set_cursor_index(len("SELECT 1;\nSELE"))
        pane.activateWindow()
        pane.editor.setFocus()
        await wait_for(lambda: QApplication.focusWidget() is pane.editor, message="focus")
        QTest.keyClick(pane.editor, Qt.Key.Key_F9, Qt.KeyboardModifier.ShiftModifier)
        assert pane.running, "Shift+F9 runs the statement under the cursor"
        await wait_for(lambda: not pane.running, message="run statement")
        assert len(tabs(pane)) == 1
        assert await grid_rows(tabs(pane)[0], 1) == [(2,)]
        pane.editor.set_cursor_index(len("SELECT 1;\n"), anchor=len(pane.editor.sql()))
        assert pane.run_button.text() == "▶ Run selection"
        QTest.keyClick(pane.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert pane.running, "Ctrl+Enter runs the selection"
        assert pane.editor.sql() == "SELECT 1;\nSELECT 2;\nSELECT 3;", "and types nothing"
        await wait_for(lambda: not pane.running, message="run selection")
        assert len(tabs(pane)) == 2


async def test_empty_or_comment_only_sql_says_nothing_to_run(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        pane.set_sql("  -- only a comment\n/* and another */ ;")
        assert pane.run_all() is None
        assert "Nothing to run" in pane.run_label.text()


async def test_completion_offers_columns_after_table_dot_on_chinook(
    qtbot: Any, tmp_path: Path, corpus: Path
) -> None:
    async with sql_pane(qtbot, tmp_path, corpus / "chinook" / "Chinook_Sqlite.sqlite") as pane:
        editor = pane.editor
        editor.set_sql("SELECT Track.")
        assert editor.show_completions()
        offered = editor.completer.item_texts()
        assert {"TrackId", "Name", "Composer", "UnitPrice"} <= set(offered)
        editor.set_sql("SELECT t.Mi FROM Track AS t")
        editor.set_cursor_index(len("SELECT t.Mi"))
        assert editor.show_completions()
        assert editor.completer.item_texts() == ["Milliseconds"]
        QTest.keyClick(editor.completer.popup(), Qt.Key.Key_Return)
        assert editor.sql() == "SELECT t.Milliseconds FROM Track AS t"
        await wait_for(lambda: "count" in editor.completer.names.functions, message="function names")
        editor.set_sql("SELECT coun")
        assert editor.show_completions()
        assert "count(" in editor.completer.item_texts()


async def test_completion_quotes_names_that_need_it(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        editor = pane.editor
        editor.set_sql('SELECT * FROM "Ord')
        assert editor.show_completions()
        assert editor.completer.item_texts()[0] == '"Order Details"'
        editor.completer.chosen.emit(len("SELECT * FROM "), '"Order Details"')
        assert editor.sql() == 'SELECT * FROM "Order Details"'
        editor.set_sql('SELECT "Order Details".')
        assert editor.show_completions()
        assert editor.completer.item_texts() == ['"it\'s"', '"q""t"']
        result = await run(pane, 'SELECT "it\'s", "q""t" FROM "Order Details"')
        assert result[0].outcome is not None and result[0].outcome.rows == 0


async def test_state_keeps_editor_text_and_cursor_across_reload(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        pane.set_sql("SELECT 'é😀';\nSELECT name FROM t;")
        pane.editor.set_cursor_index(20, anchor=14)
        state = pane.save_state()
        pane.set_sql("something else")
        pane.restore_state(state)
        assert pane.editor.sql() == "SELECT 'é😀';\nSELECT name FROM t;"
        assert pane.editor.cursor_index() == 20
        assert pane.editor.selection_range() == (14, 20)


async def test_history_and_saved_queries_persist_per_database(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        await run(pane, "SELECT 1")
        await run(pane, "SELECT 2")
        await run(pane, "SELECT 1")
        assert pane.library.history()[:2] == ["SELECT 1", "SELECT 2"]
        pane.set_sql("SELECT name FROM t")
        pane.library_buttons.save_current("names")
        path = str(pane.context.database.snapshot.path)  # type: ignore[union-attr]
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        from desktop_app.ui.panes.sql.library import QueryLibrary

        pane.context.settings.sync()
        assert QueryLibrary(settings).saved(path) == {"names": "SELECT name FROM t"}
        assert QueryLibrary(settings).saved(str(tmp_path / "other.db")) == {}


async def test_editor_and_window_stay_responsive_while_a_query_runs(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        pane.set_sql(RUNAWAY_CTE)
        pane.run_all()
        # The query never ends by itself: loop turns served while it runs prove the UI is not blocked.
        for _ in range(10):
            await asyncio.sleep(0.01)
            assert pane.running
        pane.editor.insertPlainText("\n-- typed while running")
        assert pane.editor.sql().endswith("-- typed while running")
        assert pane.running
        pane.stop()
        await wait_for(lambda: not pane.running, message="stop")


async def test_closing_the_running_tab_or_reloading_stops_the_run_cleanly(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        pane.set_sql(f"SELECT 1;\n{RUNAWAY_CTE}")
        pane.run_all()
        await wait_for(lambda: pane.results.count() == 2, message="the second statement")
        pane.results.tabCloseRequested.emit(1)
        await wait_for(lambda: not pane.running, timeout=2, message="the stop")
        assert len(tabs(pane)) == 1
        pane.run_all()
        await asyncio.sleep(0.2)
        context = pane.context
        context.set_database(context.database, context.catalog)  # what a reload looks like to the pane
        await wait_for(lambda: not pane.running, timeout=2, message="the stop on reload")
        assert tabs(pane) == []
        result = await run(pane, "SELECT 7")
        assert await grid_rows(result[0], 1) == [(7,)]


def test_highlighter_carries_strings_and_comments_across_lines(qtbot: Any) -> None:
    document = QTextDocument("SELECT 'it''s\nstill text' AS x /* a\ncomment */ FROM \"q\nt\" -- end")
    highlighter = SqlHighlighter(document)
    highlighter.rehighlight()

    def colour(line: int, column: int) -> str:
        block = document.findBlockByNumber(line)
        for fmt in block.layout().formats():
            if fmt.start <= column < fmt.start + fmt.length:
                return fmt.format.foreground().color().name()
        return "plain"

    string, keyword = colour(0, 8), colour(0, 0)
    assert string != keyword != "plain"
    assert colour(1, 2) == string, "the string goes on on the next line"
    assert colour(1, 12) == keyword, "AS after the string is a keyword again"
    comment = colour(1, 20)
    assert colour(2, 2) == comment != string
    assert colour(2, 11) == keyword
    assert colour(3, 0) == colour(2, 16), "a quoted name spans lines too"
    assert colour(3, 5) == comment


async def test_blobs_of_a_query_result_are_exported_to_a_folder(qtbot: Any, tmp_path: Path) -> None:
    path = make_database(tmp_path / "blobs.sqlite", rows=3)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE files (id INTEGER PRIMARY KEY, label TEXT, data BLOB)")
        conn.executemany(
            "INSERT INTO files (label, data) VALUES (?, ?)",
            [("a", b"%PDF-1.4 one"), ("b", None), ("c/../d", b"\x89PNG\r\n\x1a\n" + bytes(40))],
        )
    conn.close()
    out = tmp_path / "out"
    async with sql_pane(qtbot, tmp_path, path) as pane:
        (tab,) = await run(pane, "SELECT f.label, f.data FROM files f JOIN t ON t.id = f.id ORDER BY f.id")
        assert tab.blobs_button.isEnabled()
        tab.blobs_button.click()  # no cell selected: the first column showing a blob is chosen
        dialog = pane.blob_export_dialog
        assert dialog is not None and "“data”" in dialog.windowTitle()
        dialog.folder.setText(str(out))
        dialog.pattern.setText("{label}{ext}")
        assert dialog.preview.text().splitlines()[:3] == ["a.pdf", "(NULL: no file)", "c_.._d.png"]
        job = dialog.start_export()
        assert job is not None
        await wait_for(lambda: dialog.result is not None, timeout=30, message="the export")
        assert dialog.result is not None and dialog.result.written == 2
    assert sorted(p.name for p in out.iterdir()) == ["a.pdf", "c_.._d.png"]
    assert (out / "a.pdf").read_bytes() == b"%PDF-1.4 one"
