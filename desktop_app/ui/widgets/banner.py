"""A non-modal message strip at the top of the window (e.g. "the file changed on disk")."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class Banner(QFrame):
    """A message with optional action buttons and a Dismiss button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setStyleSheet("#banner { background: #fff4ce; border-bottom: 1px solid #e0c97f; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(10, 6, 10, 6)
        self._layout.addWidget(self.label, 1)
        self._buttons: list[QPushButton] = []
        self.setVisible(False)

    def show_message(self, text: str, actions: Sequence[tuple[str, Callable[[], None]]] = ()) -> None:
        """Show `text` with one button per (label, callback) plus Dismiss."""
        for button in self._buttons:
            button.deleteLater()
        self._buttons = []
        for label, callback in [*actions, ("Dismiss", self.hide)]:
            button = QPushButton(label)
            button.clicked.connect(callback)
            self._layout.addWidget(button)
            self._buttons.append(button)
        self.label.setText(text)
        self.setVisible(True)
