"""File → Attach: another database file and the schema name it is used by in SQL (`name.table`)."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import AttachError
from desktop_app.core.snapshot.attached import check_schema_name
from desktop_app.ui.widgets.hint_label import hint_label
from desktop_app.ui.widgets.layout import with_button
from desktop_app.ui.widgets.problem_label import ProblemLabel

_NOT_WORD = re.compile(r"\W+")


def suggested_schema_name(path: str, taken: list[str]) -> str:
    """A name for the file at `path`: its stem as a plain word, made unique among `taken`."""
    stem = _NOT_WORD.sub("_", Path(path).stem).strip("_").lower() or "other"
    if stem[0].isdigit():
        stem = f"db_{stem}"
    name, n = stem, 1
    while name.lower() in {t.lower() for t in taken} or name in ("main", "temp"):
        n += 1
        name = f"{stem}_{n}"
    return name


class AttachDialog(QDialog):
    """Pick a file and a schema name; `attach_requested(name, path)` on Attach."""

    attach_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None, taken: list[str], folder: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Attach a database")
        self.setMinimumWidth(520)
        self._taken = list(taken)
        self._folder = folder
        intro = hint_label(
            "The file is copied into memory as a read-only snapshot, like the open database, and never "
            "changed. Its tables are NAME.table in SQL, to join with the open database's main.table."
        )
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("Database file to attach")
        row = with_button(self.path_edit, "Choose…", self._choose_file)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. other")
        form = QFormLayout()
        form.addRow("File:", row)
        form.addRow("Name in SQL:", self.name_edit)
        self.problem = ProblemLabel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.attach_button = self.buttons.addButton("Attach", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.path_edit.textChanged.connect(self._path_changed)
        self.name_edit.textChanged.connect(self._validate)
        self._name_edited = False
        self.name_edit.textEdited.connect(lambda _t: setattr(self, "_name_edited", True))
        self._validate()

    def set_path(self, path: str) -> None:
        """Put `path` in the file field (the name follows the file until the user types one)."""
        self.path_edit.setText(path)

    def _path_changed(self, path: str) -> None:
        if not self._name_edited and path.strip():
            self.name_edit.setText(suggested_schema_name(path.strip(), self._taken))
        self._validate()

    def _validate(self, *_args: object) -> bool:
        problem = ""
        path = self.path_edit.text().strip()
        if not path:
            problem = "Choose the database file to attach."
        elif not Path(path).is_file():
            problem = f"{path} is not a file."
        else:
            try:
                check_schema_name(self.name_edit.text(), self._taken)
            except AttachError as exc:
                problem = exc.message
        self.attach_button.setEnabled(not problem)
        return self.problem.show_problem(problem)

    def _choose_file(self) -> None:
        dialog = QFileDialog(self, "Attach a database", self._folder)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter("SQLite databases (*.db *.sqlite *.sqlite3 *.db3);;All files (*)")
        dialog.fileSelected.connect(self.set_path)
        dialog.open()

    def accept(self) -> None:
        """Emit `attach_requested` and close, when the file and name are valid."""
        if not self._validate():
            return
        self.attach_requested.emit(self.name_edit.text(), self.path_edit.text().strip())
        super().accept()
