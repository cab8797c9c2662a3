"""What every pane is: a widget that shows one capability over the current database."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from desktop_app.ui.context import AppContext
from desktop_app.ui.pane_refresh import RefreshWhenShown


class Pane(QWidget):
    """Base of Browse, SQL, Search, Functions, Blobs and Migrations.

    A pane talks to data only through `self.context.database` (a core `Database`) and runs long work
    with `self.context.jobs.start(...)`. It never imports another pane: cross-pane requests are
    signals the main window connects (e.g. `open_row_requested`).
    """

    #: Title of the pane's tab.
    title = "Pane"
    #: A short message for the status bar.
    status_message = Signal(str)
    #: Ask the main window to show a row in Browse: (table name, key dict such as {"rowid": 5}).
    open_row_requested = Signal(str, object)
    #: Ask the main window to show a cell in the Blobs pane: (table, column, key dict, value or None).
    show_blob_requested = Signal(str, str, object, object)

    #: Refresh on every new generation even while hidden (else a hidden pane waits until it is shown).
    refresh_while_hidden = False

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.refresher = RefreshWhenShown(self)  # calls on_database_changed, now or once shown

    def on_database_changed(self) -> None:
        """The database was opened, reloaded or closed: refresh (context.database may be None)."""

    def refresh_if_stale(self) -> None:
        """Catch up with the current generation now (before showing something asked for from outside)."""
        if self.refresher.stale:
            self.refresher.refresh()

    def save_state(self) -> dict[str, Any]:
        """What to keep across a reload (selected table, scroll position, query text...)."""
        return {}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Restore what `save_state` returned, after a reload."""

    def confirm_close(self) -> bool:
        """The window or its database is about to close: ask about unsaved work; False keeps it open."""
        return True

    def shortcuts(self) -> list[tuple[str, str]]:
        """The pane's own keys and what they do, as (keys, description), for Help → Keyboard shortcuts."""
        return []
