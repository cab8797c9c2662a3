"""Every long job shows in the status bar with Stop, Esc stops the focused pane's job, and no busy cursor."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop_app.core.errors import Cancelled
from desktop_app.ui.job_center import Job, JobCenter
from desktop_app.ui.shell.job_status import SHOW_AFTER_S, JobStatus
from tests.fixtures import build_edge_case_database
from tests.ui.helpers import close_window, make_window, open_in, wait_for

DESKTOP_APP = Path(__file__).resolve().parents[2] / "desktop_app"


async def until_stopped(job: Job) -> None:
    """A job that runs until it is stopped, as a long query does."""
    while not job.cancel_token.cancelled:
        await asyncio.sleep(0.01)
    raise Cancelled()


def aged(job: Job, seconds: float) -> Job:
    """`job` as if started `seconds` ago (no waiting in tests)."""
    job.started -= seconds
    return job


async def test_a_job_shows_after_a_second_with_its_progress_and_stop(qtbot: object) -> None:
    jobs = JobCenter()
    status = JobStatus(jobs)
    quick = jobs.start("Counting", until_stopped)
    status._refresh()
    assert status.isHidden() and status.current() is None
    aged(quick, SHOW_AFTER_S + 0.5)
    status._refresh()
    assert status.current() is quick
    assert not status.isHidden()
    assert re.fullmatch(r"Counting… 1\.\d s", status.label.text())
    status.stop.click()
    assert quick.cancel_token.cancelled
    await wait_for(lambda: not jobs.jobs, message="the job to end")
    assert status.current() is None


async def test_the_longest_running_job_is_shown_and_the_menu_stops_all(qtbot: object) -> None:
    jobs = JobCenter()
    status = JobStatus(jobs)
    newer = aged(jobs.start("Searching", until_stopped), 2)
    older = aged(jobs.start("Exporting rows", until_stopped), 5)
    hidden = aged(jobs.start("Reading blob", until_stopped, show=False), 9)  # its pane shows it
    status._refresh()
    assert status.current() is older
    assert status.label.text().startswith("Exporting rows… ") and status.label.text().endswith("(+1 more)")
    assert status.stop.menu() is status.stop_menu
    status._fill_menu()
    texts = [action.text() for action in status.stop_menu.actions() if action.text()]
    assert texts == ["Stop exporting rows", "Stop searching", "Stop all"]
    status.stop_menu.actions()[-1].trigger()
    assert older.cancel_token.cancelled and newer.cancel_token.cancelled
    assert not hidden.cancel_token.cancelled
    hidden.cancel()
    await wait_for(lambda: not jobs.jobs, message="the jobs to end")


def test_the_program_never_sets_a_busy_cursor_without_a_stop() -> None:
    # A busy cursor over the whole application hides the Stop button's meaning; long work is a job instead.
    pattern = re.compile(r"setOverrideCursor|WaitCursor")
    found = [
        f"{path.relative_to(DESKTOP_APP)}:{n}"
        for path in DESKTOP_APP.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert found == []


async def test_escape_stops_the_job_of_the_pane_with_focus_only(qtbot: object, tmp_path: Path) -> None:
    window = make_window(tmp_path)
    try:
        await open_in(window, build_edge_case_database(tmp_path / "edge.db"))
        search, browse = window.panes.search, window.panes.browse
        window.show_pane(search)
        await wait_for(lambda: not window.context.jobs.jobs, message="the panes' first reads")
        assert not window.stop_action.isEnabled()  # nothing runs: Esc stays with the focused widget
        search_job = window.context.jobs.start("Searching", until_stopped, owner=search, show=False)
        opening = window.context.jobs.start("Exporting", until_stopped)  # the window's own job
        assert window.stop_action.isEnabled()
        # Focus in Browse: the search goes on; Browse runs nothing, so Esc stops the window's own job.
        window.show_pane(browse)
        window.activateWindow()
        browse.view.setFocus()
        await wait_for(lambda: QApplication.focusWidget() is browse.view, message="focus in Browse")
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
        assert opening.cancel_token.cancelled and not search_job.cancel_token.cancelled
        # Focus in the search pane: Ctrl+. stops its job.
        window.show_pane(search)
        search.query.setFocus()
        await wait_for(lambda: QApplication.focusWidget() is search.query, message="focus in Search")
        assert window.focused_pane() is search
        QTest.keyClick(search.query, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
        assert search_job.cancel_token.cancelled
        await wait_for(lambda: not window.stop_action.isEnabled(), message="Esc given back")
    finally:
        await close_window(window)


async def test_escape_without_focus_stops_the_job_of_the_pane_in_front(qtbot: object, tmp_path: Path) -> None:
    window = make_window(tmp_path)
    try:
        await open_in(window, build_edge_case_database(tmp_path / "edge.db"))
        structure = window.panes.structure
        window.show_pane(structure)
        await wait_for(lambda: not window.context.jobs.jobs, message="the pane's first reads")
        job = window.context.jobs.start("Checking", until_stopped, owner=structure, show=False)
        window.setFocus()  # the window itself, in no pane
        assert window.focused_pane() is structure
        assert window.stop_focused_job() == [job] and job.cancel_token.cancelled
    finally:
        await close_window(window)
