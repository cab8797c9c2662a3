"""The CSV export options dialog: where to save, and how the file is written (remembered between uses)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import ExportError
from desktop_app.core.export.csv_file import BlobEncoding, CsvOptions, LineEnding, Quoting
from desktop_app.core.export.output_paths import ensure_not_source
from desktop_app.ui.theme import error_style
from desktop_app.ui.widgets.save_dialog import save_file_dialog

_DELIMITERS = (("Comma  ,", ","), ("Semicolon  ;", ";"), ("Tab", "\t"), ("Pipe  |", "|"))
_OTHER = "other"
_QUOTING = (
    ("Only where needed", Quoting.MINIMAL),
    ("Every cell", Quoting.ALL),
    ("Every cell except numbers", Quoting.NON_NUMERIC),
)
_LINE_ENDINGS = (("CRLF (Windows, RFC 4180)", LineEnding.CRLF), ("LF (Linux, macOS)", LineEnding.LF))
_BLOBS = (
    ("Base64", BlobEncoding.BASE64),
    ("Hex (as SQLite's hex())", BlobEncoding.HEX),
    ("Leave empty", BlobEncoding.SKIP),
)
FORMULA_GUARD_HELP = (
    "Spreadsheets (Excel, LibreOffice, Google Sheets) treat a cell starting with =, +, - or @ as a formula, "
    "so text stored in a database can run commands or fetch web pages when the CSV is opened there. "
    "The guard puts a ' before such text, which spreadsheets show as plain text. It is off by default "
    "because it changes the data for every other program (text '-5' becomes ''-5'); numbers and NULLs "
    "are never changed."
)


def _combo(items: tuple[tuple[str, object], ...]) -> QComboBox:
    combo = QComboBox()
    for label, value in items:
        combo.addItem(label, value)
    return combo


def _select(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


class CsvExportDialog(QDialog):
    """Pick a file and CSV options; `export_requested(path, options)` is emitted on Export."""

    export_requested = Signal(str, object)

    def __init__(
        self,
        parent: QWidget | None,
        options: CsvOptions,
        path: str,
        what: str = "the result",
        source_path: Path | None = None,
    ) -> None:
        super().__init__(parent)
        #: The database being read: the one file (with its sidecars) the export may never write.
        self.source_path = source_path
        self.setWindowTitle("Export as CSV")
        self.setMinimumWidth(600)
        self.job: object | None = None  #: the export job, once started (set by export_actions)

        intro = QLabel(f"Export every row of {what} to a CSV file.")
        self.path_edit = QLineEdit(path)
        self.path_edit.setPlaceholderText("File to write")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_file)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(choose)
        self.path_note = QLabel()
        self.path_note.setWordWrap(True)

        self.header = QCheckBox("First row holds the column names")
        self.delimiter = _combo((*_DELIMITERS, ("Other…", _OTHER)))
        self.custom_delimiter = QLineEdit()
        self.custom_delimiter.setMaxLength(1)
        self.custom_delimiter.setMaximumWidth(48)
        self.custom_delimiter.setPlaceholderText("char")
        delimiter_row = QHBoxLayout()
        delimiter_row.addWidget(self.delimiter)
        delimiter_row.addWidget(self.custom_delimiter)
        delimiter_row.addStretch(1)
        self.quote_char = QLineEdit()
        self.quote_char.setMaxLength(1)
        self.quote_char.setMaximumWidth(48)
        self.quoting = _combo(_QUOTING)  # type: ignore[arg-type]
        self.line_ending = _combo(_LINE_ENDINGS)  # type: ignore[arg-type]
        self.bom = _combo((("UTF-8", False), ("UTF-8 with BOM (for Excel)", True)))
        self.null_text = QLineEdit()
        self.null_text.setPlaceholderText("(an empty cell)")
        self.blobs = _combo(_BLOBS)  # type: ignore[arg-type]
        self.formula_guard = QCheckBox("Guard against spreadsheet formulas")
        guard_help = QLabel(FORMULA_GUARD_HELP)
        guard_help.setWordWrap(True)
        guard_help.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        guard_help.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow("File:", path_row)
        form.addRow("", self.path_note)
        form.addRow("Header:", self.header)
        form.addRow("Delimiter:", delimiter_row)
        form.addRow("Quote character:", self.quote_char)
        form.addRow("Quote cells:", self.quoting)
        form.addRow("Line ending:", self.line_ending)
        form.addRow("Encoding:", self.bom)
        form.addRow("NULL written as:", self.null_text)
        form.addRow("Blobs:", self.blobs)
        form.addRow("Formulas:", self.formula_guard)
        form.addRow(guard_help)

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(error_style())
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self.set_options(options)
        for line_edit in (self.path_edit, self.custom_delimiter, self.quote_char, self.null_text):
            line_edit.textChanged.connect(self._validate)
        for combo in (self.delimiter, self.quoting, self.line_ending, self.bom, self.blobs):
            combo.currentIndexChanged.connect(self._validate)
        self._validate()
        self.adjustSize()

    # --- options ---------------------------------------------------------------------------------

    def set_options(self, options: CsvOptions) -> None:
        """Show `options` in the controls."""
        self.header.setChecked(options.header)
        if options.delimiter in dict((v, k) for k, v in _DELIMITERS):
            _select(self.delimiter, options.delimiter)
            self.custom_delimiter.clear()
        else:
            _select(self.delimiter, _OTHER)
            self.custom_delimiter.setText(options.delimiter)
        self.quote_char.setText(options.quote_char)
        _select(self.quoting, options.quoting)
        _select(self.line_ending, options.line_ending)
        _select(self.bom, options.bom)
        self.null_text.setText(options.null)
        _select(self.blobs, options.blobs)
        self.formula_guard.setChecked(options.formula_guard)

    def options(self) -> CsvOptions:
        """The chosen options; raises `ExportError` when they do not make a valid CSV."""
        delimiter = self.delimiter.currentData()
        if delimiter == _OTHER:
            delimiter = self.custom_delimiter.text()
            if not delimiter:
                raise ExportError("Type the character to use as delimiter.")
        return CsvOptions(
            header=self.header.isChecked(),
            delimiter=delimiter,
            quote_char=self.quote_char.text(),
            quoting=self.quoting.currentData(),
            line_ending=self.line_ending.currentData(),
            bom=bool(self.bom.currentData()),
            null=self.null_text.text(),
            blobs=self.blobs.currentData(),
            formula_guard=self.formula_guard.isChecked(),
        )

    def path(self) -> str:
        """The file to write (may not exist yet)."""
        return self.path_edit.text().strip()

    def set_path(self, path: str) -> None:
        """Put `path` in the file field."""
        self.path_edit.setText(path)

    # --- checks ----------------------------------------------------------------------------------

    def _validate(self, *_args: object) -> bool:
        self.custom_delimiter.setEnabled(self.delimiter.currentData() == _OTHER)
        problem = ""
        try:
            self.options()
        except ExportError as exc:
            problem = exc.message
        self._describe_path()
        path = self.path()
        if not problem and not path:
            problem = "Choose the file to write."
        elif not problem and Path(path).is_dir():
            problem = f"{path} is a folder: add a file name."
        elif not problem:
            try:
                ensure_not_source(path, self.source_path)
            except ExportError as exc:
                problem = exc.message
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        self.export_button.setEnabled(not problem)
        return not problem

    def _describe_path(self) -> None:
        path = Path(self.path()) if self.path() else None
        note = ""
        if path is not None and path.is_file():
            note = "⚠ This file exists and will be replaced when the export completes."
        elif path is not None and not path.parent.is_dir():
            note = f"⚠ The folder {path.parent} does not exist."
        self.path_note.setText(note)
        self.path_note.setVisible(bool(note))

    def _choose_file(self) -> None:
        dialog = save_file_dialog(self, "Export as CSV", self.path(), "CSV files (*.csv);;All files (*)")
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(self.set_path)
        dialog.open()

    def accept(self) -> None:
        """Emit `export_requested` and close, when the options and file are valid."""
        if not self._validate():
            return
        self.export_requested.emit(self.path(), self.options())
        super().accept()
