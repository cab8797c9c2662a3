"""Charts of a table or a query result, in a window of their own (see `window.py`).

pyqtgraph is told to use PySide6 before anything imports it; the chart modules themselves are imported only
when the first chart opens (pyqtgraph and numpy take ~0.3 s to import).
"""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from desktop_app.ui.widgets.chart.source import ChartSource

if TYPE_CHECKING:
    from desktop_app.ui.context import AppContext
    from desktop_app.ui.widgets.chart.window import ChartWindow

__all__ = ["ChartSource", "open_chart"]


def open_chart(parent: QWidget | None, context: AppContext, source: ChartSource) -> ChartWindow:
    """Open a chart window for `source` and start drawing its first chart."""
    from desktop_app.ui.widgets.chart.window import ChartWindow

    window = ChartWindow(context, source, parent)
    window.show()
    window.draw()
    return window
