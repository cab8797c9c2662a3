"""What a window shows with no database: recent files, Open…, Open demo database."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.ui.theme import dim_colour, dim_style, follow


class StartPage(QWidget):
    """Emits `open_requested(path)`, `browse_requested()` and `demo_requested()`."""

    open_requested = Signal(str)
    browse_requested = Signal()
    demo_requested = Signal()
    forget_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h1>SQLite Snapshot Browser</h1>")
        subtitle = QLabel(
            "Open a SQLite file to look inside it. The file is copied into memory and never modified — "
            "nothing is written beside it either."
        )
        subtitle.setWordWrap(True)
        open_button = QPushButton("Open…")
        open_button.clicked.connect(self.browse_requested)
        demo_button = QPushButton("Open demo database")
        demo_button.clicked.connect(self.demo_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(open_button)
        buttons.addWidget(demo_button)
        buttons.addStretch(1)
        self.recent = QListWidget()
        self.recent.itemActivated.connect(self._activated)
        self.recent_label = QLabel("<b>Recent files</b>")
        hint = QLabel("Tip: drop a database file anywhere on this window.")
        follow(hint, dim_style)
        column = QVBoxLayout()
        column.addWidget(title)
        column.addWidget(subtitle)
        column.addLayout(buttons)
        column.addSpacing(12)
        column.addWidget(self.recent_label)
        column.addWidget(self.recent, 1)
        column.addWidget(hint)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 4)
        outer.addStretch(1)

    def set_recent(self, paths: list[str]) -> None:
        """List recent files; missing ones are greyed and say so."""
        self.recent.clear()
        for path in paths:
            exists = Path(path).exists()
            item = QListWidgetItem(path if exists else f"{path}  (missing)")
            item.setData(Qt.ItemDataRole.UserRole, path)
            if not exists:
                item.setForeground(dim_colour())
                item.setToolTip("This file no longer exists. Double-click to remove it from the list.")
            self.recent.addItem(item)
        self.recent_label.setVisible(bool(paths))
        self.recent.setVisible(bool(paths))

    def _activated(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.ItemDataRole.UserRole)
        if Path(path).exists():
            self.open_requested.emit(path)
        else:
            self.forget_requested.emit(path)
