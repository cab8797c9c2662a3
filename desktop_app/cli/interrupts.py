"""Ctrl-C and time limits for the headless commands: stop SQLite mid-statement, within a second.

Python runs its SIGINT handler only between bytecodes of the main thread, so a statement that never calls
back into Python (an endless recursive CTE, a long sort) would ignore Ctrl-C. Two things cover that:

- a watcher thread woken by the signal itself (`signal.set_wakeup_fd`) interrupts every registered
  connection at once, and interrupts them again at the time limit;
- a progress handler on each registered connection (`core.sqlite.interrupt.Stop`) keeps refusing to run
  once a stop was asked for, because SQLite forgets an interrupt that arrives between two statements.
"""

from __future__ import annotations

import select
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType

from desktop_app.core.progress import CancelToken
from desktop_app.core.sqlite.interrupt import Stop

#: Written to the watcher's socket to end it (signal numbers written there are all below 65).
_QUIT = b"\xff"


class Stopper:
    """What stops the running command: Ctrl-C (`interrupted`) or its time limit (`timed_out`)."""

    def __init__(self) -> None:
        #: Cancelled by Ctrl-C; jobs that take a CancelToken (search, blob export) get this one.
        self.cancel = CancelToken()
        self.interrupted = False
        self.timed_out = False
        self.time_limit_s = 0.0
        self._quiet = 0
        self._deadline: float | None = None
        self._stops: list[Stop] = []
        self._lock = threading.Lock()
        # A socket pair rather than a pipe: Windows can wait on (and set_wakeup_fd) sockets only.
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        self._thread = threading.Thread(target=self._watch, name="cli-interrupts", daemon=True)
        self._thread.start()

    @property
    def stopped(self) -> bool:
        """True once Ctrl-C was pressed or the time limit passed."""
        return self.interrupted or self.timed_out

    def start_time_limit(self, seconds: float) -> None:
        """Stop the registered connections `seconds` from now (0 = no limit)."""
        if seconds > 0:
            self.time_limit_s = seconds
            self._deadline = time.monotonic() + seconds
            self._poke(b"\0")  # the watcher recomputes how long to sleep

    def hook(self, conn: sqlite3.Connection) -> None:
        """Connection hook: let Ctrl-C and the time limit stop `conn`'s statements."""
        stop = Stop(conn, check=self._should_stop).install()
        with self._lock:
            self._stops.append(stop)
        if self.stopped:
            stop.stop()

    def close(self) -> None:
        """End the watcher thread and close the pipe."""
        self._poke(_QUIT)
        self._thread.join(timeout=5)
        with self._lock:
            stops, self._stops = self._stops, []
        for stop in stops:
            stop.release()
        self._reader.close()
        self._writer.close()

    @property
    def wakeup_fd(self) -> int:
        """The descriptor for `signal.set_wakeup_fd`: a signal's number written there wakes the watcher."""
        return self._writer.fileno()

    def on_sigint(self, _signum: int, _frame: FrameType | None) -> None:
        """Python's SIGINT handler (main thread, between bytecodes): unwind as usual, unless quiet."""
        # Only a plain flag here: the handler may run while this thread holds a lock the watcher uses.
        self.interrupted = True
        if not self._quiet:
            raise KeyboardInterrupt

    @contextmanager
    def quiet(self) -> Iterator[CancelToken]:
        """Inside the block Ctrl-C only cancels `self.cancel` (yielded), for a job that checks it.

        A KeyboardInterrupt can land anywhere, even between creating a file and the `try` that would
        remove it; a job writing files stops at its own checks instead and cleans up after itself.
        """
        self._quiet += 1
        try:
            yield self.cancel
        finally:
            self._quiet -= 1

    def _should_stop(self) -> bool:
        if self.stopped:
            return True
        if self._deadline is not None and time.monotonic() > self._deadline:
            self._time_up()
            return True
        return False

    def _poke(self, byte: bytes) -> None:
        with suppress(OSError):
            self._writer.send(byte)

    def _watch(self) -> None:
        while True:
            timeout = None if self._deadline is None else max(0.0, self._deadline - time.monotonic())
            try:
                ready, _, _ = select.select([self._reader], [], [], timeout)
                if not ready:
                    self._time_up()
                    continue
                data = self._reader.recv(64)
            except OSError:
                return
            if not data or _QUIT in data:
                return
            if signal.SIGINT in data:  # the signal number, written by Python's C-level handler
                self.interrupted = True
                self.cancel.cancel()
                self._interrupt_all()

    def _time_up(self) -> None:
        self._deadline = None
        self.timed_out = True
        self._interrupt_all()

    def _interrupt_all(self) -> None:
        with self._lock:
            connections = [stop.conn for stop in self._stops]
        for conn in connections:
            with suppress(sqlite3.ProgrammingError):  # already closed
                conn.interrupt()


_active: Stopper | None = None


def active() -> Stopper:
    """The stopper of the running command (one is made when none is installed, e.g. in tests)."""
    global _active
    if _active is None:
        _active = Stopper()
    return _active


def interruptible_hook(conn: sqlite3.Connection) -> None:
    """Connection hook registering `conn` with the running command's stopper."""
    active().hook(conn)


@contextmanager
def stopper_installed() -> Iterator[Stopper]:
    """Install a fresh stopper and, on the main thread, its SIGINT handling, for one command."""
    global _active
    stopper = Stopper()
    previous_stopper, _active = _active, stopper
    previous_handler = previous_wakeup = None
    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread:
        previous_handler = signal.signal(signal.SIGINT, stopper.on_sigint)
        previous_wakeup = signal.set_wakeup_fd(stopper.wakeup_fd, warn_on_full_buffer=False)
    try:
        yield stopper
    finally:
        if on_main_thread:
            signal.set_wakeup_fd(previous_wakeup if previous_wakeup is not None else -1)
            signal.signal(signal.SIGINT, previous_handler)
        _active = previous_stopper
        stopper.close()
