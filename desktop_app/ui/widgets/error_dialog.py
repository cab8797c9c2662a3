"""Messages for the user: plain words first, technical details only on request."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from desktop_app.core.errors import UserError


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> QMessageBox:
    """Show a non-modal error box (never `exec()`: it would re-enter the qasync loop)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.setModal(False)
    box.open()
    return box


def show_user_error(parent: QWidget | None, title: str, error: UserError) -> QMessageBox:
    """Show a `UserError` with its details."""
    return show_error(parent, title, error.message, error.details)


def show_unexpected(parent: QWidget | None, message: str, log_path: str) -> QMessageBox:
    """Tell the user a bug happened and where its details were written."""
    return show_error(
        parent,
        "Something went wrong",
        f"{message}\n\nThe program is still usable. Details were written to the log file.",
        f"Log file: {log_path}",
    )
