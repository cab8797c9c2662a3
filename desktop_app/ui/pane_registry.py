"""The panes a window shows, in tab order."""

from __future__ import annotations

import importlib

from desktop_app.ui.context import AppContext
from desktop_app.ui.panes.base import Pane

#: (key, module, class) in tab order; the key is how the main window routes cross-pane requests.
PANES = (
    ("browse", "desktop_app.ui.panes.browse", "BrowsePane"),
    ("sql", "desktop_app.ui.panes.sql", "SqlPane"),
    ("search", "desktop_app.ui.panes.search", "SearchPane"),
    ("functions", "desktop_app.ui.panes.functions", "FunctionsPane"),
    ("blobs", "desktop_app.ui.panes.blobs", "BlobsPane"),
    ("migrations", "desktop_app.ui.panes.migrations", "MigrationsPane"),
)


def create_panes(context: AppContext) -> dict[str, Pane]:
    """Create every pane over `context`."""
    panes: dict[str, Pane] = {}
    for key, module_name, class_name in PANES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # TODO(lead): strict once every pane has landed
        panes[key] = getattr(module, class_name)(context)
    return panes
