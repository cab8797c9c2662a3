"""The window a user sees: opening, the schema tree, errors as messages, reload that keeps your place."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_app.core.snapshot.snapshot import SnapshotMode
from desktop_app.ui.main_window import WINDOWS
from tests.conftest import folder_state
from tests.fixtures import one_empty_table_database
from tests.ui.helpers import close_window, make_window, open_in, wait_for


def tree_names(window: object) -> set[str]:
    tree = window.schema_tree.tree  # type: ignore[attr-defined]
    names = set()
    for i in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(i)
        for j in range(group.childCount()):
            names.add(group.child(j).text(0))
    return names


def open_message_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


async def test_tree_lists_chinook_objects(qtbot: object, corpus: Path, tmp_path: Path) -> None:
    window = make_window(tmp_path)
    await open_in(window, corpus / "chinook" / "Chinook_Sqlite.sqlite")
    names = tree_names(window)
    assert {"Album", "Artist", "Track", "InvoiceLine", "PlaylistTrack"} <= names
    assert "chinook" in window.windowTitle().lower() and "snapshot" in window.windowTitle()
    await wait_for(lambda: window.schema_tree._table_items["Track"].text(1) == "3,503", message="row count")
    await close_window(window)


async def test_tree_lists_northwind_views_and_geopackage_triggers(
    qtbot: object, corpus: Path, tmp_path: Path
) -> None:
    window = make_window(tmp_path)
    await open_in(window, corpus / "northwind" / "northwind.db")
    assert {"Order Details", "Invoices", "Alphabetical list of products"} <= tree_names(window)
    await close_window(window)
    window = make_window(tmp_path)
    await open_in(window, corpus / "geopackage" / "gdal_sample.gpkg")
    names = tree_names(window)
    assert "gpkg_contents" in names and "rtree_point2d_geom" in names
    assert "rtree_point2d_geom_node" not in names  # shadow tables hidden by default
    window.schema_tree.show_hidden.setChecked(True)
    assert "rtree_point2d_geom_node" in tree_names(window)
    assert len(window.context.catalog.triggers) == 90  # type: ignore[union-attr]
    await close_window(window)


async def test_tree_filter_hides_non_matching_tables(qtbot: object, corpus: Path, tmp_path: Path) -> None:
    window = make_window(tmp_path)
    await open_in(window, corpus / "chinook" / "Chinook_Sqlite.sqlite")
    window.schema_tree.filter.setText("invoice")
    tree = window.schema_tree.tree
    visible = {
        tree.topLevelItem(0).child(j).text(0)
        for j in range(tree.topLevelItem(0).childCount())
        if not tree.topLevelItem(0).child(j).isHidden()
    }
    assert visible == {"Invoice", "InvoiceLine"}
    await close_window(window)


async def test_corrupt_file_shows_a_message_and_the_app_stays_usable(
    qtbot: object, corpus: Path, tmp_path: Path
) -> None:
    window = make_window(tmp_path)
    window.open_path(corpus / "mbtiles" / "corrupt.mbtiles")
    await wait_for(lambda: bool(open_message_boxes()), message="error box")
    box = open_message_boxes()[0]
    assert "damaged" in box.text() and "Traceback" not in box.text()
    box.close()
    assert window.stack.currentIndex() == 0  # still the start page
    await open_in(window, corpus / "chinook" / "Chinook_Sqlite.sqlite")
    await close_window(window)


async def test_wal_file_opens_with_newest_rows_and_folder_untouched(
    qtbot: object, corpus: Path, tmp_path: Path
) -> None:
    folder = corpus / "plaso"
    before = folder_state(folder)
    window = make_window(tmp_path)
    await open_in(window, folder / "wal_database.db")
    result = await window.context.database.execute("SELECT count(*) FROM MyTable")  # type: ignore[union-attr]
    assert result.rows == [(11,)]
    await close_window(window)
    assert folder_state(folder) == before


async def test_change_on_disk_shows_banner_and_reload_keeps_generation_moving(
    qtbot: object, tmp_path: Path
) -> None:
    path = tmp_path / "live.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    window = make_window(tmp_path)
    await open_in(window, path)
    first_generation = window.session.snapshot.generation  # type: ignore[union-attr]
    conn.execute("INSERT INTO t VALUES (2)")
    conn.commit()
    conn.close()
    window.session._check_source()
    assert window.banner.isVisible() and "changed on disk" in window.banner.label.text()
    window.reload()
    await wait_for(
        lambda: window.session.snapshot is not None and window.session.snapshot.generation > first_generation,
        message="reload",
    )
    result = await window.context.database.execute("SELECT count(*) FROM t")  # type: ignore[union-attr]
    assert result.rows == [(2,)] and not window.banner.isVisible()
    await close_window(window)


async def test_banner_waits_for_a_real_commit_and_moves_nothing_when_it_appears(
    qtbot: object, tmp_path: Path
) -> None:
    path = tmp_path / "live.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(100)])
    conn.commit()
    window = make_window(tmp_path)
    await open_in(window, path)
    grid = window.panes["browse"]
    where = grid.mapTo(window, grid.rect().topLeft()), grid.size()
    # Another reader touching the file or leaving empty sidecars is no change.
    os.utime(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").touch()
    window.session._check_source()
    assert not window.banner.isVisible()
    conn.execute("INSERT INTO t VALUES (100)")
    conn.commit()
    conn.close()
    window.session._check_source()
    assert window.banner.isVisible() and "changed on disk" in window.banner.label.text()
    await asyncio.sleep(0.05)
    assert (grid.mapTo(window, grid.rect().topLeft()), grid.size()) == where
    central = window.centralWidget()
    assert window.banner.parent() is central and central.rect().contains(window.banner.geometry())
    window.resize(700, 500)
    await asyncio.sleep(0.05)
    assert central.rect().contains(window.banner.geometry())  # it follows the window's size
    await close_window(window)


async def test_deleted_file_keeps_the_snapshot_working(qtbot: object, tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (42)")
    conn.commit()
    conn.close()
    window = make_window(tmp_path)
    await open_in(window, path)
    path.unlink()
    window.session._check_source()
    assert "deleted or moved" in window.banner.label.text()
    result = await window.context.database.execute("SELECT x FROM t")  # type: ignore[union-attr]
    assert result.rows == [(42,)]
    await close_window(window)


async def test_recent_files_remember_and_grey_missing(qtbot: object, tmp_path: Path, corpus: Path) -> None:
    window = make_window(tmp_path)
    await open_in(window, corpus / "chinook" / "Chinook_Sqlite.sqlite")
    window.close_database()
    assert window.stack.currentIndex() == 0
    missing = str(tmp_path / "missing.db")
    window.settings.setValue("recent_files", [*window._recent(), missing])
    window._refresh_recent()
    texts = [window.start_page.recent.item(i).text() for i in range(window.start_page.recent.count())]
    assert texts[0].endswith("Chinook_Sqlite.sqlite") and texts[1].endswith("(missing)")
    await close_window(window)


async def test_dropping_a_file_opens_it(qtbot: object, corpus: Path, tmp_path: Path) -> None:
    window = make_window(tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(corpus / "world" / "world.db"))])
    event = QDropEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    await wait_for(lambda: window.session.snapshot is not None, message="drop open")
    assert window.session.snapshot.path.name == "world.db"  # type: ignore[union-attr]
    await close_window(window)


async def test_second_file_opens_in_a_new_window(qtbot: object, corpus: Path, tmp_path: Path) -> None:
    window = make_window(tmp_path)
    await open_in(window, corpus / "chinook" / "Chinook_Sqlite.sqlite")
    window.open_path(corpus / "world" / "world.db")
    others = [w for w in WINDOWS if w is not window]
    assert others
    await wait_for(lambda: others[-1].session.snapshot is not None, message="second window")
    assert window.session.snapshot.path.name == "Chinook_Sqlite.sqlite"  # type: ignore[union-attr]
    for other in others:
        await close_window(other)
    await close_window(window)


async def test_direct_mode_is_shown_in_the_title(qtbot: object, tmp_path: Path, monkeypatch: object) -> None:
    from desktop_app.core.snapshot import memory_copy

    monkeypatch.setattr(memory_copy, "memdb_cap", lambda: 10)  # type: ignore[attr-defined]
    path = tmp_path / "d.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    window = make_window(tmp_path)
    await open_in(window, path)
    assert window.session.snapshot.mode is SnapshotMode.DIRECT  # type: ignore[union-attr]
    assert "direct read-only" in window.windowTitle() and window.banner.isVisible()
    await close_window(window)


async def test_exporting_a_table_from_the_tree_writes_every_row(
    qtbot: object, corpus: Path, tmp_path: Path
) -> None:
    import csv

    from desktop_app.ui.widgets.export_dialog import ExportDialog

    window = make_window(tmp_path)
    await open_in(window, corpus / "northwind" / "northwind.db")
    window.schema_tree.export_requested.emit("Order Details")
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, ExportDialog) and w.isVisible()]
    assert dialogs, "the export options dialog opens"
    dialog = dialogs[0]
    target = tmp_path / "order details.csv"
    dialog.path_edit.setText(str(target))  # type: ignore[attr-defined]
    dialog.accept()
    await wait_for(lambda: target.exists(), timeout=20, message="export file")
    with target.open(newline="", encoding="utf-8-sig") as handle:
        assert len(list(csv.reader(handle))) == 2155 + 1
    await close_window(window)


async def test_table_asked_for_at_start_is_shown_in_browse(
    qtbot: object, corpus: Path, tmp_path: Path
) -> None:
    window = make_window(tmp_path)
    window.open_path(corpus / "chinook" / "Chinook_Sqlite.sqlite", table="invoiceline")
    browse = window.panes["browse"]
    await wait_for(lambda: getattr(browse, "table", None) is not None, message="a table in Browse")
    assert browse.table.name == "InvoiceLine"  # type: ignore[attr-defined]
    assert window.tabs.currentWidget() is browse
    assert not open_message_boxes()
    await close_window(window)


async def test_demo_opens_on_its_events_table_as_the_readme_screenshot_shows(
    qtbot: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.core.demo import database as demo

    small = tmp_path / "demo.sqlite3"
    demo.build_demo_database(small, rows=500)
    monkeypatch.setattr(demo, "ensure_demo_database", lambda **_kwargs: small)
    window = make_window(tmp_path)
    window.open_demo()
    browse = window.panes["browse"]
    await wait_for(lambda: getattr(browse, "table", None) is not None, message="a table in Browse")
    assert browse.table.name == "events"  # type: ignore[attr-defined]
    assert window.tabs.currentWidget() is browse
    await close_window(window)


async def test_unknown_table_at_start_says_so_and_shows_the_first_table(
    qtbot: object, corpus: Path, tmp_path: Path
) -> None:
    window = make_window(tmp_path)
    window.open_path(corpus / "chinook" / "Chinook_Sqlite.sqlite", table="Nope\u202e")
    browse = window.panes["browse"]
    await wait_for(lambda: open_message_boxes(), message="the message")
    text = open_message_boxes()[0].text()
    assert "has no table or view “Nope⟨U+202E⟩”" in text and "Album" in text
    await wait_for(lambda: getattr(browse, "table", None) is not None, message="a table in Browse")
    assert browse.table.name == "Album"  # type: ignore[attr-defined]
    for box in open_message_boxes():
        box.close()
    await close_window(window)


def test_table_option_needs_a_file(capsys: object) -> None:
    import pytest

    from desktop_app.app import main

    with pytest.raises(SystemExit) as exited:
        main(["--table", "Track"])
    assert exited.value.code == 2
    assert "--table needs a FILE" in capsys.readouterr().err  # type: ignore[attr-defined]


async def test_a_file_already_open_brings_its_window_forward_instead_of_a_duplicate(
    qtbot: object, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()
    path = one_empty_table_database(tmp_path / "data" / "one.db")
    (tmp_path / "link.db").symlink_to(path)
    first, second = make_window(tmp_path), make_window(tmp_path)
    await open_in(first, path)
    windows = list(WINDOWS)
    recent = next(a for a in second.recent_menu.actions() if a.text() == str(path))
    recent.trigger()  # Open Recent, from another window
    second.open_path(tmp_path / "data" / ".." / "link.db")  # File → Open, by another spelling of the path
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(
        QPoint(1, 1), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    first.dropEvent(drop)  # dropped on the window that shows it
    assert windows == WINDOWS and second.session.snapshot is None and not second.session.busy
    assert first.statusBar().currentMessage() == "“one.db” is already open in this window."
    await close_window(second)
    await close_window(first)
