"""The SQL pane: write SQL, run it without freezing the window, stop it, see one result tab per statement.

A run is a job. Each statement is checked read-only first, then run for its first page (through the
database's result cache); a longer result is counted by SQLite and shown in the windowed grid, which
fetches further rows by offset as the user scrolls, so no result is ever held whole in memory.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.blobs.name_preview import NameSample
from desktop_app.core.browse.row_sources import (
    HeldRowSource,
    QueryResultSource,
    columns_of,
    run_first_rows,
)
from desktop_app.core.database import Database
from desktop_app.core.errors import Cancelled, ReadOnlyError, UserError
from desktop_app.core.export.sql_files import read_sql_file, save_sql_file
from desktop_app.core.functions.names import completion_names
from desktop_app.core.functions.registry import FunctionRegistry
from desktop_app.core.progress import CancelToken
from desktop_app.core.sqlite.guard import check_user_sql
from desktop_app.core.sqlite.statements import (
    Statement,
    bind_values,
    first_table_name,
    is_query_plan,
    locate_error,
    parameter_keys,
    parameters,
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
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.sql.completer import CompletionNames
from desktop_app.ui.panes.sql.editor import SqlEditor
from desktop_app.ui.panes.sql.library import QueryLibrary, QueryLibraryButtons
from desktop_app.ui.panes.sql.parameters_dialog import ParametersDialog
from desktop_app.ui.panes.sql.results import (
    ErrorView,
    PlanView,
    ResultTab,
    RunOutcome,
    format_duration,
)
from desktop_app.ui.settings import read_json, read_str, read_str_list
from desktop_app.ui.tasks import Tasks
from desktop_app.ui.widgets.blob_export_dialog import BlobExportDialog, query_export_work
from desktop_app.ui.widgets.error_dialog import show_user_error
from desktop_app.ui.widgets.save_dialog import save_file_dialog

#: Row counts of long results kept for reruns (they are cheap to keep, and a rerun then comes from cache).
_REMEMBERED_COUNTS = 256


@dataclass(frozen=True)
class _RunItem:
    """One statement to run: where it is in the editor, and the SQL actually sent (EXPLAIN added)."""

    statement: Statement
    sql: str
    plan: bool = False
    #: Values for the statement's bind parameters (from the parameters form).
    params: tuple[object, ...] | dict[str, object] = ()


_SQL_FILTER = "SQL files (*.sql);;All files (*)"
_PARAMETERS_KEY = "sql/parameters"
_RECENT_SQL_KEY = "sql/recent_files"
#: Recent `.sql` files listed under Open….
_RECENT_SQL_FILES = 10
_SQL_FOLDER_KEY = "sql/folder"


def _shifted(statement: Statement, offset: int) -> Statement:
    return Statement(statement.text, statement.start + offset, statement.end + offset)


def _tab_title(index: int, item: _RunItem) -> str:
    first_line = " ".join(item.statement.text.split())
    short = first_line if len(first_line) <= 28 else first_line[:27] + "…"
    return f"{'Plan' if item.plan else index}: {short}"


class SqlPane(Pane):
    """Editor above, one result tab per statement below; runs are jobs that Stop interrupts."""

    title = "SQL"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.job: Job | None = None
        self.blob_export_dialog: BlobExportDialog | None = None
        self._run_started = 0.0
        self._run_position = (0, 0)
        self._run_text = ""
        self._run_failed = False
        self._runs = LatestRequest()  # a run's results stop once the database changes
        self._counts: dict[tuple[int, str, str], int] = {}
        self._tasks = Tasks()
        self.parameters_dialog: ParametersDialog | None = None

        self.editor = SqlEditor()
        self.run_button = self._button(
            "▶ Run all", "Run every statement, or the selection (Ctrl+Enter, F9)", self.run_all
        )
        self.statement_button = self._button(
            "Run statement", "Run the statement under the cursor (Shift+F9)", self.run_current
        )
        self.explain_button = self._button(
            "Explain", "Show the query plan of the current statement (Ctrl+E)", self.explain
        )
        self.stop_button = self._button("■ Stop", "Stop the running statement (interrupts SQLite)", self.stop)
        self.run_label = QLabel()
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        #: The `.sql` file the editor's text was opened from or saved to, and its text then.
        self.sql_path: Path | None = None
        self._saved_text = ""
        self.open_button = self._button("Open…", "Open a .sql file in the editor", self.choose_sql_file)
        self.recent_menu = QMenu(self.open_button)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.open_button.setMenu(self.recent_menu)
        self.open_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.save_button = self._button("Save", "Save the editor's text to its .sql file (Ctrl+S)", self.save)
        self.save_as_button = self._button(
            "Save as…", "Save the editor's text to a new .sql file", self.choose_save_path
        )
        self.file_label = QLabel()
        self.file_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.library = QueryLibrary(context.settings)
        #: Timestamp choices for result columns, remembered per database.
        self.time_preferences = TimePreferences(context.settings)
        self.library_buttons = QueryLibraryButtons(self.library, self.editor.sql, self._database_path)
        self.library_buttons.chosen.connect(self.set_sql)
        self.library_buttons.message.connect(self.status_message)

        self.results = QTabWidget()
        self.results.setDocumentMode(True)
        self.results.setTabsClosable(True)
        self.results.tabCloseRequested.connect(self._close_tab)
        placeholder = QLabel("Results appear here, one tab per statement.")
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        placeholder.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.result_stack = QStackedWidget()
        self.result_stack.addWidget(placeholder)
        self.result_stack.addWidget(self.results)

        bar = QHBoxLayout()
        for button in (self.run_button, self.statement_button, self.explain_button, self.stop_button):
            bar.addWidget(button)
        bar.addSpacing(8)
        bar.addWidget(self.run_label, 1)
        for widget in (self.file_label, self.open_button, self.save_button, self.save_as_button):
            bar.addWidget(widget)
        bar.addWidget(self.library_buttons)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.editor)
        splitter.addWidget(self.result_stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 440])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)

        for keys, slot in (
            ("Ctrl+Return", self.run_all),
            ("Ctrl+Enter", self.run_all),
            ("F9", self.run_all),
            ("Shift+F9", self.run_current),
            ("Ctrl+E", self.explain),
            ("Ctrl+S", self.save),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self._ticker = QTimer(self)
        self._ticker.setInterval(100)
        self._ticker.timeout.connect(self._tick)
        context.functions_changed.connect(self._refresh_names)
        self.editor.selectionChanged.connect(self._update_buttons)
        self.editor.textChanged.connect(self._show_file)
        self._show_file()
        self.on_database_changed()

    def _button(self, text: str, tip: str, slot: Callable[[], Any]) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.clicked.connect(slot)
        return button

    # --- public API -----------------------------------------------------------------------------

    def set_sql(self, text: str) -> None:
        """Put `text` in the editor (used by the window's "Show SQL")."""
        self.editor.set_sql(text)
        self.editor.setFocus()

    @property
    def running(self) -> bool:
        """True while a run is in progress."""
        return self.job is not None

    def run_all(self) -> Job | None:
        """Run the selection if there is one, else every statement."""
        selection = self.editor.selection_range()
        text = self.editor.sql()
        start, end = selection if selection else (0, len(text))
        items = [_RunItem(_shifted(s, start), s.text) for s in split_statements(text[start:end])]
        return self._start(items)

    def run_current(self) -> Job | None:
        """Run the statement under the cursor."""
        statement = statement_at(self.editor.sql(), self.editor.cursor_index())
        return self._start([_RunItem(statement, statement.text)] if statement else [])

    def explain(self) -> Job | None:
        """Show the query plan of the selection or of the statement under the cursor."""
        selection = self.editor.selection_range()
        text = self.editor.sql()
        if selection:
            statements = [
                _shifted(s, selection[0]) for s in split_statements(text[selection[0] : selection[1]])
            ]
        else:
            current = statement_at(text, self.editor.cursor_index())
            statements = [current] if current else []
        items = []
        for statement in statements:
            explained = statement.keyword == "EXPLAIN"
            sql = statement.text if explained else query_plan_sql(statement.text)
            items.append(_RunItem(statement, sql, plan=True))
        return self._start(items)

    def _ask_parameters(self, items: list[_RunItem]) -> ParametersDialog:
        """Open the parameters form (non-modal); Run binds the values and runs `items`."""
        keys: list[str] = []
        for item in items:
            keys += [key for key in parameter_keys(parameters(item.sql)) if key not in keys]
        remembered = read_json(self.context.settings, _PARAMETERS_KEY, {})
        dialog = ParametersDialog(self, keys, remembered if isinstance(remembered, dict) else {})

        def run(values: dict[str, str]) -> None:
            self.context.settings.setValue(_PARAMETERS_KEY, json.dumps({**remembered, **values}))
            bound = [replace(item, params=bind_values(parameters(item.sql), values)) for item in items]
            self._start(bound, bound=True)

        dialog.chosen.connect(run)
        self.parameters_dialog = dialog
        dialog.open()
        return dialog

    def stop(self) -> None:
        """Stop the run (interrupts SQLite); the pane stays usable."""
        if self.job is not None:
            self.job.cancel()

    # --- running --------------------------------------------------------------------------------

    def _start(self, items: list[_RunItem], *, bound: bool = False) -> Job | None:
        database = self.context.database
        if database is None:
            self.run_label.setText("No database is open.")
            return None
        if not items:
            self.run_label.setText("Nothing to run: the SQL is empty or only comments.")
            return None
        if self.job is not None:
            self.run_label.setText("A query is running: stop it first.")
            return None
        if not bound and any(parameters(item.sql) for item in items):
            self._ask_parameters(items)
            return None
        ran = self.editor.sql()[items[0].statement.start : items[-1].statement.end]
        self.library.remember(ran, self._database_path())
        self._clear_results()
        self.editor.clear_error()
        self._run_text = self.editor.sql()
        self._run_started = time.perf_counter()
        self._run_position = (1, len(items))
        self._run_failed = False
        run = self._runs.begin()
        self.job = self.context.jobs.start("Running SQL", lambda job: self._run(job, database, items, run))
        self.job.ended.connect(self._on_run_ended)
        self._ticker.start()
        self._tick()
        self._update_buttons()
        return self.job

    async def _run(self, job: Job, database: Database, items: list[_RunItem], run: Ticket) -> None:
        token = job.cancel_token
        for number, item in enumerate(items, start=1):
            if not run.current:
                return  # the database changed meanwhile
            self._run_position = (number, len(items))
            tab = ResultTab(
                item.sql,
                functools.partial(self._export, params=item.params),
                times=self.time_preferences,
                database_path=self._database_path(),
            )
            self.results.addTab(tab, _tab_title(number, item))
            self.results.setTabToolTip(self.results.count() - 1, item.statement.text[:2000])
            self.result_stack.setCurrentIndex(1)
            if number == 1:
                self.results.setCurrentWidget(tab)
            tab.status_message.connect(self.status_message)
            tab.show_blob_requested.connect(self.show_blob_requested)
            tab.export_blobs_requested.connect(self._export_blobs)
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

    def _shown(self, tab: ResultTab, run: Ticket) -> bool:
        """True while `tab` still belongs to the current run (not closed, database not changed)."""
        return run.current and shiboken6.isValid(tab) and self.results.indexOf(tab) >= 0

    async def _execute(
        self, database: Database, item: _RunItem, token: CancelToken, tab: ResultTab, run: Ticket
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
                while len(self._counts) > _REMEMBERED_COUNTS:
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
        self._update_buttons()

    def _tick(self) -> None:
        if self.job is None:
            return
        number, total = self._run_position
        which = f" statement {number} of {total}" if total > 1 else ""
        self.run_label.setText(f"Running{which}… {time.perf_counter() - self._run_started:.1f} s")

    def _update_buttons(self) -> None:
        running = self.job is not None
        ready = self.context.database is not None and not running
        for button in (self.run_button, self.statement_button, self.explain_button):
            button.setEnabled(ready)
        self.stop_button.setEnabled(running)
        self.run_button.setText("▶ Run selection" if self.editor.textCursor().hasSelection() else "▶ Run all")

    def _export(self, sql: str, total_rows: int | None, params: Any = ()) -> None:
        name = first_table_name(sql) or "query"
        notify = self.status_message.emit
        start_export(
            self,
            self.context,
            sql,
            name,
            params=params,
            total_rows=total_rows,
            notify=notify,
            description="the result",
        )

    def _export_blobs(self, sql: str, column: int, names: list[str], samples: list[NameSample]) -> None:
        """Open the bulk blob export dialog for one column of a statement's result."""
        database = self.context.database
        if database is None:
            return
        previous = self.blob_export_dialog
        if previous is not None and previous.job is None:  # a running export keeps its dialog
            previous.close()
            previous.deleteLater()
        dialog = BlobExportDialog(
            self.context.jobs,
            self.context.settings,
            title=f"Export the values of “{names[column]}”",
            description=(
                f"Write the value of column “{names[column]}” of every row of this result to its own file. "
                "The query runs again and streams; NULLs and numbers get no file, text is written as UTF-8."
            ),
            fields=names,
            samples=samples,
            work=query_export_work(database, sql, column),
            settings_prefix="sql/blob_export",
            parent=self,
        )
        dialog.exported.connect(lambda result: self.status_message.emit(result.summary()))
        dialog.open()
        self.blob_export_dialog = dialog

    def _clear_results(self) -> None:
        while self.results.count():
            self._close_tab(0)
        self.result_stack.setCurrentIndex(0)

    def _close_tab(self, index: int) -> None:
        tab = self.results.widget(index)
        if self.job is not None and index == self.results.count() - 1:
            self.job.cancel()  # closing the statement that is running stops the run
        self.results.removeTab(index)
        if isinstance(tab, ResultTab):
            tab.close_source()
            tab.deleteLater()
        if not self.results.count():
            self.result_stack.setCurrentIndex(0)

    # --- database and completion ------------------------------------------------------------------

    def on_database_changed(self) -> None:
        """Stop a run on the old database, drop its results, and refresh the completion names."""
        if self.job is not None:
            self.job.cancel()
        self._runs.drop()
        self._clear_results()
        self._counts.clear()
        self._refresh_names()
        self._update_buttons()
        if self.context.database is None:
            self.run_label.setText("No database open.")
        elif self.job is None:
            self.run_label.clear()

    def _refresh_names(self) -> None:
        names = CompletionNames()
        catalog = self.context.catalog
        if catalog is not None:
            for table in catalog.visible_tables(include_hidden=True):
                names.tables[table.name] = [(c.name, c.declared_type) for c in table.columns]
        self.editor.completer.set_names(names)
        database = self.context.database
        if database is not None:
            self._tasks.spawn(self._load_functions(database, names))

    async def _load_functions(self, database: Database, names: CompletionNames) -> None:
        try:
            registry = self.context.functions
            known = registry if isinstance(registry, FunctionRegistry) else None
            names.functions, names.pragmas = await database.run_sync(completion_names, known)
        except UserError:
            pass  # completion simply offers no functions

    def _database_path(self) -> str | None:
        database = self.context.database
        return str(database.snapshot.path) if database is not None else None

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until background work (name loading, grid fetches) has ended (tests, closing)."""
        await self._tasks.wait(timeout)
        for index in range(self.results.count()):
            tab = self.results.widget(index)
            if isinstance(tab, ResultTab):
                await tab.model.wait_idle(timeout)

    # --- .sql files ---------------------------------------------------------------------------------

    @property
    def modified(self) -> bool:
        """True when the editor's text differs from its `.sql` file (or, with no file, is not empty)."""
        return self.editor.sql() != self._saved_text

    def open_sql_file(self, path: str | Path) -> bool:
        """Put the text of the `.sql` file at `path` in the editor (an error is shown, and False returned)."""
        try:
            text = read_sql_file(path)
        except UserError as exc:
            show_user_error(self, "Cannot open the SQL file", exc)
            return False
        self.sql_path, self._saved_text = Path(path).absolute(), text
        self.editor.set_sql(text)
        self._show_file()
        self._remember_recent(self.sql_path)
        self.status_message.emit(f"Opened {self.sql_path}.")
        return True

    def save_sql_file(self, path: str | Path) -> bool:
        """Save the editor's text to `path` (never over the database being read); False when it failed."""
        text = self.editor.sql()
        database = self.context.database
        try:
            save_sql_file(path, text, source_path=database.snapshot.path if database is not None else None)
        except UserError as exc:
            show_user_error(self, "Cannot save the SQL file", exc)
            return False
        self.sql_path, self._saved_text = Path(path).absolute(), text
        self._show_file()
        self._remember_recent(self.sql_path)
        self.status_message.emit(f"Saved {self.sql_path}.")
        return True

    def save(self) -> None:
        """Save to the current `.sql` file, or ask where the first time."""
        if self.sql_path is None:
            self.choose_save_path()
        else:
            self.save_sql_file(self.sql_path)

    def choose_sql_file(self) -> QFileDialog:
        """Pick a `.sql` file to open (non-modal)."""
        folder = (
            str(self.sql_path.parent) if self.sql_path else read_str(self.context.settings, _SQL_FOLDER_KEY)
        )
        dialog = QFileDialog(self, "Open a SQL file", folder, _SQL_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self._remember_folder_and(self.open_sql_file))
        dialog.open()
        return dialog

    def choose_save_path(self) -> QFileDialog:
        """Pick where to save the editor's text (non-modal; asks before replacing a file)."""
        start = str(self.sql_path) if self.sql_path else read_str(self.context.settings, _SQL_FOLDER_KEY)
        dialog = save_file_dialog(self, "Save the SQL", start, _SQL_FILTER)
        dialog.setDefaultSuffix("sql")
        dialog.fileSelected.connect(self._remember_folder_and(self.save_sql_file))
        dialog.open()
        return dialog

    def _remember_folder_and(self, then: Callable[[str], object]) -> Callable[[str], None]:
        def chosen(path: str) -> None:
            self.context.settings.setValue(_SQL_FOLDER_KEY, str(Path(path).absolute().parent))
            then(path)

        return chosen

    def recent_sql_files(self) -> list[str]:
        """The `.sql` files opened or saved last, newest first."""
        return read_str_list(self.context.settings, _RECENT_SQL_KEY)

    def _remember_recent(self, path: Path) -> None:
        recent = [str(path)] + [p for p in self.recent_sql_files() if p != str(path)]
        self.context.settings.setValue(_RECENT_SQL_KEY, recent[:_RECENT_SQL_FILES])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_sql_files()
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_sql_file(p))
        if not recent:
            self.recent_menu.addAction("(no recent SQL files)").setEnabled(False)

    def _show_file(self) -> None:
        name = self.sql_path.name if self.sql_path is not None else ""
        self.file_label.setText(f"{name}{' •' if self.modified and name else ''}")
        self.file_label.setToolTip(
            f"{self.sql_path}{' (changed, not saved)' if self.modified else ''}" if name else ""
        )

    # --- state ------------------------------------------------------------------------------------

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
