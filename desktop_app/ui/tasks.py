"""Fire-and-forget coroutines a widget starts (loading names, copying a selection), kept until they end."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


class Tasks:
    """The asyncio tasks one widget has running: a strong reference each, so none is collected mid-way."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    def spawn(self, coroutine: Awaitable[Any]) -> None:
        """Run `coroutine` as a task, forgotten once it ends."""
        task = asyncio.ensure_future(coroutine)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def wait(self, timeout: float) -> None:
        """Wait until every running task has ended (at most `timeout` seconds)."""
        if self._running:
            await asyncio.wait(list(self._running), timeout=timeout)
