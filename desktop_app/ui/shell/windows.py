"""Every open main window: a second file opens beside the first, a file already open brings its window
forward, and the program waits for closed windows to free their snapshots before it exits."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

APP_TITLE = "SQLite Snapshot Browser"

#: Every open window, so a second file can open beside the first and windows outlive their opener.
WINDOWS: list[MainWindow] = []

#: Shutdown tasks of closed windows, awaited before the program exits.
CLOSING: set[asyncio.Future[None]] = set()


def _same_file(a: Path, b: Path) -> bool:
    """True when `a` and `b` name the same file (symbolic links, `..` and hard links resolved)."""
    try:
        return a.resolve() == b.resolve() or os.path.samefile(a, b)
    except OSError:
        return False


def window_showing(path: Path) -> MainWindow | None:
    """The open window showing (or opening) the file at `path`, if any."""
    for window in WINDOWS:
        shown = window.session.path if window.session.snapshot is not None else None
        opening = window._opening_path if window.session.busy else None
        if any(p is not None and _same_file(p, path) for p in (shown, opening)):
            return window
    return None


def forget_window(window: MainWindow, shutdown: asyncio.Future[None]) -> None:
    """`window` closed: drop it from WINDOWS and keep its `shutdown` until it is done."""
    if window in WINDOWS:
        WINDOWS.remove(window)
    CLOSING.add(shutdown)
    shutdown.add_done_callback(CLOSING.discard)


async def wait_for_closing_windows(timeout: float = 30.0) -> None:
    """Let closed windows finish freeing their snapshots."""
    if CLOSING:
        await asyncio.wait(list(CLOSING), timeout=timeout)
