"""File → Attach database…: other databases used beside the window's one in SQL (`schema.table`), shown
in the schema tree, and detached from it.

A mixin of MainWindow; DatabaseSession snapshots and attaches the file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.core.errors import UserError
from desktop_app.core.snapshot.encrypted import CipherKey
from desktop_app.ui.job_center import Job
from desktop_app.ui.settings import read_str
from desktop_app.ui.shell.attach_dialog import AttachDialog
from desktop_app.ui.widgets.error_dialog import show_user_error
from desktop_app.ui.widgets.open_dialogs import ask_how_to_open

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

FOLDER_KEY = "attach/folder"


class AttachActions:
    """Attach and detach for one window."""

    def _connect_attachments(self: MainWindow) -> None:
        self.schema_tree.export_attached_requested.connect(
            lambda schema, name: self.export_table(name, schema)
        )
        self.schema_tree.detach_requested.connect(self.detach_database)
        self.session.attached_changed.connect(self._show_attached)

    def choose_attachment(self: MainWindow) -> AttachDialog | None:
        """File → Attach: pick another database and the name to use it by in SQL (non-modal)."""
        if self.context.database is None:
            self.statusBar().showMessage("Open a database first, then attach others beside it.", 5000)
            return None
        dialog = AttachDialog(self, self.context.attachments.names, read_str(self.settings, FOLDER_KEY))
        dialog.attach_requested.connect(self.attach_database)
        dialog.open()
        return dialog

    def attach_database(
        self: MainWindow, schema: str, path: str, member: str | None = None, key: CipherKey | None = None
    ) -> Job | None:
        """Snapshot `path` and attach it as `schema` (a job); the tree shows it when done. An encrypted
        or packed file asks for its passphrase or member as File → Open does."""
        self.settings.setValue(FOLDER_KEY, str(Path(path).absolute().parent))

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

    def detach_database(self: MainWindow, schema: str) -> None:
        """Forget the database attached as `schema`."""
        task = asyncio.ensure_future(self.session.detach(schema))
        self._detaching.add(task)
        task.add_done_callback(self._detaching.discard)

    def _show_attached(self: MainWindow) -> None:
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
