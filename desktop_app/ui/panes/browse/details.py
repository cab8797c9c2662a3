"""Browse's details area: a tab widget beside the grid (collapsed until asked for), one tab per way of
looking at what is selected — the value inspector (Value), a column's profile (Profile)."""

from __future__ import annotations

from PySide6.QtWidgets import QSplitter, QTabWidget, QWidget

#: Width the details area opens at the first time (the splitter remembers a width dragged by the user).
OPEN_WIDTH_PX = 360


class Details(QTabWidget):
    """The tabs beside Browse's grid; hidden (collapsed) by default."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("details")
        self.setDocumentMode(True)
        self._width = OPEN_WIDTH_PX

    def add_tab(self, widget: QWidget, title: str) -> int:
        """Add `widget` as the tab `title`; its index."""
        return self.addTab(widget, title)

    @property
    def is_open(self) -> bool:
        """True when the area is shown beside the grid."""
        splitter = self.parentWidget()
        if not isinstance(splitter, QSplitter):
            return self.isVisible()
        return splitter.sizes()[splitter.indexOf(self)] > 0

    def set_open(self, shown: bool) -> None:
        """Open the area beside the grid (at its last width), or collapse it."""
        splitter = self.parentWidget()
        if not isinstance(splitter, QSplitter):
            self.setVisible(shown)
            return
        sizes = splitter.sizes()
        here = splitter.indexOf(self)
        if shown == (sizes[here] > 0):
            return
        total = sum(sizes)
        if shown:
            width = min(self._width, max(total // 2, 1))
            sizes = [max(total - width, 1), width] if here == 1 else [width, max(total - width, 1)]
        else:
            self._width = sizes[here] or self._width
            sizes = [total, 0] if here == 1 else [0, total]
        splitter.setSizes(sizes)

    def reveal(self, widget: QWidget) -> None:
        """Open the area on `widget`'s tab."""
        self.setCurrentWidget(widget)
        self.set_open(True)

    show_tab = reveal

    def collapse(self) -> None:
        """Hide the area (the grid takes the whole width)."""
        self.set_open(False)

    @property
    def splitter(self) -> QSplitter:
        """The splitter holding the grid and this area."""
        parent = self.parentWidget()
        assert isinstance(parent, QSplitter), "the details area is placed with details_beside()"
        return parent


def details_beside(grid: QWidget, details: Details) -> QSplitter:
    """`grid` with `details` to its right, collapsed."""
    splitter = QSplitter()
    splitter.addWidget(grid)
    splitter.addWidget(details)
    splitter.setStretchFactor(0, 1)
    splitter.setCollapsible(0, False)
    splitter.setSizes([1, 0])
    return splitter
