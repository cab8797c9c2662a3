"""Stopping one of our long statements (integrity check, dbstat walk) from a `CancelToken`.

Kept here until `core/sqlite/interrupt.py` (the one home for making SQLite stoppable) exists; then this
module's `stoppable` should move there or call it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from desktop_app.core.errors import Cancelled
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress


@contextmanager
def stoppable(
    conn: sqlite3.Connection,
    cancel: CancelToken,
    heartbeat: ProgressCallback = ignore_progress,
    label: str = "",
) -> Iterator[None]:
    """Let `cancel` stop the statements run on `conn` inside the block; they then raise `Cancelled`.

    A progress handler polls the token every `LIMITS.progress_handler_ops` SQLite instructions (SQLite
    forgets an `interrupt()` that arrives between two statements), and cancelling interrupts at once.
    `heartbeat` hears `Progress(ticks, None, label)` at most every `LIMITS.progress_interval_s`, for a
    job whose statement cannot say how far it is. The handler is removed afterwards: on a CLI connection
    this also removes the stopper's own, whose watcher still interrupts the connection directly.
    """
    cancel.raise_if_cancelled()
    ticks = 0
    next_report = time.monotonic() + LIMITS.progress_interval_s

    def on_progress() -> int:
        nonlocal ticks, next_report
        if cancel.cancelled:
            return 1
        ticks += 1
        if heartbeat is not ignore_progress and time.monotonic() >= next_report:
            next_report = time.monotonic() + LIMITS.progress_interval_s
            heartbeat(Progress(ticks, None, label))
        return 0

    conn.set_progress_handler(on_progress, LIMITS.progress_handler_ops)
    unregister = cancel.on_cancel(conn.interrupt)
    try:
        yield
    except sqlite3.OperationalError:
        if cancel.cancelled:
            raise Cancelled() from None
        raise
    finally:
        unregister()
        conn.set_progress_handler(None, 0)
    cancel.raise_if_cancelled()
