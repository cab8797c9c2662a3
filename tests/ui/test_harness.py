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
