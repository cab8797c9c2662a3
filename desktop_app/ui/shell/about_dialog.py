"""Help → About: what the program is, the versions it runs on, and a "Copy diagnostics" for bug reports."""

from __future__ import annotations

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from desktop_app.core.diagnostics import as_text, facts
from desktop_app.ui import theme
from desktop_app.ui.widgets.layout import vbox


def ui_facts() -> list[tuple[str, str]]:
    """The Qt side: Qt and PySide6 versions, the platform plugin and style, the theme, the screen."""
    app = QGuiApplication.instance()
    screen = QGuiApplication.primaryScreen()
    rows = [
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("Qt platform", QGuiApplication.platformName() if app is not None else "none"),
    ]
    style = app.style().name() if isinstance(app, QApplication) else "none"
    rows.append(
        (
            "Style and theme",
            f"{style}, {theme.current_choice().value} ({'dark' if theme.is_dark() else 'light'})",
        )
    )
    if screen is not None:
        size = screen.size()
        rows.append(("Screen", f"{size.width()}×{size.height()} at {screen.devicePixelRatio():g}× scale"))
    return rows


def diagnostics() -> list[tuple[str, str]]:
    """Every fact the About dialog shows and copies (nothing about any database)."""
    core = facts()  # the program and SQLite first, then Qt, then Python, the platform and the extras
    return core[:2] + ui_facts() + core[2:]


class AboutDialog(QDialog):
    """The program's name and purpose, a table of versions, and Copy diagnostics."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {title}")
        self.rows = diagnostics()
        intro = QLabel(
            f"<b>{title}</b> {self.rows[0][1]}<br>Browse a read-only snapshot of a SQLite database. "
            "Your file is never modified."
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(len(self.rows) - 1, 2)
        self.table.setHorizontalHeaderLabels(["", "Version"])
        self.table.horizontalHeader().setVisible(False)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        for row, (name, value) in enumerate(self.rows[1:]):
            for column, text in enumerate((name, value)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.table.resizeColumnToContents(0)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.copy_button = QPushButton("Copy diagnostics")
        self.copy_button.setToolTip(
            "Copy these facts as plain text for a bug report (nothing about your files)"
        )
        self.copy_button.clicked.connect(self.copy_diagnostics)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        vbox(intro, (self.table, 1), buttons, parent=self)
        self.resize(640, 460)

    def text(self) -> str:
        """The diagnostics as plain text."""
        return as_text(self.rows)

    def copy_diagnostics(self) -> None:
        """Put the diagnostics on the clipboard."""
        QGuiApplication.clipboard().setText(self.text())
        self.copy_button.setText("Copied")
