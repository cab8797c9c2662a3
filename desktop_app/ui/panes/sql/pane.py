"""The SQL pane: editor tabs, each with its own results, file and run; one toolbar acting on the current tab.

Each tab (`editor_tab.SqlTab`) runs its statements as its own job, so a long query in one tab goes on while
the user works in another. The open tabs of each database (names, files, texts) are kept in the settings
and come back when that database is opened again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QEvent, QKeyCombination, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QTabWidget,
    QToolButton,
    QWidget,
)

from desktop_app.core.blobs.name_preview import NameSample
from desktop_app.core.database import Database
from desktop_app.core.errors import UserError
from desktop_app.core.export.sql_files import read_sql_file, save_sql_file
from desktop_app.core.functions.names import completion_names
from desktop_app.core.functions.registry import FunctionRegistry
from desktop_app.core.sqlite.statements import bind_values, first_table_name, parameter_keys, parameters
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.models.column_times import TimePreferences
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.sql.completer import CompletionNames
from desktop_app.ui.panes.sql.editor import SqlEditor
from desktop_app.ui.panes.sql.editor_tab import Counts, RunItem, SqlTab
from desktop_app.ui.panes.sql.library import QueryLibrary, QueryLibraryButtons
from desktop_app.ui.panes.sql.open_tabs import KeptTab, keep_tabs, kept_tabs
from desktop_app.ui.panes.sql.parameters_dialog import ParametersDialog
from desktop_app.ui.settings import read_json, read_str, read_str_list
from desktop_app.ui.tasks import Tasks
from desktop_app.ui.widgets.blob_export_dialog import BlobExportDialog, query_export_work
from desktop_app.ui.widgets.chart import ChartSource, open_chart
from desktop_app.ui.widgets.error_dialog import show_user_error
from desktop_app.ui.widgets.flow_layout import flow
from desktop_app.ui.widgets.layout import vbox
from desktop_app.ui.widgets.save_dialog import save_file_dialog

T = TypeVar("T")
_SQL_FILTER = "SQL files (*.sql);;All files (*)"
_PARAMETERS_KEY = "sql/parameters"
_RECENT_SQL_KEY = "sql/recent_files"
#: Recent `.sql` files listed under Open….
_RECENT_SQL_FILES = 10
_SQL_FOLDER_KEY = "sql/folder"
#: The open tabs are written to the settings this long after the last edit (and on every switch/close).
_KEEP_DELAY_MS = 1000

#: The pane's keys, following DB Browser for SQLite where it has one: (keys, what they do, method).
#: F5 and Ctrl+W mean Reload and Close elsewhere in the window; inside this pane they run and close a tab.
_KEYS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("F5", "Ctrl+Return", "Ctrl+Enter", "F9"), "Run every statement, or the selection", "run_all"),
    (("Ctrl+E", "Shift+F9"), "Run the statement under the cursor", "run_current"),
    (("Shift+F5",), "Run the statements on the cursor's line", "run_line"),
    (("Ctrl+Shift+X",), "Show the query plan of the statement under the cursor", "explain"),
    (("Ctrl+T",), "Open a new editor tab", "new_tab"),
    (("Ctrl+W",), "Close the editor tab (asks to save changes)", "close_current_tab"),
    (("Ctrl+Shift+O",), "Open a .sql file in a tab", "choose_sql_file"),
    (("Ctrl+S",), "Save the tab to its .sql file", "save"),
    (("Ctrl+Shift+S",), "Save the tab to a new .sql file", "choose_save_path"),
)


def _key_text(event: QKeyEvent) -> str:
    """The key pressed as QKeySequence spells it (the keypad's Enter as Enter)."""
    combination = event.keyCombination()
    modifiers = combination.keyboardModifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return QKeySequence(QKeyCombination(modifiers, combination.key())).toString()


def ask_to_save(parent: QWidget, text: str, details: str) -> QMessageBox.StandardButton:
    """Save, Discard or Cancel: asked now (the answer is needed before a tab or the window closes)."""
    buttons = QMessageBox.StandardButton
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Unsaved SQL",
        text,
        buttons.Save | buttons.Discard | buttons.Cancel,
        parent,
    )
    box.setInformativeText(details)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    return QMessageBox.StandardButton(box.exec())


