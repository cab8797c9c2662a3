"""The instant search index of the shown database: its state, Build / Stop / Drop, automatic building.

The index belongs to one database generation: `reset()` (on every database change) stops a build and
closes the index, and an index that finishes building for a database no longer shown is closed at once.
"""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop_app.core.database import Database
from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback
from desktop_app.core.search import (
    IndexEstimate,
    IndexLocation,
    SearchIndex,
    auto_index_wanted,
    estimate_index,
    format_size,
    trigram_support,
)
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.latest import LatestRequest, Ticket
from desktop_app.ui.settings import read_bool

AUTO_SETTING = "search/auto_index"


def _build(
    conn: sqlite3.Connection,
    generation: int,
    estimate: IndexEstimate | None,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> SearchIndex:
    return SearchIndex.build(conn, generation=generation, progress=progress, cancel=cancel, estimate=estimate)


def _plan(conn: sqlite3.Connection) -> tuple[str | None, bool, IndexEstimate | None]:
    """(why the index is unavailable, or None; whether to build it without being asked; its estimate)."""
    unavailable = trigram_support()
    if unavailable is not None:
        return unavailable, False, None
    estimate = estimate_index(conn)
    return None, auto_index_wanted(conn) and estimate.refusal is None, estimate


class SearchIndexPanel(QWidget):
    """One line: what the index is doing, "build automatically", and Build index / Stop / Drop."""

    #: The index became ready, was dropped, or a build started or ended.
    state_changed = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.index: SearchIndex | None = None
        self._builds = LatestRequest()
        self._fraction: float | None = None
        self._unavailable: str | None = None
        self._error: str | None = None
        self._planned_for: Database | None = None
        self._plan_job: Job | None = None
        #: What building would take, for the database planned for (None until planned).
        self.estimate: IndexEstimate | None = None

        self.label = QLabel()
        self.label.setWordWrap(True)
        self.auto = QCheckBox("Build automatically for small files")
        self.auto.setToolTip("Build the index by itself when the database is small enough to index quickly")
        self.auto.setChecked(read_bool(context.settings, AUTO_SETTING, True))
        self.auto.toggled.connect(self._on_auto_toggled)
        self.button = QPushButton("Build index")
        self.button.setToolTip("Index every text value once, then answer searches from the index")
        self.button.clicked.connect(self._on_button)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.auto)
        layout.addWidget(self.button)
        self._show_state()

    @property
    def building(self) -> bool:
        """True while a build runs."""
        return self._builds.running

    def usable_for(self, database: Database) -> SearchIndex | None:
        """The ready index when it was built from `database`'s generation, else None."""
        index = self.index
        return index if index is not None and index.generation == database.generation else None

    def reset(self) -> None:
        """The database changed: stop a build, close the index, plan again for the new one."""
        self._cancel_build()
        self.drop()
        self._planned_for = None
        self._error = None
        self.estimate = None
        self._show_state()

    def plan(self) -> None:
        """Once per database: learn whether the index is possible, and build it when small enough."""
        database = self.context.database
        if database is None or database.closed or self._planned_for is database:
            return
        self._planned_for = database

        async def work(_job: Job) -> tuple[str | None, bool, IndexEstimate | None]:
            return await database.run_sync(_plan)

        self._plan_job = self.context.jobs.start(
            "Checking the search index",
            work,
            on_done=lambda plan: self._planned(database, plan),
            show=False,
            owner=self,
        )

    def _planned(self, database: Database, plan: tuple[str | None, bool, IndexEstimate | None]) -> None:
        job = self._plan_job
        if database is not self.context.database or job is None or job.cancel_token.cancelled:
            return  # another database, or the window is closing (its jobs were cancelled)
        self._unavailable, wanted, self.estimate = plan
        if self._unavailable is None and wanted and self.auto.isChecked() and self.index is None:
            self.build()
        self._show_state()

    def build(self) -> Job | None:
        """Build the index of the current generation in the background (progress in the status bar)."""
        database = self.context.database
        if database is None or database.closed or self.building or self._unavailable:
            return None
        self.drop()
        ticket = self._builds.begin()
        self._error, self._fraction = None, 0.0

        estimate = self.estimate if self._planned_for is database else None

        async def work(job: Job) -> SearchIndex:
            generation, progress, token = database.generation, job.progress_callback(), job.cancel_token
            return await database.run_sync(_build, generation, estimate, progress, token, cancel=token)

        job = self.context.jobs.start(
            "Building the search index",
            work,
            on_done=lambda index: self._built(ticket, database, index),
            on_error=ticket.only(self._failed),
            owner=self,
        )
        self._builds.track(job, on_ended=self._show_state)
        job.progressed.connect(self._on_progress)
        self._show_state()
        return job

    def drop(self) -> None:
        """Close the index (searches scan again)."""
        if self.index is not None:
            self.index.close()
            self.index = None
            self._show_state()

    def _built(self, ticket: Ticket, database: Database, index: SearchIndex) -> None:
        current = self.context.database
        if not ticket.current or database is not current or index.generation != current.generation:
            index.close()  # built for a database or generation no longer shown
            return
        self.index = index
        self._show_state()

    def _failed(self, error: UserError) -> None:
        if not isinstance(error, Cancelled):
            self._error = error.message
        self._show_state()

    def _on_progress(self, progress: Progress) -> None:
        self._fraction = progress.fraction
        self._show_state()

    def _cancel_build(self) -> None:
        self._builds.cancel()  # whatever the old build still reports is ignored

    def _on_button(self) -> None:
        if self.building:
            self._cancel_build()
        elif self.index is not None:
            self.drop()
        else:
            self.build()
        self._show_state()

    def _on_auto_toggled(self, on: bool) -> None:
        self.context.settings.setValue(AUTO_SETTING, on)
        if on:
            self._planned_for = None
            self.plan()

    def _show_state(self) -> None:
        button, enabled, tip = "Build index", self.context.database is not None, ""
        if self.context.database is None:
            text = ""
        elif self.building:
            percent = f" {self._fraction * 100:.0f}%" if self._fraction is not None else ""
            expected = f"{self.estimate.summary()}; " if self.estimate is not None else ""
            text = f"Building the instant search index…{percent} ({expected}searches scan meanwhile)"
            button = "Stop"
        elif self.index is not None:
            index = self.index
            where = "in memory" if index.location is IndexLocation.MEMORY else "in a temporary file"
            text = (
                f"Instant index ready: {index.entries:,} values · {format_size(index.size_bytes)} {where} · "
                f"built in {index.build_seconds:.1f} s"
            )
            button = "Drop index"
            notes = [f"Not indexed: {name}: {why}" for name, why in index.notes.items()]
            notes += [f"Scanned: {name}: {why}" for name, why in index.scanned.items()]
            tip = "\n".join(["Searches of 3 or more characters answer from the index.", *notes])
        elif self._unavailable:
            text, enabled = self._unavailable, False
        elif self._error:
            text = f"The search index could not be built: {self._error}"
        elif self.estimate is not None and self.estimate.refusal is not None:
            text, enabled = self.estimate.refusal, False
        elif self.estimate is not None:
            text = "No instant search index: every search scans the tables. "
            text += f"Build index: {self.estimate.summary()}"
            tip = (
                f"Indexes about {self.estimate.text_chars:,} characters in {self.estimate.values:,} values "
                "(estimated from a sample of each table)."
            )
        else:
            text = "No instant search index: every search scans the tables."
            database = self.context.database
            if database is not None and database.snapshot.mode.direct:
                text = (
                    "No instant search index: every search scans the tables, reading the file itself "
                    f"({database.snapshot.mode.value} mode: slower than in memory; an index helps most here)."
                )
        self.label.setText(text)
        self.label.setToolTip(tip)
        self.button.setText(button)
        self.button.setEnabled(enabled)
        self.state_changed.emit()
