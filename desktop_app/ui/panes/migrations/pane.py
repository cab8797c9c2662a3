"""The Migrations pane: which migration tools the database uses, what they applied, and what is pending."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QWidget,
)

from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.migrations import MigrationReport, ToolStatus, known_tools, migration_status
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.latest import LatestRequest
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.migrations.views import ToolDetail, ToolListDelegate, tool_summary
from desktop_app.ui.settings import read_str
from desktop_app.ui.theme import error_box, warning_box
from desktop_app.ui.widgets.error_dialog import show_user_error
from desktop_app.ui.widgets.layout import hbox, push_button, splitter, vbox

#: QSettings group of the folder chosen for each database (keyed by a hash of the database's path).
FOLDERS_KEY = "migrations/folders"
READ_ONLY_NOTE = (
    "<b>Read-only: nothing is applied.</b> This pane reads the snapshot's tracking tables and the "
    "folder's files; it never runs a migration."
)
ALLOW_IMPORT_TIP = (
    "Alembic revision files are Python code. When this is on, Alembic's own API imports them, which "
    "EXECUTES every file in the versions folder.\nLeave it off for folders you do not trust: the "
    "revision graph is then read with Python's ast and nothing runs."
)
#: A tool list entry's identity, to keep the selection across refreshes: (tool key, table).
ToolKey = tuple[str, str | None]
_KEY_ROLE = Qt.ItemDataRole.UserRole


def folder_setting_key(database_path: str | Path) -> str:
    """The QSettings key holding the migrations folder chosen for the database at `database_path`."""
    absolute = os.path.realpath(os.fspath(database_path))
    return f"{FOLDERS_KEY}/{hashlib.sha1(absolute.encode('utf-8', 'surrogatepass')).hexdigest()}"


class MigrationsPane(Pane):
    """Detected migration tools, their applied history and warnings, and what a folder has pending."""

    title = "Migrations"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.report: MigrationReport | None = None
        #: The folder the shown report was compared with (None when none was chosen or it is gone).
        self.compared_folder: str | None = None
        self.busy = False
        self.last_error: UserError | None = None
        self._reads = LatestRequest()
        self._wanted: ToolKey | None = None
        self._wanted_tab: int | None = None
        self._dialog: QFileDialog | None = None

        self.folder_edit = QLineEdit()
        self.folder_edit.setReadOnly(True)
        self.folder_edit.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.folder_edit.setPlaceholderText("No migrations folder chosen for this database")
        self.folder_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.choose_button = push_button(
            "Choose migrations folder…",
            self.choose_folder,
            "The project's migrations folder, remembered for this database",
        )
        self.forget_button = push_button("Forget folder", self.forget_folder)
        self.allow_import = QCheckBox("Allow importing Alembic revision files")
        self.allow_import.setToolTip(ALLOW_IMPORT_TIP)
        self.allow_import.toggled.connect(self._on_allow_import)
        self.refresh_button = push_button("Refresh", self.refresh)
        self.read_only_note = QLabel(READ_ONLY_NOTE)
        self.read_only_note.setTextFormat(Qt.TextFormat.RichText)
        self.read_only_note.setWordWrap(True)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = push_button("Details…", self._show_error_details)

        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.empty.setTextFormat(Qt.TextFormat.RichText)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setMargin(40)
        self.tool_list = QListWidget()
        self.tool_list.setItemDelegate(ToolListDelegate(self.tool_list))
        self.tool_list.setSpacing(1)
        self.tool_list.currentItemChanged.connect(self._on_tool_picked)
        self.detail = ToolDetail()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(splitter(self.tool_list, (self.detail, 1), sizes=[290, 800]))

        vbox(
            hbox(QLabel("Migrations folder:"), (self.folder_edit, 1), self.choose_button, self.forget_button),
            hbox(self.allow_import, 16, (self.read_only_note, 1), self.refresh_button),
            hbox((self.message, 1), self.details_button),
            (self.stack, 1),
            margins=6,
            parent=self,
        )
        self._set_message("")
        self.on_database_changed()

    # --- database and folder ------------------------------------------------------------------

    def on_database_changed(self) -> None:
        """Read the new database's migration state (with its remembered folder)."""
        self._wanted = self._wanted or self._selected_key()
        self.report, self.compared_folder = None, None  # never show one database's tools over another
        self._show_empty("Reading the migration tables…")
        self.folder_edit.setText(self.folder() or "")
        has_database = self.context.database is not None
        for widget in (self.choose_button, self.refresh_button):
            widget.setEnabled(has_database)
        self.refresh()

    def database_path(self) -> Path | None:
        """The file the current snapshot was taken from."""
        database = self.context.database
        return database.snapshot.path if database is not None else None

    def folder(self) -> str | None:
        """The migrations folder remembered for the current database."""
        path = self.database_path()
        if path is None:
            return None
        return read_str(self.context.settings, folder_setting_key(path)) or None

    def choose_folder(self) -> None:
        """Ask for the project's migrations folder (non-blocking dialog)."""
        path = self.database_path()
        if path is None:
            return
        start = self.folder() or str(path.parent)
        dialog = QFileDialog(self, "Choose the project's migrations folder", start)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.set_folder)
        self._dialog = dialog
        dialog.open()

    def set_folder(self, folder: str) -> None:
        """Remember `folder` for the current database and compare it with the history."""
        path = self.database_path()
        if path is None or not folder:
            return
        self.context.settings.setValue(folder_setting_key(path), os.path.abspath(folder))
        self.folder_edit.setText(self.folder() or "")
        self.refresh()

    def forget_folder(self) -> None:
        """Stop comparing the current database with a folder."""
        path = self.database_path()
        if path is None:
            return
        self.context.settings.remove(folder_setting_key(path))
        self.folder_edit.clear()
        self.refresh()

    def _on_allow_import(self, _checked: bool) -> None:
        if self.folder():
            self.refresh()

    # --- reading ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the migration state again (as a job); an earlier read still running is stopped."""
        ticket = self._reads.begin()
        database = self.context.database
        self.forget_button.setEnabled(bool(self.folder()))
        if database is None:
            self.busy = False
            self.report = None
            self._set_message("")
            self._show_empty("Open a database to see which migrations it has applied.")
            return
        folder = self.folder()
        allow_import = self.allow_import.isChecked()
        self.busy = True
        self._set_message("Reading the migration tables…")

        async def work(job: Job) -> tuple[MigrationReport, str | None] | None:
            try:
                usable = folder if folder and await asyncio.to_thread(os.path.isdir, folder) else None
                call = functools.partial(
                    migration_status,
                    folder=usable,
                    allow_import=allow_import,
                    connect=database.snapshot.connect,
                    progress=job.progress_callback(),
                    cancel=job.cancel_token,
                )
                report = await database.run_sync(call, cancel=job.cancel_token)
            except Exception:
                if not ticket.current:
                    return None  # superseded: nobody is waiting for this answer
                raise
            return report, usable

        job = self.context.jobs.start(
            "Reading migration status",
            work,
            on_done=ticket.only(lambda result: self._on_read(folder, result)),
            owner=self,
        )
        # `failed` fires for every failure (a UserError, a stop, or a bug JobCenter has logged).
        job.failed.connect(ticket.only(self._on_failed))
        self._reads.track(job)

    def _on_read(self, folder: str | None, result: tuple[MigrationReport, str | None] | None) -> None:
        if result is None:
            return
        self.busy = False
        self.report, self.compared_folder = result
        if folder and self.compared_folder is None:
            self._set_message(
                f"The migrations folder remembered for this database no longer exists: {folder}", "warning"
            )
        else:
            self._set_message("")
        self._render()
        found = len(self.report.tools)
        self.status_message.emit(
            f"Migrations: {found} tool{'s' if found != 1 else ''} found"
            if found
            else "Migrations: none found"
        )

    def _on_failed(self, error: BaseException) -> None:
        self.busy = False
        if isinstance(error, Cancelled):
            self._set_message("Stopped. Press Refresh to read the migration state again.", "warning")
        elif isinstance(error, UserError):
            self._set_message(error.message, "error", error)
        else:
            self._set_message(
                "Something went wrong while reading the migration state; the details are in the log file.",
                "error",
            )
        if self.report is None:
            self._show_empty("The migration state could not be read.")

    # --- showing ------------------------------------------------------------------------------

    def _render(self) -> None:
        report = self.report
        if report is None or not report.found:
            labels = ", ".join(sorted((label for _key, label in known_tools()), key=str.lower))
            self._show_empty(
                "<p><b>No migration tool found in this database.</b></p>"
                "<p>It has no migration tracking table, and <code>PRAGMA user_version</code> is 0.</p>"
                f"<p>Recognised tools: {labels}.</p>"
            )
            return
        wanted = self._wanted or self._selected_key()
        self._wanted = None
        self.tool_list.blockSignals(True)
        self.tool_list.clear()
        style = self.style()
        for status in report.tools:
            summary = tool_summary(status)
            item = QListWidgetItem(summary)
            item.setData(_KEY_ROLE, (status.tool, status.table))
            item.setToolTip("\n".join([summary, *(f"⚠ {warning}" for warning in status.warnings)]))
            if status.warnings:
                item.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
            self.tool_list.addItem(item)
        self.tool_list.blockSignals(False)
        keys = [(s.tool, s.table) for s in report.tools]
        self.tool_list.setCurrentRow(keys.index(wanted) if wanted in keys else 0)
        if self._wanted_tab is not None:
            self.detail.tabs.setCurrentIndex(self._wanted_tab)
            self._wanted_tab = None
        self.stack.setCurrentIndex(1)

    def _show_empty(self, html: str) -> None:
        self.empty.setText(html)
        self.tool_list.clear()
        self.stack.setCurrentIndex(0)

    def _on_tool_picked(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        status = self.selected_status()
        if current is not None and status is not None:
            self.detail.show_status(status, self.compared_folder)

    def selected_status(self) -> ToolStatus | None:
        """The tool whose details are shown."""
        row = self.tool_list.currentRow()
        tools = self.report.tools if self.report is not None else []
        return tools[row] if 0 <= row < len(tools) else None

    def select_tool(self, tool: str, table: str | None = None) -> bool:
        """Show the tool with key `tool` (and table, when several share a key); False when absent."""
        for row in range(self.tool_list.count()):
            key, item_table = self.tool_list.item(row).data(_KEY_ROLE)
            if key == tool and (table is None or table == item_table):
                self.tool_list.setCurrentRow(row)
                return True
        return False

    def _selected_key(self) -> ToolKey | None:
        item = self.tool_list.currentItem()
        return tuple(item.data(_KEY_ROLE)) if item is not None else None  # type: ignore[return-value]

    def _set_message(self, text: str, kind: str = "info", error: UserError | None = None) -> None:
        self.last_error = error
        self.message.setText(text)
        self.message.setStyleSheet(_message_style(kind))
        self.message.setVisible(bool(text))
        self.details_button.setVisible(error is not None and bool(error.details))

    def _show_error_details(self) -> None:
        if self.last_error is not None:
            show_user_error(self, "Migration status", self.last_error)

    # --- state across reloads -----------------------------------------------------------------

    def save_state(self) -> dict[str, Any]:
        """The selected tool and tab."""
        key = self._selected_key()
        return {"tool": list(key) if key else None, "tab": self.detail.tabs.currentIndex()}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Select the saved tool and tab again (now, or once the new read is done)."""
        tool = state.get("tool")
        tab = state.get("tab")
        if self.busy or self.report is None:
            self._wanted = (tool[0], tool[1]) if tool else None
            self._wanted_tab = tab if isinstance(tab, int) else None
            return
        if tool:
            self.select_tool(tool[0], tool[1])
        if isinstance(tab, int):
            self.detail.tabs.setCurrentIndex(tab)


def _message_style(kind: str) -> str:
    """The message line's style: plain for "info", a warning or error box otherwise."""
    if kind not in ("warning", "error"):
        return ""
    box = warning_box() if kind == "warning" else error_box()
    return f"QLabel {{ background: {box.background}; color: {box.text}; padding: 4px; border-radius: 3px; }}"
