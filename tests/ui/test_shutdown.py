"""Closing the window while work runs (a query, a CSV export, a search, the snapshot itself): the
work stops, nothing is left half-written, no task is destroyed while pending, and no thread lingers.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.export.csv_file import CsvOptions
from desktop_app.core.progress import Progress
from desktop_app.ui import session as session_module
from desktop_app.ui.export_actions import run_csv_export
from desktop_app.ui.main_window import MainWindow, wait_for_closing_windows
from tests.snapshot_limits import lower_snapshot_limits
from tests.ui.helpers import close_window, make_window, open_in, wait_for
from tests.ui.test_hostile_ui import watching

ENDLESS_ROWS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x, 'row ' || x FROM c"
RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
#: How long threads started by the window (aiosqlite workers, snapshot copies) may take to end.
THREAD_GRACE_S = 5.0


def build_database(path: Path, rows: int = 1000, blob_bytes: int = 0) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT, data BLOB)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, zeroblob(?))", [(i, f"value {i}", blob_bytes) for i in range(rows)]
    )
    conn.commit()
    conn.close()
    return path


async def threads_end(before: set[threading.Thread]) -> None:
    """Every thread started since `before` ends within THREAD_GRACE_S (the executor's idle pool aside)."""

    def lingering() -> list[str]:
        return [
            t.name
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith(("asyncio_", "ThreadPoolExecutor"))
        ]

    try:
        await wait_for(lambda: not lingering(), timeout=THREAD_GRACE_S, message="threads to end")
    except AssertionError:
        raise AssertionError(f"threads still running after close: {lingering()}") from None


async def close_while(
    window: MainWindow,
    start: Callable[[], object],
    running: Callable[[], bool],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Start work, wait until it runs, close the window, and check the shutdown was clean."""
    before = set(threading.enumerate())
    with watching(window) as troubles, caplog.at_level(logging.WARNING):
        start()
        try:
            await wait_for(running, message="the work to start")
            await asyncio.sleep(0.2)
            assert running(), "the work finished before the window closed"
        finally:  # an open window would keep aiosqlite's (non-daemon) threads, and the process, alive
            await asyncio.wait_for(close_window(window), 15)
        await wait_for_closing_windows()
        gc.collect()  # a task destroyed while pending is reported when collected
        await asyncio.sleep(0.1)
        await threads_end(before)
        troubles.check()
    assert "Task was destroyed but it is pending" not in caplog.text
    assert "Traceback" not in caplog.text
    assert not window.context.jobs.jobs
    assert window.session.snapshot is None


async def test_closing_during_a_running_query(
    qtbot: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    window = make_window(tmp_path)
    await open_in(window, build_database(tmp_path / "q.db"))
    sql = window.panes.get("sql")
    if sql is None:
        pytest.skip("the SQL pane is not there yet")
    window.show_sql(RUNAWAY)
    await close_while(window, sql.run_all, lambda: sql.running, caplog)  # type: ignore[attr-defined]
    assert not sql.running  # type: ignore[attr-defined]


async def test_closing_during_a_csv_export_leaves_no_file(
    qtbot: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    window = make_window(tmp_path)
    await open_in(window, build_database(tmp_path / "e.db"))
    out = tmp_path / "out"
    out.mkdir()
    jobs: list[object] = []

    def start() -> None:
        jobs.append(
            run_csv_export(window.context, ENDLESS_ROWS, str(out / "endless.csv"), CsvOptions(), total_rows=1)
        )

    def exporting() -> bool:
        return bool(jobs) and bool(window.context.jobs.jobs) and any(out.iterdir())

    await close_while(window, start, exporting, caplog)
    assert list(out.iterdir()) == []  # neither the target nor the hidden .part file


async def test_closing_during_a_search(
    qtbot: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    window = make_window(tmp_path)
    await open_in(window, build_database(tmp_path / "s.db", rows=300_000))
    search = window.panes.get("search")
    if search is None:
        pytest.skip("the Search pane is not there yet")
    window.show_pane(search)

    def start() -> None:
        search.checks["regex"].setChecked(True)  # type: ignore[attr-defined]  # no index: a scan of every row
        search.query.setText("no such text [0-9]+ anywhere")  # type: ignore[attr-defined]
        search.search_now()  # type: ignore[attr-defined]

    await close_while(window, start, lambda: search.searching, caplog)  # type: ignore[attr-defined]


async def test_closing_while_the_snapshot_is_taken(
    qtbot: object, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One page per backup step, each a little slowed: the copy is still running when the window closes.
    lower_snapshot_limits(monkeypatch, backup_pages_per_step=1)
    real_open = session_module.open_snapshot

    def slow_open(path: Path, **kwargs: Any) -> object:
        report = kwargs.pop("progress")

        def progress(done: Progress) -> None:
            time.sleep(0.002)
            report(done)

        return real_open(path, progress=progress, **kwargs)

    monkeypatch.setattr(session_module, "open_snapshot", slow_open)
    path = build_database(tmp_path / "big.db", rows=400, blob_bytes=16 << 10)
    window = make_window(tmp_path)
    opened: list[str] = []
    window.session.opened.connect(lambda: opened.append("opened"))
    await close_while(window, lambda: window.open_path(path), lambda: window.session.busy, caplog)
    assert window.stack.currentIndex() == 0 and not opened


# Found by test_shutdown: an open cancelled while its catalog was read still finished and was adopted
# after shutdown began, leaving aiosqlite threads behind (now the job drops a cancelled result).
async def test_closing_while_the_catalog_is_read(
    qtbot: object, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    reading, release = threading.Event(), threading.Event()
    released: list[asyncio.TimerHandle] = []
    held_when_checked: list[bool] = []
    real_read = session_module.read_catalog

    def held_read(conn: sqlite3.Connection) -> object:
        reading.set()
        release.wait(5)
        return real_read(conn)

    monkeypatch.setattr(session_module, "read_catalog", held_read)
    window = make_window(tmp_path)
    opened: list[str] = []
    window.session.opened.connect(lambda: opened.append("opened"))

    def start() -> None:
        window.open_path(build_database(tmp_path / "c.db", rows=10))

    def reading_catalog() -> bool:
        if reading.is_set() and not released:
            # close_while closes the window 0.2 s after this: the read ends while the window closes
            released.append(asyncio.get_running_loop().call_later(0.3, release.set))
        held_when_checked.append(not release.is_set())
        return reading.is_set()

    await close_while(window, start, reading_catalog, caplog)
    assert not opened and held_when_checked[-1]  # the read was still held when the window closed


async def test_the_window_and_its_owner_share_one_shutdown(qtbot: object, tmp_path: Path) -> None:
    """Closing the window starts the shutdown; whoever also awaits it returns only when all of it is done
    (a second, early-returning shutdown left the first disposing the pool after a test had ended)."""
    window = make_window(tmp_path)
    await open_in(window, build_database(tmp_path / "data.db"))
    window.close()
    await window.session.shutdown()
    for _ in range(3):  # the window's own waiter resumes on the next turns of the loop
        await asyncio.sleep(0)
    me = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not me and not t.done()] == []
    assert window.context.database is None or window.context.database.closed
