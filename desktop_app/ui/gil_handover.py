"""A shorter GIL switch interval while a pure-Python worker runs, so the GUI thread waits less for it.

Every time the GUI thread enters Python (a timer, a slot, an asyncio callback) while a worker computes in
Python, it waits for the GIL until CPython's switch interval (5 ms) has passed and the worker is asked
to let go; a loop turn enters Python several times, and the waits add up (the Recovered pane scanning
100 MB: 38-115 timer gaps above 30 ms per scan, 2.2-2.9 s of waiting in all). At 0.5 ms: 5-12 gaps
above 30 ms, 0.2-1.3 s (same runs, alternated). The worker is asked to let go only when another thread
waits, so it loses little. Process-wide: nested uses keep the shortest until the last one ends.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

#: The switch interval while a worker computes in Python (CPython's default: 0.005 s).
BUSY_SWITCH_INTERVAL_S = 0.0005

_users = 0
_before = 0.0


@contextmanager
def quick_gil_handover() -> Iterator[None]:
    """Use `BUSY_SWITCH_INTERVAL_S` as the GIL switch interval while the block runs (call on the GUI
    thread, around awaiting the worker)."""
    global _users, _before
    if _users == 0:
        _before = sys.getswitchinterval()
        sys.setswitchinterval(min(_before, BUSY_SWITCH_INTERVAL_S))
    _users += 1
    try:
        yield
    finally:
        _users -= 1
        if _users == 0:
            sys.setswitchinterval(_before)
