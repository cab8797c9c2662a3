"""Hidden panes catch up when shown.

A new generation of the database a pane already shows (a reload, watch mode's several a second) marks a
pane the user cannot see *stale* instead of refreshing it: each pane's refresh starts reads and refills
widgets, and nine of them on every generation stalled the window. A stale pane refreshes, and then gets
the place the main window restored for it, when it is shown or asked to show something
(`refresh_if_stale`). The pane in front, a window not shown (headless use), the first database and a
closed one are refreshed at once, as before; so is a pane with `refresh_while_hidden` (the Changes pane:
its timeline records every generation).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject

if TYPE_CHECKING:
    from desktop_app.ui.panes.base import Pane


class RefreshWhenShown(QObject):
    """Routes a pane's database changes: refreshed now, or marked stale until it is shown."""

    def __init__(self, pane: Pane) -> None:
        super().__init__(pane)
        self.pane = pane
        #: True while the pane shows an earlier generation than the current one.
        self.stale = False
        #: The place to restore once the stale pane has refreshed (see `restore_state`).
        self.pending_state: dict[str, Any] | None = None
        self._seen: tuple[Path, str | None] | None = None
        pane.context.database_changed.connect(self._database_changed)
        pane.installEventFilter(self)

    def _current(self) -> tuple[Path, str | None] | None:
        database = self.pane.context.database
        return None if database is None else (database.snapshot.path, database.snapshot.member)

    def _database_changed(self) -> None:
        current, pane = self._current(), self.pane
        waits = (
            not pane.refresh_while_hidden
            and current is not None
            and current == self._seen
            and pane.window().isVisible()
            and not pane.isVisible()
        )
        if waits:
            self.stale = True
        else:
            self.refresh()

    def refresh(self) -> None:
        """Refresh the pane for the current database (and restore the place kept for it meanwhile)."""
        self.stale = False
        self._seen = self._current()
        state, self.pending_state = self.pending_state, None
        self.pane.on_database_changed()
        if state is not None and self._seen is not None:
            self.pane.restore_state(state)

    def restore_state(self, state: dict[str, Any]) -> None:
        """Restore `state` now, or after the refresh when the pane is stale (the order a refresh at once
        would have had)."""
        if self.stale:
            self.pending_state = state
        else:
            self.pane.restore_state(state)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A stale pane about to be shown refreshes first."""
        if watched is self.pane and event.type() == QEvent.Type.Show and self.stale:
            self.refresh()
        return False
