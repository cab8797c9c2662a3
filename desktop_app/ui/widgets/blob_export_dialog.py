"""The bulk blob export dialog: folder, file-name pattern with a live preview, options, progress, summary.

The dialog does not know where the blobs come from: its owner passes an async `work(options, progress,
cancel)` (e.g. `export_column` or `export_blobs` run on the database), and the dialog runs it as a job
with determinate progress and Stop, then shows what was written, skipped and failed.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.blobs.export import (
    BlobExportCancelled,
    BlobExportResult,
    export_column,
    export_query_column,
)
from desktop_app.core.blobs.name_preview import NameSample, preview_names
from desktop_app.core.blobs.names import DEFAULT_NAME_PATTERN, SPECIAL_FIELDS
from desktop_app.core.database import Database
from desktop_app.core.errors import UserError
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback
from desktop_app.core.schema.catalog import Table
from desktop_app.ui.job_center import Job, JobCenter
from desktop_app.ui.settings import read_bool, read_str
from desktop_app.ui.theme import error_style, follow
from desktop_app.ui.widgets.hint_label import hint_label
from desktop_app.ui.widgets.layout import with_button
from desktop_app.ui.widgets.progress_bar import show_fraction

#: Failures listed one per line in the summary; the rest are counted.
FAILURES_SHOWN = 500


@dataclass(frozen=True)
class BlobExportOptions:
    """What the user chose: the folder, the name pattern, replacing existing files, skipping empty values."""

    folder: str
    pattern: str
    overwrite: bool
    skip_empty: bool


#: `work(options, progress, cancel)` runs the export (off the UI thread) and returns its result.
ExportWork = Callable[[BlobExportOptions, ProgressCallback, CancelToken], Awaitable[BlobExportResult]]


def _export_work(
    database: Database, export: Callable[..., BlobExportResult], *args: Any, **fixed: Any
) -> ExportWork:
    """`export(conn, *args, folder, <the dialog's options>, **fixed)` run on the database's worker threads."""

    async def work(options: BlobExportOptions, progress: ProgressCallback, cancel: CancelToken) -> Any:
        call = functools.partial(
            export,
            pattern=options.pattern,
            overwrite=options.overwrite,
            skip_empty=options.skip_empty,
            progress=progress,
            cancel=cancel,
            source_path=database.snapshot.path,  # no file written may be the database or its sidecars
            **fixed,
        )
        return await database.run_sync(call, *args, options.folder, cancel=cancel)

    return work


def column_export_work(database: Database, table: Table, column: str) -> ExportWork:
    """The work of exporting `table.column` with `export_column`."""
    return _export_work(database, export_column, table.name, column, schema=table.schema)


def query_export_work(database: Database, sql: str, column: int) -> ExportWork:
    """The work of exporting column `column` of the result of `sql` with `export_query_column`."""
    return _export_work(database, export_query_column, sql, column)


