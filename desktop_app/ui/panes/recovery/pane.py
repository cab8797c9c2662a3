"""The Recovered pane: deleted records carved from the snapshot's free space, per table (and "Unknown
table"), with where each came from; filter, export with provenance, and the case-file report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractProxyModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QTableView, QWidget

from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.export.formats import ExportFormat
from desktop_app.core.progress import Progress
from desktop_app.core.recovery.in_child import recover_isolated
from desktop_app.core.recovery.live import LiveComparison, compare_with_live
from desktop_app.core.recovery.model import RecoveredRecord, RecoveryResult
from desktop_app.core.recovery.output import export_recovered
from desktop_app.core.recovery.report import export_report
from desktop_app.ui.context import AppContext
from desktop_app.ui.gil_handover import quick_gil_handover
from desktop_app.ui.gui_thread_gc import LongLivedWork
from desktop_app.ui.job_center import Job
from desktop_app.ui.latest import LatestRequest
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.recovery.entries import ALL_RECORDS, UNKNOWN_TABLE, Entry, Shown, prepare
from desktop_app.ui.panes.recovery.grid import PassThrough, RecordFilter, RecoveredModel, RowNumbers
from desktop_app.ui.panes.recovery.live_view import LiveComparisonView
from desktop_app.ui.theme import dim_style
from desktop_app.ui.widgets.column_fit import fit_columns_to_rows_in_view
from desktop_app.ui.widgets.layout import hbox, push_button, splitter, vbox
from desktop_app.ui.widgets.save_dialog import save_file_dialog

__all__ = ["ALL_RECORDS", "UNKNOWN_TABLE", "RecoveryPane"]
#: The status line says how far a scan got at most this often (each update lays out and paints the line).
PROGRESS_INTERVAL_MS = 200
_EXPORT_FILTERS = "CSV (*.csv);;JSON (*.json)"
_REPORT_FILTERS = "Text report (*.txt);;JSON report (*.json)"


class RecoveryPane(Pane):
    """Scan free space for deleted records (a job with progress and Stop) and browse what came back."""

    title = "Recovered"
    #: A scan finished with this result (tests, the status bar).
    recovered = Signal(object)
    #: A report was written: (path, data).
    report_written = Signal(str, object)
    #: The selected record was compared with its live row: (record, comparison).
    compared = Signal(object, object)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.result: RecoveryResult | None = None
        self.shown: Shown | None = None
        self.job: Job | None = None
        self._progress: Progress | None = None  # the latest, shown when the throttle's timer fires
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_INTERVAL_MS)
        self._progress_timer.timeout.connect(self._show_progress)
        self.scan_button = push_button(
            "Scan free space", self.scan, "Carve deleted records from freelist pages, freeblocks, gaps"
        )
        self.export_button = push_button(
            "Export…", self.choose_export, "CSV or JSON, with provenance columns"
        )
        self.report_button = push_button(
            "Export report…", self.choose_report, "Hashes before and after, header facts, what came back"
        )
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter recovered rows")
        self.filter_edit.setClearButtonEnabled(True)
        self.status = QLabel("Deleted rows stay in free space unless secure_delete was on. Scan to look.")
        self.status.setWordWrap(True)
        self.status.setStyleSheet(dim_style())
        self.tables = QListWidget()
        self.model = RecoveredModel()
        # The grid reads the records through a pass-through proxy unless a filter is typed: Qt's
        # filtering proxy maps every row whenever the records change (35-50 ms for 900k records).
        self.unfiltered = PassThrough()
        self.unfiltered.setSourceModel(self.model)
        self.filtering = RecordFilter()
        self.grid = QTableView()
        self.grid.setVerticalHeader(RowNumbers(self.grid))
        self.grid.setModel(self.unfiltered)
        self.grid.verticalHeader().setDefaultSectionSize(self.grid.fontMetrics().height() + 6)
        self.filter_edit.textChanged.connect(self._filter)
        self.tables.currentItemChanged.connect(lambda *_: self._show_selected())
        self.live_view = LiveComparisonView()
        self._comparing = LatestRequest()  # a newer selection's lookup replaces the older one
        self.grid.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self._follow_selection()
        right = QWidget()
        vbox(
            hbox(self.filter_edit, self.export_button, margins=0),
            (splitter(self.grid, self.live_view, sizes=[500, 120], orientation=Qt.Orientation.Vertical), 1),
            margins=0,
            parent=right,
        )
        vbox(
            hbox(self.scan_button, self.report_button, (self.status, 1), margins=0),
            (splitter(self.tables, (right, 1), sizes=[220, 800]), 1),
            parent=self,
        )
        self._update_buttons()

    # --- scanning ---------------------------------------------------------------------------

    def on_database_changed(self) -> None:
        """A new snapshot: what was recovered belongs to the old one."""
        if self.job is not None and not self.job.done:
            self.job.cancel()
        self.job = None
        self._comparing.cancel()
        self._show(None)
        self.status.setText("Deleted rows stay in free space unless secure_delete was on. Scan to look.")

    def scan(self) -> None:
        """Carve the snapshot's free space as a job (progress and Stop in the status bar)."""
        database = self.context.database
        if database is None or (self.job is not None and not self.job.done):
            return

        async def work(job: Job) -> Shown:
            progress, token = job.progress_callback(), job.cancel_token

            def run(conn: Any) -> Shown:
                # A child process carves (the window never waits for its GIL); in this thread when the
                # machine lacks the memory to share the snapshot with it.
                return prepare(recover_isolated(conn, progress=progress, cancel=token))

            with LongLivedWork() as records, quick_gil_handover():
                shown = await database.run_sync(run, cancel=token)
                records.keep()
            return shown

        self.status.setText("Scanning free space…")
        self.job = self.context.jobs.start(
            "Recovering deleted rows", work, on_done=self._done, on_error=self._failed
        )
        self.job.progressed.connect(self._progressed)
        self._update_buttons()

    def _progressed(self, progress: Progress) -> None:
        # Reports come every 256 pages (hundreds a second on a sparse file): the line shows the latest.
        self._progress = progress
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    def _show_progress(self) -> None:
        progress, self._progress = self._progress, None
        if progress is not None and progress.total and self.job is not None:
            self.status.setText(f"Scanning free space… page {progress.done:,} of {progress.total:,}")

    def _done(self, shown: Shown) -> None:
        self.job = None
        self._show(shown)
        self.recovered.emit(shown.result)

    def _failed(self, error: UserError) -> None:
        self.job = None
        self.status.setText(
            "Stopped." if isinstance(error, Cancelled) else f"Recovery failed: {error.message}"
        )
        self._update_buttons()

    def _show(self, shown: Shown | None) -> None:
        """Show a result as `prepare` laid it out off the GUI thread (None: nothing)."""
        self.shown = shown
        self.result = shown.result if shown is not None else None
        self.tables.blockSignals(True)  # one grid refresh at the end, not one per entry
        self.tables.clear()
        if shown is not None:
            self.status.setText(shown.status)
            for entry in shown.entries:
                item = QListWidgetItem(entry.text)
                item.setToolTip(entry.text)
                self.tables.addItem(item)
            self.tables.setCurrentRow(0)
        self.tables.blockSignals(False)
        self._show_selected()
        self._update_buttons()

    def _current_entry(self) -> Entry | None:
        row = self.tables.currentRow()
        if self.shown is None or not 0 <= row < len(self.shown.entries):
            return None
        return self.shown.entries[row]

    def shown_records(self) -> list[RecoveredRecord]:
        """The records of the selected sidebar entry (before the filter)."""
        entry = self._current_entry()
        return entry.records if entry is not None else []

    def _show_selected(self) -> None:
        entry = self._current_entry()
        self.model.set_records(entry.records if entry else [], entry.columns if entry else None)
        fit_columns_to_rows_in_view(self.grid, self.grid_row_texts)
        self._compare(self.grid.currentIndex())

    # --- the selected record against its live row ---------------------------------------------

    def current_record(self) -> RecoveredRecord | None:
        """The record of the grid's current row, if any."""
        index = self.grid.currentIndex()
        if not index.isValid():
            return None
        return self.model.records[self.proxy.mapToSource(index).row()]

    def _compare(self, index: QModelIndex) -> None:
        """Look up the live row with the current record's key, as a job (a lookup may take a while)."""
        database = self.context.database
        record = self.model.records[self.proxy.mapToSource(index).row()] if index.isValid() else None
        if database is None or record is None:
            self._comparing.cancel()
            self.live_view.clear()
            return
        self.live_view.show_pending(record)

        async def work(job: Job) -> LiveComparison:
            token = job.cancel_token

            def run(conn: Any) -> LiveComparison:
                return compare_with_live(conn, [record], token)[0]

            return await database.run_sync(run, cancel=token)

        def done(comparison: LiveComparison) -> None:
            self.live_view.show_comparison(record, comparison)
            self.compared.emit(record, comparison)

        def failed(error: UserError) -> None:
            if not isinstance(error, Cancelled):
                self.live_view.show_failure(error.message)

        self._comparing.start(
            self.context.jobs, "Comparing with the live row", work, on_done=done, on_error=failed, show=False
        )

    @property
    def proxy(self) -> QAbstractProxyModel:
        """The proxy the grid shows the records through (`filtering` while a filter is typed)."""
        model = self.grid.model()
        assert isinstance(model, QAbstractProxyModel)
        return model

    def grid_row_texts(self, row: int) -> list[str]:
        """The texts of the grid's `row` as its cells show them."""
        return self.model.shown_texts(self.proxy.mapToSource(self.proxy.index(row, 0)).row())

    def _follow_selection(self) -> None:
        self.grid.selectionModel().currentRowChanged.connect(lambda current, _: self._compare(current))

    def _filter(self, text: str) -> None:
        if text:
            if self.filtering.sourceModel() is None:
                self.filtering.setSourceModel(self.model)
            self.filtering.set_text(text)
        wanted = self.filtering if text else self.unfiltered
        if self.grid.model() is not wanted:
            self.grid.setModel(wanted)  # a new selection model: the current row is gone
            self._follow_selection()
            fit_columns_to_rows_in_view(self.grid, self.grid_row_texts)
            self._compare(self.grid.currentIndex())
            if not text:
                self.filtering.setSourceModel(None)  # it would map every row at each change of records

    def filtered_records(self) -> list[RecoveredRecord]:
        """The records the grid shows now (sidebar entry and filter applied), in grid order."""
        rows = [self.proxy.mapToSource(self.proxy.index(i, 0)).row() for i in range(self.proxy.rowCount())]
        return [self.model.records[r] for r in rows]

    def _update_buttons(self) -> None:
        has_db = self.context.database is not None
        running = self.job is not None and not self.job.done
        self.scan_button.setEnabled(has_db and not running)
        self.report_button.setEnabled(has_db and not running)
        self.export_button.setEnabled(bool(self.model.records))

    # --- export and report ------------------------------------------------------------------

    def choose_export(self) -> None:
        """Ask where to export the rows shown (CSV or JSON, with provenance columns)."""
        dialog = save_file_dialog(self, "Export recovered rows", "recovered.csv", _EXPORT_FILTERS)
        dialog.fileSelected.connect(self.export_to)
        dialog.open()

    def export_to(self, path: str) -> Job | None:
        """Export the rows the grid shows to `path` (JSON when it ends in .json, else CSV), as a job."""
        database = self.context.database
        records = self.filtered_records()
        if database is None or not records:
            return None
        fmt = ExportFormat.JSON if path.lower().endswith(".json") else ExportFormat.CSV
        source = database.snapshot.path

        async def work(job: Job) -> Any:
            import asyncio

            return await asyncio.to_thread(
                export_recovered, records, path, fmt, source_path=source, cancel=job.cancel_token
            )

        def done(result: Any) -> None:
            self.status_message.emit(f"Exported {result.rows:,} recovered rows to {result.path}.")

        def failed(error: UserError) -> None:
            self.status_message.emit(f"Export of recovered rows failed: {error.message}")

        return self.context.jobs.start("Exporting recovered rows", work, on_done=done, on_error=failed)

    def choose_report(self) -> None:
        """Ask where to write the case-file report."""
        database = self.context.database
        if database is None:
            return
        start = f"{Path(database.snapshot.path).stem}-recovery-report.txt"
        dialog = save_file_dialog(self, "Export report", start, _REPORT_FILTERS)
        dialog.fileSelected.connect(self.write_report)
        dialog.open()

    def write_report(self, path: str) -> Job | None:
        """Hash the file, recover, hash it again and write the report to `path`, as a job."""
        database = self.context.database
        if database is None:
            return None
        snapshot = database.snapshot
        source = snapshot.source or snapshot.path

        async def work(job: Job) -> Any:
            progress, token = job.progress_callback(), job.cancel_token

            def run(conn: Any) -> Any:
                written, data, result = export_report(
                    conn, source, path, snapshot_taken=snapshot.taken_at, progress=progress, cancel=token
                )
                return written, data, prepare(result)

            with LongLivedWork() as records, quick_gil_handover():
                answer = await database.run_sync(run, cancel=token)
                records.keep()
            return answer

        def done(answer: Any) -> None:
            written, data, shown = answer
            self._show(shown)
            unchanged = "unchanged" if data["file_unchanged"] else "CHANGED while it was read"
            self.status_message.emit(f"Report written to {written} (file {unchanged}).")
            self.report_written.emit(str(written), data)

        def failed(error: UserError) -> None:
            self.status_message.emit(f"The report was not written: {error.message}")

        return self.context.jobs.start("Writing the recovery report", work, on_done=done, on_error=failed)
