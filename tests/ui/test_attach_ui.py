"""File → Attach: another database as a read-only snapshot, in the tree, SQL and search; files untouched."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from desktop_app.ui.panes.sql.results import ErrorView
from desktop_app.ui.shell.attach_dialog import AttachDialog, suggested_schema_name
from tests.conftest import folder_state
from tests.ui.helpers import close_window, make_window, open_in, wait_for
from tests.ui.test_search_pane import run_search
from tests.ui.test_sql_pane import run


def user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "user"
    folder.mkdir()
    with sqlite3.connect(folder / "shop.db") as conn:
        conn.executescript(
            "CREATE TABLE artist(id INTEGER PRIMARY KEY, name); INSERT INTO artist VALUES (1,'Abba');"
        )
    conn.close()
    with sqlite3.connect(folder / "Ratings 2024.db") as conn:
        conn.executescript(
            "PRAGMA journal_mode=WAL; CREATE TABLE rating(artist_id, stars, note);"
            "INSERT INTO rating VALUES (1, 5, 'marvellous tune');"
        )
    conn.close()
    return folder


async def test_attached_database_shows_in_tree_joins_in_sql_and_is_searched(
    qtbot: Any, tmp_path: Path
) -> None:
    folder = user_folder(tmp_path)
    before = folder_state(folder)
    window = make_window(tmp_path)
    await open_in(window, folder / "shop.db")
    dialog = window.choose_attachment()
    assert isinstance(dialog, AttachDialog)
    dialog.set_path(str(folder / "Ratings 2024.db"))
    assert dialog.name_edit.text() == "ratings_2024"
    dialog.name_edit.setText("main")
    assert not dialog.attach_button.isEnabled() and "SQLite's own name" in dialog.problem.text()
    dialog.name_edit.setText("r")
    dialog.grab().save(str(tmp_path / "attach-dialog.png"))
    dialog.accept()
    await wait_for(
        lambda: "r" in window.schema_tree.attached_items(), timeout=20, message="attached in the tree"
    )
    group = window.schema_tree.attached_items()["r"]
    assert (group.text(0), group.text(1)) == ("r: Ratings 2024.db (1)", "attached")
    assert group.child(0).text(0) == "rating"

    sql = window.panes.sql
    tab = (await run(sql, "SELECT a.name, r.stars FROM main.artist a JOIN r.rating r ON r.artist_id = a.id"))[
        0
    ]
    await wait_for(lambda: tab.model.is_loaded(0), message="joined rows")
    assert tab.model.row_values(0) == ("Abba", 5)

    refused = (await run(sql, "INSERT INTO r.rating VALUES (2, 1, 'x')"))[0]
    assert isinstance(refused.custom_view, ErrorView) and "read-only" in refused.custom_view.message.text()
    search = window.panes.search
    await run_search(search, "marvellous")
    assert {(h.table, h.column) for h in search.results.all_hits()} == {("r.rating", "note")}

    window.detach_database("r")
    await wait_for(lambda: not window.schema_tree.attached_items(), message="detached")
    gone = (await run(sql, "SELECT * FROM r.rating"))[0]
    assert (
        isinstance(gone.custom_view, ErrorView)
        and "no such table: r.rating" in gone.custom_view.message.text()
    )
    await close_window(window)
    assert folder_state(folder) == before


def test_suggested_names_are_plain_unique_words() -> None:
    assert suggested_schema_name("/x/Ratings 2024.db", []) == "ratings_2024"
    assert suggested_schema_name("/x/2024.sqlite", ["db_2024"]) == "db_2024_2"
    assert suggested_schema_name("/x/main.db", []) == "main_2"
