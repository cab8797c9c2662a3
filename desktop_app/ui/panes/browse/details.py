"""The Browse pane's right-hand side area: tabs about the table or cell shown (Profile, Value, …).

A `QTabWidget` in a splitter beside the grid, collapsed until a tab asks to be shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QTabWidget, QWidget

#: Width the side area opens at: a share of the pane, within bounds (the grid keeps the rest).
_OPEN_SHARE, _OPEN_MIN_PX, _OPEN_MAX_PX = 0.3, 320, 520


class DetailsArea(QTabWidget):
    """Tabs beside the grid; `splitter` holds the grid and this area."""

    def __init__(self, grid: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("details")
        self.setDocumentMode(True)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(grid)
        self.splitter.addWidget(self)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setCollapsible(0, False)
        self.collapse()

    def add_tab(self, widget: QWidget, title: str) -> int:
        """Add a tab; returns its index."""
        return self.addTab(widget, title)

    @property
    def is_open(self) -> bool:
        """True when the area is shown (not collapsed)."""
        return self.splitter.sizes()[1] > 0

    def show_tab(self, widget: QWidget) -> None:
        """Open the area (when collapsed) on `widget`'s tab."""
        self.setCurrentWidget(widget)
        if not self.is_open:
            total = max(sum(self.splitter.sizes()), self.splitter.width())
            width = min(max(int(total * _OPEN_SHARE), _OPEN_MIN_PX), _OPEN_MAX_PX, max(total // 2, 1))
            self.splitter.setSizes([max(total - width, 1), width])

    def collapse(self) -> None:
        """Hide the area (the grid takes the whole width)."""
        total = max(sum(self.splitter.sizes()), 1)
        self.splitter.setSizes([total, 0])
