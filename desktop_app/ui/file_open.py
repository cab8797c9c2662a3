"""macOS sends files opened from Finder (double-click, "Open With") as events, not arguments."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFileOpenEvent

from desktop_app.ui.main_window import MainWindow


class FileOpenFilter(QObject):
    """Opens the file of every `QFileOpenEvent` through the main window."""

    def __init__(self, window: MainWindow, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Open the file of a FileOpen event; let every other event through."""
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            path = event.file() or event.url().toLocalFile()
            if path:
                self.window.open_path(path)
                return True
        return super().eventFilter(watched, event)
