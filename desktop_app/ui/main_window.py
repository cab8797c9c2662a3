"""The main window: a thin shell that composes the panes, the schema tree, menus and the status bar.

Panes never talk to each other; cross-pane requests (open a row in Browse, show a blob) arrive here
as signals and are routed. A second database opens in a new window, so a window shows one file.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from desktop_app import __version__
from desktop_app.core.errors import EncryptedDatabase, SeveralDatabases, UserError
from desktop_app.core.export.csv_file import table_export_sql
from desktop_app.core.logs import log_directory
from desktop_app.core.schema.visible_names import visible_name
from desktop_app.core.snapshot.encrypted import CipherKey
from desktop_app.ui.context import AppContext
from desktop_app.ui.export_actions import start_export
from desktop_app.ui.job_center import Job
from desktop_app.ui.pane_registry import Panes, create_panes
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.session import DatabaseSession
from desktop_app.ui.settings import read_str, read_str_list
from desktop_app.ui.shell.attach_dialog import AttachDialog
from desktop_app.ui.shell.banner import Banner
from desktop_app.ui.shell.job_status import JobStatus
from desktop_app.ui.shell.number_menu import add_number_options
from desktop_app.ui.shell.open_dialogs import MemberDialog, PassphraseDialog
from desktop_app.ui.shell.schema_tree import SchemaTree
from desktop_app.ui.shell.start_page import StartPage
from desktop_app.ui.widgets.error_dialog import show_unexpected, show_user_error
from desktop_app.ui.widgets.layout import splitter, vbox

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
        self.stack.addWidget(splitter(self.schema_tree, (self.tabs, 1), sizes=[280, 920]))
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
        self.open_dialog: PassphraseDialog | MemberDialog | None = None
        self._refresh_recent()
        self._update_title()
        WINDOWS.append(self)

    # ----- set-up -----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(file_menu, "&Open…", self.choose_file, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._action(file_menu, "Open &demo database", self.open_demo)
        file_menu.addSeparator()
        self.reload_action = self._action(file_menu, "&Reload snapshot", self.reload, QKeySequence("F5"))
        self.attach_action = self._action(file_menu, "&Attach database…", self.choose_attachment)
        self.export_menu = file_menu.addMenu("&Export")
        self._action(self.export_menu, "&Browsed table as…", self.export_browsed_table)
        self.close_action = self._action(
            file_menu, "&Close", self.close_database, QKeySequence.StandardKey.Close
        )
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self._quit, QKeySequence.StandardKey.Quit)
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
        self.number_actions = add_number_options(view_menu, self.settings)
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "Open log folder", self._open_log_folder)
        self._action(help_menu, f"About {APP_TITLE}", self._about)

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
        in Browse when given."""
        if self.session.snapshot is not None or self.session.busy:
            other = MainWindow(self.settings)
            other.show()
            other.open_path(path, table)
            return
        self._start_table = table
        self._open_here(Path(path))

    def _open_here(self, path: Path, member: str | None = None, key: CipherKey | None = None) -> None:
        self._opening_path = path
        self.statusBar().showMessage(f"Opening {member or path.name}…")
        self.session.open(path, member=member, key=key)

    def _ask_passphrase(self, path: Path, error: EncryptedDatabase) -> None:
        """Ask for the key of an encrypted file; a wrong one asks again, saying so."""
        dialog = PassphraseDialog(path.name, error.message if error.wrong_key else "", self)
        dialog.key_given.connect(lambda key: self._open_here(path, key=key))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.open_dialog = dialog
        dialog.open()

    def _ask_member(self, path: Path, error: SeveralDatabases) -> None:
        """Ask which database of a packed file to open."""
        dialog = MemberDialog(path.name, error.members, self)
        dialog.chosen.connect(lambda member: self._open_here(path, member=member))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.open_dialog = dialog
        dialog.open()

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
        parts = [
            snapshot.mode.value,
            f"{snapshot.size_bytes / 2**20:,.1f} MB",
            f"reloaded {when}" if session.reloaded else f"opened {when}",
        ]
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
        """Close the database and show the start page."""
        self.session.close()

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
        """Put `sql` in the SQL pane's editor."""
        self.panes.sql.set_sql(sql)
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

    def attach_database(self, schema: str, path: str) -> Job | None:
        """Snapshot `path` and attach it as `schema` (a job); the tree shows it when done."""
        self.settings.setValue("attach/folder", str(Path(path).absolute().parent))
        return self.session.attach(
            schema, path, on_error=lambda error: show_user_error(self, "Attach failed", error)
        )

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
            message = f"Opened {snapshot.path.name} in {snapshot.elapsed_s * 1000:,.0f} ms"
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
                    self.panes[name].restore_state(state)
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
            # Start on an ordinary table with a plain name: "" or a broken view is a poor first view.
            first = next((t for t in tables if t.name.strip() and not t.error), tables[0] if tables else None)
            if first is not None:
                self.browse_table(first.name)

    def _on_open_failed(self, error: UserError) -> None:
        self.statusBar().showMessage(error.message, 10000)
        self._saved_state = None
        path = self._opening_path
        if path is not None and isinstance(error, EncryptedDatabase) and error.available:
            self._ask_passphrase(path, error)
            return
        if path is not None and isinstance(error, SeveralDatabases):
            self._ask_member(path, error)
            return
        if getattr(error, "message", "") != "Stopped.":
            show_user_error(self, "Cannot open the database", error)

    def _on_closed(self) -> None:
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
            self.setWindowTitle(f"{name} — {snapshot.mode.value} — {APP_TITLE}")
        self.reload_action.setEnabled(snapshot is not None)
        self.close_action.setEnabled(snapshot is not None)
        self.export_menu.setEnabled(snapshot is not None)

    # ----- recent files ----------------------------------------------------------------------------
    def _recent(self) -> list[str]:
        return read_str_list(self.settings, RECENT_KEY)

    def _remember(self, path: str) -> None:
        recent = [path] + [p for p in self._recent() if p != path]
        self.settings.setValue(RECENT_KEY, recent[:MAX_RECENT])
        self._refresh_recent()

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
        """Stop jobs and free the snapshot; the loop finishes the clean-up."""
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

    def _about(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            APP_TITLE,
            f"<b>{APP_TITLE}</b> {__version__}<br>Browse a read-only snapshot of a SQLite database. "
            "Your file is never modified.",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.open()


#: Shutdown tasks of closed windows, awaited before the program exits.
_CLOSING: set[asyncio.Future[None]] = set()


async def wait_for_closing_windows(timeout: float = 5.0) -> None:
    """Let closed windows finish freeing their snapshots."""
    if _CLOSING:
        await asyncio.wait(list(_CLOSING), timeout=timeout)
