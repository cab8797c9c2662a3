"""The Search pane: find text anywhere in the database as you type, streamed in and grouped by table.

A search is a job: the core's synchronous `search` generator runs in a worker thread on one pooled
snapshot connection (`Database.run_sync`) and its events reach the UI thread in batches through an
`EventPipe` (see `desktop_app.ui.panes.search.stream`). Every search has a serial number; events of any
search but the newest are dropped, and typing cancels the running search at once (its token interrupts
SQLite), so no stale hit ever shows. The instant index is built in the background and belongs to one
database generation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import html
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QHideEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolButton,
    QWidget,
)

from desktop_app.core import regexes
from desktop_app.core.database import Database
from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.schema.catalog import TableKind
from desktop_app.core.search import (
    Hit,
    HitBatch,
    Matcher,
    MoreHits,
    SearchEvent,
    SearchFinished,
    SearchIndex,
    SearchOptions,
    SearchStarted,
    TableDone,
    more_hits,
)
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.latest import LatestRequest
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.search.index_panel import SearchIndexPanel
from desktop_app.ui.panes.search.results import SearchResultsView
from desktop_app.ui.panes.search.scope import ScopeTree
from desktop_app.ui.panes.search.stream import EventPipe, drive_search
from desktop_app.ui.settings import read_bool
from desktop_app.ui.theme import bad_input_style, dim_colour, error_colour, info_colour
from desktop_app.ui.widgets.error_dialog import show_user_error
from desktop_app.ui.widgets.flow_layout import flow, labelled
from desktop_app.ui.widgets.layout import hbox, push_button, vbox
from desktop_app.ui.widgets.names import name_label

#: Quiet time after a keystroke before the search starts (Enter searches at once)...
DEBOUNCE_MS = 200
#: ...shorter when the instant index answers: its searches take milliseconds.
DEBOUNCE_INDEXED_MS = 50
EMPTY_HINT = "Type to search every text value of every table (Enter searches at once)."
_SETTINGS = "search/"
#: The check boxes: the SearchOptions field each sets → (label, tooltip).
_OPTIONS = {
    "case_sensitive": ("Case-sensitive", "Match upper and lower case exactly"),
    "whole_word": ("Whole word", "Only matches not touching a letter, digit or _"),
    "regex": ("Regular expression", "The text is a regular expression (RE2 syntax)"),
    "include_blobs": ("Blobs as text", "Also match blob bytes read as text"),
    "include_numbers": ("Numbers", "Also match integers and reals by their text, e.g. 3.5"),
    "include_views": ("Views", "Also search views (their rows have no key to open)"),
}
_ALL, _CHOSEN = 0, 1
_MESSAGE_COLOURS = {"hint": dim_colour, "info": info_colour, "error": error_colour}


class SearchPane(Pane):
    """Find any text anywhere: query box, options, scope, streamed results, the instant index."""

    title = "Search"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self._search = LatestRequest()
        self._more = LatestRequest()
        self._options_used: SearchOptions | None = None
        self._tables_done = (0, 0)
        self._uses_index = False
        self._message_error: UserError | None = None
        self._search_on_show = False

        self.query = QLineEdit()
        self.query.setPlaceholderText("Search everything…")
        self.query.setClearButtonEnabled(True)
        self.query.textChanged.connect(self._on_text_changed)
        self.query.returnPressed.connect(self.search_now)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.search_now)
        self.checks: dict[str, QCheckBox] = {}
        for name, (label, tip) in _OPTIONS.items():
            box = QCheckBox(label)
            box.setToolTip(tip)
            box.setChecked(self._setting(name, False))
            box.toggled.connect(lambda on, n=name: self._on_option_toggled(n, on))
            self.checks[name] = box
        if not regexes.available():  # the window still works; say why a regular expression will not
            self.checks["regex"].setToolTip(regexes.unavailable_message())
        self.scope = QComboBox()
        self.scope.addItems(["All tables", "Chosen tables and columns"])
        self.scope.currentIndexChanged.connect(self._on_scope_changed)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.linkActivated.connect(self._show_details)
        self.message.setMinimumHeight(self.fontMetrics().height() + 4)

        self.scope_tree = ScopeTree()
        self.scope_tree.itemChanged.connect(lambda *_: self._schedule())
        self.results_view = SearchResultsView()
        self.results = self.results_view.results
        self.results_view.hit_activated.connect(self.open_hit)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.scope_tree)
        splitter.addWidget(self.results_view)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 860])
        self.scope_tree.setVisible(False)

        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.setMaximumHeight(16)
        self.progress.setFormat("%v / %m tables")
        self.progress.setVisible(False)
        self.summary = QLabel()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stop_button = QToolButton()
        self.stop_button.setText("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setVisible(False)

        self.index_panel = SearchIndexPanel(context)

        top = QHBoxLayout()
        top.addWidget(self.query, 1)
        top.addWidget(self.search_button)
        options = flow(*self.checks.values(), labelled("Scope:", self.scope))  # wraps when narrow
        for widget in (self.progress, self.stop_button):  # showing them must not move the results
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
        self.more_button = push_button(
            "Show more", self.show_more, "Show the next hits of a table the search stopped at its limit"
        )
        self.more_button.setVisible(False)
        self.results_view.selectionModel().currentChanged.connect(lambda *_: self._update_more())
        footer = hbox((self.summary, 1), self.more_button, self.progress, self.stop_button)
        vbox(top, options, self.message, (splitter, 1), footer, self.index_panel, margins=6, parent=self)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.timeout.connect(self.search_now)
        self.query.installEventFilter(self)  # Down moves from the query box to the results
        self.on_database_changed()

    # --- database -----------------------------------------------------------------------------

    def on_database_changed(self) -> None:
        """A new database or generation: stop everything, drop the old index, refresh the scope list."""
        self._cancel_search()
        self.index_panel.reset()
        self.results.clear()
        self.scope_tree.set_catalog(self.context.catalog)
        self._set_running(False)
        self.summary.clear()
        database = self.context.database
        self.query.setEnabled(database is not None)
        if database is None:
            self._show_message("Open a database to search it.", "hint")
        elif self.query.text():
            self._schedule(0)
        else:
            self._show_message(EMPTY_HINT, "hint")
        if database is not None and self.isVisible():
            self.index_panel.plan()

    def showEvent(self, event: QShowEvent) -> None:
        """The index is planned (and maybe built) the first time the pane is seen for a database."""
        super().showEvent(event)
        self.index_panel.plan()
        self.query.setFocus()
        if self._search_on_show:
            self._search_on_show = False
            self._schedule(0)

    def hideEvent(self, event: QHideEvent) -> None:
        """A search still waiting for typing to pause waits for the pane to be seen again.

        (A closing window hides its panes: no search may start while it shuts down.)
        """
        super().hideEvent(event)
        if self._debounce.isActive():
            self._debounce.stop()
            self._search_on_show = True

    # --- searching ----------------------------------------------------------------------------

    @property
    def searching(self) -> bool:
        """True while a search runs."""
        return self._search.running

    def options(self) -> SearchOptions:
        """The search the pane's controls describe; `UserError` when the scope chooses nothing."""
        flags = {name: box.isChecked() for name, box in self.checks.items()}
        tables: tuple[str, ...] = ()
        columns: tuple[tuple[str, str], ...] = ()
        if self.scope.currentIndex() == _CHOSEN:
            chosen = self.scope_tree.checked()
            if not chosen:
                raise UserError("Tick the tables or columns to search in the list on the left.")
            tables = tuple(name for name, cols in chosen.items() if cols is None)
            columns = tuple((name, c) for name, cols in chosen.items() if cols for c in cols)
        return SearchOptions(self.query.text(), tables=tables, columns=columns, **flags)

    def search_now(self) -> None:
        """Start a search for the current text at once (cancelling any running one)."""
        self._debounce.stop()
        self._cancel_search()
        self.results.clear()
        self.summary.clear()
        self.query.setStyleSheet("")
        database = self.context.database
        if database is None or database.closed:
            return
        if not self.query.text():
            self._show_message(EMPTY_HINT, "hint")
            return
        try:
            options = self.options()
            Matcher(options)  # a bad regular expression is reported here, before any job starts
        except UserError as exc:
            self._show_error(exc, bad_input=True)
            return
        self.index_panel.plan()
        index = self.index_panel.usable_for(database)
        self._show_message("", "hint")
        self._start_search(database, options, index)

    def _start_search(self, database: Database, options: SearchOptions, index: SearchIndex | None) -> None:
        ticket = self._search.begin()
        self._options_used = options

        async def work(job: Job) -> None:
            pipe = EventPipe(asyncio.get_running_loop(), ticket.only(self._deliver))
            try:
                await database.run_sync(
                    drive_search,
                    options,
                    index,
                    pipe,
                    job.progress_callback(),
                    job.cancel_token,
                    cancel=job.cancel_token,
                )
            finally:
                while pipe.flush():  # whatever the worker queued last arrives before the job ends
                    await asyncio.sleep(0)

        job = self.context.jobs.start(
            f"Searching for “{options.text}”", work, on_error=ticket.only(self._search_failed), owner=self
        )
        self._search.track(job, on_ended=lambda: self._set_running(False))
        self._set_running(True)

    def _deliver(self, events: list[SearchEvent]) -> None:
        """Show a batch of events of the latest search."""
        finished = False
        for event in events:
            if isinstance(event, HitBatch):
                self.results.add_hits(event.table, event.hits)
            elif isinstance(event, TableDone):
                self.results.finish_table(event)
                self._tables_done = (event.tables_done, event.tables_total)
            elif isinstance(event, SearchStarted):
                self._tables_done = (0, len(event.tables))
                self._uses_index = event.uses_index
                if event.note:
                    self._show_message(f"Scanning every table: {event.note}.", "info")
            elif isinstance(event, SearchFinished):
                finished = True
                self._finished(event)
        done, total = self._tables_done
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        if not finished:
            self.summary.setText(f"Searching… {self._summary(self.results.hit_count, done, total)}")

    def _finished(self, event: SearchFinished) -> None:
        text = self._summary(event.hits, event.tables_done, event.tables_total)
        text += f" · {event.elapsed_s * 1000:,.0f} ms"
        if self._uses_index:
            text += " · answered from the instant index"
        if event.truncated:
            text += " · stopped at a hit limit"
        if event.hits == 0:
            text = f"No matches for “{self._options_used.text if self._options_used else ''}”. " + text
        self.summary.setText(text)
        self.status_message.emit(f"Search: {text}")

    def _summary(self, hits: int, done: int, total: int) -> str:
        failed = sum(
            1 for name in self.results.tables() if (r := self.results.report_of(name)) is not None and r.error
        )
        text = f"{hits:,} hit{'s' if hits != 1 else ''} in {done:,} of {total:,} tables"
        if failed:
            text += f" · {failed} table{'s' if failed != 1 else ''} could not be searched"
        return text

    def _search_failed(self, error: UserError) -> None:
        if isinstance(error, Cancelled):
            done, total = self._tables_done
            self.summary.setText("Stopped: " + self._summary(self.results.hit_count, done, total))
            return
        self._show_error(error)

    def stop(self) -> None:
        """Stop the running search (the hits found so far stay)."""
        self._search.stop()

    def _cancel_search(self) -> None:
        self._search.cancel()  # whatever the old search still delivers is dropped
        self._more.cancel()
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.stop_button.setVisible(running)
        if running:
            self.progress.setRange(0, 0)
        self._update_more()

    # --- more hits of a table -----------------------------------------------------------------

    def _more_table(self) -> str | None:
        """The table "Show more" continues: the selected one if it has more hits, else the first that has."""
        cut = [name for name in self.results.tables() if (r := self.results.report_of(name)) and r.truncated]
        selected = self.results.table_at(self.results_view.currentIndex())
        return selected if selected in cut else (cut[0] if cut else None)

    def _update_more(self) -> None:
        table = None if self.searching or self._more.running else self._more_table()
        self.more_button.setVisible(table is not None)
        if table is not None:
            step = (self._options_used.limit_per_table if self._options_used else None) or 0
            self.more_button.setText(f"Show {step:,} more in “{name_label(table)}”")

    def show_more(self) -> None:
        """Show the next hits of the table the search stopped at its limit (see `_more_table`)."""
        table, options, database = self._more_table(), self._options_used, self.context.database
        report = self.results.report_of(table) if table is not None else None
        if table is None or options is None or report is None or database is None or database.closed:
            return
        shown = len(self.results.hits_of(table))
        index = self.index_panel.usable_for(database)

        async def work(job: Job) -> MoreHits:
            find = functools.partial(more_hits, index=index, cancel=job.cancel_token)
            return await database.run_sync(find, options, table, shown, cancel=job.cancel_token)

        def done(found: MoreHits) -> None:
            self.results.add_hits(table, found.hits)
            self.results.finish_table(
                dataclasses.replace(report, hits=shown + len(found.hits), truncated=found.more)
            )
            total = (
                f"all {found.total:,} hits"
                if found.total is not None
                else f"{shown + len(found.hits):,} hits so far"
            )
            self.status_message.emit(f"Search: “{name_label(table)}”: {total}.")
            self._update_more()

        self._more.start(
            self.context.jobs,
            f"More hits in {name_label(table)}",
            work,
            on_done=done,
            on_error=self._show_error,
            on_ended=self._update_more,
        )
        self._update_more()

    def _schedule(self, delay_ms: int | None = None) -> None:
        if delay_ms is None:
            database = self.context.database
            indexed = database is not None and self.index_panel.usable_for(database) is not None
            delay_ms = DEBOUNCE_INDEXED_MS if indexed else DEBOUNCE_MS
        self._debounce.start(delay_ms)

    def _on_text_changed(self, text: str) -> None:
        # The results on screen belong to the old text: drop them now, not when the next search starts.
        self._cancel_search()
        self.results.clear()
        self.summary.clear()
        self.query.setStyleSheet("")
        if text:
            self._schedule()
        else:
            self._debounce.stop()
            self._show_message(EMPTY_HINT, "hint")

    def _on_option_toggled(self, name: str, on: bool) -> None:
        self.context.settings.setValue(_SETTINGS + name, on)
        if self.query.text():
            self.search_now()

    def _on_scope_changed(self, scope: int) -> None:
        self.scope_tree.setVisible(scope == _CHOSEN)
        if self.query.text():
            self.search_now()

    # --- opening hits -------------------------------------------------------------------------

    def open_hit(self, hit: Hit) -> None:
        """Ask the window to show the hit's row in Browse (views have no key: say so)."""
        if hit.key is None:
            catalog = self.context.catalog
            table = catalog.table(hit.table) if catalog is not None else None
            why = (
                "a view has no row key"
                if table is not None and table.kind is TableKind.VIEW
                else "its rowid is hidden by columns named rowid, _rowid_ and oid"
            )
            text = f"This row of “{hit.table}” cannot be opened: {why}."
            self._show_message(text, "info")
            self.status_message.emit(text)
            return
        self.open_row_requested.emit(hit.table, hit.key.as_dict())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Down in the query box goes to the first hit."""
        if (
            watched is self.query
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Down
        ):
            self.results_view.setFocus()
            self.results_view.select_first_hit()
            return True
        return super().eventFilter(watched, event)

    # --- messages and state -------------------------------------------------------------------

    def _show_message(self, text: str, kind: str) -> None:
        # The label keeps its line when empty, so the results do not jump while typing.
        self._message_error = None
        self.message.setText(
            f'<span style="color:{_MESSAGE_COLOURS[kind]().name()}">{html.escape(text)}</span>'
        )

    def _show_error(self, error: UserError, *, bad_input: bool = False) -> None:
        self._show_message(error.message, "error")
        if error.details and error.details != error.message:
            self._message_error = error
            self.message.setText(self.message.text() + ' <a href="details">Details…</a>')
        if bad_input:
            self.query.setStyleSheet(bad_input_style())

    def _show_details(self, _link: str) -> None:
        if self._message_error is not None:
            show_user_error(self, "Search", self._message_error)

    def _setting(self, name: str, default: bool) -> bool:
        return read_bool(self.context.settings, _SETTINGS + name, default)

    def save_state(self) -> dict[str, Any]:
        """The query, the scope and its chosen tables."""
        return {
            "text": self.query.text(),
            "scope": self.scope.currentIndex(),
            "chosen": self.scope_tree.checked(),
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put the saved query and scope back and search again (on the new generation)."""
        self.scope_tree.set_checked(dict(state.get("chosen", {})))
        self.scope.blockSignals(True)
        self.scope.setCurrentIndex(int(state.get("scope", _ALL)))
        self.scope_tree.setVisible(self.scope.currentIndex() == _CHOSEN)
        self.scope.blockSignals(False)
        text = str(state.get("text", ""))
        if text != self.query.text():
            self.query.setText(text)
        elif text:
            self._schedule(0)
