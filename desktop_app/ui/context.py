"""The shared state panes see: the current database, its catalog, the job centre and settings."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Signal

from desktop_app.core.database import Database
from desktop_app.core.schema.catalog import Catalog
from desktop_app.ui.job_center import JobCenter


class AppContext(QObject):
    """One per window. Set by the main window; panes read it and listen to `database_changed`."""

    database_changed = Signal()
    #: The functions registry changed (user file loaded/reloaded): panes that list functions refresh.
    functions_changed = Signal()

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.jobs = JobCenter(self)
        self.database: Database | None = None
        self.catalog: Catalog | None = None
        self.functions: object | None = None  #: the core FunctionRegistry, when available

    def set_database(self, database: Database | None, catalog: Catalog | None) -> None:
        """Switch every pane to `database` (None when closed)."""
        self.database = database
        self.catalog = catalog
        self.database_changed.emit()

    def set_functions(self, registry: object | None) -> None:
        """Use `registry` (a core FunctionRegistry) for SQL functions; listeners refresh and re-register."""
        self.functions = registry
        self.functions_changed.emit()
