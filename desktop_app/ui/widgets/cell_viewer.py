"""A window that shows one cell's whole value: wrapped or not, JSON pretty-printed on request; and the text
of a value as both it and the value inspector show it."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_app.ui.models.cell_format import NULL_TEXT, plain_text


def value_text(value: Any) -> str:
    """The whole text of a text or number value: reals at their shortest exact form, invalid UTF-8 escaped."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return plain_text(value) if isinstance(value, str) else str(value)


def pretty_json(text: str) -> str | None:
    """`text` re-indented when it is a JSON object or array, else None."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
    except ValueError:
        return None


class CellViewer(QDialog):
    """Non-modal viewer for a text or number value (blobs go to the Blobs pane)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Cell")
        self.resize(640, 420)
        self._value: Any = None
        self._json: str | None = None
        self.info = QLabel()
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.wrap = QCheckBox("Wrap lines")
        self.wrap.setChecked(True)
        self.wrap.toggled.connect(self._apply_wrap)
        self.format_json = QCheckBox("Format JSON")
        self.format_json.toggled.connect(self._show_text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy)
        buttons.rejected.connect(self.close)
        options = QHBoxLayout()
        options.addWidget(self.wrap)
        options.addWidget(self.format_json)
        options.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.text, 1)
        layout.addLayout(options)
        layout.addWidget(buttons)
        self._apply_wrap(True)

    def show_value(self, value: Any, title: str) -> None:
        """Show `value` (None, number or text) and raise the window."""
        self._value = value
        self.setWindowTitle(title)
        text = value_text(value)
        self._json = pretty_json(text) if isinstance(value, str) else None
        self.format_json.setEnabled(self._json is not None)
        self.format_json.setChecked(self._json is not None)
        kind = "NULL" if value is None else "text" if isinstance(value, str) else type(value).__name__
        self.info.setText(f"{kind}, {len(text):,} characters" if value is not None else NULL_TEXT)
        self.text.setPlaceholderText(NULL_TEXT if value is None else "(empty text)")
        self._show_text()
        self.show()
        self.raise_()
        self.activateWindow()

    @property
    def shown_text(self) -> str:
        """The text on screen."""
        return self.text.toPlainText()

    def _show_text(self, *_args: object) -> None:
        value = self._value
        if self._json is not None and self.format_json.isChecked():
            self.text.setPlainText(self._json)
        else:
            self.text.setPlainText(value_text(value))

    def _apply_wrap(self, wrap: bool) -> None:
        mode = QPlainTextEdit.LineWrapMode.WidgetWidth if wrap else QPlainTextEdit.LineWrapMode.NoWrap
        self.text.setLineWrapMode(mode)

    def copy(self) -> None:
        """Put the shown text on the clipboard."""
        QGuiApplication.clipboard().setText(self.shown_text)
