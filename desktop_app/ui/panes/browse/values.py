"""Browse's readable values: each column's timestamp guess (a job over a sample of the whole table) and
the user's choices, and the value inspector in the details area beside the grid."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, QSignalBlocker
from PySide6.QtWidgets import QSplitter, QTableView, QToolButton, QWidget

from desktop_app.core.browse.row_sources import TableRowSource
from desktop_app.core.schema.catalog import Table
from desktop_app.core.values.time_columns import guess_table_times
from desktop_app.core.values.timestamps import TimeEncoding
from desktop_app.ui.job_center import Job, JobCenter
from desktop_app.ui.latest import LatestRequest
from desktop_app.ui.models.column_times import TimePreferences
from desktop_app.ui.models.table_model import WindowedTableModel
from desktop_app.ui.panes.browse.details import Details, details_beside
from desktop_app.ui.widgets.inspect_cell import InspectCell
from desktop_app.ui.widgets.time_columns import Scope, TimeColumns
from desktop_app.ui.widgets.value_inspector import ValueInspector


class BrowseValues(QObject):
    """The timestamp columns of Browse's grid, and the details area (value inspector) beside it."""

    def __init__(
        self,
        model: WindowedTableModel,
        view: QTableView,
        grid: QWidget,
        settings: QSettings,
        jobs: JobCenter,
        scope: Scope,
        row_label: Callable[[int], str],
    ) -> None:
        super().__init__(model)
        self.model, self.jobs = model, jobs
        self._guessing = LatestRequest()
        model.modelAboutToBeReset.connect(self._guessing.cancel)  # other rows (or none): stop guessing
        #: Per-column timestamp choices, remembered per database and table.
        self.times = TimeColumns(model, TimePreferences(settings), scope)
        #: Beside the grid, collapsed until asked for: the value inspector (and other tabs).
        self.details = Details()
        self.inspector = ValueInspector()
        self.details.add_tab(self.inspector, "Value")
        self.inspect = InspectCell(
            view, model, self.inspector, self.times, lambda: self.details.is_open, row_label
        )
        self.button = QToolButton()
        self.button.setText("Details")
        self.button.setCheckable(True)
        self.button.setToolTip("Show the selected value decoded: text, time, JSON tree, geometry (F4)")
        self.button.toggled.connect(self.show_details)
        #: The grid with the details area to its right.
        self.split: QSplitter = details_beside(grid, self.details)
        self.split.splitterMoved.connect(self._on_split_moved)
        #: The timestamp columns guessed from a sample of the whole table (kept across sorts and filters).
        self._table_times: tuple[Table, dict[str, TimeEncoding]] | None = None

    # --- details ---------------------------------------------------------------------------------

    def show_details(self, shown: bool = True) -> None:
        """Open (or collapse) the details area beside the grid, showing the current cell."""
        self.details.set_open(shown)
        if self.button.isChecked() != shown:
            with QSignalBlocker(self.button):
                self.button.setChecked(shown)
        self.inspect.update()

    def inspect_current(self) -> None:
        """Show the current cell in the value inspector."""
        self.details.reveal(self.inspector)
        self.show_details(True)

    def _on_split_moved(self, *_args: object) -> None:
        with QSignalBlocker(self.button):
            self.button.setChecked(self.details.is_open)
        self.inspect.update()

    # --- timestamps ------------------------------------------------------------------------------

    def load_choices(self) -> None:
        """Apply the user's remembered choices for the table shown (before its first rows arrive)."""
        self.times.load()

    def guess(self, source: TableRowSource) -> None:
        """Guess `source`'s timestamp columns from a sample of the whole table, once per table: a hidden
        job (stopped when the grid shows other rows, waited for when the window closes); until it
        answers, the first rows' guess stands."""
        known = self._table_times
        if known is not None and known[0] is source.table:  # the same table sorted or filtered anew
            self._guessing.cancel()
            self._apply(source, known[1])
            return

        async def work(job: Job) -> dict[str, TimeEncoding]:
            cancel = job.cancel_token
            return await source.database.run_sync(guess_table_times, source.table, cancel, cancel=cancel)

        def done(found: dict[str, TimeEncoding]) -> None:
            if self.model.source is source:
                self._table_times = (source.table, found)
                self._apply(source, found)

        # An error (a table that cannot be read, Stop) leaves the first rows' guess in place.
        self._guessing.start(
            self.jobs, "Reading time columns", work, on_done=done, on_error=lambda _error: None, show=False
        )

    def _apply(self, source: TableRowSource, found: dict[str, TimeEncoding]) -> None:
        columns = source.columns
        self.model.set_guessed_times({i: found[c.name] for i, c in enumerate(columns) if c.name in found})
