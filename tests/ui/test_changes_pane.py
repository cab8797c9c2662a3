"""The Changes pane: two files, two generations, watch mode over a live writer; the folder untouched."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from PySide6.QtCore import Qt

from desktop_app.core.diff.change_rows import CellChange
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.models.table_model import RawValueRole
from desktop_app.ui.panes.changes.pane import ChangesPane
from desktop_app.ui.panes.changes.sides import Side
from tests.conftest import folder_state
from tests.ui.helpers import close_window, make_window, open_in, wait_for
from tests.wal_writer import start_writer, stop_writer

SCHEMA = (
    "CREATE TABLE messages(id INTEGER PRIMARY KEY, body TEXT, n);"
    "CREATE TABLE threads(id INTEGER PRIMARY KEY, t);"
)


def build(path: Path, script: str) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA + script)
    conn.commit()
    conn.close()
    return path


def cells(pane: ChangesPane) -> list[list[object]]:
    model = pane.model
    return [
        [model.data(model.index(r, c), RawValueRole) for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def loaded(pane: ChangesPane, rows: int) -> bool:
    """True when the grid has `rows` rows and every one of them is fetched (not a placeholder)."""
    model = pane.model
    return model.rowCount() == rows and all(model.is_loaded(row) for row in range(rows))


async def test_comparing_two_files_lists_tables_and_highlights_changed_cells(
    qtbot: object, tmp_path: Path
) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    a = build(
        folder / "before.db",
        "INSERT INTO messages VALUES (1, 'hi', 1), (2, 'gone', 2); INSERT INTO threads VALUES (1, 'x');",
    )
    b = build(
        folder / "after.db",
        "INSERT INTO messages VALUES (1, 'hello', 1), (3, 'new', 1.0); INSERT INTO threads VALUES (1, 'x');",
    )
    before = folder_state(folder)
    window = make_window(tmp_path)
    try:
        await open_in(window, a)
        pane = window.panes.changes
        window.show_pane(pane)
        other = pane.add_other_file(b)
        pane.choose(pane.side_a, Side("current"))
        pane.choose(pane.side_b, other)
        pane.compare_selected()
        await wait_for(lambda: pane.diff is not None, message="comparison")
        assert pane.summary.text().startswith("+1 row, −1 row, 1 changed in messages")
        assert [pane.tables.topLevelItem(i).text(0) for i in range(pane.tables.topLevelItemCount())] == [
            "messages"
        ]
        pane.select_table("messages")
        await wait_for(lambda: loaded(pane, 3), message="rows")
        rows = sorted(cells(pane), key=lambda r: str(r[1]))
        changed = next(r for r in rows if r[0] == "~ changed")
        assert changed[1:] == [1, CellChange("hi", "hello"), 1]
        index = pane.model.index([r[0] for r in cells(pane)].index("~ changed"), 2)
        assert pane.model.data(index, Qt.ItemDataRole.BackgroundRole) is not None
        assert pane.model.data(index) == "hi → hello"
        pane.kind.setCurrentText("Added")
        await wait_for(lambda: pane.model.rowCount() == 1, message="filter")
        pane.kind.setCurrentText("All changes")
        pane.filter.setText("gone")
        await wait_for(lambda: pane.model.rowCount() == 1, message="text filter")
        pane.filter.setText("")
        out = tmp_path / "exports"
        out.mkdir()
        pane.export_to(out / "changes.json")
        pane.export_to(out / "changes.csv")
        data = json.loads((out / "changes.json").read_text(encoding="utf-8"))
        assert data["table"] == "messages" and len(data["rows"]) == 3
        assert (out / "changes.csv").read_text(encoding="utf-8").splitlines()[0] == (
            "change,count,id (old),id (new),body (old),body (new),n (old),n (new)"
        )
        pane.grab().save(str(tmp_path / "changes_pane.png"))
    finally:
        await close_window(window)
    assert folder_state(folder) == before


async def test_two_generations_of_one_file_are_compared(qtbot: object, tmp_path: Path) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    path = build(
        folder / "app.db", "INSERT INTO messages VALUES (1, 'a', 1); INSERT INTO threads VALUES (1, 'x');"
    )
    window = make_window(tmp_path)
    try:
        await open_in(window, path)
        first = window.session.snapshot.generation  # type: ignore[union-attr]
        conn = sqlite3.connect(path)  # another program writes the file
        conn.executescript(
            "INSERT INTO messages VALUES (2, 'b', 2), (3, 'c', 3); UPDATE threads SET t = 'y';"
        )
        conn.close()
        state = folder_state(folder)
        window.reload()
        await wait_for(lambda: window.session.snapshot.generation != first and not window.session.busy)  # type: ignore[union-attr]
        pane = window.panes.changes
        assert [s.generation for s in window.context.history.snapshots] == [first]
        await wait_for(
            lambda: "comparing" not in pane.timeline_list.item(pane.timeline_list.count() - 1).text()
        )
        assert pane.timeline_list.item(1).text().endswith("+2 rows in messages; 1 changed in threads")
        pane.timeline_list.item(0).setSelected(True)
        pane.timeline_list.item(1).setSelected(True)
        pane.compare_timeline_selection()
        await wait_for(lambda: pane.diff is not None, message="comparison")
        assert {t.name: (t.added, t.removed, t.changed) for t in pane.diff.changed_tables} == {  # type: ignore[union-attr]
            "messages": (2, 0, 0),
            "threads": (0, 0, 1),
        }
    finally:
        await close_window(window)
    assert folder_state(folder) == state
    assert window.context.history.snapshots == []


async def test_generations_arriving_during_a_count_are_merged_into_the_newest_one(
    qtbot: object, tmp_path: Path, monkeypatch: object
) -> None:
    import threading

    from desktop_app.ui.panes.changes import pane as pane_module

    release, counted = threading.Event(), []
    real = pane_module.count_between

    def slow_count(a, b, cancel=None):  # type: ignore[no-untyped-def]
        counted.append((a.generation, b.generation))
        release.wait(60)
        return real(a, b, cancel)

    monkeypatch.setattr(pane_module, "count_between", slow_count)  # type: ignore[attr-defined]
    folder = tmp_path / "user"
    folder.mkdir()
    path = build(folder / "app.db", "INSERT INTO threads VALUES (1, 'x');")
    window = make_window(tmp_path)
    try:
        await open_in(window, path)
        pane = window.panes.changes
        generations = [window.session.snapshot.generation]  # type: ignore[union-attr]
        for n in range(3):  # three commits, each seen as its own generation while the first count waits
            conn = sqlite3.connect(path)
            conn.execute("INSERT INTO messages VALUES (?, 'm', ?)", (n, n))
            conn.commit()
            conn.close()
            window.reload()
            await wait_for(
                lambda: window.session.snapshot.generation != generations[-1] and not window.session.busy  # type: ignore[union-attr]
            )
            generations.append(window.session.snapshot.generation)  # type: ignore[union-attr]
        assert pane.counts_waiting == 2 and len(counted) == 1
        release.set()
        await wait_for(lambda: len(counted) == 2 and "comparing" not in pane.timeline_list.item(3).text())
        texts = [pane.timeline_list.item(i).text() for i in range(pane.timeline_list.count())]
    finally:
        release.set()
        await close_window(window)
    g = generations
    assert counted == [(g[0], g[1]), (g[1], g[3])]  # the middle one is in the second count, not its own
    assert texts[1].endswith("+1 row in messages")
    assert "merged into" in texts[2]
    assert texts[3].endswith("+2 rows in messages")
    assert pane.counts_waiting == 0


async def test_watch_mode_takes_a_snapshot_for_each_change_of_a_writer(qtbot: object, tmp_path: Path) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    path, stop = folder / "live.db", tmp_path / "stop"
    writer = start_writer(path, stop, rows=200)
    window = make_window(tmp_path)
    try:
        await open_in(window, path)
        pane = window.panes.changes
        pane.watch_box.setChecked(True)

        def watched() -> int:
            return sum(
                " in a;" in pane.timeline_list.item(i).text() for i in range(pane.timeline_list.count())
            )

        for _ in range(150):  # polled gently: the reloads run on the loop's worker threads meanwhile
            if watched() >= 2:
                break
            await asyncio.sleep(0.2)
        assert watched() >= 2
        texts = [pane.timeline_list.item(i).text() for i in range(pane.timeline_list.count())]
        assert texts[0].endswith("opened")
        counted = [t for t in texts[1:] if "comparing" not in t and "merged into" not in t]
        assert all(" in a" in t and " in b" in t for t in counted), texts
        assert pane.counts_waiting <= 1
        assert window.banner.isHidden()
        pane.watch_box.setChecked(False)
    finally:
        await close_window(window)
        committed = stop_writer(writer, stop)
    assert committed > 0
    assert sorted(p.name for p in folder.iterdir()) == ["live.db"]  # the writer's sidecars gone; none of ours


async def reload_and_wait(window: MainWindow, errors: list[str], what: str) -> None:
    """Reload and wait for the new generation (or an error), failing past a generous deadline."""
    before = window.session.snapshot.generation  # type: ignore[union-attr]
    window.reload()
    await wait_for(  # a reload takes well under a second here: only a hang reaches the deadline
        lambda: errors or (window.session.snapshot.generation != before and not window.session.busy),  # type: ignore[union-attr]
        timeout=60,
        message=what,
    )


async def test_reloads_while_a_writer_commits_without_pause_finish_in_both_journal_modes(
    qtbot: object, tmp_path: Path
) -> None:
    errors: list[str] = []
    for journal in ("wal", "delete"):
        folder = tmp_path / journal
        folder.mkdir()
        path, stop = folder / "live.db", tmp_path / f"stop-{journal}"
        writer = start_writer(path, stop, rows=500, journal=journal)
        window = make_window(tmp_path)
        window.session.open_failed.connect(lambda e: errors.append(e.message))
        try:
            await open_in(window, path)
            for _ in range(4):
                await reload_and_wait(window, errors, f"a reload ({journal})")
                assert errors == []
        finally:
            await close_window(window)
            committed = stop_writer(writer, stop)
        assert committed > 0
        assert sorted(p.name for p in folder.iterdir()) == ["live.db"]


async def test_stop_ends_a_comparison_with_a_message(qtbot: object, tmp_path: Path) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000) "
    a = build(folder / "a.db", rows + "INSERT INTO messages SELECT i, 'x', i FROM n;")
    b = build(folder / "b.db", rows + "INSERT INTO messages SELECT i, 'y', i FROM n;")
    window = make_window(tmp_path)
    try:
        await open_in(window, a)
        pane = window.panes.changes
        job = pane.compare(Side("current"), pane.add_other_file(b))
        pane.stop_button.click()
        await wait_for(lambda: job.done, message="stopped")
        assert pane.summary.text() == "Comparison stopped: Stopped."
        assert not pane.stop_button.isEnabled()
    finally:
        await close_window(window)
