"""UI tests run async tests on a qasync loop over the one QApplication (pytest-qt has no qasync support)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
import qasync
from PySide6.QtWidgets import QApplication


def _qasync_loop() -> qasync.QEventLoop:
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)  # closing a test's window must not stop the loop
    return qasync.QEventLoop(app)


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], object]]:
    """Every async test under tests/ui gets a fresh qasync loop."""
    return {"qasync": _qasync_loop}
