"""A message laid over the bottom of a grid's rows (e.g. rows that could not be read), not beside it.

It floats over the view, so showing or hiding it never moves the rows under the mouse.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QFrame, QHBoxLayout, QLabel, QToolButton

from desktop_app.ui.theme import box_style, error_box, follow


def _style() -> str:
    box = error_box()
    return box_style("#gridMessage", box) + f"#gridMessage QLabel {{ color: {box.text}; }}"


_MARGIN = 8


class GridMessage(QFrame):
    """A closable message over the bottom of `view`'s viewport; it follows the view's size."""

    def __init__(self, view: QAbstractScrollArea) -> None:
        super().__init__(view)
        self._view = view
        self.setObjectName("gridMessage")
        follow(self, _style)
        self.label = QLabel()
        self._close = close = QToolButton()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close.setText("×")
        close.setToolTip("Hide this message")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        view.installEventFilter(self)
        self.hide()

    def show_message(self, text: str) -> None:
        """Show `text` (plain) over the grid."""
        self.label.setText(text)
        self.label.setToolTip(text)
        self.show()
        self._place()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keep to the bottom of the viewport as the view is resized."""
        if watched is self._view and event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest):
            self._place()
        return False

    def _place(self) -> None:
        if not self.isVisible():
            return
        area = self._view.viewport().geometry()  # in the view's coordinates, below the headers
        width = max(area.width() - 2 * _MARGIN, 100)
        margins = self.layout().contentsMargins()
        text_width = width - margins.left() - margins.right() - self._close.sizeHint().width() - 8
        text_height = max(self.label.heightForWidth(text_width), self._close.sizeHint().height())
        height = min(text_height + margins.top() + margins.bottom() + 4, max(area.height() // 2, 40))
        self.setGeometry(area.left() + _MARGIN, area.bottom() - height - _MARGIN + 1, width, height)
