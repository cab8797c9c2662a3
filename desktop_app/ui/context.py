"""What panes share: the current database, its catalog, the SQL functions, the job centre, settings."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Signal

from desktop_app.core.database import Database
from desktop_app.core.diff.history import SnapshotHistory
from desktop_app.core.functions.registry import FunctionRegistry
from desktop_app.core.limits import LIMITS
from desktop_app.core.schema.catalog import Catalog
from desktop_app.core.snapshot.attached import Attachments
from desktop_app.core.sqlite.connection import ConnectionHook
from desktop_app.ui.job_center import JobCenter


class AppContext(QObject):
    """One per window. Set by the main window; panes read it and listen to `database_changed`."""

    database_changed = Signal()
    #: The SQL functions changed (user file loaded/reloaded): panes that list functions refresh.
    functions_changed = Signal()
    #: The earlier generations kept in `history` changed (one kept, one let go).
    generations_changed = Signal()

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.jobs = JobCenter(self)
        self.database: Database | None = None
        self.catalog: Catalog | None = None
        #: The SQL functions every connection of this window's databases gets (the built-in ones, and the
        #: user's file once the Functions pane loads one).
        self.functions = FunctionRegistry()
        #: Other databases attached beside the open one (File → Attach), on every connection.
        self.attachments = Attachments()
        #: Earlier generations of the database shown, kept for the Changes pane within a memory budget.
        self.history = SnapshotHistory(LIMITS.diff_history_bytes)
        self.history.on_change = self.generations_changed.emit

    def connection_hooks(self) -> list[ConnectionHook]:
        """What every new connection of this window's databases gets: the SQL functions, the attachments."""
        return [self.functions.hook, self.attachments.hook]

    def set_database(self, database: Database | None, catalog: Catalog | None) -> None:
        """Switch every pane to `database` (None when closed)."""
        self.database = database
        self.catalog = catalog
        self.database_changed.emit()

    def announce_functions_changed(self) -> None:
        """`functions` changed (its connections are renewed already): listeners refresh."""
        self.functions_changed.emit()
