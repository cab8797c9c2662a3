"""Streaming a core search from its worker thread to the UI thread, a bounded amount per turn.

The core's `search` is a synchronous generator: `drive_search` runs it to the end in a worker thread
(inside `Database.run_sync`, on one pooled connection) and hands each event to an `EventPipe`, which
delivers them on the UI thread in turns of at most HITS_PER_TURN hits.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable

from desktop_app.core.progress import CancelToken, ProgressCallback
from desktop_app.core.search import HitBatch, SearchEvent, SearchIndex, SearchOptions, search

#: Hits added to the results per turn of the event loop (~5 ms of work; more wait for the next turn).
#: 500 showed all of a keystroke's 1,000 hits sooner (45–67 ms against 62–67 in the same hour) but let the
#: largest stall while typing reach 30.7 and 32.2 ms in two of seven runs (250: 20.6–27.2 ms in six).
HITS_PER_TURN = 250
#: Longest a search waits for the UI to show its last hits before it goes on anyway.
SHOW_WAIT_S = 0.25


class EventPipe:
    """Hands search events from the worker thread to the UI thread, at most HITS_PER_TURN hits a turn.

    The worker waits (`wait_until_shown`) after each batch of hits until the UI has shown them. Both
    sides run Python: while the worker makes snippets, every call the UI thread makes into Qt waits for
    the GIL (measured: 1,000 hits took 25-50 ms to show, and painting as long again); taking turns keeps
    each UI turn short.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[list[SearchEvent]], None]) -> None:
        self._loop = loop
        self._deliver = deliver
        self._lock = threading.Lock()
        self._events: list[SearchEvent] = []
        self._scheduled = False
        self._shown = threading.Event()
        self._shown.set()

    def put(self, event: SearchEvent) -> None:
        """Queue `event` (worker thread); one wake-up for everything queued meanwhile."""
        with self._lock:
            self._events.append(event)
            self._shown.clear()
            if self._scheduled:
                return
            self._scheduled = True
        self._loop.call_soon_threadsafe(self.flush)

    def wait_until_shown(self, timeout: float = SHOW_WAIT_S) -> None:
        """Block the worker until everything queued is on screen (or `timeout` passes, or `release`)."""
        self._shown.wait(timeout)

    def release(self) -> None:
        """Let a waiting worker go on (a cancelled search must not wait for the UI)."""
        self._shown.set()

    def flush(self) -> bool:
        """Deliver what is queued, at most HITS_PER_TURN hits (UI thread); True when more is left."""
        with self._lock:
            events: list[SearchEvent] = []
            room = HITS_PER_TURN
            while self._events and room > 0:
                event = self._events.pop(0)
                if isinstance(event, HitBatch) and len(event.hits) > room:  # the rest waits a turn
                    self._events.insert(0, HitBatch(event.table, event.hits[room:]))
                    event = HitBatch(event.table, event.hits[:room])
                room -= len(event.hits) if isinstance(event, HitBatch) else 0
                events.append(event)
            more = self._scheduled = bool(self._events)
        # The next turn (or the worker) goes on after this turn's paint: Qt paints before zero timers.
        self._loop.call_soon(self.flush if more else self.release)
        if events:
            self._deliver(events)
        return more


def drive_search(
    conn: sqlite3.Connection,
    options: SearchOptions,
    index: SearchIndex | None,
    pipe: EventPipe,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> None:
    """Run the whole search on `conn` (worker thread), handing every event to `pipe`."""
    unregister = cancel.on_cancel(pipe.release)
    try:
        for event in search(conn, options, index=index, progress=progress, cancel=cancel):
            pipe.put(event)
            if isinstance(event, HitBatch):
                pipe.wait_until_shown()
    finally:
        unregister()
