"""A non-modal message card floating over the window's content (e.g. "the file changed on disk").

It is not part of any layout: it appears over the bottom right corner of its host, so nothing under
the mouse moves when it shows or hides (a strip above the content would push the grid down a row).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QGraphicsDropShadowEffect, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop_app.ui.theme import box_style, follow, scheme, warning_box

#: Distance from the host's edges, and the widest the card grows (px).
MARGIN = 24
MAX_WIDTH = 620


def _style() -> str:
    return box_style("#banner", warning_box(), radius=6) + "#banner QLabel { background: transparent; }"


class Banner(QFrame):
    """A message with optional action buttons and a Dismiss button, over the bottom right of `host`."""

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.setObjectName("banner")
        follow(self, _style)
        shadow = QGraphicsDropShadowEffect(self)
        shadow.setBlurRadius(18)
        shadow.setOffset(0, 3)
        shadow.setColor(QColor(scheme().shadow))
        self.setGraphicsEffect(shadow)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(12, 8, 8, 8)
        self._layout.addWidget(self.label, 1)
        self._buttons: list[QPushButton] = []
        self._host = host
        host.installEventFilter(self)
        self.setVisible(False)

    def show_message(self, text: str, actions: Sequence[tuple[str, Callable[[], None]]] = ()) -> None:
        """Show `text` with one button per (label, callback) plus Dismiss."""
        for button in self._buttons:
            self._layout.removeWidget(button)
            button.deleteLater()
        self._buttons = []
        for label, callback in [*actions, ("Dismiss", self.hide)]:
            button = QPushButton(label)
            button.clicked.connect(callback)
            self._layout.addWidget(button)
            self._buttons.append(button)
        self.label.setText(text)
        self.setVisible(True)
        self._place()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow the host's size."""
        if watched is self._host and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return super().eventFilter(watched, event)

    def _place(self) -> None:
        host = self._host
        width = max(1, min(host.width() - 2 * MARGIN, MAX_WIDTH))
        layout = self._layout
        height = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else -1
        height = max(height, layout.totalSizeHint().height())
        height = min(height, max(1, host.height() - 2 * MARGIN))
        self.setGeometry(host.width() - width - MARGIN, host.height() - height - MARGIN, width, height)
