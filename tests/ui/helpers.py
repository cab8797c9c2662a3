"""Helpers for driving the real window in async UI tests."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from desktop_app.ui.main_window import MainWindow, wait_for_closing_windows


async def wait_for(
    condition: Callable[[], object], timeout: float = 10.0, message: str = "condition"
) -> None:
    """Let the loop run until `condition()` is true (bounded; never qtbot.waitUntil on a running loop)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        await asyncio.sleep(0.02)


def make_window(tmp_path: Path) -> MainWindow:
    """A main window with its own settings file."""
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window.show()
    return window


async def open_in(window: MainWindow, path: Path | str) -> None:
    """Open `path` in `window` and wait until it is shown."""
    window.open_path(path)
    await wait_for(
        lambda: window.session.snapshot is not None and not window.session.busy, message=f"open {path}"
    )


async def close_window(window: MainWindow) -> None:
    """Close `window` and let its clean-up finish: the window's own shutdown stops and awaits its jobs and
    closes every connection it opened (tests/ui/test_close_mid_flight.py pins that)."""
    window.close()
    await wait_for_closing_windows()


def shot(widget: Any, tmp_path: Path, name: str, copy_to: str = "") -> Path:
    """Save a screenshot of `widget` under tmp_path, and a copy in the folder named by the environment
    variable `copy_to` when it is set (for a person to look at)."""
    target = tmp_path / name
    assert widget.grab().save(str(target))
    extra = os.environ.get(copy_to) if copy_to else None
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(target, Path(extra) / name)
    return target
