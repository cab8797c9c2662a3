"""The chart window: pick a chart type and columns; the whole result is read as a job, then drawn.

A window of its own, not a tab in the pane: a chart wants room while the rows it came from stay in view
beside it, several charts can be compared side by side, and neither the SQL pane's result tabs nor
Browse's single grid change shape for it. It belongs to the main window (closes with it).

The rows are read again from the snapshot (all of them, not what a grid fetched) by `read_chart` on a
pooled connection, with progress and Stop; a new choice starts a new read and the older one is stopped.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QSpinBox,
    QWidget,
)

from desktop_app.core.chart.read import SUMMARISING, read_chart
from desktop_app.core.chart.spec import AUTO, CATEGORY, NUMBER, ChartData, ChartKind, ChartSpec
from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import Progress
from desktop_app.core.values.timestamps import ENCODINGS
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.latest import LatestRequest
from desktop_app.ui.theme import dim_style
from desktop_app.ui.widgets.chart.plot import ChartPlot
from desktop_app.ui.widgets.chart.source import ChartSource, default_choice
from desktop_app.ui.widgets.layout import hbox, push_button, splitter, vbox
from desktop_app.ui.widgets.problem_label import ProblemLabel
from desktop_app.ui.widgets.progress_bar import show_fraction
from desktop_app.ui.widgets.save_dialog import picture_save_dialog, save_bytes

#: Wait this long after a choice before reading (a few quick clicks start one read).
_DEBOUNCE_MS = 300


class ChartWindow(QWidget):
    """Chart type, X / Y / series pickers, the chart, progress and Stop, PNG and SVG export."""

    def __init__(self, context: AppContext, source: ChartSource, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.context = context
        self.source = source
        self.job: Job | None = None
        self.data: ChartData | None = None
        self.last_export: Path | None = None
        self._save_dialog: QWidget | None = None
        self.setWindowTitle(f"Chart of {source.title}")
        self.resize(1024, 600)

        names = [name for name, _declared in source.columns]
        self.kind = QComboBox()
        for kind in ChartKind:
            self.kind.addItem(kind.value.capitalize(), kind)
        self.x = QComboBox()
        self.x.addItems(names)
        self.x_axis = QComboBox()
        self.x_axis.setToolTip("How X values are read: guessed from the values, or chosen here")
        for label, value in (("Guess", AUTO), ("Numbers", NUMBER), ("Categories", CATEGORY)):
            self.x_axis.addItem(label, value)
        for encoding in ENCODINGS:
            self.x_axis.addItem(f"Time: {encoding.label}", encoding.name)
        self.ys = QListWidget()
        self.ys.setToolTip("The columns drawn against X (tick one or more)")
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.ys.addItem(item)
        self.series = QComboBox()
        self.series.setToolTip("One series per value of this column (rows grouped by it)")
        self.series.addItem("(none)", None)
        for index, name in enumerate(names):
            self.series.addItem(name, index)
        self.bins = QSpinBox()
        self.bins.setRange(2, 1000)
        self.bins.setValue(50)

        self.plot = ChartPlot(self)
        self.plot.zoomed.connect(self.read_zoomed)
        #: The read of a summarised line's zoomed range (a newer zoom stops an older read).
        self.zoom_read = LatestRequest()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.progress_label = QLabel()
        self.stop_button = push_button("Stop", self.stop, "Stop reading the rows")
        self.stop_button.setEnabled(False)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet(dim_style())
        self.problem = ProblemLabel()
        self.problem.show_problem("")
        self.png_button = push_button(
            "Export PNG…", lambda: self.choose_export("png"), "Save the chart as a picture"
        )
        self.svg_button = push_button(
            "Export SVG…", lambda: self.choose_export("svg"), "Save the chart as SVG"
        )

        form = QFormLayout()
        rows = [("Chart:", self.kind), ("X:", self.x), ("X is:", self.x_axis), ("Y:", self.ys)]
        for label, widget in [*rows, ("Series:", self.series), ("Bins:", self.bins)]:
            form.addRow(label, widget)
        self._bins_label = form.labelForField(self.bins)
        side = QWidget()
        vbox(
            form,
            hbox(self.progress_label, (QWidget(), 1), self.stop_button),
            self.progress,
            self.summary,
            self.problem,
            (self.notes, 1),
            hbox(self.png_button, self.svg_button),
            parent=side,
        )
        side.setMinimumWidth(230)
        side.setMaximumWidth(320)
        vbox(splitter(side, (self.plot, 1), sizes=[250, 774]), margins=4, parent=self)

        self._debounce = QTimer(self, singleShot=True, interval=_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.draw)
        kind, x, ys = default_choice(source.columns)
        self.set_choice(kind, x, ys)
        for signal in (
            self.kind.currentIndexChanged,
            self.x.currentIndexChanged,
            self.x_axis.currentIndexChanged,
            self.series.currentIndexChanged,
            self.bins.valueChanged,
            self.ys.itemChanged,
        ):
            signal.connect(self._choice_changed)
        self._update_controls()

    # --- choices ----------------------------------------------------------------------------------

    def set_choice(
        self, kind: ChartKind, x: int, ys: list[int], series: int | None = None, x_axis: str = AUTO
    ) -> None:
        """Select a chart (without drawing it: `draw` does)."""
        widgets = (self.kind, self.x, self.x_axis, self.series, self.ys)
        blocked = [w.blockSignals(True) for w in widgets]
        try:
            self.kind.setCurrentIndex(self.kind.findData(kind))
            self.x.setCurrentIndex(x)
            self.x_axis.setCurrentIndex(self.x_axis.findData(x_axis))
            self.series.setCurrentIndex(self.series.findData(series) if series is not None else 0)
            for row in range(self.ys.count()):
                checked = Qt.CheckState.Checked if row in ys else Qt.CheckState.Unchecked
                self.ys.item(row).setCheckState(checked)
        finally:
            for widget, was in zip(widgets, blocked, strict=True):
                widget.blockSignals(was)
        self._update_controls()

    def spec(self) -> ChartSpec:
        """The chart the controls describe."""
        ys = tuple(r for r in range(self.ys.count()) if self.ys.item(r).checkState() == Qt.CheckState.Checked)
        kind = self.kind.currentData()
        return ChartSpec(
            kind,
            self.x.currentIndex(),
            () if kind is ChartKind.HISTOGRAM else ys,
            self.series.currentData(),
            self.x_axis.currentData(),
            self.bins.value(),
        )

    def _choice_changed(self, *_args: object) -> None:
        self._update_controls()
        self._debounce.start()

    def _update_controls(self) -> None:
        histogram = self.kind.currentData() is ChartKind.HISTOGRAM
        self.ys.setEnabled(not histogram)
        self.bins.setVisible(histogram)
        if self._bins_label is not None:
            self._bins_label.setVisible(histogram)
        drawn = self.data is not None
        self.png_button.setEnabled(drawn)
        self.svg_button.setEnabled(drawn)

    # --- reading and drawing ----------------------------------------------------------------------

    def draw(self) -> Job | None:
        """Read the chosen columns of every row (stopping a read under way) and draw them when done."""
        self._debounce.stop()
        self.stop()
        self.zoom_read.cancel()
        spec = self.spec()
        database = self.context.database
        if database is None:
            self.problem.show_problem("No database is open.")
            return None
        if spec.kind is not ChartKind.HISTOGRAM and not spec.ys:
            self.problem.show_problem("Tick at least one Y column.")
            return None
        self.problem.show_problem("")
        source = self.source
        declared = [declared for _name, declared in source.columns]

        async def work(job: Job) -> ChartData:
            token = job.cancel_token
            loop = asyncio.get_running_loop()

            def partial(data: ChartData) -> None:  # on the worker thread: draw on the UI thread
                loop.call_soon_threadsafe(self._drawn, job, data)

            return await database.run_sync(
                read_chart,
                source.sql,
                source.params,
                spec,
                declared,
                job.progress_callback(),
                token,
                source.total_rows,
                partial,
                database.connect,
                cancel=token,
            )

        job = self.context.jobs.start(
            f"Reading the rows of the chart of {source.title}",
            work,
            on_done=lambda data: self._drawn(job, data),
            on_error=lambda error: self._failed(job, error),
        )
        self.job = job
        job.progressed.connect(self._on_progress)
        show_fraction(self.progress, None)
        self.progress_label.setText("Reading rows…")
        self.stop_button.setEnabled(True)
        return job

    def read_zoomed(self, x0: float, x1: float, pixels: int) -> Job | None:
        """Read the range [x0, x1] of a summarised line again at `pixels` columns, then draw it (the
        latest zoom wins; until then the first read's points are shown, thinned to the view)."""
        data, database = self.data, self.context.database
        if data is None or data.summary is None or database is None:
            return None
        summary = data.summary

        async def work(job: Job) -> list[Any]:
            token = job.cancel_token
            exact = LIMITS.chart_summary_exact_rows
            return await database.run_sync(summary.view, x0, x1, pixels, exact, token, cancel=token)

        return self.zoom_read.start(
            self.context.jobs,
            f"Reading the zoomed range of the chart of {self.source.title}",
            work,
            on_done=lambda lines: self.plot.show_detail(data, lines, x0, x1),
            show=False,
            owner=self,
        )

    def stop(self) -> None:
        """Stop the read under way (the chart drawn before stays)."""
        job, self.job = self.job, None
        if job is not None:
            job.cancel()
        self._idle()

    def _idle(self) -> None:
        self.stop_button.setEnabled(False)
        show_fraction(self.progress, 0.0)

    def _on_progress(self, progress: Progress) -> None:
        show_fraction(self.progress, progress.fraction)
        if progress.label == SUMMARISING:
            self.progress_label.setText(f"{SUMMARISING}…")
            return
        total = f" of {progress.total:,}" if progress.total is not None else ""
        self.progress_label.setText(f"Reading rows: {progress.done:,}{total}")

    def _drawn(self, job: Job, data: ChartData) -> None:
        if job is not self.job:
            return  # a newer choice is being read, or this read was stopped
        if not data.partial:
            self.job = None
            self._idle()
        self.data = data
        self.plot.show_data(data)
        what = {ChartKind.HISTOGRAM: "bins", ChartKind.BAR: "bars"}.get(data.spec.kind, "points")
        series = f" in {len(data.series)} series" if len(data.series) > 1 else ""
        took = f"{data.elapsed_s:,.1f} s" if data.elapsed_s >= 1 else f"{data.elapsed_s * 1000:,.0f} ms"
        if data.partial:
            self.summary.setText(f"{data.rows:,} rows read so far, {data.points:,} {what}{series} drawn…")
            return
        self.progress_label.setText("")
        if data.summary is not None:
            self.summary.setText(
                f"{data.rows:,} rows summarised in SQLite (each X column's lowest and highest Y), "
                f"{data.points:,} points{series}, in {took}. Zoom in for detail."
            )
        else:
            self.summary.setText(f"{data.rows:,} rows read, {data.points:,} {what}{series}, in {took}.")
        self.notes.setText("\n".join(data.notes))
        self._update_controls()

    def _failed(self, job: Job, error: UserError) -> None:
        if job is not self.job and not isinstance(error, Cancelled):
            return
        if job is self.job:
            self.job = None
            self._idle()
        if isinstance(error, Cancelled):
            if self.job is None:  # (a newer read may have stopped this one: it says how it goes)
                self.progress_label.setText("Stopped.")
                if self.data is not None and self.data.partial:
                    self.summary.setText(f"Stopped: the chart shows the first {self.data.rows:,} rows.")
            return
        self.progress_label.setText("")
        self.problem.show_problem(error.message)

    # --- export -----------------------------------------------------------------------------------

    def choose_export(self, kind: str) -> None:
        """Ask where to save the chart as `kind` ("png" or "svg"), then save it there."""
        name = "".join(c if c.isalnum() or c in "-_ " else "_" for c in self.source.title)[:60] or "chart"
        caption = f"Export the chart as {kind.upper()}"
        chosen = lambda path: self.export_chart(path, kind)  # noqa: E731
        self._save_dialog = picture_save_dialog(self, caption, f"{name}.{kind}", kind, chosen)

    def export_chart(self, path: str | Path, kind: str) -> bool:
        """Write the chart to `path` as PNG or SVG (never over the database or its sidecars)."""
        database = self.context.database
        if self.data is None:
            return False
        title = f"Chart of {self.source.title}"
        # Drawn at its size on screen, far below the pixel bound pictures share (the ER diagram's).
        data = (
            self.plot.svg_bytes(title)
            if kind == "svg"
            else self.plot.png_bytes(LIMITS.diagram_png_max_pixels)
        )
        problem = save_bytes(path, data, database.snapshot.path if database is not None else None)
        if not self.problem.show_problem(problem):
            return False
        self.last_export = Path(path)
        self.progress_label.setText(f"Saved as {path}")
        return True

    def closeEvent(self, event: Any) -> None:
        """Stop the read under way with the window."""
        self.stop()
        self.zoom_read.cancel()
        super().closeEvent(event)
