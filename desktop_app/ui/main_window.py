"""The main window: a thin shell that composes the panes, the schema tree, menus and the status bar.

Panes never talk to each other; cross-pane requests (open a row in Browse, show a blob) arrive here
as signals and are routed. A second database opens in a new window, so a window shows one file.
What the window does besides is in ui/shell/, one mixin a responsibility: menus.py (the menu bar),
open_flow.py (open, reload, close and the session's signals), recent_files.py, attachments.py,
wal_actions.py and window_state.py (size, splitters, the place each database was left at).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QSettings
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMainWindow, QStackedWidget, QTabWidget, QWidget

from desktop_app.core.export.csv_file import table_export_sql
from desktop_app.core.snapshot.encrypted import CipherKey
from desktop_app.core.wal.history import WalHistory
from desktop_app.ui.context import AppContext
from desktop_app.ui.export_actions import start_export
from desktop_app.ui.job_center import Job
from desktop_app.ui.pane_registry import Panes, create_panes
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.changes.sides import Side
from desktop_app.ui.session import DatabaseSession
from desktop_app.ui.shell.attachments import AttachActions
from desktop_app.ui.shell.banner import Banner
from desktop_app.ui.shell.job_status import JobStatus
from desktop_app.ui.shell.menus import WindowMenus
from desktop_app.ui.shell.open_flow import DEFAULT_FILE_FILTER, FILE_FILTER, OpenFlow
from desktop_app.ui.shell.recent_files import RecentFiles
from desktop_app.ui.shell.schema_tree import SchemaTree
from desktop_app.ui.shell.start_page import StartPage
from desktop_app.ui.shell.wal_actions import WalActions
from desktop_app.ui.shell.wal_dialog import WalHistoryDialog
from desktop_app.ui.shell.window_state import WindowPlaces, restore_window, save_window
from desktop_app.ui.shell.windows import WINDOWS, forget_window, wait_for_closing_windows
from desktop_app.ui.widgets.error_dialog import show_unexpected, show_user_error
from desktop_app.ui.widgets.layout import splitter, vbox

# Names the app and tests import from here (their homes are in ui/shell/).
__all__ = ["DEFAULT_FILE_FILTER", "FILE_FILTER", "WINDOWS", "MainWindow", "wait_for_closing_windows"]


class MainWindow(WindowMenus, OpenFlow, RecentFiles, AttachActions, WalActions, WindowPlaces, QMainWindow):
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

    def _connect(self) -> None:
        self._connect_open_flow()
        self._connect_attachments()
        self.start_page.forget_requested.connect(self._forget_recent)
        tree = self.schema_tree
        tree.browse_requested.connect(self.browse_table)
        tree.show_sql_requested.connect(self.show_sql)
        tree.export_requested.connect(self.export_table)
        self.session.row_count.connect(tree.set_row_count)
        self.panes.changes.reload_requested.connect(self._watch_reload)
        jobs = self.context.jobs
        jobs.job_started.connect(lambda _job: self._update_stop_action())
        jobs.job_ended.connect(lambda _job: self._update_stop_action())
        jobs.unexpected_error.connect(lambda message, path: show_unexpected(self, message, path))

    # ----- cross-pane routing ----------------------------------------------------------------------
    def show_pane(self, pane: Pane) -> None:
        """Bring `pane` to the front."""
        self.tabs.setCurrentWidget(pane)

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

    # ----- Esc: stopping jobs ---------------------------------------------------------------------
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
        forget_window(self, asyncio.ensure_future(self.session.shutdown()))
        event.accept()
