"""The panes a window shows, in tab order: the one module that knows every pane."""

from __future__ import annotations

from desktop_app.ui.context import AppContext
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.blobs.pane import BlobsPane
from desktop_app.ui.panes.browse.pane import BrowsePane
from desktop_app.ui.panes.functions.pane import FunctionsPane
from desktop_app.ui.panes.migrations.pane import MigrationsPane
from desktop_app.ui.panes.search.pane import SearchPane
from desktop_app.ui.panes.sql.pane import SqlPane
from desktop_app.ui.panes.structure.pane import StructurePane


def create_panes(context: AppContext) -> dict[str, Pane]:
    """Create every pane over `context`, keyed by how the main window routes cross-pane requests."""
    # Functions first: it installs the function registry that every database connection registers.
    functions = FunctionsPane(context)
    return {
        "browse": BrowsePane(context),
        "sql": SqlPane(context),
        "search": SearchPane(context),
        "functions": functions,
        "blobs": BlobsPane(context),
        "migrations": MigrationsPane(context),
        "structure": StructurePane(context),
    }
