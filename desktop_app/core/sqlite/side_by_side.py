"""Statements run side by side on two connections to one snapshot: SQLite lets go of the GIL while it steps,
so two passes (or two halves of one) over millions of rows take about as long as one on two free cores.

`side_by_side(conn, other, here, there)` runs `there(other)` on a thread of its own while `here(conn)` runs
on the caller's; without `other`, one after the other on `conn` (the same answers, in the same order).
Neither outlives the call: one failing stops the other, and a cancel stops both (`conn` is made stoppable
by the caller, as for any job; `other` here).

Splitting a pass costs about a fifth more work in all (both halves scan, or skip, every row), and a second
thread only helps when a core is free: on a machine whose cores are all busy (measured on 2 cores shared
with other processes) the split pass took ~1.3x as long as the whole one. `spare_core` tells.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from typing import TypeVar

from desktop_app.core.progress import CancelToken
from desktop_app.core.sqlite.interrupt import Stop

A = TypeVar("A")
B = TypeVar("B")


def spare_core() -> bool:
    """True when a core is free for a second statement: no other thread is runnable beside the caller on
    one of the cores right now, or the load average over the last minute leaves one idle.

    The load average alone said no just after a read of our own (a 2 s read lifts it by ~1 for a minute),
    so every chart read after the first ran on one connection; the count of threads runnable right now
    (Linux's /proc/loadavg, the caller's own included) does not lag."""
    cores = os.cpu_count() or 1
    if cores < 2:
        return False
    running = _runnable_now()
    if running is not None and running - 1 <= cores - 2:
        return True
    try:
        load = os.getloadavg()[0]
    except OSError:  # (not every system can tell)
        return running is None
    return load <= cores - 1


def _runnable_now() -> int | None:
    """Threads runnable on the machine at this instant, the caller's included (None where unknown)."""
    try:
        with open("/proc/loadavg", encoding="ascii") as file:
            return int(file.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None


def side_by_side(
    conn: sqlite3.Connection,
    other: sqlite3.Connection | None,
    here: Callable[[sqlite3.Connection], A],
    there: Callable[[sqlite3.Connection], B],
    cancel: CancelToken | None = None,
) -> tuple[A, B]:
    """`(here(conn), there(other))`, the two run at once; `there(conn)` after `here` when `other` is None.

    The first error raised (by `here`, else by `there`) is raised once both have ended.
    """
    if other is None:
        return here(conn), there(conn)
    answer: list[B] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            answer.append(there(other))
        except BaseException as exc:  # handed to the caller's thread, raised there
            failure.append(exc)

    stop = Stop(other, cancel).install()  # before the thread starts: nothing runs on `other` yet
    thread = threading.Thread(target=run, name="sqlite-side-by-side", daemon=True)
    thread.start()
    try:
        mine = here(conn)
    except BaseException:
        stop.stop()
        raise
    finally:
        thread.join()
        stop.remove()  # (the thread has ended: no statement of `other` is running)
    if failure:
        raise failure[0]
    return mine, answer[0]
