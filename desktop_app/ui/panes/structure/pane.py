"""The Structure pane: how the database is built (ER diagram, schema, facts), how healthy it is, where
its size goes. Every piece of work is a core function run as a job; this pane only shows the answers."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.browse.rows import rowid_name
from desktop_app.core.errors import Cancelled
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import Progress
from desktop_app.core.structure.diagram import Diagram, diagram_tables, layout_diagram
from desktop_app.core.structure.facts import DatabaseFacts, read_facts
from desktop_app.core.structure.health import HealthReport, IntegrityResult, check_health, foreign_key_check
from desktop_app.core.structure.schema_text import SchemaEntry, schema_entries
from desktop_app.core.structure.space import read_space
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.structure.diagram_view import DiagramView, text_measure
from desktop_app.ui.panes.structure.views import FactsView, HealthView, SchemaView, SpaceView
from desktop_app.ui.widgets.flow_layout import FlowLayout
from desktop_app.ui.widgets.full_text_tips import add_full_text_tips
from desktop_app.ui.widgets.layout import tabs, vbox
from desktop_app.ui.widgets.save_dialog import picture_save_dialog, save_bytes

_NAME_ROLE = Qt.ItemDataRole.UserRole
HEALTHY_WORDS = "No problems found"


class StructurePane(Pane):
    """ER diagram, readable schema, the file's facts, health checks and space, over the snapshot."""

    title = "Structure"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.stale = True
        self.diagram: Diagram | None = None
        self.facts: DatabaseFacts | None = None
        self.entries: list[SchemaEntry] = []
        self.hidden: set[str] = set()
        self.jobs: dict[str, Job] = {}  #: the running job of each kind ("diagram", "health"…)
        self._runs: dict[str, int] = {}
        self._dialog: QFileDialog | None = None
        self.last_export: Path | None = None

        self.view = DiagramView()
        self.view.table_clicked.connect(self.browse_table)
        self._measure = text_measure(self.view.box_font)
        self.table_list = QListWidget()
        add_full_text_tips(self.table_list)
        self.table_list.setToolTip("Untick a table to leave it out of the diagram")
        self.table_list.itemChanged.connect(self._on_table_ticked)
        self.inferred_box = QCheckBox("Inferred links")
        self.inferred_box.setChecked(True)
        self.inferred_box.setToolTip(
            "Dashed links guessed from column names (<table>_id) where no foreign key is declared"
        )
        self.inferred_box.toggled.connect(lambda _on: self.relayout())
        self.diagram_note = QLabel()
        buttons: list[tuple[str, Callable[[], Any], str]] = [
            ("Fit", self.view.fit, "Show the whole diagram (Ctrl+0)"),
            ("+", self.view.zoom_in, "Zoom in (Ctrl++, or the mouse wheel)"),
            ("−", self.view.zoom_out, "Zoom out (Ctrl+-)"),
            ("Export SVG…", lambda: self.ask_export("svg"), "Save the diagram as an SVG picture"),
            ("Export PNG…", lambda: self.ask_export("png"), "Save the diagram as a PNG picture"),
        ]
        bar = FlowLayout()  # wraps when narrow
        self.diagram_buttons: dict[str, QPushButton] = {}
        for text, slot, tip in buttons:
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            bar.add(button)
            self.diagram_buttons[text] = button
        bar.add(self.inferred_box)
        bar.add(self.diagram_note, 1)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        all_button, none_button = QPushButton("All"), QPushButton("None")
        all_button.clicked.connect(lambda: self.set_all_shown(True))
        none_button.clicked.connect(lambda: self.set_all_shown(False))
        picks = QHBoxLayout()
        picks.addWidget(QLabel("Tables shown"), 1)
        picks.addWidget(all_button)
        picks.addWidget(none_button)
        side_layout.addLayout(picks)
        side_layout.addWidget(self.table_list, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(side)
        split.addWidget(self.view)
        split.setStretchFactor(1, 1)
        split.setSizes([190, 900])
        diagram_tab = QWidget()
        diagram_layout = QVBoxLayout(diagram_tab)
        diagram_layout.setContentsMargins(6, 6, 6, 6)
        diagram_layout.addLayout(bar)
        diagram_layout.addWidget(split, 1)

        self.schema_view = SchemaView()
        self.facts_view = FactsView()
        self.health_view = HealthView()
        self.health_view.quick_button.clicked.connect(lambda: self.run_health("quick"))
        self.health_view.full_button.clicked.connect(lambda: self.run_health("full"))
        self.health_view.keys_button.clicked.connect(lambda: self.run_health("keys"))
        self.health_view.stop_button.clicked.connect(lambda: self.stop("health"))
        self.health_view.open_requested.connect(self.open_problem)
        self.space_view = SpaceView()
        self.space_view.measure_button.clicked.connect(self.measure_space)
        self.space_view.stop_button.clicked.connect(lambda: self.stop("space"))

        self.tabs = tabs(
            (diagram_tab, "Diagram"),
            (self.schema_view, "Schema"),
            (self.facts_view, "Facts"),
            (self.health_view, "Health"),
            (self.space_view, "Space"),
        )
        vbox(self.tabs, margins=0, parent=self)
        self.on_database_changed()

    # --- the database -------------------------------------------------------------------------

    def on_database_changed(self) -> None:
        """Forget the old database's answers; read the new one's now if shown, else when first shown."""
        for kind in list(self.jobs):
            self.stop(kind)
        self.stale = True
        self.diagram, self.facts, self.entries = None, None, []
        self.hidden = set()
        self.view.show_diagram(None)
        self.table_list.clear()
        self.schema_view.show_entries([])
        has_database = self.context.database is not None
        no_database = "Open a database to see how it is built."
        self.facts_view.show_facts(None, "Reading…" if has_database else no_database)
        self.health_view.show_report(
            None,
            "These checks read the snapshot (never your file) and change nothing."
            if has_database
            else no_database,
        )
        self.health_view.set_running(False)
        for button in (
            self.health_view.quick_button,
            self.health_view.full_button,
            self.health_view.keys_button,
        ):
            button.setEnabled(has_database)
        self.space_view.show_report(
            None, "Press Measure space to see where the file's size goes." if has_database else no_database
        )
        self.space_view.set_running(False)
        self.space_view.measure_button.setEnabled(has_database)
        self.diagram_note.setText("" if has_database else no_database)
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        """Read the structure the first time the pane is shown for a database."""
        super().showEvent(event)
        if self.stale:
            self.refresh()

    def refresh(self) -> None:
        """Lay out the diagram and read the schema and facts (as jobs)."""
        self.stale = False
        database, catalog = self.context.database, self.context.catalog
        if database is None or catalog is None:
            return
        self._fill_table_list()
        self.relayout()
        self._start(
            "schema",
            "Reading the schema",
            lambda job: asyncio.to_thread(schema_entries, catalog, job.cancel_token),
            self._on_schema,
            show=False,
        )
        header = database.snapshot.database_header  # a packed or encrypted file's: the unpacked one's
        self._start(
            "facts",
            "Reading the database's facts",
            lambda job: database.run_sync(read_facts, header, catalog, cancel=job.cancel_token),
            self._on_facts,
            show=False,
        )

    # --- jobs ---------------------------------------------------------------------------------

    def _start(
        self,
        kind: str,
        label: str,
        work: Callable[[Job], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None] | None = None,
        *,
        show: bool = True,
    ) -> Job:
        """Run `work(job)` as the one job of `kind` (a newer one replaces it); its answer goes to `done`
        only while it is still the latest of its kind."""
        self.stop(kind)
        run = self._runs[kind] = self._runs.get(kind, 0) + 1

        async def runner(job: Job) -> Any:
            return await work(job)

        def finish(result: Any) -> None:
            if self._runs.get(kind) == run:
                self.jobs.pop(kind, None)
                done(result)

        def fail(error: BaseException) -> None:
            if self._runs.get(kind) == run:
                self.jobs.pop(kind, None)
                if failed is not None:
                    failed(error)
                elif not isinstance(error, Cancelled):
                    self.status_message.emit(f"{label} failed: {getattr(error, 'message', error)}")

        job = self.context.jobs.start(label, runner, on_done=finish, show=show, owner=self)
        job.failed.connect(fail)
        self.jobs[kind] = job
        return job

    def stop(self, kind: str) -> None:
        """Stop the running job of `kind`, if any (its answer is then ignored)."""
        self._runs[kind] = self._runs.get(kind, 0) + 1
        job = self.jobs.pop(kind, None)
        if job is not None and not job.done:
            job.cancel()
        if job is None:
            return
        if kind == "health":
            self.health_view.set_running(False)
            self.health_view.show_report(None, "Stopped before it finished: nothing was found or changed.")
        elif kind == "space":
            self.space_view.set_running(False)
            self.space_view.show_report(None, "Stopped before it finished.")

    @property
    def busy(self) -> bool:
        """True while any of the pane's jobs runs."""
        return any(not job.done for job in self.jobs.values())

    # --- diagram ------------------------------------------------------------------------------

    def _fill_table_list(self) -> None:
        catalog = self.context.catalog
        self.table_list.blockSignals(True)
        self.table_list.clear()
        for table in diagram_tables(catalog) if catalog is not None else []:
            item = QListWidgetItem(
                table.name if table.kind.value == "table" else f"{table.name} ({table.kind.value})"
            )
            item.setData(_NAME_ROLE, table.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Unchecked if table.name in self.hidden else Qt.CheckState.Checked
            )
            self.table_list.addItem(item)
        self.table_list.blockSignals(False)

    def _on_table_ticked(self, item: QListWidgetItem) -> None:
        name = item.data(_NAME_ROLE)
        if item.checkState() == Qt.CheckState.Checked:
            self.hidden.discard(name)
        else:
            self.hidden.add(name)
        self.relayout()

    def set_shown(self, name: str, shown: bool) -> None:
        """Show or leave out table `name` (as ticking it in the list does)."""
        for row in range(self.table_list.count()):
            item = self.table_list.item(row)
            if item.data(_NAME_ROLE) == name:
                item.setCheckState(Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def set_all_shown(self, shown: bool) -> None:
        """Tick or untick every table, then lay out once."""
        self.table_list.blockSignals(True)
        for row in range(self.table_list.count()):
            item = self.table_list.item(row)
            item.setCheckState(Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)
        self.table_list.blockSignals(False)
        catalog = self.context.catalog
        self.hidden = set() if shown or catalog is None else {t.name for t in diagram_tables(catalog)}
        self.relayout()

    def relayout(self) -> Job | None:
        """Lay out the diagram again (a job: grandalf runs in a worker thread)."""
        catalog = self.context.catalog
        if catalog is None or self.context.database is None:
            return None
        hidden, inferred, measure = set(self.hidden), self.inferred_box.isChecked(), self._measure
        self.diagram_note.setText("Laying out the diagram…")
        call = functools.partial(layout_diagram, catalog, measure, hidden=hidden, inferred=inferred)
        return self._start(
            "diagram",
            "Laying out the diagram",
            lambda job: asyncio.to_thread(call, cancel=job.cancel_token),
            self._on_diagram,
            show=False,
        )

    def _on_diagram(self, diagram: Diagram) -> None:
        first = self.diagram is None
        self.diagram = diagram
        self.view.show_diagram(diagram)
        declared = sum(1 for e in diagram.edges if not e.inferred)
        inferred = len(diagram.edges) - declared
        note = f"{len(diagram.boxes)} tables and views, {declared} foreign keys"
        if inferred:
            note += f", {inferred} inferred links (dashed)"
        self.diagram_note.setText(note + ". Click a table to browse it; drag to move around.")
        if first:
            self.view.fit()

    def browse_table(self, name: str) -> None:
        """Open table `name` in Browse (through the main window)."""
        self.open_row_requested.emit(name, {})

    def ask_export(self, kind: str) -> None:
        """Ask where to save the diagram as `kind` ('svg' or 'png')."""
        database = self.context.database
        if database is None or self.diagram is None:
            return
        name = f"{database.snapshot.path.stem}-diagram.{kind}"
        caption = f"Export the diagram as {kind.upper()}"
        self._dialog = picture_save_dialog(
            self, caption, name, kind, lambda path: self.export_diagram(path, kind)
        )

    def export_diagram(self, path: str | Path, kind: str) -> bool:
        """Write the shown diagram to `path` as SVG or PNG (never over the database or its sidecars)."""
        database = self.context.database
        if database is None or self.diagram is None:
            return False
        stem = database.snapshot.path.name
        data = (
            self.view.svg_bytes(f"ER diagram of {stem}")
            if kind == "svg"
            else self.view.png_bytes(LIMITS.diagram_png_max_pixels)
        )
        problem = save_bytes(path, data, database.snapshot.path)
        if problem:
            self.diagram_note.setText(problem)
            return False
        self.last_export = Path(path)
        self.status_message.emit(f"Diagram saved as {path}")
        self.diagram_note.setText(f"Saved as {path}")
        return True

    # --- schema and facts ---------------------------------------------------------------------

    def _on_schema(self, entries: list[SchemaEntry]) -> None:
        self.entries = entries
        self.schema_view.show_entries(entries)

    def _on_facts(self, facts: DatabaseFacts) -> None:
        self.facts = facts
        self.facts_view.show_facts(facts)

    # --- health -------------------------------------------------------------------------------

    def run_health(self, which: str) -> Job | None:
        """Run a check: 'quick' (quick_check), 'full' (integrity_check) or 'keys' (foreign keys only)."""
        database, catalog = self.context.database, self.context.catalog
        if database is None:
            return None
        label = {"quick": "Quick check", "full": "Integrity check", "keys": "Foreign-key check"}[which]

        async def work(job: Job) -> Any:
            progress = job.progress_callback()
            if which == "keys":
                call = functools.partial(foreign_key_check, cancel=job.cancel_token, progress=progress)
            else:
                call = functools.partial(
                    check_health,
                    cancel=job.cancel_token,
                    progress=progress,
                    quick=which == "quick",
                    catalog=catalog,
                )
            return await database.run_sync(call, cancel=job.cancel_token)

        job = self._start(
            "health", f"Running the {label.lower()}", work, self._on_health, self._on_health_failed
        )
        job.progressed.connect(lambda p: self._on_progress(self.health_view.progress, p))
        self.health_view.set_running(True, f"{label}…")
        self.health_view.show_report(None, f"{label} running… (Stop ends it at once)")
        return job

    def _on_health(self, result: Any) -> None:
        self.health_view.set_running(False)
        if isinstance(result, list):  # foreign keys alone
            report = HealthReport(IntegrityResult("foreign_key_check", []), result)
            self.health_view.show_report(report)
            count = len(result)
            self.health_view.summary.setText(
                "Every foreign key points at an existing row."
                if not count
                else f"{count} row{'s' if count != 1 else ''} point{'s' if count == 1 else ''} at a missing "
                "parent row (foreign-key violations). Double-click one to see it."
            )
            return
        self.health_view.show_report(result)

    def _on_health_failed(self, error: BaseException) -> None:
        _show_failure(self.health_view, error, "nothing was found or changed.", "The check could not run: ")

    def open_problem(self, table: str, rowid: object) -> None:
        """Open `table` in Browse, at row `rowid` when a problem names one."""
        catalog = self.context.catalog
        found = catalog.table(table) if catalog is not None else None
        name = rowid_name(found) if found is not None else None  # "rowid" unless a column is called so
        self.open_row_requested.emit(table, {name: rowid} if rowid is not None and name else {})

    # --- space --------------------------------------------------------------------------------

    def measure_space(self) -> Job | None:
        """Measure space per table and index (reads every page: a job with progress and Stop)."""
        database, catalog = self.context.database, self.context.catalog
        if database is None:
            return None

        async def work(job: Job) -> Any:
            call = functools.partial(
                read_space, cancel=job.cancel_token, progress=job.progress_callback(), catalog=catalog
            )
            return await database.run_sync(call, cancel=job.cancel_token)

        job = self._start("space", "Measuring space", work, self._on_space, self._on_space_failed)
        job.progressed.connect(lambda p: self._on_progress(self.space_view.summary, p))
        self.space_view.set_running(True, "Measuring space…")
        return job

    def _on_space(self, report: Any) -> None:
        self.space_view.set_running(False)
        self.space_view.show_report(report)

    def _on_space_failed(self, error: BaseException) -> None:
        _show_failure(self.space_view, error)

    @staticmethod
    def _on_progress(label: QLabel, progress: Progress) -> None:
        fraction = progress.fraction
        text = progress.label or "Working…"
        label.setText(f"{text} {fraction:.0%}" if fraction is not None else text)

    # --- state across reloads -----------------------------------------------------------------

    def shortcuts(self) -> list[tuple[str, str]]:
        """The diagram's zoom keys."""
        return [
            ("Ctrl++", "Zoom the diagram in (also Ctrl+=)"),
            ("Ctrl+-", "Zoom the diagram out"),
            ("Ctrl+0", "Fit the whole diagram"),
        ]

    def save_state(self) -> dict[str, Any]:
        """The tab shown and the tables left out of the diagram."""
        return {"tab": self.tabs.currentIndex(), "hidden": sorted(self.hidden)}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Show the saved tab again and leave the same tables out."""
        tab = state.get("tab")
        if isinstance(tab, int):
            self.tabs.setCurrentIndex(tab)
        hidden = state.get("hidden")
        if isinstance(hidden, list) and hidden:
            self.hidden = {str(name) for name in hidden}
            self._fill_table_list()
            self.relayout()


def _show_failure(
    view: HealthView | SpaceView, error: BaseException, after_stop: str = "", prefix: str = ""
) -> None:
    """End `view`'s run with why it ended: stopped by the user (then `after_stop`), or the error's message."""
    view.set_running(False)
    if isinstance(error, Cancelled):
        view.show_report(None, f"Stopped before it finished{': ' + after_stop if after_stop else '.'}")
    else:
        view.show_report(None, f"{prefix}{getattr(error, 'message', error)}")
