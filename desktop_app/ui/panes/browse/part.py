"""What each feature built beside Browse's grid (links, filters from a value) starts from."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop_app.core.errors import UserError
from desktop_app.ui.tasks import Tasks

if TYPE_CHECKING:
    from desktop_app.ui.panes.browse.pane import BrowsePane


class BrowsePart(QObject):
    """A feature of the Browse pane: the pane it works on, how it reports errors, its background tasks."""

    def __init__(self, pane: BrowsePane, on_error: Callable[[UserError], None]) -> None:
        super().__init__(pane)
        self.pane, self.on_error = pane, on_error
        #: The feature's coroutines (a menu of rows, a filter on a whole value), kept until they end.
        self.tasks = Tasks()
