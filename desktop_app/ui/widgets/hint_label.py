"""The dimmed, wrapped note under a field or a form that says how something works."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel


def hint_label(text: str = "", *, selectable: bool = False) -> QLabel:
    """A word-wrapped label in the theme's placeholder colour; `selectable` lets its text be copied."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
