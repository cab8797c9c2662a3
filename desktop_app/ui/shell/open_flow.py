"""Opening, reloading and closing the window's database, and what the window shows as the session moves
through them (start page, title, mode label, banner, the first table shown).

A mixin of MainWindow: DatabaseSession does the work and signals; these are the window's answers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog

from desktop_app.core.errors import UserError
from desktop_app.core.schema.visible_names import visible_name
from desktop_app.core.snapshot.encrypted import CipherKey
from desktop_app.ui.shell.snapshot_status import mode_summary, opened_message, window_title
from desktop_app.ui.shell.windows import window_showing
from desktop_app.ui.widgets.error_dialog import show_user_error
from desktop_app.ui.widgets.open_dialogs import ask_how_to_open

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

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


class OpenFlow:
    """Open, reload and close for one window, and its answers to the session's signals.

    The state it keeps (`_saved_state`, `_tree_catalog`, `_start_table`, `_opening_*`, `open_dialog`) is
    set up in MainWindow.__init__, with what each holds.
    """

    def _connect_open_flow(self: MainWindow) -> None:
        page, session = self.start_page, self.session
        page.browse_requested.connect(self.choose_file)
        page.open_requested.connect(self.open_path)
        page.demo_requested.connect(self.open_demo)
        for signal, slot in (
            (session.opened, self._on_opened),
            (session.switching, self._save_places),
            (session.loading_changed, self._on_loading_changed),
            (session.open_failed, self._on_open_failed),
            (session.closed, self._on_closed),
            (session.source_changed, self._on_source_changed),
        ):
            signal.connect(slot)

    # ----- opening ---------------------------------------------------------------------------------
    def choose_file(self: MainWindow) -> None:
        """Ask for a file (non-blocking dialog) and open it."""
        dialog = QFileDialog(self, "Open SQLite database", self._last_folder(), FILE_FILTER)
        dialog.selectNameFilter(DEFAULT_FILE_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.open_path)
        dialog.open()

    def open_path(self: MainWindow, path: str | Path, table: str | None = None) -> None:
        """Open `path` here, or in a new window when this one already shows a database; then show `table`
        in Browse when given. A file already open (or opening) in a window brings that window forward."""
        shown = window_showing(Path(path))
        if shown is not None:
            shown.bring_forward(table)
            return
        if self.session.snapshot is not None or self.session.busy:
            other = type(self)(self.settings)
            other.show()
            other.open_path(path, table)
            return
        self._start_table = table
        self._open_here(Path(path))

    def bring_forward(self: MainWindow, table: str | None = None) -> None:
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

    def _open_here(
        self: MainWindow, path: Path, member: str | None = None, key: CipherKey | None = None
    ) -> None:
        self._opening_path, self._opening_member, self._opening_key = path, member, key
        self.statusBar().showMessage(f"Opening {member or path.name}…")
        self.session.open(path, member=member, key=key)

    def open_demo(self: MainWindow, table: str | None = None) -> None:
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

    def reload(self: MainWindow) -> None:
        """Take a new snapshot of the file, keeping each pane's place."""
        if self.session.snapshot is None:
            return
        self.banner.hide()
        self._saved_state = self._pane_states()
        self.session.reload()

    def _pane_states(self: MainWindow) -> dict[str, Any]:
        """Each pane's place (table, selection, scroll…), given back once the next snapshot is shown."""
        return {name: pane.save_state() for name, pane in self.panes.items()}

    def _watch_reload(self: MainWindow) -> None:
        """Watch mode saw the file change: a new generation, unless one is being taken already."""
        if not self.session.busy:
            self.reload()

    def _save_places(self: MainWindow) -> None:
        """The quick view is about to give way to the memory snapshot: keep every pane's place."""
        if self._saved_state is None:
            self._saved_state = self._pane_states()
        self._tree_catalog = self.context.catalog

    def close_database(self: MainWindow) -> None:
        """Close the database and show the start page (once the panes agree: unsaved work is asked about)."""
        if self.confirm_panes_close():
            self._remember_place()
            self.session.close()

    def confirm_panes_close(self: MainWindow) -> bool:
        """Ask each pane about unsaved work before closing; False when one says to keep it open."""
        return all(pane.confirm_close() for pane in self.panes.values())

    # ----- session events --------------------------------------------------------------------------
    def _on_loading_changed(self: MainWindow) -> None:
        self._update_mode_label()
        stopped = self.session.copy_stopped
        if stopped and self.session.snapshot is not None:
            self.statusBar().showMessage(
                f"Staying in direct read-only mode: {stopped}. Everything works; scans and searches "
                "read the file and are slower than in memory.",
                10000,
            )

    def _on_opened(self: MainWindow) -> None:
        snapshot = self.session.snapshot
        assert snapshot is not None
        kept, self._tree_catalog = self._tree_catalog, None
        if kept is None or kept != self.context.catalog:  # the same schema keeps its tree as the user left it
            self.schema_tree.set_catalog(self.context.catalog)
        self.stack.setCurrentIndex(1)
        self._remember(str(snapshot.path))
        self._update_title()
        self._update_mode_label()
        self.statusBar().showMessage(opened_message(self.session, snapshot), 8000)
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
            self._show_first_table(snapshot.path.name)

    def _show_first_table(self: MainWindow, file_name: str) -> None:
        """Browse the table asked for on the command line, else the place this file was left at, else
        its first ordinary table."""
        assert self.context.catalog is not None
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
            names = ", ".join(visible_name(t.name) for t in tables[:20]) or "none"
            more = f" and {len(tables) - 20} more" if len(tables) > 20 else ""
            show_user_error(
                self,
                "No such table",
                UserError(
                    f"“{file_name}” has no table or view “{visible_name(asked)}”. Its tables: {names}{more}."
                ),
            )
        elif self._restore_place():
            return
        # Start on an ordinary table with a plain name: "" or a broken view is a poor first view.
        first = next((t for t in tables if t.name.strip() and not t.error), tables[0] if tables else None)
        if first is not None:
            self.browse_table(first.name)

    def _on_open_failed(self: MainWindow, error: UserError) -> None:
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

    def _on_closed(self: MainWindow) -> None:
        if self.wal_dialog is not None:
            self.wal_dialog.close()
        self.schema_tree.set_catalog(None)
        self.banner.hide()
        self.stack.setCurrentIndex(0)
        self._update_mode_label()
        self._refresh_recent()
        self._update_title()

    def _on_source_changed(self: MainWindow, message: str) -> None:
        if self.panes.changes.watching:  # watch mode takes the new snapshot itself: no banner
            self.panes.changes.on_source_changed()
            return
        actions = [("Reload", self.reload)] if self.session.path and self.session.path.exists() else []
        self.banner.show_message(message, actions)

    def _update_title(self: MainWindow) -> None:
        snapshot = self.session.snapshot
        self.setWindowTitle(window_title(snapshot))
        self.reload_action.setEnabled(snapshot is not None)
        self.close_action.setEnabled(snapshot is not None)
        self.export_menu.setEnabled(snapshot is not None)
        self.wal_action.setEnabled(
            snapshot is not None and snapshot.member is None and not snapshot.encrypted
        )

    def _update_mode_label(self: MainWindow) -> None:
        """Mode · size · when it was taken (and what is still loading), with why in the tooltip."""
        snapshot = self.session.snapshot
        text, tip = mode_summary(self.session, snapshot) if snapshot is not None else ("", "")
        self.mode_label.setText(text)
        self.mode_label.setToolTip(tip)
