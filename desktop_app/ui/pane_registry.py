"""The panes a window shows, in tab order: the one module that knows every pane."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields

from desktop_app.ui.context import AppContext
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.blobs.pane import BlobsPane
from desktop_app.ui.panes.browse.pane import BrowsePane
from desktop_app.ui.panes.changes.pane import ChangesPane
from desktop_app.ui.panes.functions.pane import FunctionsPane
from desktop_app.ui.panes.migrations.pane import MigrationsPane
from desktop_app.ui.panes.recovery.pane import RecoveryPane
from desktop_app.ui.panes.search.pane import SearchPane
from desktop_app.ui.panes.sql.pane import SqlPane
from desktop_app.ui.panes.structure.pane import StructurePane


@dataclass(frozen=True, eq=False)
class Panes(Mapping[str, Pane]):
    """A window's panes by name in tab order; typed, for the main window's cross-pane routes."""

    browse: BrowsePane
    sql: SqlPane
    search: SearchPane
    functions: FunctionsPane
    blobs: BlobsPane
    migrations: MigrationsPane
    structure: StructurePane
    changes: ChangesPane
    recovery: RecoveryPane

    def __getitem__(self, name: str) -> Pane:
        if name not in self._names():
            raise KeyError(name)
        pane: Pane = getattr(self, name)
        return pane

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in fields(cls))


def create_panes(context: AppContext) -> Panes:
    """Create every pane over `context`."""
    return Panes(
        browse=BrowsePane(context),
        sql=SqlPane(context),
        search=SearchPane(context),
        functions=FunctionsPane(context),
        blobs=BlobsPane(context),
        migrations=MigrationsPane(context),
        structure=StructurePane(context),
        changes=ChangesPane(context),
        recovery=RecoveryPane(context),
    )
