"""Reference cycles holding Qt objects are collected on the GUI thread, never on a worker thread."""

from __future__ import annotations

import asyncio
import gc
import threading

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop_app.ui.gui_thread_gc import GuiThreadCollector, collect_garbage_on_gui_thread
from tests.ui.helpers import wait_for


class _CycleWithTimer:
    """A running timer kept alive only by a reference cycle, as a closed pane's could be."""

    def __init__(self, collected_on: list[int]) -> None:
        self.me = self
        self.collected_on = collected_on
        self.timer = QTimer()
        self.timer.start(60_000)

    def __del__(self) -> None:
        self.collected_on.append(threading.get_ident())


def _allocate_containers() -> list[list[int]]:
    """Far more new containers than the collector's first threshold: CPython would collect here."""
    return [[index] for index in range(10 * gc.get_threshold()[0])]


async def test_a_cycle_with_a_running_timer_is_collected_on_the_gui_thread_while_workers_allocate() -> None:
    collect_garbage_on_gui_thread(QApplication.instance() or QApplication([]))
    collected_on: list[int] = []
    _CycleWithTimer(collected_on)
    kept = [await asyncio.to_thread(_allocate_containers) for _ in range(4)]
    await wait_for(lambda: collected_on, message="the cycle to be collected")
    assert collected_on == [threading.main_thread().ident]
    assert len(kept) == 4


def test_stopping_gives_automatic_collection_back() -> None:
    app = QApplication.instance() or QApplication([])
    running = collect_garbage_on_gui_thread(app)
    running.stop()
    assert gc.isenabled()
    collector = collect_garbage_on_gui_thread(app)
    assert collector is not running and isinstance(collector, GuiThreadCollector)
    assert not gc.isenabled()
