"""File → WAL history…: the commits the file's `-wal` holds, read as a job, and the database as of one
of them opened in the window.

A mixin of MainWindow (comparing a commit with now opens the Changes pane, so that routing stays in
MainWindow.compare_with_commit).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from desktop_app.core.wal.history import WalHistory, read_wal_history
from desktop_app.ui.job_center import Job
from desktop_app.ui.shell.wal_dialog import WalHistoryDialog

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow


class WalActions:
    """The WAL history dialog of one window and opening a commit from it."""

    def show_wal_history(self: MainWindow) -> WalHistoryDialog | None:
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

    def _forget_wal_dialog(self: MainWindow, dialog: WalHistoryDialog) -> None:
        """The dialog closed: let go of the file and -wal bytes its listing holds."""
        dialog.history = None
        if self.wal_dialog is dialog:
            self.wal_dialog = None

    def _history_of_shown_file(self: MainWindow, history: WalHistory | None) -> WalHistory | None:
        """`history` when it is of the file shown now (else the commit is read again from that file)."""
        shown = self.session.snapshot
        return history if history is not None and shown is not None and history.path == shown.path else None

    def open_as_of_commit(self: MainWindow, number: int, history: WalHistory | None = None) -> Job | None:
        """Show the database as of WAL commit `number` in this window (the current generation is kept for
        the Changes pane)."""
        history = self._history_of_shown_file(history)
        self._saved_state = self._pane_states()
        self.statusBar().showMessage(f"Opening as of WAL commit {number}…")
        return self.session.open_as_of_commit(number, history)
