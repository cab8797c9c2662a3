"""The export dialog: the format, where to save, and each format's options (remembered between uses)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import ExportError
from desktop_app.core.export.csv_file import BlobEncoding, CsvOptions, LineEnding, Quoting, TsvOptions
from desktop_app.core.export.formats import ExportFormat, Options, available, default_options
from desktop_app.core.export.json_file import JsonOptions
from desktop_app.core.export.markdown import MarkdownOptions
from desktop_app.core.export.output_paths import ensure_not_source
from desktop_app.core.export.parquet import ParquetOptions
from desktop_app.core.export.sql_file import SqlOptions
from desktop_app.core.export.xlsx import XlsxOptions
from desktop_app.ui.widgets.hint_label import hint_label
from desktop_app.ui.widgets.layout import with_button
from desktop_app.ui.widgets.problem_label import ProblemLabel
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


_FORMAT_HELP = {
    ExportFormat.CSV: "Comma-separated values: any spreadsheet or data tool reads them.",
    ExportFormat.TSV: "Tab-separated values: pastes straight into spreadsheets.",
    ExportFormat.JSON: "One JSON array of objects; numbers stay numbers, NULL is null, blobs base64.",
    ExportFormat.JSONL: "One JSON object per line (pandas, DuckDB, jq); the same value rules as JSON.",
    ExportFormat.MARKDOWN: "A Markdown table, for an issue or a document; every value becomes text.",
    ExportFormat.XLSX: (
        "An Excel workbook; past 1,048,576 rows the rows continue on a new sheet. Integers larger than "
        "Excel can hold exactly are written as text."
    ),
    ExportFormat.SQL: "CREATE TABLE and INSERT statements that recreate the rows exactly, types included.",
    ExportFormat.PARQUET: "Parquet for pandas, DuckDB and Spark; a column mixing kinds is written as text.",
}
_JSON_BLOBS = (("Base64", BlobEncoding.BASE64), ("Hex", BlobEncoding.HEX))


class ExportDialog(QDialog):
    """Pick a format, a file and options; `export_requested(path, format, options)` is emitted on Export."""

    export_requested = Signal(str, object, object)

    def __init__(
        self,
        parent: QWidget | None,
        options: dict[ExportFormat, Options],
        path: str,
        what: str = "the result",
        source_path: Path | None = None,
        fmt: ExportFormat = ExportFormat.CSV,
    ) -> None:
        super().__init__(parent)
        #: The database being read: the one file (with its sidecars) the export may never write.
        self.source_path = source_path
        self.setWindowTitle("Export")
        self.setMinimumWidth(600)
        self.job: object | None = None  #: the export job, once started (set by export_actions)
        #: The options of every format, as last chosen (a format's page edits its entry).
        self._options = {f: options.get(f) or default_options(f) for f in ExportFormat if available(f)}
        self._format = fmt if fmt in self._options else ExportFormat.CSV

        self.intro = QLabel(f"Export every row of {what}.")
        self.format_combo = QComboBox()
        for each in ExportFormat:
            self.format_combo.addItem(f"{each.info.label} ({each.info.extension})", each)
            if not available(each):
                item = self.format_combo.model().item(self.format_combo.count() - 1)  # type: ignore[attr-defined]
                item.setEnabled(False)
                item.setToolTip(each.info.install_hint)
        self.format_help = hint_label()
        missing = [f.info.install_hint for f in ExportFormat if not available(f) and f.info.install_hint]
        self.install_note = hint_label("\n".join(missing), selectable=True)
        self.install_note.setVisible(bool(missing))

        self.path_edit = QLineEdit(path)
        self.path_edit.setPlaceholderText("File to write")
        path_row = with_button(self.path_edit, "Choose…", self._choose_file)
        self.path_note = QLabel()
        self.path_note.setWordWrap(True)

        self.pages = QStackedWidget()
        self._page_of: dict[ExportFormat, QWidget] = {}
        csv_page = self._csv_page()
        self._add_page(csv_page, ExportFormat.CSV, ExportFormat.TSV)
        self._add_page(self._json_page(), ExportFormat.JSON, ExportFormat.JSONL)
        self._add_page(self._markdown_page(), ExportFormat.MARKDOWN)
        self._add_page(self._xlsx_page(), ExportFormat.XLSX)
        self._add_page(self._sql_page(), ExportFormat.SQL)
        self._add_page(self._parquet_page(), ExportFormat.PARQUET)

        top = QFormLayout()
        top.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        top.addRow("Format:", self.format_combo)
        top.addRow(self.format_help)
        top.addRow("File:", path_row)
        top.addRow("", self.path_note)

        self.problem = ProblemLabel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(top)
        layout.addWidget(self.pages)
        layout.addWidget(self.install_note)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        _select(self.format_combo, self._format)
        self._show_format(self._format)
        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        for line_edit in (
            self.path_edit,
            self.custom_delimiter,
            self.quote_char,
            self.null_text,
            self.sql_table,
        ):
            line_edit.textChanged.connect(self._validate)
        for combo in (self.delimiter, self.quoting, self.line_ending, self.bom, self.blobs):
            combo.currentIndexChanged.connect(self._validate)
        self._validate()
        self.adjustSize()

    # --- pages of options ----------------------------------------------------------------------

    def _add_page(self, page: QWidget, *formats: ExportFormat) -> None:
        self.pages.addWidget(page)
        for each in formats:
            self._page_of[each] = page

    def _csv_page(self) -> QWidget:
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
        guard_help = hint_label(FORMULA_GUARD_HELP, selectable=True)
        return _form_page(
            ("Header:", self.header),
            ("Delimiter:", delimiter_row),
            ("Quote character:", self.quote_char),
            ("Quote cells:", self.quoting),
            ("Line ending:", self.line_ending),
            ("Encoding:", self.bom),
            ("NULL written as:", self.null_text),
            ("Blobs:", self.blobs),
            ("Formulas:", self.formula_guard),
            guard_help,
        )

    def _json_page(self) -> QWidget:
        self.json_blobs = _combo(_JSON_BLOBS)  # type: ignore[arg-type]
        note = QLabel("Integers stay integers, floats read back exactly, NULL is null; infinities are text.")
        note.setWordWrap(True)
        return _form_page(("Blobs:", self.json_blobs), note)

    def _markdown_page(self) -> QWidget:
        self.markdown_null = QLineEdit()
        self.markdown_blobs = _combo(_BLOBS[:2])  # type: ignore[arg-type]
        return _form_page(
            ("NULL written as:", self.markdown_null),
            ("Blobs:", self.markdown_blobs),
        )

    def _xlsx_page(self) -> QWidget:
        self.xlsx_header = QCheckBox("First row holds the column names")
        self.xlsx_blobs = _combo(_JSON_BLOBS)  # type: ignore[arg-type]
        return _form_page(
            ("Header:", self.xlsx_header),
            ("Blobs:", self.xlsx_blobs),
        )

    def _sql_page(self) -> QWidget:
        self.sql_table = QLineEdit()
        self.sql_create = QCheckBox("Start with CREATE TABLE")
        self.sql_transaction = QCheckBox("Wrap the INSERTs in BEGIN … COMMIT")
        return _form_page(
            ("Table name:", self.sql_table),
            ("", self.sql_create),
            ("", self.sql_transaction),
        )

    def _parquet_page(self) -> QWidget:
        self.parquet_compression = _combo(
            (("zstd", "zstd"), ("snappy", "snappy"), ("gzip", "gzip"), ("none", "none"))
        )
        return _form_page(
            ("Compression:", self.parquet_compression),
        )

    # --- options ---------------------------------------------------------------------------------

    def format(self) -> ExportFormat:
        """The chosen format."""
        return self._format

    def set_format(self, fmt: ExportFormat) -> None:
        """Choose `fmt` (its remembered options are shown; the file name's extension follows)."""
        _select(self.format_combo, fmt)

    def _on_format_changed(self, *_args: object) -> None:
        fmt = self.format_combo.currentData()
        if fmt == self._format:
            return
        try:
            self._options[self._format] = self.options()
        except ExportError:
            pass  # invalid choices of the format left are not kept
        previous = self._format
        self._format = fmt
        self._show_format(fmt)
        path = self.path()
        if path and Path(path).suffix.lower() == previous.info.extension:
            self.set_path(str(Path(path).with_suffix(fmt.info.extension)))
        self._validate()

    def _show_format(self, fmt: ExportFormat) -> None:
        self.pages.setCurrentWidget(self._page_of[fmt])
        self.format_help.setText(_FORMAT_HELP[fmt])
        self.setWindowTitle(f"Export as {fmt.info.label}")
        self.set_options(self._options[fmt])

    def set_options(self, options: Options) -> None:
        """Show `options` (of the chosen format) in the controls."""
        if isinstance(options, CsvOptions):
            self._set_csv_options(options)
        elif isinstance(options, JsonOptions):
            _select(self.json_blobs, options.blobs)
        elif isinstance(options, MarkdownOptions):
            self.markdown_null.setText(options.null)
            _select(self.markdown_blobs, options.blobs)
        elif isinstance(options, XlsxOptions):
            self.xlsx_header.setChecked(options.header)
            _select(self.xlsx_blobs, options.blobs)
        elif isinstance(options, SqlOptions):
            self.sql_table.setText(options.table)
            self.sql_create.setChecked(options.create_table)
            self.sql_transaction.setChecked(options.transaction)
        elif isinstance(options, ParquetOptions):
            _select(self.parquet_compression, options.compression)

    def _set_csv_options(self, options: CsvOptions) -> None:
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

    def options(self) -> Options:
        """The chosen format's options; raises `ExportError` when they do not make a valid file."""
        fmt = self._format
        if fmt in (ExportFormat.CSV, ExportFormat.TSV):
            return self._csv_options(TsvOptions if fmt is ExportFormat.TSV else CsvOptions)
        if fmt in (ExportFormat.JSON, ExportFormat.JSONL):
            return JsonOptions(blobs=self.json_blobs.currentData())
        if fmt is ExportFormat.MARKDOWN:
            return MarkdownOptions(null=self.markdown_null.text(), blobs=self.markdown_blobs.currentData())
        if fmt is ExportFormat.XLSX:
            return XlsxOptions(header=self.xlsx_header.isChecked(), blobs=self.xlsx_blobs.currentData())
        if fmt is ExportFormat.SQL:
            return SqlOptions(
                table=self.sql_table.text().strip(),
                create_table=self.sql_create.isChecked(),
                transaction=self.sql_transaction.isChecked(),
            )
        return ParquetOptions(compression=self.parquet_compression.currentData())

    def _csv_options(self, kind: type[CsvOptions]) -> CsvOptions:
        delimiter = self.delimiter.currentData()
        if delimiter == _OTHER:
            delimiter = self.custom_delimiter.text()
            if not delimiter:
                raise ExportError("Type the character to use as delimiter.")
        return kind(
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
        self.export_button.setEnabled(not problem)
        return self.problem.show_problem(problem)

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
        info = self._format.info
        filters = f"{info.label} files (*{info.extension});;All files (*)"
        dialog = save_file_dialog(self, f"Export as {info.label}", self.path(), filters)
        dialog.setDefaultSuffix(info.extension.lstrip("."))
        dialog.fileSelected.connect(self.set_path)
        dialog.open()

    def accept(self) -> None:
        """Emit `export_requested` and close, when the options and file are valid."""
        if not self._validate():
            return
        self.export_requested.emit(self.path(), self._format, self.options())
        super().accept()


def _form_page(*rows: tuple[str, QWidget | QLayout] | QWidget) -> QWidget:
    """A page holding a form of `rows`: `(label, field)`, or a widget across the row."""
    page = QWidget()
    form = QFormLayout(page)
    for row in rows:
        if isinstance(row, tuple):
            form.addRow(*row)
        else:
            form.addRow(row)
    form.setContentsMargins(0, 0, 0, 0)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    return page
