"""The log file where unexpected errors (bugs) are written with their traceback."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

_logger = logging.getLogger("desktop_app")


def log_directory() -> Path:
    """Return the per-user folder for logs (XDG state dir on Linux, LOCALAPPDATA on Windows)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Logs"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
    return base / "sqlite-snapshot-browser"


def log_file() -> Path:
    """Return the path of the log file."""
    return log_directory() / "snapshot-browser.log"


def log_exception(exc: BaseException, context: str = "unexpected error") -> Path:
    """Append `exc` with its traceback to the log file and return the file's path."""
    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        _logger.error("%s", context, exc_info=exc)
        return path
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _logger.addHandler(handler)
    try:
        _logger.error("%s", context, exc_info=exc)
    finally:
        _logger.removeHandler(handler)
        handler.close()
    return path
