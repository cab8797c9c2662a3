"""The bind parameters form: one field per `?`, `:name`, `@name`, `$name`, remembering the last values."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from desktop_app.ui.widgets.hint_label import hint_label

HELP = "Numbers bind as numbers, NULL as NULL, 'quoted' as that text; anything else binds as the text typed."


class ParametersDialog(QDialog):
    """Ask a value for each parameter key; `chosen(values)` ({key: text}) on Run."""

    chosen = Signal(object)

    def __init__(self, parent: QWidget | None, keys: list[str], remembered: dict[str, str]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Parameters")
        self.setMinimumWidth(420)
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        for key in keys:
            field = QLineEdit(remembered.get(key, ""))
            field.setPlaceholderText("text, a number, NULL or 'quoted'")
            self.fields[key] = field
            form.addRow(f"{key}:", field)
        note = hint_label(HELP)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.run_button = buttons.addButton("Run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.run_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def values(self) -> dict[str, str]:
        """The text typed for each key."""
        return {key: field.text() for key, field in self.fields.items()}

    def accept(self) -> None:
        """Emit `chosen` and close."""
        self.chosen.emit(self.values())
        super().accept()
