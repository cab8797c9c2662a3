"""Hidden panes catch up when shown: a new generation refreshes the pane in front at once, the others
when they are shown (watch mode takes several generations a second)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop_app.ui.main_window import MainWindow
from tests.ui.helpers import close_window, make_window, open_in, wait_for
from tests.ui.test_browse import column_values, settle


def picker_names(window: MainWindow) -> list[str]:
    picker = window.panes.browse.picker
    return [picker.itemData(i) for i in range(picker.count())]


async def reload_and_wait(window: MainWindow) -> None:
    before = window.session.snapshot.generation  # type: ignore[union-attr]
    window.reload()
    await wait_for(
        lambda: (
            window.session.snapshot is not None
            and window.session.snapshot.generation > before
            and not window.session.busy
        ),
        message="reload",
    )


async def test_a_hidden_pane_keeps_its_generation_until_shown_then_shows_the_new_one(
    qtbot: object, tmp_path: Path
) -> None:
    path = tmp_path / "live.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
    conn.commit()
    window = make_window(tmp_path)
    await open_in(window, path)
    browse, changes = window.panes.browse, window.panes.changes
    window.browse_table("t")
    await settle(browse)
    window.show_pane(window.panes.sql)
    conn.execute("INSERT INTO t VALUES (3)")
    conn.execute("CREATE TABLE u (y)")
    conn.commit()
    conn.close()

    await reload_and_wait(window)
    assert browse.refresher.stale and picker_names(window) == ["t"]  # not refreshed: it is not seen
    assert column_values(browse, "x") == [1, 2]
    assert not window.panes.sql.refresher.stale  # the pane in front refreshed at once
    assert not changes.refresher.stale and len(changes.timeline) == 2  # the timeline hears every one

    window.show_pane(browse)
    assert not browse.refresher.stale and picker_names(window) == ["t", "u"]
    await settle(browse)
    assert browse.table is not None and browse.table.name == "t"  # the place kept across the reload
    assert column_values(browse, "x") == [1, 2, 3]
    await close_window(window)


async def test_a_stale_pane_asked_to_show_something_catches_up_first(qtbot: object, tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    window = make_window(tmp_path)
    await open_in(window, path)
    window.show_pane(window.panes.sql)
    conn.execute("CREATE TABLE u (y)")
    conn.execute("INSERT INTO u VALUES ('new')")
    conn.commit()
    conn.close()

    await reload_and_wait(window)
    browse = window.panes.browse
    assert browse.refresher.stale
    window.open_row("u", {})  # a cross-pane request (a table clicked in the diagram)
    assert not browse.refresher.stale and "u" in picker_names(window)
    await settle(browse)
    assert browse.table is not None and browse.table.name == "u"
    assert column_values(browse, "y") == ["new"]
    await close_window(window)