class BlobExportDialog(QDialog):
    """Choose a folder and a name pattern, then export with progress and Stop; shows the summary."""

    #: The export ended (finished or stopped): its result.
    exported = Signal(object)

    def __init__(
        self,
        jobs: JobCenter,
        settings: QSettings,
        *,
        title: str,
        description: str,
        fields: Sequence[str],
        samples: Sequence[NameSample],
        work: ExportWork,
        settings_prefix: str = "blobs/export",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(620, 520)
        self._jobs = jobs
        self._settings = settings
        self._prefix = settings_prefix
        self._fields = list(fields)
        self._samples = list(samples)
        self._work = work
        self.job: Job | None = None
        self.result: BlobExportResult | None = None

        intro = QLabel(description)
        intro.setWordWrap(True)
        self.folder = QLineEdit(read_str(settings, f"{self._prefix}_folder"))
        self.folder.setPlaceholderText("Folder to write to (created if missing)")
        self.folder.textChanged.connect(self._validate)
        folder_row = with_button(self.folder, "Choose…", self._choose_folder)
        self.pattern = QLineEdit(read_str(settings, f"{self._prefix}_pattern", DEFAULT_NAME_PATTERN))
        self.pattern.textChanged.connect(self._update_preview)
        field_list = " ".join(f"{{{name}}}" for name in (*SPECIAL_FIELDS, *self._fields))
        hint = hint_label(
            f"Fields: {field_list}. {{n}} is the row number, {{ext}} the extension of the sniffed type; "
            "format specs work too, e.g. {n:05d}.",
            selectable=True,
        )
        self.preview = QLabel()
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview.setWordWrap(True)
        self.overwrite = QCheckBox("Replace files that already exist (otherwise new files are numbered)")
        self.overwrite.setChecked(read_bool(settings, f"{self._prefix}_overwrite"))
        self.skip_empty = QCheckBox("Write no file for empty values")
        self.skip_empty.setChecked(read_bool(settings, f"{self._prefix}_skip_empty"))
        self.skip_empty.toggled.connect(self._update_preview)
        self.message = QLabel()
        self.message.setWordWrap(True)
        follow(self.message, error_style)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress_label = QLabel()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.failures = QListWidget()
        self.failures.setMaximumHeight(140)

        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.stop_button = self.buttons.addButton("Stop", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button = self.buttons.addButton("Open folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start_export)
        self.stop_button.clicked.connect(self.stop)
        self.open_button.clicked.connect(self._open_folder)
        self.close_button.clicked.connect(self.close)

        form = QFormLayout()
        form.addRow("Folder:", folder_row)
        pattern_box = QVBoxLayout()
        pattern_box.setSpacing(2)
        pattern_box.addWidget(self.pattern)
        pattern_box.addWidget(hint)
        form.addRow("File names:", pattern_box)
        form.addRow("Preview:", self.preview)
        form.addRow("", self.overwrite)
        form.addRow("", self.skip_empty)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.failures, 1)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._set_running(False)
        for widget in (self.progress, self.progress_label, self.summary, self.failures):
            widget.setVisible(False)
        self.open_button.setVisible(False)
        self._update_preview()

    # --- choosing ---------------------------------------------------------------------------------

    def options(self) -> BlobExportOptions:
        """The choices as they stand."""
        return BlobExportOptions(
            self.folder.text().strip(),
            self.pattern.text(),
            self.overwrite.isChecked(),
            self.skip_empty.isChecked(),
        )

    def _choose_folder(self) -> None:
        dialog = QFileDialog(self, "Export to folder", self.folder.text() or str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.folder.setText)
        dialog.open()

    def _update_preview(self, *_args: object) -> None:
        try:
            names = preview_names(
                self.pattern.text(), self._fields, self._samples, skip_empty=self.skip_empty.isChecked()
            )
        except UserError as exc:
            self.preview.setText("")
            self._set_message(exc.message)
            self.export_button.setEnabled(False)
            return
        more = "\n…" if len(names) == len(self._samples) and names else ""
        self.preview.setText("\n".join(names) + more if names else "(no rows)")
        self._set_message("")
        self._validate()

    def _set_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _validate(self, *_args: object) -> None:
        running = self.job is not None
        self.export_button.setEnabled(
            not running and bool(self.folder.text().strip()) and not self.message.text()
        )

    # --- running ----------------------------------------------------------------------------------

    def start_export(self) -> Job | None:
        """Start the export job with the current choices (remembered for next time); return the job."""
        if self.job is not None or not self.export_button.isEnabled():
            return None
        options = self.options()
        for key, value in (
            ("folder", options.folder),
            ("pattern", options.pattern),
            ("overwrite", options.overwrite),
            ("skip_empty", options.skip_empty),
        ):
            self._settings.setValue(f"{self._prefix}_{key}", value)
        work = self._work

        async def run(job: Job) -> BlobExportResult:
            return await work(options, job.progress_callback(), job.cancel_token)

        self.result = None
        self.summary.setVisible(False)
        self.failures.setVisible(False)
        self.open_button.setVisible(False)
        self.progress.setValue(0)
        self.progress_label.setText("Starting…")
        self.job = self._jobs.start(
            f"Exporting blobs to {Path(options.folder).name or options.folder}",
            run,
            on_done=self._finished,
            on_error=self._failed,
        )
        self.job.progressed.connect(self._on_progress)
        self.job.ended.connect(self._ended)
        self.job.failed.connect(self._on_unexpected)
        self._set_running(True)
        return self.job

    def stop(self) -> None:
        """Stop the running export (what was written stays)."""
        if self.job is not None:
            self.job.cancel()
            self.progress_label.setText("Stopping…")

    def _on_progress(self, progress: Progress) -> None:
        show_fraction(self.progress, progress.fraction)
        total = f" of {progress.total:,}" if progress.total is not None else ""
        self.progress_label.setText(f"{progress.done:,}{total} rows — {progress.label}")

    def _finished(self, result: BlobExportResult) -> None:
        self.progress.setRange(0, 1000)
        self.progress.setValue(1000)
        self._show_result(result, "")

    def _failed(self, error: UserError) -> None:
        if isinstance(error, BlobExportCancelled):
            self._show_result(error.result, "Stopped. ")
            return
        self._set_message(error.message)
        self.progress_label.setText("")

    def _on_unexpected(self, error: object) -> None:
        if not isinstance(error, UserError):
            self._set_message("Something went wrong during the export; details are in the log file.")

    def _show_result(self, result: BlobExportResult, prefix: str) -> None:
        self.result = result
        self.progress_label.setText("")
        self.summary.setText(prefix + result.summary())
        self.summary.setVisible(True)
        self.failures.clear()
        for failure in result.failures[:FAILURES_SHOWN]:
            self.failures.addItem(f"{failure.row}: {failure.reason}")
        if result.failed > FAILURES_SHOWN:
            self.failures.addItem(f"… and {result.failed - FAILURES_SHOWN:,} more")
        self.failures.setVisible(bool(result.failures))
        self.open_button.setVisible(True)
        self.exported.emit(result)

    def _ended(self) -> None:
        self.job = None
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        for widget in (self.folder, self.pattern, self.overwrite, self.skip_empty):
            widget.setEnabled(not running)
        self.stop_button.setVisible(running)
        self.progress.setVisible(running or not self.progress.isHidden())
        self.progress_label.setVisible(running or bool(self.progress_label.text()))
        self._validate()

    def _open_folder(self) -> None:
        folder = self.result.folder if self.result is not None else Path(self.folder.text())
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
