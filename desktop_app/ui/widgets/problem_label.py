"""The red line under a dialog's form that says what stops it (empty and hidden when nothing does)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from desktop_app.ui.theme import error_style, follow


class ProblemLabel(QLabel):
    """A wrapped, error-styled label for a dialog's one current problem."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        follow(self, error_style)

    def show_problem(self, problem: str) -> bool:
        """Show `problem` (hide the label when it is empty); True when there is none."""
        self.setText(problem)
        self.setVisible(bool(problem))
        return not problem
