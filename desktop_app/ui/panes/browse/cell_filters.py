"""Browse's filters from a value: filter on or exclude a cell's value (its menu), a top value of the
column profile, a JSON path of the value inspector; and the find bar over the rows (Ctrl+F)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMenu

from desktop_app.core.browse.filters import json_path_filter_text, value_filter
from desktop_app.core.browse.paging import Truncated
from desktop_app.core.errors import UserError
from desktop_app.ui.panes.browse.part import BrowsePart
from desktop_app.ui.widgets.find_bar import FindBar
from desktop_app.ui.widgets.value_menu import add_value_actions

if TYPE_CHECKING:
    from desktop_app.ui.panes.browse.pane import BrowsePane


class CellFilters(BrowsePart):
    """Filters set from a value, and the find bar below the grid."""

    def __init__(self, pane: BrowsePane, on_error: Callable[[UserError], None]) -> None:
        super().__init__(pane, on_error)
        #: Find in the rows shown (Ctrl+F), below the grid.
        self.find_bar = FindBar(pane.grid)

    def add_to_menu(self, menu: QMenu, row: int, column: int, value: Any) -> None:
        """The cell menu's items for `value` (real `row`, `column`): filter on it, exclude it, find it."""
        add_value_actions(
            menu,
            value,
            on_filter=lambda exclude: self.tasks.spawn(self.filter_cell(row, column, exclude)),
            on_find=self.find_bar.open_bar,
        )

    def filter_on_value(self, column: str, value: Any, *, exclude: bool = False) -> None:
        """Filter `column` on `value` (with `exclude`: on not `value`), replacing that column's filter."""
        pane = self.pane
        if pane.table is None:
            return
        try:
            text = value_filter(value, exclude=exclude)
        except UserError as exc:
            self.on_error(exc)
            return
        pane.set_filters({**pane.filters, column: text})

    async def filter_cell(self, row: int, column: int, exclude: bool) -> None:
        """Filter on (or exclude) the whole value of cell (real `row`, `column`)."""
        pane = self.pane
        source, values = pane.source, pane.model.row_values(row)
        if source is None or values is None:
            return
        value = values[column]
        if isinstance(value, Truncated):  # a filter needs the whole value
            try:
                value = await source.full_value(column, pane.model.row_key(row) or (), row)
            except UserError as exc:
                self.on_error(exc)
                return
        if pane.source is source:
            pane.filter_on_value(source.columns[column].name, value, exclude=exclude)

    def filter_json_path(self, column: str, path: str, value: Any) -> None:
        """Show only rows whose JSON in `column` has `value` at `path` (as the column's filter text)."""
        filters = dict(self.pane.filters)
        filters[column] = json_path_filter_text(path, value)
        self.pane.set_filters(filters)
