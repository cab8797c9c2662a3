"""Making SQLite stoppable: the one place that installs a progress handler on a connection.

`interrupt()` alone is not enough: SQLite forgets an interrupt that lands while no statement runs (e.g.
while a worker thread is still queued), so every stop is also a flag the progress handler polls every
`LIMITS.progress_handler_ops` VM steps, together with a cancel token, a deadline or any other check.

A connection has one progress handler. Stops nest: one installed while another is (a count with a budget
inside a cancellable job) also honours the outer one, and gives the handler back to it when it ends.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from desktop_app.core.errors import Cancelled
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress

#: The stop whose handler is installed on each connection, by id (connections take no weak references;
#: an entry lives only while its stop is installed, so an id is never reused under it).
_INSTALLED: dict[int, Stop] = {}


class Stop:
    """What may stop the statements of one connection: `stop()`, a cancel token, a deadline or a check."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        cancel: CancelToken | None = None,
        *,
        deadline: float | None = None,
        check: Callable[[], bool] | None = None,
    ) -> None:
        self.conn = conn
        self.cancel = cancel
        #: `time.monotonic()` past which statements stop (`timed_out` then says so), or None.
        self.deadline = deadline
        self.check = check
        self.interrupted = False
        self.timed_out = False
        self._outer: Stop | None = None
        self._installed = False
        self._unregister: Callable[[], None] = lambda: None

    def stop(self) -> None:
        """Interrupt the running statement, and any that starts later while this stop is installed."""
        self.interrupted = True
        self.conn.interrupt()

    def should_stop(self) -> bool:
        """True when the statement must stop (polled by SQLite's progress handler)."""
        if self.interrupted or (self.cancel is not None and self.cancel.cancelled):
            return True
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.timed_out = True
            return True
        if self.check is not None and self.check():
            return True
        return self._outer is not None and self._outer.should_stop()

    def _poll(self) -> int:
        return 1 if self.should_stop() else 0

    def install(self) -> Stop:
        """Install this stop's progress handler on its connection (until `remove` or `release`); a cancel
        of its token interrupts at once from then on."""
        self._outer = _INSTALLED.get(id(self.conn))
        _INSTALLED[id(self.conn)] = self
        self._installed = True
        self.conn.set_progress_handler(self._poll, LIMITS.progress_handler_ops)
        if self.cancel is not None:  # interrupt at once; the handler's poll catches a cancel that came early
            self._unregister = self.cancel.on_cancel(self.stop)
        return self

    def remove(self) -> None:
        """Give the connection's progress handler back to the stop installed before this one (or none)."""
        if not self._release():
            return
        outer = self._outer
        if outer is not None:
            self.conn.set_progress_handler(outer._poll, LIMITS.progress_handler_ops)
        else:
            self.conn.set_progress_handler(None, 0)

    def release(self) -> None:
        """Forget this stop without touching the connection's handler, which keeps polling it.

        For a statement that may still be running on another thread: removing the handler from here would
        deadlock (this thread holds the GIL and waits for SQLite's mutex; the worker holds the mutex and
        waits for the GIL to call the handler). The connection's next stop installs its own handler.
        """
        self.deadline = None
        self._release()

    def _release(self) -> bool:
        if not self._installed:
            return False
        self._installed = False
        self._unregister()
        if _INSTALLED.get(id(self.conn)) is self:
            if self._outer is not None:
                _INSTALLED[id(self.conn)] = self._outer
            else:
                del _INSTALLED[id(self.conn)]
        return True


@contextmanager
def stoppable(
    conn: sqlite3.Connection,
    cancel: CancelToken | None = None,
    *,
    deadline: float | None = None,
    check: Callable[[], bool] | None = None,
) -> Iterator[Stop]:
    """Inside the block, `conn`'s statements stop on `cancel`, past `deadline` or when `check()` is true.

    The yielded `Stop` says why (`interrupted`, `timed_out`) and `stop()` interrupts at once. The handler
    installed before the block is back after it.
    """
    stop = Stop(conn, cancel, deadline=deadline, check=check).install()
    try:
        yield stop
    finally:
        stop.remove()


@contextmanager
def cancellable(
    conn: sqlite3.Connection,
    cancel: CancelToken | None,
    heartbeat: ProgressCallback = ignore_progress,
    label: str = "",
) -> Iterator[Stop]:
    """`stoppable` for a job: a cancelled statement raises `Cancelled`, and `heartbeat` hears that it runs.

    For statements that cannot say how far they are (an integrity check, a dbstat walk, building the
    demo), `heartbeat` hears `Progress(ticks, None, label)` at most every `LIMITS.progress_interval_s`.
    With no `cancel`, nothing stops the block's statements but the handler's heartbeat still runs.
    """
    if cancel is not None:
        cancel.raise_if_cancelled()
    ticks = 0
    next_report = time.monotonic() + LIMITS.progress_interval_s

    def beat() -> bool:
        nonlocal ticks, next_report
        ticks += 1
        if time.monotonic() >= next_report:
            next_report = time.monotonic() + LIMITS.progress_interval_s
            heartbeat(Progress(ticks, None, label))
        return False

    try:
        with stoppable(conn, cancel, check=None if heartbeat is ignore_progress else beat) as stop:
            yield stop
    except sqlite3.OperationalError:
        if cancel is not None and cancel.cancelled:
            raise Cancelled() from None
        raise
    if cancel is not None:
        cancel.raise_if_cancelled()
