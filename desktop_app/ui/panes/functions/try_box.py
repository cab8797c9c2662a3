"""The Functions pane's "Try it" box: an expression, Run/Stop, and the value with its type or the error."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from desktop_app.core.errors import Cancelled, UserError
from desktop_app.ui.theme import dim_style, error_style, follow
from desktop_app.ui.widgets.error_dialog import show_user_error

#: Characters of a text result shown (the rest is summarised by its length).
RESULT_MAX_CHARS = 2000
#: Bytes of a blob result shown as hex.
RESULT_MAX_HEX_BYTES = 64
_LEADING_SELECT = re.compile(r"^\s*select\s+", re.IGNORECASE)
_RUN_TIP = "Evaluate the expression against the snapshot (Enter)"


def clean_expression(text: str) -> str:
    """The expression to evaluate: without a leading SELECT or trailing semicolons the user typed."""
    return _LEADING_SELECT.sub("", text.strip()).rstrip("; \t\r\n")


def describe_value(value: object) -> tuple[str, str]:
    """How a result is shown: (text, SQLite type with its size)."""
    if value is None:
        return "NULL", "NULL"
    if isinstance(value, bool | int):
        return str(int(value)), "integer"
    if isinstance(value, float):
        return repr(value), "real"
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        shown = data[:RESULT_MAX_HEX_BYTES].hex(" ")
        more = " …" if len(data) > RESULT_MAX_HEX_BYTES else ""
        return (f"x'{shown}'{more}" if data else "x''"), f"blob, {len(data):,} bytes"
    text = str(value)
    shown = text if len(text) <= RESULT_MAX_CHARS else text[:RESULT_MAX_CHARS] + " …"
    return shown, f"text, {len(text):,} characters"


#: The expression the empty box suggests: one that works as given, with no functions file loaded.
EXAMPLE_EXPRESSION = "upper('ada lovelace')"


class TryItBox(QGroupBox):
    """Asks for an expression; the owner evaluates it and calls `show_result` or `show_error`."""

    #: The user wants `expression` (already cleaned) evaluated.
    run_requested = Signal(str)
    #: The user pressed Stop while an evaluation runs.
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Try it", parent)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.running = False
        self.error: UserError | None = None
        #: (value text, type) of the last result shown, or None.
        self.last_result: tuple[str, str] | None = None
        self.expression = QLineEdit()
        self.expression.setPlaceholderText(f"an expression, e.g. {EXAMPLE_EXPRESSION} — Enter runs it")
        self.expression.setFont(fixed)
        self.expression.returnPressed.connect(self.request_run)
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip(_RUN_TIP)
        self.run_button.clicked.connect(self._on_button)
        self.value_label = QLabel()
        self.value_label.setFont(fixed)
        self.type_label = QLabel()
        follow(self.type_label, dim_style)
        self.error_label = QLabel()
        follow(self.error_label, error_style)
        for label in (self.value_label, self.type_label, self.error_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.value_label.setWordWrap(True)
        self.error_label.setWordWrap(True)
        self.details_button = QPushButton("Details…")
        self.details_button.clicked.connect(self._show_details)

        entry = QHBoxLayout()
        entry.addWidget(QLabel("SELECT"))
        entry.addWidget(self.expression, 1)
        entry.addWidget(self.run_button)
        result = QHBoxLayout()
        result.addWidget(self.value_label, 1)
        result.addWidget(self.type_label, 0, Qt.AlignmentFlag.AlignTop)
        result.addWidget(self.error_label, 1)
        result.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 6)
        layout.addLayout(entry)
        layout.addLayout(result)
        self.clear()

    def set_expression(self, text: str, cursor: int | None = None) -> None:
        """Put `text` in the box (cursor at `cursor`, or at the end) and focus it."""
        self.expression.setText(text)
        self.expression.setCursorPosition(len(text) if cursor is None else cursor)
        self.expression.setFocus()

    def request_run(self) -> None:
        """Ask the owner to evaluate the expression typed (Enter or Run)."""
        expression = clean_expression(self.expression.text())
        if not expression:
            self.show_error(UserError("Type an expression to evaluate, e.g. sha256('abc')."))
            return
        self.run_requested.emit(expression)

    def set_running(self, running: bool) -> None:
        """Run becomes Stop while an evaluation runs."""
        self.running = running
        self.run_button.setText("Stop" if running else "Run")
        self.run_button.setToolTip("Stop the evaluation" if running else _RUN_TIP)
        if running:
            self.type_label.setText("running…")
            self.type_label.show()

    def clear(self) -> None:
        """Show nothing (no result yet)."""
        self.last_result = None
        self.error = None
        self.value_label.clear()
        self.type_label.clear()
        self.error_label.hide()
        self.details_button.hide()

    def show_result(self, value: object, elapsed_s: float, note: str = "") -> None:
        """Show a value with its SQLite type, the time it took and an optional note."""
        text, kind = describe_value(value)
        self.clear()
        self.last_result = (text, kind)
        self.value_label.setText(text)
        self.value_label.setStyleSheet(dim_style() if value is None else "")
        self.value_label.show()
        self.type_label.setText(
            " · ".join(part for part in (kind, f"{elapsed_s * 1000:.1f} ms", note) if part)
        )
        self.type_label.show()

    def show_error(self, error: UserError) -> None:
        """Show why the evaluation failed (Details… shows the traceback when there is one)."""
        self.clear()
        self.error = None if isinstance(error, Cancelled) else error
        self.value_label.hide()
        self.type_label.hide()
        self.error_label.setText(error.message)
        self.error_label.show()
        self.details_button.setVisible(bool(self.error is not None and self.error.details))

    def _on_button(self) -> None:
        if self.running:
            self.stop_requested.emit()
        else:
            self.request_run()

    def _show_details(self) -> None:
        if self.error is not None:
            show_user_error(self, "The expression failed", self.error)
