"""UI tests run async tests on a qasync loop over the one QApplication (pytest-qt has no qasync support)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from desktop_app.ui.gui_thread_gc import collect_garbage_on_gui_thread


def _qasync_loop() -> qasync.QEventLoop:
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)  # closing a test's window must not stop the loop
    return qasync.QEventLoop(app)


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], object]]:
    """Every async test under tests/ui gets a fresh qasync loop."""
    return {"qasync": _qasync_loop}


@pytest.fixture(autouse=True, scope="package")
def garbage_collected_on_the_gui_thread() -> Iterator[None]:
    """As in the app: a pane or timer left in a reference cycle by one test must never be destroyed on a
    worker thread of the next (Qt then crashed the run when the timer fired)."""
    app = QApplication.instance() or QApplication([])
    collect_garbage_on_gui_thread(app)
    yield
    collect_garbage_on_gui_thread(app).stop()  # the one running now: CPython collects again after tests/ui


#: How long tasks a test leaves behind (a closing window's clean-up) may take to end after it.
LEFTOVER_TASK_GRACE_S = 10.0


@pytest.fixture(autouse=True)
async def no_task_left_running() -> AsyncIterator[None]:
    """A test ends with no task of its own still running: one cancelled later, by pytest-asyncio's loop
    teardown, in the middle of closing a pool, hung a CI run for two minutes instead of failing here."""
    yield
    me = asyncio.current_task()
    deadline = time.monotonic() + LEFTOVER_TASK_GRACE_S
    while left := [t for t in asyncio.all_tasks() if t is not me and not t.done()]:
        if time.monotonic() > deadline:
            pytest.fail("Tasks still running after the test: " + "; ".join(map(repr, left)))
        await asyncio.sleep(0.02)
