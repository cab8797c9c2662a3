"""Closing a window while an open, an attach or a comparison is mid-flight: the window's own shutdown
stops and awaits its jobs and closes every connection it opened, even one being opened at that moment.

Each case closes at a different point of the job, many times over (`ITERATIONS`); after each close only
the product's shutdown (`wait_for_closing_windows`) is awaited, never the jobs themselves, and no
connection of that window may still be open.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop_app.core.database import _OPEN_CONNECTIONS
from desktop_app.ui.main_window import MainWindow, wait_for_closing_windows
from desktop_app.ui.widgets.open_dialogs import MemberDialog
from tests.conftest import folder_state
from tests.ui.helpers import make_window, open_in, wait_for

ITERATIONS = 20
#: Steps of the loop (each a few ms) between starting the job and closing: spread over the job's phases.
DELAYS = (0, 1, 2, 3, 5, 8)


def build(path: Path, rows: int) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, w TEXT)")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"row {i}",) for i in range(rows)])
    conn.executemany("INSERT INTO u (w) VALUES (?)", [(f"w {i}",) for i in range(rows)])
    conn.commit()
    conn.close()
    return path


def open_connections() -> list[object]:
    return [c for c in list(_OPEN_CONNECTIONS) if c._connection is not None]


async def close_mid_flight(window: MainWindow, iteration: int) -> None:
    """Let the job run a little (more each iteration), then close the window and await only its shutdown."""
    for _ in range(DELAYS[iteration % len(DELAYS)]):
        await asyncio.sleep(0.003)
    window.close()
    await wait_for_closing_windows()
    assert not window.context.jobs.jobs, "a job outlived its window"
    database = window.context.database
    assert (database is None or database.closed) and window.session.snapshot is None
    assert open_connections() == [], f"iteration {iteration}: a connection outlived its window"
    # Nothing left for the test's teardown to cancel (a task cancelled there mid-statement once hung CI).
    await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert left == [], f"iteration {iteration}: tasks outlived the window: {left}"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "user"
    made.mkdir()
    build(made / "a.db", 3000)
    build(made / "b.db", 3500)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("one.db", (made / "a.db").read_bytes())
        archive.writestr("two.db", (made / "b.db").read_bytes())
    (made / "two.zip").write_bytes(buffer.getvalue())
    return made


async def repeat(
    folder: Path, tmp_path: Path, start: Callable[[MainWindow], object], needs_open: bool
) -> None:
    before = folder_state(folder)
    assert open_connections() == []
    for iteration in range(ITERATIONS):
        window = make_window(tmp_path)
        if needs_open:
            await open_in(window, folder / "a.db")
        result = start(window)
        if asyncio.iscoroutine(result):
            await result
        await close_mid_flight(window, iteration)
    assert folder_state(folder) == before


async def test_closing_while_a_file_opens(qtbot: object, folder: Path, tmp_path: Path) -> None:
    await repeat(folder, tmp_path, lambda w: w.open_path(folder / "a.db"), needs_open=False)


async def test_closing_while_a_member_chosen_in_an_archive_opens(
    qtbot: object, folder: Path, tmp_path: Path
) -> None:
    async def choose(window: MainWindow) -> None:
        window.open_path(folder / "two.zip")
        await wait_for(lambda: isinstance(window.open_dialog, MemberDialog), message="member chooser")
        dialog = window.open_dialog
        assert isinstance(dialog, MemberDialog)
        dialog.accept()

    await repeat(folder, tmp_path, choose, needs_open=False)


async def test_closing_while_a_database_is_attached(qtbot: object, folder: Path, tmp_path: Path) -> None:
    await repeat(folder, tmp_path, lambda w: w.attach_database("b", str(folder / "b.db")), needs_open=True)


async def test_closing_while_two_files_are_compared(qtbot: object, folder: Path, tmp_path: Path) -> None:
    def compare(window: MainWindow) -> None:
        pane = window.panes.changes
        pane.compare(pane.add_other_file(folder / "b.db"), pane._sides()[0])

    await repeat(folder, tmp_path, compare, needs_open=True)
