"""The SQL editor opens and saves `.sql` files: UTF-8 (BOM or not), atomically, never over the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.export import sql_files
from desktop_app.core.export.sql_files import SqlFileError, read_sql_file, save_sql_file
from tests.conftest import folder_state
from tests.ui.helpers import wait_for
from tests.ui.test_sql_pane import make_database, run, sql_pane, tabs


def test_sql_files_read_utf8_with_bom_and_refuse_other_text(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "bom.sql").write_bytes(b"\xef\xbb\xbfSELECT 'h\xc3\xa9';\r\nSELECT 2;\r\n")
    assert read_sql_file(tmp_path / "bom.sql") == "SELECT 'hé';\nSELECT 2;\n"
    (tmp_path / "latin1.sql").write_bytes(b"SELECT '\xe9';")
    with pytest.raises(SqlFileError, match=r"latin1.sql is not UTF-8 text \(at byte 8\)"):
        read_sql_file(tmp_path / "latin1.sql")
    monkeypatch.setattr(sql_files, "LIMITS", type(sql_files.LIMITS)(sql_file_max_bytes=4))
    with pytest.raises(SqlFileError, match="more than the editor opens"):
        read_sql_file(tmp_path / "bom.sql")


def test_saving_over_the_database_or_its_sidecar_is_refused(tmp_path: Path) -> None:
    db = make_database(tmp_path / "db.sqlite")
    before = folder_state(tmp_path)
    for target in (db, tmp_path / "db.sqlite-wal"):
        with pytest.raises(Exception, match="is the database being read"):
            save_sql_file(target, "SELECT 1;", source_path=db)
    assert folder_state(tmp_path) == before


async def test_open_run_edit_and_save_a_sql_file(qtbot: Any, tmp_path: Path) -> None:
    script = tmp_path / "queries.sql"
    script.write_text("SELECT count(*) FROM t;\n", encoding="utf-8")
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        assert pane.open_sql_file(script)
        assert pane.editor.sql() == "SELECT count(*) FROM t;\n" and pane.tabs.tabText(0) == "queries.sql"
        tab = (await run(pane, pane.editor.sql()))[0]
        assert tab.outcome is not None
        pane.editor.set_sql("SELECT 42;\n")
        assert pane.modified and pane.tabs.tabText(0) == "queries.sql*"
        pane.save()
        assert script.read_text(encoding="utf-8") == "SELECT 42;\n"
        assert not pane.modified and pane.tabs.tabText(0) == "queries.sql"
        assert pane.recent_sql_files() == [str(script)]
        pane._fill_recent()
        assert [a.text() for a in pane.recent_menu.actions()] == ["queries.sql"]
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []


def test_gui_takes_a_sql_file_to_open_in_the_editor() -> None:
    from desktop_app.app import build_parser

    assert build_parser().parse_args(["shop.db", "--sql", "report.sql"]).sql == "report.sql"


async def test_bind_parameters_are_asked_for_remembered_and_bound(qtbot: Any, tmp_path: Path) -> None:
    from desktop_app.core.sqlite.statements import bind_values, parameter_keys, parameters

    found = parameters("SELECT :n, @n, $who, ':x' -- :y\n")
    assert parameter_keys(found) == [":n", "@n", "$who"]
    assert parameter_keys(parameters("SELECT ?, ?, ?5")) == ["?1", "?2", "?5"]
    assert bind_values(parameters("SELECT ?, ?3"), {"?1": "7", "?3": "'it''s'"}) == (7, None, "it's")
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        pane.set_sql("SELECT id, name FROM t WHERE id >= :low AND name <> ?")
        assert pane.run_all() is None, "the form is asked first"
        dialog = pane.parameters_dialog
        assert dialog is not None and list(dialog.fields) == [":low", "?2"]  # numbered as SQLite does
        dialog.fields[":low"].setText("48")
        dialog.fields["?2"].setText("'name 49'")
        dialog.accept()
        await wait_for(lambda: not pane.running and pane.results.count() == 1, message="the bound run")
        tab = tabs(pane)[0]
        await wait_for(lambda: tab.model.is_loaded(0), message="rows")
        assert [tab.model.row_values(r) for r in range(tab.model.total_rows)] == [
            (48, "name 48"),
            (50, "name 50"),
        ]
        pane.run_all()
        again = pane.parameters_dialog
        assert again is not None and again.values() == {":low": "48", "?2": "'name 49'"}, "last values kept"
        again.reject()


async def test_history_is_kept_per_database_and_searchable(qtbot: Any, tmp_path: Path) -> None:
    async with sql_pane(qtbot, tmp_path, make_database(tmp_path / "db.sqlite")) as pane:
        pane.library.remember("SELECT 'elsewhere'", "/other/file.db")
        await run(pane, "SELECT 41")
        await run(pane, "SELECT 42")
        path = str(pane.context.database.snapshot.path)  # type: ignore[union-attr]
        assert pane.library.history(path) == ["SELECT 42", "SELECT 41"]
        assert pane.library.history()[:3] == ["SELECT 42", "SELECT 41", "SELECT 'elsewhere'"]
        buttons = pane.library_buttons
        buttons._fill_history()
        menu = buttons.history_menu
        labels = [a.text() for a in menu.actions() if a.text()]
        assert labels[:2] == ["SELECT 42", "SELECT 41"] and "SELECT 'elsewhere'" not in labels[:3]
        search = menu.actions()[0].defaultWidget()  # type: ignore[attr-defined]
        search.setText("41")
        assert [a.text() for a in menu.actions()[1:3] if a.isVisible()] == ["SELECT 41"]
        pane.library.clear_history(path)
        assert pane.library.history(path) == [] and "SELECT 'elsewhere'" in pane.library.history()
