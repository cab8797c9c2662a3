"""Unexpected exceptions anywhere in the GUI: logged with the traceback, shown as a message, never a crash."""

from __future__ import annotations

import asyncio
import sys
from types import TracebackType
from typing import Any

from desktop_app.core.logs import log_exception


def _report(exc: BaseException, context: str) -> None:
    path = log_exception(exc, context)
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.widgets.error_dialog import show_unexpected

    if QApplication.instance() is not None:
        show_unexpected(QApplication.activeWindow(), "Something went wrong.", str(path))


def install_crash_handlers(loop: asyncio.AbstractEventLoop) -> None:
    """Route uncaught exceptions of slots and of asyncio tasks to the log and an error box."""

    def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        _report(value.with_traceback(tb), "uncaught exception")

    def loop_handler(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, BaseException) and not isinstance(exc, asyncio.CancelledError):
            _report(exc, str(context.get("message", "asyncio error")))

    sys.excepthook = excepthook
    loop.set_exception_handler(loop_handler)
