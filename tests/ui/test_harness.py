"""The UI test harness itself: async tests run on a qasync loop that drives Qt."""

from __future__ import annotations

import asyncio

import qasync
from PySide6.QtCore import QTimer


async def test_async_test_runs_on_qasync_loop() -> None:
    assert isinstance(asyncio.get_running_loop(), qasync.QEventLoop)


async def test_qt_timers_fire_while_awaiting() -> None:
    fired: list[int] = []
    QTimer.singleShot(10, lambda: fired.append(1))
    await asyncio.sleep(0.1)
    assert fired == [1]


async def test_a_bug_in_a_completion_callback_is_reported_not_lost(qtbot: object) -> None:
    from desktop_app.ui.job_center import JobCenter

    center = JobCenter()
    reported: list[str] = []
    center.unexpected_error.connect(lambda message, _path: reported.append(message))

    async def work(_job: object) -> int:
        return 1

    def broken(_result: object) -> None:
        raise RuntimeError("bug in a callback")

    job = center.start("Testing", work, on_done=broken)
    await asyncio.wait([job.task])  # type: ignore[list-item]
    assert reported == ["Something went wrong while testing."]
