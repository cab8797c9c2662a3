"""The main window: a thin shell that composes the panes, the schema tree, menus and the status bar.

Panes never talk to each other; cross-pane requests (open a row in Browse, show a blob) arrive here
as signals and are routed. A second database opens in a new window, so a window shows one file.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QSettings, Qt, QUrl
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from desktop_app.core.errors import UserError
from desktop_app.core.export.csv_file import table_export_sql
from desktop_app.core.logs import log_directory
from desktop_app.core.schema.visible_names import visible_name
from desktop_app.core.snapshot.encrypted import CipherKey
from desktop_app.core.wal.history import WalHistory, read_wal_history
from desktop_app.ui.context import AppContext
from desktop_app.ui.export_actions import start_export
from desktop_app.ui.job_center import Job
from desktop_app.ui.pane_registry import Panes, create_panes
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.changes.sides import Side
from desktop_app.ui.session import DatabaseSession
from desktop_app.ui.settings import read_str, read_str_list
from desktop_app.ui.shell.about_dialog import AboutDialog
from desktop_app.ui.shell.attach_dialog import AttachDialog
from desktop_app.ui.shell.banner import Banner
from desktop_app.ui.shell.job_status import JobStatus
from desktop_app.ui.shell.number_menu import add_number_options
from desktop_app.ui.shell.schema_tree import SchemaTree
from desktop_app.ui.shell.shortcuts_dialog import ShortcutsDialog, menu_shortcuts
from desktop_app.ui.shell.start_page import StartPage
from desktop_app.ui.shell.wal_dialog import WalHistoryDialog
from desktop_app.ui.shell.window_state import (
    Place,
    place_key,
    recall_place,
    remember_place,
    restore_window,
    save_window,
    splitters_of,
)
from desktop_app.ui.theme import THEME_KEY, ThemeChoice, apply_theme, current_choice
from desktop_app.ui.widgets.error_dialog import show_unexpected, show_user_error
from desktop_app.ui.widgets.layout import splitter, vbox
from desktop_app.ui.widgets.open_dialogs import ask_how_to_open

APP_TITLE = "SQLite Snapshot Browser"
#: File → Open's filters. "All files" is chosen by default: SQLite files often have no extension or one
#: of their program's own (.anki2, .localstorage, .sqlitedb…), and the format is told by content anyway.
FILE_FILTERS = (
    "SQLite databases (*.db *.sqlite *.sqlite3 *.db3 *.s3db *.sl3 *.anki2 *.anki21 *.gpkg *.mbtiles "
    "*.localstorage *.sqlitedb *.cblite2 *.kexi)",
    "Encrypted (*.db *.sqlite *.sqlcipher *.enc *.cipher)",
    "Archives (*.gz *.bz2 *.xz *.zst *.zip *.tar *.tgz *.tbz2 *.txz *.apkg *.colpkg)",
    "All files (*)",
)
FILE_FILTER = ";;".join(FILE_FILTERS)
DEFAULT_FILE_FILTER = FILE_FILTERS[-1]
RECENT_KEY = "recent_files"
MAX_RECENT = 12

#: Every open window, so a second file can open beside the first and windows outlive their opener.
WINDOWS: list[MainWindow] = []


class MainWindow(QMainWindow):
    """One window showing one database (or the start page)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.context = AppContext(self.settings, self)
        self._detaching: set[asyncio.Future[None]] = set()
        self.session = DatabaseSession(self.context, self)
        self.setAcceptDrops(True)
        self.resize(1200, 780)

        self.start_page = StartPage()
        self.schema_tree = SchemaTree()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.panes: Panes = create_panes(self.context)
        for pane in self.panes.values():
            self.tabs.addTab(pane, pane.title)
            pane.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
            pane.open_row_requested.connect(self.open_row)
            pane.show_blob_requested.connect(self.show_blob)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_page)
        self.main_splitter = splitter(self.schema_tree, (self.tabs, 1), sizes=[280, 920])
        self.stack.addWidget(self.main_splitter)
        central = QWidget()
        vbox((self.stack, 1), margins=0, parent=central).setSpacing(0)
        self.setCentralWidget(central)
        self.banner = Banner(central)  # floats over the content: showing it moves nothing

        self.mode_label = QLabel()
        self.statusBar().addPermanentWidget(JobStatus(self.context.jobs))
        self.statusBar().addPermanentWidget(self.mode_label)
        self._build_menus()
        self._connect()
        self._saved_state: dict[str, Any] | None = None
        #: The catalog the schema tree shows while the quick view gives way (same schema: not rebuilt).
        self._tree_catalog: Any = None
        self._start_table: str | None = None  # asked for on the command line, shown once the file is open
        self._opening_path: Path | None = None  # the file last asked to open (asked again for its key)
        #: The passphrase or member dialog shown while opening, if any (tests reach it here).
        self.open_dialog: QDialog | None = None
        self._opening_member: str | None = None  # the database chosen inside an archive being opened
        self._opening_key: CipherKey | None = None  # the key tried last (memory only; its settings kept)
        #: The WAL history dialog last shown (tests reach it here).
        self.wal_dialog: WalHistoryDialog | None = None
        self._refresh_recent()
        self._update_title()
        # A second window opens where the first would, a little down and right of it.
        if restore_window(self.settings, self, self._splitters()) and WINDOWS:
            self.move(WINDOWS[-1].pos() + QPoint(32, 32))
        WINDOWS.append(self)

    # ----- set-up -----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(file_menu, "&Open…", self.choose_file, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._action(file_menu, "Open &demo database", self.open_demo)
        file_menu.addSeparator()
        # Not F5: the SQL pane runs with F5, as DB Browser for SQLite does. Ctrl+W is its "close tab".
        self.reload_action = self._action(file_menu, "&Reload snapshot", self.reload, QKeySequence("Ctrl+R"))
        self.attach_action = self._action(
            file_menu, "&Attach database…", self.choose_attachment, QKeySequence("Ctrl+Shift+A")
        )
        self.wal_action = self._action(file_menu, "&WAL history…", self.show_wal_history)
        self.export_menu = file_menu.addMenu("&Export")
        self._action(
            self.export_menu, "&Browsed table as…", self.export_browsed_table, QKeySequence("Ctrl+Shift+E")
        )
        self._action(self.export_menu, "Recovery &report…", self.panes.recovery.choose_report)
        self.close_action = self._action(file_menu, "&Close", self.close_database)
        self.close_action.setShortcuts([QKeySequence("Ctrl+Shift+W"), QKeySequence("Ctrl+F4")])
        file_menu.addSeparator()
        self.stop_action = self._action(file_menu, "&Stop running job", self.stop_focused_job)
        self.stop_action.setShortcuts([QKeySequence("Escape"), QKeySequence("Ctrl+.")])
        self.stop_action.setToolTip("Stop the job of the pane you are in (Esc or Ctrl+.)")
        self.stop_action.setEnabled(False)  # while nothing runs, Esc stays with the widget that has focus
        file_menu.addSeparator()
        # StandardKey.Quit is empty on Windows and on some Linux desktops: one key everywhere.
        self._action(file_menu, "&Quit", self._quit, QKeySequence("Ctrl+Q"))
        view_menu = self.menuBar().addMenu("&View")
        for index, pane in enumerate(self.panes.values(), start=1):
            self._action(
                view_menu, pane.title, lambda p=pane: self.show_pane(p), QKeySequence(f"Ctrl+{index}")
            )
        self._action(
            view_menu,
            "Search everything",
            lambda: self.show_pane(self.panes.search),
            QKeySequence("Ctrl+Shift+F"),
        )
        view_menu.addSeparator()
        self.theme_actions = self._theme_menu(view_menu.addMenu("&Theme"))
        self.number_actions = add_number_options(view_menu, self.settings)
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, QKeySequence("F1"))
        self._action(help_menu, "Open log folder", self._open_log_folder)
        self._action(help_menu, f"About {APP_TITLE}", self.show_about)

    def _theme_menu(self, menu: QMenu) -> dict[ThemeChoice, QAction]:
        """View → Theme: System / Light / Dark, one checked; the choice is remembered."""
        group = QActionGroup(self)
        actions: dict[ThemeChoice, QAction] = {}
        labels = {ThemeChoice.SYSTEM: "&System", ThemeChoice.LIGHT: "&Light", ThemeChoice.DARK: "&Dark"}
        for choice, label in labels.items():
            action = self._action(menu, label, lambda c=choice: self.choose_theme(c))
            action.setCheckable(True)
            action.setChecked(choice is current_choice())
            group.addAction(action)
            actions[choice] = action
        return actions

    def choose_theme(self, choice: ThemeChoice) -> None:
        """Use `choice` in every window from now on, and next time the program starts."""
        self.settings.setValue(THEME_KEY, choice.value)
        apply_theme(choice)
        for window in WINDOWS:
            window.theme_actions[choice].setChecked(True)

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _connect(self) -> None:
        self.start_page.browse_requested.connect(self.choose_file)
        self.start_page.open_requested.connect(self.open_path)
        self.start_page.demo_requested.connect(self.open_demo)
        self.start_page.forget_requested.connect(self._forget_recent)
        self.schema_tree.browse_requested.connect(self.browse_table)
        self.schema_tree.show_sql_requested.connect(self.show_sql)
        self.schema_tree.export_requested.connect(self.export_table)
        self.schema_tree.export_attached_requested.connect(
            lambda schema, name: self.export_table(name, schema)
        )
        self.schema_tree.detach_requested.connect(self.detach_database)
        self.session.attached_changed.connect(self._show_attached)
        self.session.opened.connect(self._on_opened)
        self.session.switching.connect(self._save_places)
        self.session.loading_changed.connect(self._on_loading_changed)
        self.session.open_failed.connect(self._on_open_failed)
        self.session.closed.connect(self._on_closed)
        self.session.source_changed.connect(self._on_source_changed)
        self.panes.changes.reload_requested.connect(self._watch_reload)
        self.session.row_count.connect(self.schema_tree.set_row_count)
        self.context.jobs.job_started.connect(lambda _job: self._update_stop_action())
        self.context.jobs.job_ended.connect(lambda _job: self._update_stop_action())
        self.context.jobs.unexpected_error.connect(lambda message, path: show_unexpected(self, message, path))

    # ----- opening ---------------------------------------------------------------------------------
    def choose_file(self) -> None:
        """Ask for a file (non-blocking dialog) and open it."""
        dialog = QFileDialog(self, "Open SQLite database", self._last_folder(), FILE_FILTER)
        dialog.selectNameFilter(DEFAULT_FILE_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.open_path)
        dialog.open()

    def open_path(self, path: str | Path, table: str | None = None) -> None:
        """Open `path` here, or in a new window when this one already shows a database; then show `table`
        in Browse when given. A file already open (or opening) in a window brings that window forward."""
        shown = window_showing(Path(path))
        if shown is not None:
            shown.bring_forward(table)
            return
        if self.session.snapshot is not None or self.session.busy:
            other = MainWindow(self.settings)
            other.show()
            other.open_path(path, table)
            return
        self._start_table = table
        self._open_here(Path(path))

    def bring_forward(self, table: str | None = None) -> None:
        """Raise this window (asked to open the file it already shows), showing `table` when given."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()
        name = self.session.path.name if self.session.path is not None else "This file"
        self.statusBar().showMessage(f"“{name}” is already open in this window.", 5000)
        if table is not None and self.session.snapshot is not None and not self.session.busy:
            self.browse_table(table)

    def _open_here(self, path: Path, member: str | None = None, key: CipherKey | None = None) -> None:
        self._opening_path, self._opening_member, self._opening_key = path, member, key
        self.statusBar().showMessage(f"Opening {member or path.name}…")
        self.session.open(path, member=member, key=key)

    def open_demo(self, table: str | None = None) -> None:
        """Build the demo database on first use (a job with progress) and open it at `table` (by default
        its big `events` table)."""
        from desktop_app.core.demo.database import DEMO_START_TABLE, ensure_demo_database

        async def work(job: Any) -> Path:
            return await asyncio.to_thread(
                ensure_demo_database, progress=job.progress_callback(), cancel=job.cancel_token
            )

        self.context.jobs.start(
            "Preparing the demo database",
            work,
            on_done=lambda path: self.open_path(path, table or DEMO_START_TABLE),
            on_error=lambda error: show_user_error(self, "Demo database", error),
        )

    def reload(self) -> None:
        """Take a new snapshot of the file, keeping each pane's place."""
        if self.session.snapshot is None:
            return
        self.banner.hide()
        self._saved_state = {name: pane.save_state() for name, pane in self.panes.items()}
        self.session.reload()

    def _watch_reload(self) -> None:
        """Watch mode saw the file change: a new generation, unless one is being taken already."""
        if not self.session.busy:
            self.reload()

    def _save_places(self) -> None:
        """The quick view is about to give way to the memory snapshot: keep every pane's place."""
        if self._saved_state is None:
            self._saved_state = {name: pane.save_state() for name, pane in self.panes.items()}
        self._tree_catalog = self.context.catalog

    def _on_loading_changed(self) -> None:
        self._update_mode_label()
        stopped = self.session.copy_stopped
        if stopped and self.session.snapshot is not None:
            self.statusBar().showMessage(
                f"Staying in direct read-only mode: {stopped}. Everything works; scans and searches "
                "read the file and are slower than in memory.",
                10000,
            )

    def _update_mode_label(self) -> None:
        """Mode · size · when it was taken (and what is still loading), with why in the tooltip."""
        snapshot, session = self.session.snapshot, self.session
        if snapshot is None:
            self.mode_label.clear()
            self.mode_label.setToolTip("")
            return
        when = time.strftime("%H:%M", time.localtime(snapshot.taken_at))
        taken = "reloaded" if session.reloaded else "opened"
        if snapshot.wal_commit is not None:  # not the file now: the -wal as read at `when`
            taken = "read"
        parts = [f"as of WAL commit {snapshot.wal_commit}"] if snapshot.wal_commit is not None else []
        parts += [snapshot.mode.value, f"{snapshot.size_bytes / 2**20:,.1f} MB", f"{taken} {when}"]
        tips = [f"{snapshot.mode.value.capitalize()} — {snapshot.mode_reason}."]
        if session.loading:
            parts.append(f"{session.loading.lower()}…")
            tips.append("The view moves to the memory snapshot when the copy is done; your place is kept.")
        elif session.copy_stopped:
            parts.append("copy stopped")
            tips.append(f"Staying direct: {session.copy_stopped}.")
        if snapshot.mode.direct:
            tips.append(
                "Reads go to the file itself (read-only; nothing is written beside it). Scans, counts and "
                "searches are slower than in memory."
            )
        tips.extend(note for note in snapshot.notes if note not in tips)
        self.mode_label.setText(" · ".join(parts))
        self.mode_label.setToolTip("\n".join(tips))

    def close_database(self) -> None:
        """Close the database and show the start page (once the panes agree: unsaved work is asked about)."""
        if self.confirm_panes_close():
            self._remember_place()
            self.session.close()

    def confirm_panes_close(self) -> bool:
        """Ask each pane about unsaved work before closing; False when one says to keep it open."""
        return all(pane.confirm_close() for pane in self.panes.values())

    def _splitters(self) -> dict[str, QSplitter]:
        found = {"window/0": self.main_splitter}
        for name, pane in self.panes.items():
            found.update(splitters_of(name, pane))
        return found

    def _place_key(self) -> str | None:
        snapshot = self.session.snapshot
        return None if snapshot is None else place_key(str(snapshot.path), snapshot.member)

    def _remember_place(self) -> None:
        """Keep the pane in front and Browse's table for this database, for when it opens again."""
        key = self._place_key()
        if key is None:
            return
        shown = self.tabs.currentWidget()
        current = next((name for name, pane in self.panes.items() if pane is shown), "browse")
        table = self.panes.browse.table
        remember_place(self.settings, key, Place(current, table.name if table is not None else None))

    def _restore_place(self) -> bool:
        """Show the pane and table this database was left at; False when none is known (or it is gone)."""
        key, catalog = self._place_key(), self.context.catalog
        place = recall_place(self.settings, key) if key is not None else None
        if place is None or catalog is None:
            return False
        if place.table is not None and catalog.table(place.table) is not None:
            self.panes.browse.show_table(place.table)
        elif place.table is not None:
            return False
        self.show_pane(self.panes.get(place.pane, self.panes.browse))
        return True

    def browse_table(self, name: str) -> None:
        """Show `name` in the Browse pane."""
        self.panes.browse.show_table(name)
        self.show_pane(self.panes.browse)

    def open_row(self, table: str, key: dict[str, Any]) -> None:
        """Show one row of `table` in Browse, selected (from a search hit, a blob...); an empty key
        opens the table at its first row (a table clicked in the diagram)."""
        browse = self.panes.browse
        if key:
            browse.show_row(table, key)
        else:
            browse.show_table(table)
        self.show_pane(browse)

    def show_blob(self, table: str, column: str, key: dict[str, Any], value: object) -> None:
        """Show a cell in the Blobs pane."""
        self.panes.blobs.show_cell(table, column, key, value)
        self.show_pane(self.panes.blobs)

    def show_sql(self, sql: str) -> None:
        """Show `sql` in a tab of the SQL pane (what was typed there stays)."""
        self.panes.sql.show_sql(sql)
        self.show_pane(self.panes.sql)

    def export_table(self, name: str, schema: str = "main") -> None:
        """Export every row of a table or view (export dialog, then a job)."""
        if self.context.database is None:
            return
        start_export(self, self.context, table_export_sql(name, schema), name)

    def choose_attachment(self) -> AttachDialog | None:
        """File → Attach: pick another database and the name to use it by in SQL (non-modal)."""
        if self.context.database is None:
            self.statusBar().showMessage("Open a database first, then attach others beside it.", 5000)
            return None
        dialog = AttachDialog(self, self.context.attachments.names, read_str(self.settings, "attach/folder"))
        dialog.attach_requested.connect(self.attach_database)
        dialog.open()
        return dialog

    def attach_database(
        self, schema: str, path: str, member: str | None = None, key: CipherKey | None = None
    ) -> Job | None:
        """Snapshot `path` and attach it as `schema` (a job); the tree shows it when done. An encrypted
        or packed file asks for its passphrase or member as File → Open does."""
        self.settings.setValue("attach/folder", str(Path(path).absolute().parent))

        def failed(error: UserError) -> None:
            dialog = ask_how_to_open(
                self,
                Path(path).name,
                error,
                lambda chosen, given: self.attach_database(schema, path, chosen, given),
                member=member,
                key=key,
            )
            if dialog is not None:
                self.open_dialog = dialog
            elif getattr(error, "message", "") != "Stopped.":
                show_user_error(self, "Attach failed", error)

        return self.session.attach(schema, path, on_error=failed, member=member, key=key)

    def detach_database(self, schema: str) -> None:
        """Forget the database attached as `schema`."""
        task = asyncio.ensure_future(self.session.detach(schema))
        self._detaching.add(task)
        task.add_done_callback(self._detaching.discard)

    def _show_attached(self) -> None:
        attached = [
            (attached.schema, attached.snapshot.path.name, self.session.attached_catalogs[attached.schema])
            for attached in self.context.attachments
            if attached.schema in self.session.attached_catalogs
        ]
        self.schema_tree.set_attached(attached)
        self.statusBar().showMessage(
            "Attached: " + ", ".join(f"{s} ({f})" for s, f, _c in attached)
            if attached
            else "No database attached.",
            8000,
        )

    def show_wal_history(self) -> WalHistoryDialog | None:
        """File → WAL history: the commits the file's `-wal` holds (read as a job), each openable."""
        snapshot = self.session.snapshot
        if snapshot is None:
            self.statusBar().showMessage("Open a database first.", 5000)
            return None
        dialog = WalHistoryDialog(snapshot.path.name, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open_requested.connect(lambda n: self.open_as_of_commit(n, dialog.history))
        dialog.compare_requested.connect(lambda n: self.compare_with_commit(n, dialog.history))
        dialog.finished.connect(lambda _result: self._forget_wal_dialog(dialog))
        path = snapshot.path

        async def work(job: Job) -> WalHistory:
            return await asyncio.to_thread(
                read_wal_history, path, progress=job.progress_callback(), cancel=job.cancel_token
            )

        self.context.jobs.start(
            f"Reading the -wal of {path.name}",
            work,
            on_done=dialog.set_history,
            on_error=lambda error: dialog.show_error(error.message),
        )
        self.wal_dialog = dialog
        dialog.show()
        return dialog

    def _forget_wal_dialog(self, dialog: WalHistoryDialog) -> None:
        """The dialog closed: let go of the file and -wal bytes its listing holds."""
        dialog.history = None
        if self.wal_dialog is dialog:
            self.wal_dialog = None

    def _history_of_shown_file(self, history: WalHistory | None) -> WalHistory | None:
        """`history` when it is of the file shown now (else the commit is read again from that file)."""
        shown = self.session.snapshot
        return history if history is not None and shown is not None and history.path == shown.path else None

    def open_as_of_commit(self, number: int, history: WalHistory | None = None) -> Job | None:
        """Show the database as of WAL commit `number` in this window (the current generation is kept for
        the Changes pane)."""
        history = self._history_of_shown_file(history)
        self._saved_state = {name: pane.save_state() for name, pane in self.panes.items()}
        self.statusBar().showMessage(f"Opening as of WAL commit {number}…")
        return self.session.open_as_of_commit(number, history)

    def compare_with_commit(self, number: int, history: WalHistory | None = None) -> Job | None:
        """Open the Changes pane on WAL commit `number` → the database now."""
        history = self._history_of_shown_file(history)
        shown = self.session.snapshot
        now = Side("disk") if shown is not None and shown.wal_commit is not None else Side("current")

        def kept(generation: int) -> None:
            changes = self.panes.changes
            before = Side("generation", generation)
            changes.choose(changes.side_a, before)
            changes.choose(changes.side_b, now)
            self.show_pane(changes)
            changes.compare(before, now)

        return self.session.keep_as_of_commit(
            number, history, kept, lambda error: show_user_error(self, "WAL history", error)
        )

    def export_browsed_table(self) -> None:
        """Export exactly what Browse shows: its filters, its sort and its visible columns."""
        shown = self.panes.browse.shown_rows()
        if shown is None or self.context.database is None:
            self.statusBar().showMessage("Open a table in Browse first.", 5000)
            return
        description = (
            f"{shown.table} as Browse shows it (filters and sort)" if shown.narrowed else shown.table
        )
        start_export(
            self,
            self.context,
            shown.sql,
            shown.table,
            params=shown.params,
            total_rows=shown.total,
            description=description,
        )

    def focused_pane(self) -> Pane | None:
        """The pane holding the keyboard focus, else the pane in front (None on the start page)."""
        focus = QApplication.focusWidget()
        for pane in self.panes.values():
            if focus is not None and (focus is pane or pane.isAncestorOf(focus)):
                return pane
        current = self.tabs.currentWidget()
        return current if isinstance(current, Pane) and self.stack.currentIndex() == 1 else None

    def _stoppable(self, pane: Pane | None) -> list[Job]:
        """The jobs Esc stops in `pane`: its own, else the window's own ones the status bar shows."""
        jobs = self.context.jobs
        own = jobs.owned_by(pane) if pane is not None else []
        return own or [job for job in jobs.owned_by(None) if job.shown]

    def _update_stop_action(self) -> None:
        running = self.context.jobs.jobs.values()
        self.stop_action.setEnabled(any(job.owner is not None or job.shown for job in running))

    def stop_focused_job(self) -> list[Job]:
        """Esc / Ctrl+.: stop the running jobs of the pane you are in (or the window's own, such as opening
        a file or an export); returns the jobs stopped."""
        pane = self.focused_pane()
        stopped = self._stoppable(pane)
        for job in stopped:
            job.cancel()
        if stopped:
            labels = ", ".join(job.label.lower() for job in stopped)
            self.statusBar().showMessage(f"Stopping {labels}…", 4000)
        return stopped

    def show_pane(self, pane: Pane) -> None:
        """Bring `pane` to the front."""
        self.tabs.setCurrentWidget(pane)

    # ----- session events --------------------------------------------------------------------------
    def _on_opened(self) -> None:
        snapshot = self.session.snapshot
        assert snapshot is not None
        kept, self._tree_catalog = self._tree_catalog, None
        if kept is None or kept != self.context.catalog:  # the same schema keeps its tree as the user left it
            self.schema_tree.set_catalog(self.context.catalog)
        self.stack.setCurrentIndex(1)
        self._remember(str(snapshot.path))
        self._update_title()
        self._update_mode_label()
        if self.session.loading:
            message = f"Showing {snapshot.path.name} from the file while it is copied into memory"
        else:
            as_of = f" as of WAL commit {snapshot.wal_commit}" if snapshot.wal_commit is not None else ""
            message = f"Opened {snapshot.path.name}{as_of} in {snapshot.elapsed_s * 1000:,.0f} ms"
        self.statusBar().showMessage(message, 8000)
        if self.session.loading:
            pass  # a quick view: the memory snapshot follows in moments, no banner for it
        elif snapshot.mode.direct:
            self.banner.show_message(
                " ".join(snapshot.notes) + " Reads go to the file itself (read-only); scans, counts and "
                "searches are slower than in memory."
            )
        elif snapshot.schema_trusted:
            self.banner.show_message(" ".join(snapshot.notes))
        if self._saved_state is not None:
            saved, self._saved_state = self._saved_state, None
            for name, state in saved.items():
                if name in self.panes:
                    self.panes[name].refresher.restore_state(state)  # a stale pane: once shown
        elif self.context.catalog is not None:
            asked, self._start_table = self._start_table, None
            tables = self.context.catalog.visible_tables()
            if asked is not None:
                # SQLite's names ignore ASCII case: `-t track` finds "Track".
                found = self.context.catalog.table(asked) or next(
                    (t for t in tables if t.name.lower() == asked.lower()), None
                )
                if found is not None:
                    self.browse_table(found.name)
                    return
            if asked is not None:
                names = ", ".join(visible_name(t.name) for t in tables[:20]) or "none"
                more = f" and {len(tables) - 20} more" if len(tables) > 20 else ""
                show_user_error(
                    self,
                    "No such table",
                    UserError(
                        f"“{snapshot.path.name}” has no table or view “{visible_name(asked)}”. "
                        f"Its tables: {names}{more}."
                    ),
                )
            if asked is None and self._restore_place():
                return
            # Start on an ordinary table with a plain name: "" or a broken view is a poor first view.
            first = next((t for t in tables if t.name.strip() and not t.error), tables[0] if tables else None)
            if first is not None:
                self.browse_table(first.name)

    def _on_open_failed(self, error: UserError) -> None:
        self.statusBar().showMessage(error.message, 10000)
        self._saved_state = None
        path = self._opening_path
        if path is not None:
            # An encrypted file asks for its key (again after a wrong one), an archive which database.
            dialog = ask_how_to_open(
                self,
                path.name,
                error,
                lambda member, key: self._open_here(path, member, key),
                member=self._opening_member,
                key=self._opening_key,
            )
            self._opening_key = None
            if dialog is not None:
                self.open_dialog = dialog
                return
        if getattr(error, "message", "") != "Stopped.":
            show_user_error(self, "Cannot open the database", error)

    def _on_closed(self) -> None:
        if self.wal_dialog is not None:
            self.wal_dialog.close()
        self.schema_tree.set_catalog(None)
        self.banner.hide()
        self.stack.setCurrentIndex(0)
        self._update_mode_label()
        self._refresh_recent()
        self._update_title()

    def _on_source_changed(self, message: str) -> None:
        if self.panes.changes.watching:  # watch mode takes the new snapshot itself: no banner
            self.panes.changes.on_source_changed()
            return
        actions = [("Reload", self.reload)] if self.session.path and self.session.path.exists() else []
        self.banner.show_message(message, actions)

    def _update_title(self) -> None:
        snapshot = self.session.snapshot
        if snapshot is None:
            self.setWindowTitle(APP_TITLE)
        else:
            name = f"{snapshot.member} in {snapshot.path.name}" if snapshot.member else snapshot.path.name
            as_of = f" — as of WAL commit {snapshot.wal_commit}" if snapshot.wal_commit is not None else ""
            self.setWindowTitle(f"{name}{as_of} — {snapshot.mode.value} — {APP_TITLE}")
        self.reload_action.setEnabled(snapshot is not None)
        self.close_action.setEnabled(snapshot is not None)
        self.export_menu.setEnabled(snapshot is not None)
        self.wal_action.setEnabled(
            snapshot is not None and snapshot.member is None and not snapshot.encrypted
        )

    # ----- recent files ----------------------------------------------------------------------------
    def _recent(self) -> list[str]:
        return read_str_list(self.settings, RECENT_KEY)

    def _remember(self, path: str) -> None:
        recent = [path] + [p for p in self._recent() if p != path]
        self.settings.setValue(RECENT_KEY, recent[:MAX_RECENT])
        for window in WINDOWS:  # every window's Open Recent menu lists it
            window._refresh_recent()

    def _forget_recent(self, path: str) -> None:
        self.settings.setValue(RECENT_KEY, [p for p in self._recent() if p != path])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        recent = self._recent()
        self.start_page.set_recent(recent)
        self.recent_menu.clear()
        for path in recent:
            action = self.recent_menu.addAction(path)
            if not Path(path).exists():
                action.setText(f"{path} (missing)")
                action.setEnabled(False)
            action.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear list")
        clear.triggered.connect(lambda: (self.settings.setValue(RECENT_KEY, []), self._refresh_recent()))

    def _last_folder(self) -> str:
        recent = self._recent()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    # ----- window events ---------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept a dragged local file."""
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open the dropped file(s)."""
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(url.toLocalFile())
        event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember where the user was, stop jobs and free the snapshot (once the panes agree about unsaved
        work); the loop finishes the clean-up."""
        if not self.confirm_panes_close():
            event.ignore()
            return
        self._remember_place()
        save_window(self.settings, self, self._splitters())
        self.context.jobs.cancel_all()
        if self in WINDOWS:
            WINDOWS.remove(self)
        pending = asyncio.ensure_future(self.session.shutdown())
        _CLOSING.add(pending)
        pending.add_done_callback(_CLOSING.discard)
        event.accept()

    def _quit(self) -> None:
        for window in list(WINDOWS):
            window.close()

    def _open_log_folder(self) -> None:
        folder = log_directory()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def show_shortcuts(self) -> ShortcutsDialog:
        """Help → Keyboard shortcuts: every key of the menus and of each pane (non-modal)."""
        panes = [(pane.title, pane.shortcuts()) for pane in self.panes.values()]
        dialog = ShortcutsDialog(menu_shortcuts(self.menuBar()), panes, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_about(self) -> AboutDialog:
        """Help → About: versions, and Copy diagnostics for bug reports (non-modal)."""
        dialog = AboutDialog(APP_TITLE, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog


def _same_file(a: Path, b: Path) -> bool:
    """True when `a` and `b` name the same file (symbolic links, `..` and hard links resolved)."""
    try:
        return a.resolve() == b.resolve() or os.path.samefile(a, b)
    except OSError:
        return False


def window_showing(path: Path) -> MainWindow | None:
    """The open window showing (or opening) the file at `path`, if any."""
    for window in WINDOWS:
        shown = window.session.path if window.session.snapshot is not None else None
        opening = window._opening_path if window.session.busy else None
        if any(p is not None and _same_file(p, path) for p in (shown, opening)):
            return window
    return None


#: Shutdown tasks of closed windows, awaited before the program exits.
_CLOSING: set[asyncio.Future[None]] = set()


async def wait_for_closing_windows(timeout: float = 30.0) -> None:
    """Let closed windows finish freeing their snapshots."""
    if _CLOSING:
        await asyncio.wait(list(_CLOSING), timeout=timeout)
