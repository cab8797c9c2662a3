"""One SQL editor tab: its editor, its result tabs, its status line, its `.sql` file and its own run.

A run is a job. Each statement is checked read-only first, then run for its first page (through the
database's result cache); a longer result is counted by SQLite and shown in the windowed grid, which
fetches further rows by offset as the user scrolls, so no result is ever held whole in memory. A run
belongs to its tab: it goes on while the user looks at another tab, and only this tab's Stop stops it.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QStackedWidget, QTabWidget, QWidget

from desktop_app.core.browse.row_sources import (
    HeldRowSource,
    QueryResultSource,
    columns_of,
    run_first_rows,
)
from desktop_app.core.database import Database
from desktop_app.core.errors import Cancelled, ReadOnlyError, UserError
from desktop_app.core.progress import CancelToken
from desktop_app.core.sqlite.guard import check_user_sql
from desktop_app.core.sqlite.statements import (
    Statement,
    first_table_name,
    is_query_plan,
    locate_error,
    query_plan_sql,
    split_statements,
    statement_at,
)
from desktop_app.core.structure.query_plan import read_plan
from desktop_app.ui.context import AppContext
from desktop_app.ui.export_actions import start_export
from desktop_app.ui.job_center import Job
from desktop_app.ui.latest import LatestRequest, Ticket
from desktop_app.ui.models.column_times import TimePreferences
from desktop_app.ui.panes.sql.editor import SqlEditor
from desktop_app.ui.panes.sql.results import ErrorView, PlanView, ResultTab, RunOutcome, format_duration
from desktop_app.ui.widgets.layout import splitter, vbox

#: Row counts of long results kept for reruns (they are cheap to keep, and a rerun then comes from cache).
REMEMBERED_COUNTS = 256
#: The row counts of long results, shared by a pane's tabs: (generation, query, parameters) → rows.
Counts = dict[tuple[int, str, str], int]


@dataclass(frozen=True)
class RunItem:
    """One statement to run: where it is in the editor, and the SQL actually sent (EXPLAIN added)."""

    statement: Statement
    sql: str
    plan: bool = False
    #: Values for the statement's bind parameters (from the parameters form).
    params: tuple[object, ...] | dict[str, object] = ()


def _shifted(statement: Statement, offset: int) -> Statement:
    return Statement(statement.text, statement.start + offset, statement.end + offset)


def _items_in(text: str, start: int, end: int) -> list[RunItem]:
    return [RunItem(_shifted(s, start), s.text) for s in split_statements(text[start:end])]


def _result_title(index: int, item: RunItem) -> str:
    first_line = " ".join(item.statement.text.split())
    short = first_line if len(first_line) <= 28 else first_line[:27] + "…"
    return f"{'Plan' if item.plan else index}: {short}"


class SqlTab(QWidget):
    """An editor above its own result tabs and status line; runs one job at a time."""

    status_message = Signal(str)
    show_blob_requested = Signal(str, str, object, object)
    #: Export one result column's values to files: (sql, column index, column names, name-preview samples).
    export_blobs_requested = Signal(str, int, object, object)
    #: Chart every row of a statement: (sql, [(column name, declared type)], row count or None, parameters).
    chart_requested = Signal(str, object, object, object)
    #: The title (name, file, unsaved mark) may have changed.
    title_changed = Signal()
    #: A run started or ended.
    running_changed = Signal()

    def __init__(self, context: AppContext, counts: Counts, number: int, times: TimePreferences) -> None:
        super().__init__()
        self.context = context
        self._counts = counts
        #: Timestamp choices for result columns, remembered per database (shared by the pane's tabs).
        self._times = times
        #: Its place in the "SQL n" names given to tabs without a name or a file.
        self.number = number
        #: The name the user gave it ("" for none: then its file's name, else "SQL n").
        self.name = ""
        #: The `.sql` file its text was opened from or saved to, and the text that is unsaved against:
        #: the file's text, or for a tab without a file what it was opened with ("" when typed from scratch).
        self.sql_path: Path | None = None
        self.saved_text = ""
        self.job: Job | None = None
        self._run_started = 0.0
        self._run_position = (0, 0)
        self._run_text = ""
        self._run_failed = False
        self._runs = LatestRequest()  # a run's results stop once the database changes
        self._was_modified = False

        self.editor = SqlEditor()
        self.run_label = QLabel()
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.results = QTabWidget()
        self.results.setDocumentMode(True)
        self.results.setTabsClosable(True)
        self.results.tabCloseRequested.connect(self._close_result)
        placeholder = QLabel("Results appear here, one tab per statement.")
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        placeholder.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.result_stack = QStackedWidget()
        self.result_stack.addWidget(placeholder)
        self.result_stack.addWidget(self.results)
        below = QWidget()
        vbox(self.run_label, (self.result_stack, 1), margins=0, parent=below)
        self.splitter = splitter(
            self.editor, (below, 1), sizes=[260, 440], orientation=Qt.Orientation.Vertical
        )
        vbox((self.splitter, 1), margins=0, parent=self)
        self._ticker = QTimer(self)
        self._ticker.setInterval(100)
        self._ticker.timeout.connect(self._tick)
        self.editor.textChanged.connect(self._on_text_changed)

    # --- name and file --------------------------------------------------------------------------

    @property
    def modified(self) -> bool:
        """True when the text differs from its `.sql` file (without a file: from what it was opened with)."""
        return self.editor.sql() != self.saved_text

    @property
    def blank(self) -> bool:
        """True for a tab with no text, file or name: new SQL or a file may go into it."""
        return not self.editor.sql().strip() and self.sql_path is None and not self.name

    @property
    def worth_asking(self) -> bool:
        """True when closing the tab loses work: a changed file, or text typed into a tab without one."""
        return self.modified and (self.sql_path is not None or bool(self.editor.sql().strip()))

    def label(self) -> str:
        """Its name, else its file's name, else "SQL n"."""
        return self.name or (self.sql_path.name if self.sql_path is not None else f"SQL {self.number}")

    def title(self) -> str:
        """The tab's title: its label, with `*` while unsaved (and ▶ before it while running)."""
        return ("▶ " if self.running else "") + self.label() + ("*" if self.modified else "")

    def tooltip(self) -> str:
        """Where the text lives, for the tab's tooltip."""
        if self.sql_path is None:
            return "Not saved to a file (kept with this database's tabs)"
        return f"{self.sql_path}{' (changed, not saved)' if self.modified else ''}"

    def set_file(self, path: Path | None, text: str) -> None:
        """The text is now `text`, as in the file at `path` (None: no file, `text` counts as unchanged)."""
        self.sql_path, self.saved_text = path, text
        if self.editor.sql() != text:
            self.editor.set_sql(text)
        self._on_text_changed(force=True)

    def _on_text_changed(self, force: bool = False) -> None:
        modified = self.modified
        if force or modified != self._was_modified:
            self._was_modified = modified
            self.title_changed.emit()

    # --- what to run ------------------------------------------------------------------------------

    def all_items(self) -> list[RunItem]:
        """The selection's statements if there is one, else every statement."""
        text = self.editor.sql()
        start, end = self.editor.selection_range() or (0, len(text))
        return _items_in(text, start, end)

    def current_items(self) -> list[RunItem]:
        """The statement under the cursor."""
        statement = statement_at(self.editor.sql(), self.editor.cursor_index())
        return [RunItem(statement, statement.text)] if statement else []

    def line_items(self) -> list[RunItem]:
        """The statements on the cursor's line, whole (also one that only begins or ends on it)."""
        text, cursor = self.editor.sql(), self.editor.cursor_index()
        start = text.rfind("\n", 0, cursor) + 1
        end = text.find("\n", cursor)
        end = len(text) if end < 0 else end
        return [RunItem(s, s.text) for s in split_statements(text) if s.start <= end and s.end >= start]

    def plan_items(self) -> list[RunItem]:
        """EXPLAIN QUERY PLAN of the selection's statements, or of the statement under the cursor."""
        selection = self.editor.selection_range()
        if selection:
            statements = [item.statement for item in _items_in(self.editor.sql(), *selection)]
        else:
            statements = [item.statement for item in self.current_items()]
        return [
            RunItem(s, s.text if s.keyword == "EXPLAIN" else query_plan_sql(s.text), plan=True)
            for s in statements
        ]

    def ran_text(self, items: list[RunItem]) -> str:
        """The editor's text that `items` cover (for the history)."""
        return self.editor.sql()[items[0].statement.start : items[-1].statement.end]

    # --- running --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while this tab's run is in progress."""
        return self.job is not None

    def refuse(self, items: list[RunItem]) -> bool:
        """Say why `items` cannot run now (no database, nothing to run, a run going on); True if so."""
        if self.context.database is None:
            self.run_label.setText("No database is open.")
        elif not items:
            self.run_label.setText("Nothing to run: the SQL is empty or only comments.")
        elif self.job is not None:
            self.run_label.setText("A query is running in this tab: stop it first.")
        else:
            return False
        return True

    def start(self, items: list[RunItem]) -> Job | None:
        """Run `items` (parameters bound already) as this tab's job."""
        database = self.context.database
        if database is None or self.refuse(items):
            return None
        self.clear_results()
        self.editor.clear_error()
        self._run_text = self.editor.sql()
        self._run_started = time.perf_counter()
        self._run_position = (1, len(items))
        self._run_failed = False
        run = self._runs.begin()
        self.job = self.context.jobs.start(
            "Running SQL", lambda job: self._run(job, database, items, run), owner=self
        )
        self.job.ended.connect(self._on_run_ended)
        self._ticker.start()
        self._tick()
        self.running_changed.emit()
        self.title_changed.emit()
        return self.job

    def stop(self) -> None:
        """Stop this tab's run (interrupts SQLite); the tab stays usable."""
        if self.job is not None:
            self.job.cancel()

    async def _run(self, job: Job, database: Database, items: list[RunItem], run: Ticket) -> None:
        token = job.cancel_token
        for number, item in enumerate(items, start=1):
            if not run.current:
                return  # the database changed meanwhile
            self._run_position = (number, len(items))
            export = functools.partial(self._export, params=item.params)
            tab = ResultTab(
                item.sql,
                export,
                database=database,
                params=item.params,
                times=self._times,
                database_path=str(database.snapshot.path),
            )
            self.results.addTab(tab, _result_title(number, item))
            self.results.setTabToolTip(self.results.count() - 1, item.statement.text[:2000])
            self.result_stack.setCurrentIndex(1)
            if number == 1:
                self.results.setCurrentWidget(tab)
            tab.status_message.connect(self.status_message)
            tab.show_blob_requested.connect(self.show_blob_requested)
            tab.export_blobs_requested.connect(self.export_blobs_requested)
            tab.chart_requested.connect(functools.partial(self._forward_chart, params=item.params))
            started = time.perf_counter()
            try:
                token.raise_if_cancelled()
                # EXPLAIN of a write only describes it: allowed.
                check_user_sql(Statement(item.sql, item.statement.start, item.statement.end))
                outcome = await self._execute(database, item, token, tab, run)
            except Cancelled:
                if self._shown(tab, run):
                    tab.show_stopped(time.perf_counter() - started)
                return
            except UserError as error:
                if self._shown(tab, run):
                    self._run_failed = True
                    where = self._mark_error(item.statement, error)
                    tab.show_view(ErrorView(error, item.statement.text, where))
                    self.results.setCurrentWidget(tab)
                return
            if not self._shown(tab, run):
                return
            tab.show_outcome(outcome)

    def _forward_chart(self, sql: str, columns: object, total: object, params: object = ()) -> None:
        self.chart_requested.emit(sql, columns, total, params)

    def _shown(self, tab: ResultTab, run: Ticket) -> bool:
        """True while `tab` still belongs to the current run (not closed, database not changed)."""
        return run.current and shiboken6.isValid(tab) and self.results.indexOf(tab) >= 0

    async def _execute(
        self, database: Database, item: RunItem, token: CancelToken, tab: ResultTab, run: Ticket
    ) -> RunOutcome:
        """Run one statement: its first page (cached), then its row count when it has more."""
        started = time.perf_counter()
        first = await run_first_rows(database, item.sql, token, item.params)
        result = first.result
        if not self._shown(tab, run):
            raise Cancelled()
        columns = columns_of(result.columns.names, result.columns.declared_types)
        if item.plan or is_query_plan(item.sql):
            # Row estimates for full scans: max(rowid) or sqlite_stat1, a moment on the snapshot.
            plan = await database.run_sync(read_plan, result.rows, self.context.catalog, cancel=token)
            if not self._shown(tab, run):
                raise Cancelled()
            tab.show_view(PlanView(plan))
        if first.more is None:
            held = HeldRowSource(columns, result.rows)
            elapsed = time.perf_counter() - started
            return RunOutcome(held, len(result.rows), elapsed, result.from_cache, capped=result.truncated)
        query = first.more
        source = QueryResultSource(database, query, columns, result.rows)
        tab.show_source(source, f"{len(result.rows):,}+ rows so far, counting…")
        key = (database.generation, query.body, repr(query.params))
        cached = key in self._counts
        try:
            if not cached:
                self._counts[key] = await database.run_sync(query.count, token, cancel=token)
                while len(self._counts) > REMEMBERED_COUNTS:
                    del self._counts[next(iter(self._counts))]
            total = self._counts[key]
            source.set_total(total)
        except UserError as error:
            if isinstance(error, Cancelled):
                raise
            return RunOutcome(source, None, time.perf_counter() - started, False)
        finally:
            # Without a count the grid still works: it grows page by page as the user scrolls.
            source.set_total(Cancelled())  # no-op once the total is set
        return RunOutcome(source, total, time.perf_counter() - started, result.from_cache and cached)

    def _mark_error(self, statement: Statement, error: UserError) -> str:
        """Mark where `statement` failed in the editor; return where that is, in words."""
        text = self.editor.sql()
        if text != self._run_text:
            return ""  # edited meanwhile: the offsets no longer point at the statement
        offset = None
        if not isinstance(error, ReadOnlyError):
            offset = locate_error(statement, error.details or error.message)
        if offset is None:
            self.editor.mark_error(statement.start, statement.end, error.message)
            return (
                f"The statement is marked in the editor (line {text.count(chr(10), 0, statement.start) + 1})."
            )
        self.editor.mark_error(offset, None, error.message)
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        return f"Marked in the editor at line {line}, column {column}."

    def _on_run_ended(self) -> None:
        elapsed = time.perf_counter() - self._run_started
        number, total = self._run_position
        job = self.job
        self.job = None
        self._ticker.stop()
        stopped = job is not None and job.cancel_token.cancelled
        if self._run_failed:
            text = f"Statement {number} of {total} failed" if total > 1 else "The statement failed"
        elif stopped:
            text = f"Stopped at statement {number} of {total}" if total > 1 else "Stopped"
        else:
            text = f"Ran {total} statement{'s' if total != 1 else ''}"
        self.run_label.setText(f"{text} in {format_duration(elapsed)}.")
        self.running_changed.emit()
        self.title_changed.emit()

    def _tick(self) -> None:
        if self.job is None:
            return
        number, total = self._run_position
        which = f" statement {number} of {total}" if total > 1 else ""
        self.run_label.setText(f"Running{which}… {time.perf_counter() - self._run_started:.1f} s")

    def _export(self, sql: str, total_rows: int | None, params: Any = ()) -> None:
        start_export(
            self,
            self.context,
            sql,
            first_table_name(sql) or "query",
            params=params,
            total_rows=total_rows,
            notify=self.status_message.emit,
            description="the result",
        )

    # --- results ------------------------------------------------------------------------------------

    def result_tabs(self) -> list[ResultTab]:
        """The result tabs, in order."""
        found = [self.results.widget(i) for i in range(self.results.count())]
        return [tab for tab in found if isinstance(tab, ResultTab)]

    def clear_results(self) -> None:
        """Close every result tab (their grids stop fetching)."""
        while self.results.count():
            self._close_result(0)
        self.result_stack.setCurrentIndex(0)

    def _close_result(self, index: int) -> None:
        tab = self.results.widget(index)
        if self.job is not None and index == self.results.count() - 1:
            self.job.cancel()  # closing the statement that is running stops the run
        self.results.removeTab(index)
        if isinstance(tab, ResultTab):
            tab.close_source()
            tab.deleteLater()
        if not self.results.count():
            self.result_stack.setCurrentIndex(0)

    def on_database_changed(self) -> None:
        """Stop a run on the old database and drop its results."""
        if self.job is not None:
            self.job.cancel()
        self._runs.drop()
        self.clear_results()
        if self.context.database is None:
            self.run_label.setText("No database open.")
        elif self.job is None:
            self.run_label.clear()

    def dispose(self) -> None:
        """The tab is closed: stop its run, drop its results, and delete it once the run has ended."""
        self._runs.drop()
        self.clear_results()
        if self.job is None:
            self.deleteLater()
        else:
            self.job.cancel()
            self.job.ended.connect(self.deleteLater)  # after `_on_run_ended`, connected first

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until the result grids' fetches have ended (tests, closing)."""
        for tab in self.result_tabs():
            await tab.model.wait_idle(timeout)

    # --- state --------------------------------------------------------------------------------------

    def save_state(self) -> dict[str, Any]:
        """Editor text, cursor, selection and scroll position."""
        selection = self.editor.selection_range()
        cursor = self.editor.cursor_index()
        anchor = cursor
        if selection is not None:
            anchor = selection[0] if cursor == selection[1] else selection[1]
        return {
            "sql": self.editor.sql(),
            "cursor": cursor,
            "anchor": anchor,
            "scroll": self.editor.verticalScrollBar().value(),
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back what `save_state` returned."""
        if "sql" not in state:
            return
        if self.editor.sql() != state["sql"]:
            self.editor.setPlainText(state["sql"])
        self.editor.set_cursor_index(
            int(state.get("cursor", 0)), int(state.get("anchor", state.get("cursor", 0)))
        )
        self.editor.verticalScrollBar().setValue(int(state.get("scroll", 0)))
