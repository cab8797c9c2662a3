"""The Functions pane: every SQL function on the snapshot, the user's functions file, and a "Try it" box."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QWidget,
)

from desktop_app.core.database import Database
from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.export.output_paths import write_file
from desktop_app.core.functions.registry import (
    FunctionInfo,
    FunctionRegistry,
    evaluate_expression,
)
from desktop_app.core.resources import resource_path
from desktop_app.core.sqlite.connection import ConnectionHook, configure_connection
from desktop_app.core.sqlite.quoting import quote_identifier
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.latest import LatestRequest
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.functions.function_list import ALL_SOURCES, FunctionBrowser, FunctionRow
from desktop_app.ui.panes.functions.try_box import TryItBox
from desktop_app.ui.settings import read_str
from desktop_app.ui.theme import dim_style, error_style, ok_style
from desktop_app.ui.widgets.error_dialog import show_user_error
from desktop_app.ui.widgets.layout import hbox, push_button, vbox
from desktop_app.ui.widgets.save_dialog import save_file_dialog

T = TypeVar("T")

USER_FILE_KEY = "functions/user_file"
LAST_FOLDER_KEY = "functions/last_folder"
EXPRESSION_KEY = "functions/expression"
EXAMPLE_FILE = "example_functions.py"
PYTHON_FILTER = "Python files (*.py);;All files (*)"
#: Problems of the user's file shown before the list scrolls.
PROBLEM_LINES_SHOWN = 4


class FunctionsPane(Pane):
    """Lists every SQL function, loads the user's functions file, and evaluates expressions."""

    title = "Functions"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.registry = context.functions
        self._listing = LatestRequest()
        self._loading: Job | None = None
        self._trying = LatestRequest()
        self.functions: list[FunctionInfo] = []

        self._build_file_section()
        self.browser = FunctionBrowser()
        self.browser.try_requested.connect(self.insert_call)
        self.try_box = TryItBox()
        self.try_box.run_requested.connect(self.evaluate)
        self.try_box.stop_requested.connect(self.stop_evaluation)
        vbox(self.file_box, (self.browser, 1), self.try_box, margins=6, parent=self)

        context.functions_changed.connect(self.refresh)
        self.try_box.expression.setText(read_str(context.settings, EXPRESSION_KEY))
        remembered = read_str(context.settings, USER_FILE_KEY)
        self._update_file_section()
        if remembered and self.registry.user_file is None:
            self.load_file(remembered)
        self.refresh()

    # --- building -----------------------------------------------------------------------------

    def _build_file_section(self) -> None:
        self.file_box = QGroupBox("Your functions file")
        self.file_label = QLabel()
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.file_label.setMinimumWidth(120)
        self.choose_button = push_button(
            "Choose file…", self.choose_file, "Load SQL functions from a Python file of yours"
        )
        self.example_button = push_button(
            "New from example…",
            self.choose_example_target,
            "Save a copy of the example functions file where you want, and load it",
        )
        self.reload_button = push_button(
            "Reload", self.reload_file, "Read the file again after editing it (no restart needed)"
        )
        self.unload_button = push_button(
            "Unload", self.unload_file, "Stop using the file: only SQLite's and the built-in functions remain"
        )
        self.file_status = QLabel()
        self.file_status.setWordWrap(True)
        self.file_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.schema_collations_box = QCheckBox("Let this database's schema use my collations")
        self.schema_collations_box.setToolTip(
            "Off: a collation of yours that the database's schema names (in an index, a view or a column) "
            "is not registered, so merely reading the database cannot run your code."
        )
        self.schema_collations_box.toggled.connect(self.allow_schema_collations)
        self.problem_list = QListWidget()
        self.problem_list.setWordWrap(True)
        self.problem_list.itemActivated.connect(self._show_problem_details)
        self.problem_list.setToolTip("Double-click a problem for its details")

        buttons = (self.choose_button, self.example_button, self.reload_button, self.unload_button)
        box = vbox(
            hbox((self.file_label, 1), *buttons),
            self.file_status,
            self.schema_collations_box,
            self.problem_list,
            parent=self.file_box,
        )
        box.setContentsMargins(8, 4, 8, 6)

    # --- the list -----------------------------------------------------------------------------

    def on_database_changed(self) -> None:
        """List the functions of the new snapshot (or of an empty database when none is open)."""
        self._update_file_section()
        self.refresh()

    def refresh(self) -> Job:
        """Read the list of functions again (a quick job)."""
        registry, database = self.registry, self.context.database

        async def work(job: Job) -> list[FunctionInfo]:
            if database is None:
                return (await asyncio.to_thread(on_scratch_connection, registry, _describe, registry))[0]
            infos, current = await database.run_sync(_describe, registry, cancel=job.cancel_token)
            if not current:  # a pooled connection was made before the last load finished
                await renew_connections(database, registry, [self.context.attachments.hook])
            return infos

        def failed(error: UserError) -> None:
            if not isinstance(error, Cancelled):
                self.browser.show_failure(error.message)

        return self._listing.start(
            self.context.jobs,
            "Listing SQL functions",
            work,
            on_done=self._show_functions,
            on_error=failed,
            show=False,
            owner=self,
        )

    def _show_functions(self, infos: list[FunctionInfo]) -> None:
        self.functions = infos
        self.browser.set_functions(infos)
        self._update_file_section()

    def insert_call(self, function: FunctionRow) -> None:
        """Put an example call of `function` in the Try-it box, with the cursor where arguments go."""
        name = quote_identifier(function.name)
        if function.kind == "collation":
            self.try_box.set_expression(f"'a' < 'B' COLLATE {name}", 0)
        else:
            self.try_box.set_expression(f"{name}()", len(name) + 1)

    # --- the user's file ----------------------------------------------------------------------

    def choose_file(self) -> None:
        """Ask for a Python file of functions (non-blocking dialog) and load it."""
        dialog = QFileDialog(
            self, "Load SQL functions from a Python file", self._last_folder(), PYTHON_FILTER
        )
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.load_file)
        dialog.open()

    def choose_example_target(self) -> None:
        """Ask where to save a copy of the example functions file, then load the copy."""
        folder = Path(self._last_folder())
        dialog = save_file_dialog(
            self, "Save the example functions as", str(folder / "my_functions.py"), PYTHON_FILTER
        )
        dialog.setDefaultSuffix("py")
        dialog.fileSelected.connect(self.create_from_example)
        dialog.open()

    def create_from_example(self, path: str | Path) -> Job | None:
        """Copy the bundled example functions file to `path` and load it."""
        target = Path(path)
        database = self.context.database
        try:
            example = resource_path(EXAMPLE_FILE).read_bytes()  # a few kilobytes
            write_file(target, example, source_path=database.snapshot.path if database else None)
        except UserError as exc:
            self._set_file_status(exc.message, error_style())
            return None
        except OSError as exc:
            self._set_file_status(
                f"Could not save the example as {target}: {exc.strerror or exc}", error_style()
            )
            return None
        return self.load_file(target)

    def load_file(self, path: str | Path) -> Job:
        """Load (and remember) the user's functions file; its problems are shown in the pane."""
        resolved = Path(path).expanduser()
        self.context.settings.setValue(USER_FILE_KEY, str(resolved))
        self.context.settings.setValue(LAST_FOLDER_KEY, str(resolved.parent))
        registry = self.registry
        return self._start_load(f"Loading {resolved.name}", lambda: registry.load(resolved))

    def reload_file(self) -> Job | None:
        """Read the user's file again (after editing it)."""
        if self.registry.user_file is None:
            return None
        return self._start_load(f"Reloading {self.registry.user_file.name}", self.registry.reload)

    def unload_file(self) -> Job:
        """Stop using the user's file and forget it."""
        self.context.settings.remove(USER_FILE_KEY)
        return self._start_load("Unloading your functions", self.registry.unload)

    def allow_schema_collations(self, allowed: bool) -> Job | None:
        """Let (or stop) the database's schema reach the user's collations; connections are renewed."""
        if allowed == self.registry.schema_collations_allowed:
            return None
        label = (
            "Letting the schema use your collations" if allowed else "Keeping your collations from the schema"
        )
        return self._start_load(label, lambda: self.registry.allow_schema_collations(allowed))

    def _start_load(self, label: str, action: Callable[[], object]) -> Job:
        registry = self.registry

        async def work(_job: Job) -> object:
            try:
                return await asyncio.to_thread(action)  # runs the user's module code: not on the UI thread
            finally:  # even a failed load changes the functions (another file's are dropped)
                await renew_connections(self.context.database, registry, [self.context.attachments.hook])

        self._set_file_status(f"{label}…", dim_style())
        job = self.context.jobs.start(
            label,
            work,
            on_done=lambda _r: self._after_load(),
            on_error=lambda _e: self._after_load(),
            owner=self,
        )
        self._loading = job
        job.ended.connect(lambda: self._loading_ended(job))
        self._update_file_section()
        return job

    def _loading_ended(self, job: Job) -> None:
        if self._loading is job:
            self._loading = None
            self._update_file_section()

    def _after_load(self) -> None:
        """The functions changed (connections are renewed already): tell everyone, and list them again."""
        self.context.announce_functions_changed()  # refreshes this pane through functions_changed
        self._update_file_section()
        error, path = self.registry.last_error, self.registry.user_file
        if error is not None:
            self.status_message.emit(f"Could not load your functions: {error.message}")
        elif path is not None:
            self.status_message.emit(f"Loaded your functions from {path.name}")
        else:
            self.status_message.emit("Your functions were unloaded; SQLite's and the built-in ones remain.")

    def _update_file_section(self) -> None:
        registry = self.registry
        path = registry.user_file
        loading = self._loading is not None
        self.choose_button.setEnabled(not loading)
        self.example_button.setEnabled(not loading)
        self.reload_button.setEnabled(path is not None and not loading)
        self.unload_button.setEnabled(path is not None and not loading)
        if path is None:
            self.file_label.setText("None chosen: SQLite's and the built-in functions are available.")
            self.file_label.setToolTip("")
        else:
            self.file_label.setText(str(path))
            self.file_label.setToolTip(str(path))
        self.problem_list.clear()
        error = registry.last_error
        if error is not None:
            self._add_problem(error.message, error.details, QStyle.StandardPixmap.SP_MessageBoxCritical)
        for problem in registry.problems:
            self._add_problem(str(problem), "", QStyle.StandardPixmap.SP_MessageBoxWarning)
        withheld, allowed = registry.withheld_collations, registry.schema_collations_allowed
        self.schema_collations_box.setVisible(bool(withheld) or allowed)
        self.schema_collations_box.blockSignals(True)
        self.schema_collations_box.setChecked(allowed)
        self.schema_collations_box.blockSignals(False)
        if withheld:
            names = ", ".join(sorted(withheld))
            self._add_problem(
                f"Not registered for this database: your collation {names}. The database's schema names it "
                "(in an index, a view or a column), so reading the database would run your code.",
                "",
                QStyle.StandardPixmap.SP_MessageBoxInformation,
            )
        elif allowed and path is not None:
            self._add_problem(
                "The database's schema may call your collations (you allowed it).",
                "",
                QStyle.StandardPixmap.SP_MessageBoxWarning,
            )
        database = self.context.database
        if path is not None and database is not None and database.snapshot.schema_trusted:
            self._add_problem(
                "Your functions are off for this database: its schema uses "
                f"{database.snapshot.schema_needs}, "
                "so it is read with the schema trusted, and the schema must not reach your Python code.",
                "",
                QStyle.StandardPixmap.SP_MessageBoxWarning,
            )
        self._fit_problem_list()
        if loading:
            return
        if path is None:
            self._set_file_status("", "")
        elif error is not None:
            kept = self._user_count()
            still = f" The {kept} functions loaded before still work." if kept else ""
            self._set_file_status(
                f"The file could not be loaded: fix it and press Reload.{still} "
                "SQLite's and the built-in functions keep working.",
                error_style(),
            )
        else:
            count = self._user_count()
            skipped = f"; {len(registry.problems)} skipped (see below)" if registry.problems else ""
            self._set_file_status(f"{count} functions and collations loaded{skipped}.", ok_style())

    def _user_count(self) -> int:
        """Functions the registry currently takes from the user's file."""
        path = self.registry.user_file
        if path is None:
            return 0
        return len({(i.name, i.kind) for i in self.functions if i.source == str(path)})

    def _add_problem(self, text: str, details: str, icon: QStyle.StandardPixmap) -> None:
        item = QListWidgetItem(self.style().standardIcon(icon), text)
        item.setToolTip(details or text)
        item.setData(Qt.ItemDataRole.UserRole, details)
        self.problem_list.addItem(item)

    def _fit_problem_list(self) -> None:
        """As tall as its problems, up to a few lines (then it scrolls); hidden when there are none."""
        count = self.problem_list.count()
        self.problem_list.setVisible(count > 0)
        if count:
            line = max(self.problem_list.sizeHintForRow(0), self.fontMetrics().height() + 4)
            frame = 2 * self.problem_list.frameWidth() + 4
            self.problem_list.setFixedHeight(min(count, PROBLEM_LINES_SHOWN) * line + frame)

    def _set_file_status(self, text: str, style: str) -> None:
        self.file_status.setText(text)
        self.file_status.setStyleSheet(style)
        self.file_status.setVisible(bool(text))

    def _show_problem_details(self, item: QListWidgetItem) -> None:
        details = str(item.data(Qt.ItemDataRole.UserRole) or "")
        show_user_error(self, "Problem in your functions file", UserError(item.text(), details=details))

    def _last_folder(self) -> str:
        return read_str(self.context.settings, LAST_FOLDER_KEY, str(Path.home()))

    # --- Try it ---

    def run_expression(self, text: str) -> Job | None:
        """Type `text` in the Try-it box and evaluate it (as Enter would)."""
        self.try_box.expression.setText(text)
        self.try_box.request_run()
        return self._trying.job

    def evaluate(self, expression: str) -> Job:
        """Evaluate an SQL expression against the snapshot (or an empty database) as a cancellable job."""
        self.context.settings.setValue(EXPRESSION_KEY, self.try_box.expression.text())
        registry, database = self.registry, self.context.database

        async def work(job: Job) -> tuple[object, float]:
            token = job.cancel_token
            started = time.perf_counter()
            if database is not None:
                value = await database.run_sync(evaluate_expression, expression, token, cancel=token)
            else:
                value = await asyncio.to_thread(
                    on_scratch_connection, registry, evaluate_expression, expression, token
                )
            return value, time.perf_counter() - started

        def done(result: tuple[object, float]) -> None:
            note = "" if database is not None else "no database open: evaluated on an empty one"
            self.try_box.show_result(result[0], result[1], note)

        job = self._trying.start(
            self.context.jobs,
            "Evaluating an expression",
            work,
            on_done=done,
            on_error=self.try_box.show_error,
            on_ended=lambda: self.try_box.set_running(False),
            owner=self,
        )
        self.try_box.set_running(True)
        return job

    def stop_evaluation(self) -> None:
        """Stop the running evaluation, if any (interrupts SQLite between rows)."""
        self._trying.stop()

    # --- state --------------------------------------------------------------------------------

    def save_state(self) -> dict[str, Any]:
        """The filter, the selected function and the expression."""
        selected = self.browser.selected_function()
        return {
            "filter": self.browser.filter_edit.text(),
            "source": self.browser.source_combo.currentData(),
            "selected": selected.name if selected is not None else None,
            "expression": self.try_box.expression.text(),
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Restore what `save_state` returned."""
        self.browser.filter_edit.setText(str(state.get("filter", "")))
        index = self.browser.source_combo.findData(state.get("source", ALL_SOURCES))
        self.browser.source_combo.setCurrentIndex(max(index, 0))
        self.try_box.expression.setText(str(state.get("expression", "")))
        if state.get("selected"):
            self.browser.select_function(str(state["selected"]))


def _describe(conn: sqlite3.Connection, registry: FunctionRegistry) -> tuple[list[FunctionInfo], bool]:
    """The functions on `conn`, and whether `conn` has the registry's latest set."""
    return registry.describe(conn), registry.is_current(conn)


async def renew_connections(
    database: Database | None, registry: FunctionRegistry, others: Sequence[ConnectionHook] = ()
) -> None:
    """Give every pooled connection of `database` the registry's current functions (and the `others`)."""
    if database is None or database.closed:
        return
    await database.set_hooks([registry.hook, *others])  # renews pooled connections, drops cached results


def on_scratch_connection(registry: FunctionRegistry, work: Callable[..., T], *args: Any) -> T:
    """Run `work(conn, *args)` on an empty in-memory database with the functions (no database open)."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        configure_connection(conn, [registry.hook])
        return work(conn, *args)
    finally:
        registry.forget(conn)
        conn.close()