class _OfCurrentTab(Generic[T]):
    """A pane attribute that is the current tab's attribute of the same name."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, pane: SqlPane, owner: type | None = None) -> T:
        value: T = getattr(pane.tab, self.name)
        return value


class SqlPane(Pane):
    """Editor tabs above; one result tab per statement in each; runs are jobs that Stop interrupts."""

    title = "SQL"
    #: The current tab's editor, result tabs and status line; whether its run is going on, its text unsaved.
    editor = _OfCurrentTab[SqlEditor]()
    results = _OfCurrentTab[QTabWidget]()
    run_label = _OfCurrentTab[QLabel]()
    running = _OfCurrentTab[bool]()
    modified = _OfCurrentTab[bool]()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.blob_export_dialog: BlobExportDialog | None = None
        self.parameters_dialog: ParametersDialog | None = None
        self.rename_dialog: QInputDialog | None = None
        #: The last Open or Save dialog shown (tests reach it here).
        self.file_dialog: QFileDialog | None = None
        self._counts: Counts = {}
        self._tasks = Tasks()
        self._names = CompletionNames()
        #: The database whose tabs are shown (its path), None before one is opened.
        self._tabs_of: str | None = None

        self.run_button = self._button(
            "▶ Run all", "Run every statement, or the selection (F5, Ctrl+Return)", self.run_all
        )
        self.statement_button = self._button(
            "Run statement",
            "Run the statement under the cursor (Ctrl+E); Shift+F5 runs the line",
            self.run_current,
        )
        self.explain_button = self._button(
            "Explain", "Show the query plan of the current statement (Ctrl+Shift+X)", self.explain
        )
        self.stop_button = self._button(
            "■ Stop", "Stop this tab's running statement (interrupts SQLite)", self.stop
        )
        self.open_button = self._button(
            "Open…", "Open a .sql file in a tab (Ctrl+Shift+O)", self.choose_sql_file
        )
        self.recent_menu = QMenu(self.open_button)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.open_button.setMenu(self.recent_menu)
        self.open_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.save_button = self._button("Save", "Save the tab to its .sql file (Ctrl+S)", self.save)
        self.save_as_button = self._button(
            "Save as…", "Save the tab to a new .sql file (Ctrl+Shift+S)", self.choose_save_path
        )
        self.library = QueryLibrary(context.settings)
        #: Timestamp choices for result columns, remembered per database.
        self.time_preferences = TimePreferences(context.settings)
        self.library_buttons = QueryLibraryButtons(
            self.library, lambda: self.editor.sql(), self._database_path
        )
        self.library_buttons.chosen.connect(self.set_sql)
        self.library_buttons.message.connect(self.status_message)

        self.tabs = QTabWidget()  # framed, unlike the result tabs inside each: the editor tab holds them
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.tabCloseRequested.connect(lambda index: self.close_tab(self._tab_at(index)))
        self.tabs.currentChanged.connect(self._on_current_changed)
        self.tabs.tabBarDoubleClicked.connect(self._on_tab_double_clicked)
        self.tabs.tabBar().tabMoved.connect(lambda _a, _b: self._keep_soon())
        self.new_tab_button = self._button("+", "Open a new editor tab (Ctrl+T)", self.new_tab)
        self.new_tab_button.setAutoRaise(True)
        self.tabs.setCornerWidget(self.new_tab_button, Qt.Corner.TopRightCorner)

        buttons = (self.run_button, self.statement_button, self.explain_button, self.stop_button)
        files = (self.open_button, self.save_button, self.save_as_button, self.library_buttons)
        bar = flow(*buttons, (QWidget(), 1), *files)  # wraps when narrow
        vbox(bar, (self.tabs, 1), parent=self).setContentsMargins(4, 4, 4, 4)

        self._key_slots: dict[str, Callable[[], object]] = {
            QKeySequence(key).toString(): getattr(self, method)
            for keys, _text, method in _KEYS
            for key in keys
        }
        self._keep_timer = QTimer(self)
        self._keep_timer.setSingleShot(True)
        self._keep_timer.setInterval(_KEEP_DELAY_MS)
        self._keep_timer.timeout.connect(self.keep_tabs)
        context.functions_changed.connect(self._refresh_names)
        self.new_tab()
        self.on_database_changed()

    def _button(self, text: str, tip: str, slot: Callable[[], Any]) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # --- the current tab ----------------------------------------------------------------------------

    @property
    def tab(self) -> SqlTab:
        """The current editor tab (there is always one)."""
        tab = self.tabs.currentWidget()
        assert isinstance(tab, SqlTab)
        return tab

    def editor_tabs(self) -> list[SqlTab]:
        """Every editor tab, in the order shown."""
        return [self._tab_at(index) for index in range(self.tabs.count())]

    def _tab_at(self, index: int) -> SqlTab:
        tab = self.tabs.widget(index)
        assert isinstance(tab, SqlTab)
        return tab

    @property
    def any_running(self) -> bool:
        """True while a run is in progress in any tab."""
        return any(tab.running for tab in self.editor_tabs())

    # --- tabs ---------------------------------------------------------------------------------------

    def new_tab(self, *, select: bool = True) -> SqlTab:
        """Open an empty editor tab."""
        used = {tab.number for tab in self.editor_tabs()}
        number = next(n for n in range(1, len(used) + 2) if n not in used)
        tab = SqlTab(self.context, self._counts, number, self.time_preferences)
        tab.editor.completer.set_names(self._names)
        tab.on_database_changed()
        tab.status_message.connect(self.status_message)
        tab.show_blob_requested.connect(self.show_blob_requested)
        tab.export_blobs_requested.connect(self._export_blobs)
        tab.chart_requested.connect(self._chart)
        tab.title_changed.connect(lambda: self._show_title(tab))
        tab.running_changed.connect(self._update_buttons)
        tab.editor.selectionChanged.connect(self._update_buttons)
        tab.editor.textChanged.connect(self._keep_soon)
        self.tabs.addTab(tab, tab.title())
        self._show_title(tab)
        if select:
            self.tabs.setCurrentWidget(tab)
            tab.editor.setFocus()
        self._keep_soon()
        return tab

    def _show_title(self, tab: SqlTab) -> None:
        index = self.tabs.indexOf(tab)
        if index >= 0:
            self.tabs.setTabText(index, tab.title().replace("&", "&&"))
            self.tabs.setTabToolTip(index, tab.tooltip())
        self._keep_soon()

    def close_current_tab(self) -> None:
        """Close the current tab (asking first when it holds unsaved work)."""
        self.close_tab(self.tab)

    def close_tab(self, tab: SqlTab) -> bool:
        """Close `tab`, stopping its run; unsaved work is asked about (Save / Discard / Cancel).

        A tab without a file asks only when text was typed into it. Returns False when it stays open.
        """
        if tab.worth_asking:
            self.tabs.setCurrentWidget(tab)
            what = f"the changes to {tab.sql_path.name}" if tab.sql_path else f"the SQL in “{tab.label()}”"
            answer = ask_to_save(
                self,
                f"Save {what} before closing the tab?",
                "Discard loses them; the tab is not kept with this database's tabs once closed.",
            )
            if answer == QMessageBox.StandardButton.Cancel:
                return False
            if answer == QMessageBox.StandardButton.Save:
                if tab.sql_path is None:
                    self.choose_save_path(tab, then_close=True)
                    return False
                if not self.save_sql_file(tab.sql_path, tab):
                    return False
        self._drop_tab(tab)
        if not self.tabs.count():
            self.new_tab()
        self._keep_soon()
        return True

    def _drop_tab(self, tab: SqlTab) -> None:
        index = self.tabs.indexOf(tab)
        if index >= 0:
            self.tabs.removeTab(index)
        tab.dispose()

    def _on_current_changed(self, index: int) -> None:
        if index < 0:
            return  # the last tab is being replaced
        self._update_buttons()
        self._keep_soon()

    def _on_tab_double_clicked(self, index: int) -> None:
        if index < 0:
            self.new_tab()  # on the empty part of the tab bar, as browsers do
        else:
            self.ask_tab_name(self._tab_at(index))

    def ask_tab_name(self, tab: SqlTab) -> QInputDialog:
        """Ask a new name for `tab` (non-modal; an empty name goes back to the file's name or "SQL n")."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename tab")
        dialog.setLabelText("Name of this SQL tab:")
        dialog.setTextValue(tab.name or tab.label())
        dialog.textValueSelected.connect(lambda name: self.rename_tab(tab, name))
        self.rename_dialog = dialog
        dialog.open()
        return dialog

    def rename_tab(self, tab: SqlTab, name: str) -> None:
        """Give `tab` the name `name` ("" for its file's name, or "SQL n")."""
        if shiboken6.isValid(tab):
            tab.name = name.strip()
            self._show_title(tab)

    def show_sql(self, text: str) -> SqlTab:
        """Show SQL the window generated (Show SQL, Query in the SQL pane) in a tab of its own.

        The current tab is reused only when it is empty, so nothing typed is ever replaced.
        """
        self.refresh_if_stale()
        tab = self.tab
        if not tab.blank:
            tab = self.new_tab()
        tab.set_file(None, text)
        self.tabs.setCurrentWidget(tab)
        tab.editor.setFocus()
        return tab

    def set_sql(self, text: str) -> None:
        """Replace the current tab's text with `text` (undoable with Ctrl+Z; used by History and Saved)."""
        self.editor.set_sql(text)
        self.editor.setFocus()

    # --- keys ---------------------------------------------------------------------------------------

    def shortcuts(self) -> list[tuple[str, str]]:
        """The pane's keys and what they do."""
        return [(", ".join(keys), text) for keys, text, _method in _KEYS] + [
            ("Ctrl+Space", "Complete a table, column or function name"),
            ("Double-click a tab", "Rename the tab"),
        ]

    def event(self, event: QEvent) -> bool:
        """Take the pane's keys before the window's shortcuts (F5 runs here, Ctrl+W closes a tab)."""
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and _key_text(event) in self._key_slots
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Run the action of one of the pane's keys (those the focused widget did not use)."""
        slot = self._key_slots.get(_key_text(event))
        if slot is None:
            super().keyPressEvent(event)
            return
        event.accept()
        slot()

    # --- running --------------------------------------------------------------------------------------

    def run_all(self) -> Job | None:
        """Run the selection if there is one, else every statement (in the current tab)."""
        return self._start(self.tab, self.tab.all_items())

    def run_current(self) -> Job | None:
        """Run the statement under the cursor."""
        return self._start(self.tab, self.tab.current_items())

    def run_line(self) -> Job | None:
        """Run the statements on the cursor's line."""
        return self._start(self.tab, self.tab.line_items())

    def explain(self) -> Job | None:
        """Show the query plan of the selection or of the statement under the cursor."""
        return self._start(self.tab, self.tab.plan_items())

    def stop(self) -> None:
        """Stop the current tab's run (interrupts SQLite); runs in other tabs go on."""
        self.tab.stop()

    def stop_all(self) -> None:
        """Stop the runs of every tab."""
        for tab in self.editor_tabs():
            tab.stop()

    def _start(self, tab: SqlTab, items: list[RunItem], *, bound: bool = False) -> Job | None:
        if tab.refuse(items):
            return None
        if not bound and any(parameters(item.sql) for item in items):
            self._ask_parameters(tab, items)
            return None
        self.library.remember(tab.ran_text(items), self._database_path())
        return tab.start(items)

    def _ask_parameters(self, tab: SqlTab, items: list[RunItem]) -> ParametersDialog:
        """Open the parameters form (non-modal); Run binds the values and runs `items` in `tab`."""
        keys: list[str] = []
        for item in items:
            keys += [key for key in parameter_keys(parameters(item.sql)) if key not in keys]
        remembered = read_json(self.context.settings, _PARAMETERS_KEY, {})
        dialog = ParametersDialog(self, keys, remembered if isinstance(remembered, dict) else {})

        def run(values: dict[str, str]) -> None:
            self.context.settings.setValue(_PARAMETERS_KEY, json.dumps({**remembered, **values}))
            if not shiboken6.isValid(tab) or self.tabs.indexOf(tab) < 0:
                return  # the tab was closed meanwhile
            bound = [replace(item, params=bind_values(parameters(item.sql), values)) for item in items]
            self._start(tab, bound, bound=True)

        dialog.chosen.connect(run)
        self.parameters_dialog = dialog
        dialog.open()
        return dialog

    def _update_buttons(self) -> None:
        tab = self.tab
        ready = self.context.database is not None and not tab.running
        for button in (self.run_button, self.statement_button, self.explain_button):
            button.setEnabled(ready)
        self.stop_button.setEnabled(tab.running)
        self.run_button.setText("▶ Run selection" if tab.editor.textCursor().hasSelection() else "▶ Run all")

    def _chart(self, sql: str, columns: list[tuple[str, str]], total: int | None, params: Any = ()) -> None:
        title = first_table_name(sql) or "a query"
        open_chart(self.window(), self.context, ChartSource(title, sql, params, columns, total))

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

    # --- database and completion ------------------------------------------------------------------

    def on_database_changed(self) -> None:
        """Stop runs on the old database, drop their results, show this database's tabs, refresh names."""
        for tab in self.editor_tabs():
            tab.on_database_changed()
        self._counts.clear()
        path = self._database_path()
        if path != self._tabs_of:
            self._show_tabs_of(path)
        self._refresh_names()
        self._update_buttons()

    def _show_tabs_of(self, path: str | None) -> None:
        """Keep the shown tabs for their database and show those kept for the database at `path`."""
        self._keep_timer.stop()
        first = self._tabs_of is None
        if not first:
            self.keep_tabs()
        self._tabs_of = path
        # Tabs with work in them opened before the first database (a `--sql` file) stay, after the kept ones.
        staying = [t for t in self.editor_tabs() if first and not t.blank]
        for tab in self.editor_tabs():
            if tab not in staying:
                self._drop_tab(tab)
        kept, current = kept_tabs(self.context.settings, path) if path is not None else ([], 0)
        open_files = {str(t.sql_path) for t in staying if t.sql_path is not None}
        restored = [
            self._restore_tab(entry) for entry in kept if entry.path is None or entry.path not in open_files
        ]
        for tab in staying:  # after the restored ones
            self.tabs.tabBar().moveTab(self.tabs.indexOf(tab), self.tabs.count() - 1)
        if not self.tabs.count():
            self.new_tab()
        elif staying:
            self.tabs.setCurrentWidget(staying[-1])
        elif restored:
            self.tabs.setCurrentWidget(restored[current])

    def _restore_tab(self, entry: KeptTab) -> SqlTab:
        tab = self.new_tab(select=False)
        tab.name = entry.name
        if entry.path is None:
            tab.editor.setPlainText(entry.text)  # typed by the user: unsaved against no file
        else:
            try:
                tab.set_file(Path(entry.path), read_sql_file(entry.path))
            except UserError as error:
                tab.name = entry.name or Path(entry.path).name
                tab.editor.setPlainText(entry.text)
                tab.run_label.setText(f"{error.message} Showing its text as last opened or saved here.")
        self._show_title(tab)
        return tab

    def keep_tabs(self) -> None:
        """Write the open tabs of the shown database to the settings (names, files, texts)."""
        self._keep_timer.stop()
        if self._tabs_of is None:
            return
        shown = [t for t in self.editor_tabs() if not t.blank]  # a blank tab is not worth bringing back
        kept = [
            KeptTab(t.name, str(t.sql_path), t.saved_text)
            if t.sql_path
            else KeptTab(t.name, None, t.editor.sql())
            for t in shown
        ]
        current = shown.index(self.tab) if self.tab in shown else 0
        keep_tabs(self.context.settings, self._tabs_of, kept, current)

    def _keep_soon(self) -> None:
        self._keep_timer.start()

    def confirm_close(self) -> bool:
        """Ask once about every tab whose `.sql` file has unsaved changes (Save all / Discard / Cancel).

        Tabs without a file are not asked about: they are kept with the database's tabs and come back.
        """
        changed = [tab for tab in self.editor_tabs() if tab.sql_path is not None and tab.modified]
        if changed:
            names = ", ".join(tab.sql_path.name for tab in changed if tab.sql_path is not None)
            answer = ask_to_save(
                self,
                f"Save the changes to {len(changed)} SQL file{'s' if len(changed) > 1 else ''}?",
                f"{names}. Discard keeps the files as they are on disk.",
            )
            if answer == QMessageBox.StandardButton.Cancel:
                return False
            if answer == QMessageBox.StandardButton.Save:
                for tab in changed:
                    if tab.sql_path is not None and not self.save_sql_file(tab.sql_path, tab):
                        return False
        self.keep_tabs()
        return True

    def _refresh_names(self) -> None:
        names = CompletionNames()
        catalog = self.context.catalog
        if catalog is not None:
            for table in catalog.visible_tables(include_hidden=True):
                names.tables[table.name] = [(c.name, c.declared_type) for c in table.columns]
        self._names = names
        for tab in self.editor_tabs():
            tab.editor.completer.set_names(names)
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
        for tab in self.editor_tabs():
            await tab.wait_idle(timeout)

    # --- .sql files ---------------------------------------------------------------------------------

    def open_sql_file(self, path: str | Path) -> bool:
        """Open the `.sql` file at `path` in a tab: the one showing it already, the current one when it is
        empty, else a new one (an error is shown, and False returned)."""
        absolute = Path(path).absolute()
        shown = next((tab for tab in self.editor_tabs() if tab.sql_path == absolute), None)
        if shown is not None:
            self.tabs.setCurrentWidget(shown)
            return True
        try:
            text = read_sql_file(path)
        except UserError as exc:
            show_user_error(self, "Cannot open the SQL file", exc)
            return False
        tab = self.tab
        if not tab.blank:
            tab = self.new_tab()
        tab.set_file(absolute, text)
        self.tabs.setCurrentWidget(tab)
        self._remember_recent(absolute)
        self.status_message.emit(f"Opened {absolute}.")
        return True

    def save_sql_file(self, path: str | Path, tab: SqlTab | None = None) -> bool:
        """Save the text of `tab` (the current one by default) to `path` (never over the database being
        read); False when it failed."""
        tab = tab or self.tab
        text = tab.editor.sql()
        database = self.context.database
        try:
            save_sql_file(path, text, source_path=database.snapshot.path if database is not None else None)
        except UserError as exc:
            show_user_error(self, "Cannot save the SQL file", exc)
            return False
        tab.set_file(Path(path).absolute(), text)
        self._remember_recent(Path(path).absolute())
        self.status_message.emit(f"Saved {Path(path).absolute()}.")
        return True

    def save(self) -> None:
        """Save to the current tab's `.sql` file, or ask where the first time."""
        if self.tab.sql_path is None:
            self.choose_save_path()
        else:
            self.save_sql_file(self.tab.sql_path)

    def choose_sql_file(self) -> QFileDialog:
        """Pick a `.sql` file to open (non-modal)."""
        path = self.tab.sql_path
        folder = str(path.parent) if path else read_str(self.context.settings, _SQL_FOLDER_KEY)
        dialog = QFileDialog(self, "Open a SQL file", folder, _SQL_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self._remember_folder_and(self.open_sql_file))
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def choose_save_path(self, tab: SqlTab | None = None, *, then_close: bool = False) -> QFileDialog:
        """Pick where to save a tab's text (non-modal; asks before replacing a file); `then_close` closes
        the tab once saved."""
        tab = tab or self.tab
        start = str(tab.sql_path) if tab.sql_path else read_str(self.context.settings, _SQL_FOLDER_KEY)
        dialog = save_file_dialog(self, "Save the SQL", start, _SQL_FILTER)
        dialog.setDefaultSuffix("sql")

        def save(path: str) -> None:
            if shiboken6.isValid(tab) and self.save_sql_file(path, tab) and then_close:
                self.close_tab(tab)

        dialog.fileSelected.connect(self._remember_folder_and(save))
        self.file_dialog = dialog
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

    # --- state ------------------------------------------------------------------------------------

    def save_state(self) -> dict[str, Any]:
        """Each tab's text, cursor, selection and scroll position, and which tab is current."""
        return {"tabs": [tab.save_state() for tab in self.editor_tabs()], "current": self.tabs.currentIndex()}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back what `save_state` returned (the tabs themselves stay open across a reload)."""
        for tab, tab_state in zip(self.editor_tabs(), state.get("tabs", []), strict=False):
            tab.restore_state(tab_state)
        current = state.get("current", -1)
        if isinstance(current, int) and 0 <= current < self.tabs.count():
            self.tabs.setCurrentIndex(current)
