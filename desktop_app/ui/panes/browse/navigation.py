"""Browse's foreign keys: cells drawn as links, following one (Ctrl+click or the menu), the rows of other
tables that refer to a row, and Back/Forward along the trail of places left."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu

from desktop_app.core.browse.filters import value_filter
from desktop_app.core.browse.references import (
    IncomingReference,
    incoming_references,
    link_columns,
    outgoing_references,
)
from desktop_app.core.errors import UserError
from desktop_app.core.progress import CancelToken
from desktop_app.ui.panes.browse.links import LinkDelegate
from desktop_app.ui.panes.browse.part import BrowsePart
from desktop_app.ui.panes.browse.trail import Trail
from desktop_app.ui.widgets.layout import tool_button

if TYPE_CHECKING:
    from desktop_app.ui.panes.browse.pane import BrowsePane


class LinkNavigation(BrowsePart):
    """The links of Browse's grid, the rows referring to a row, and the Back/Forward trail."""

    def __init__(self, pane: BrowsePane, on_error: Callable[[UserError], None]) -> None:
        super().__init__(pane, on_error)
        #: Foreign-key cells drawn as links (the delegate of those columns only: a Python delegate on every
        #: column costs each repaint of the grid a call per cell); Ctrl+click follows one.
        self.links = LinkDelegate(pane.view)
        pane.view.clicked.connect(self._on_cell_clicked)
        self.trail = Trail()
        self.back_button = tool_button("◀", "Back to where you followed a link from (Alt+Left)")
        self.back_button.clicked.connect(self.go_back)
        self.forward_button = tool_button("▶", "Forward again (Alt+Right)")
        self.forward_button.clicked.connect(self.go_forward)

    def table_shown(self) -> None:
        """Draw the foreign-key columns of the table now shown as links."""
        pane = self.pane
        links: dict[int, bool] = {}
        targets: dict[int, str] = {}
        catalog = pane.context.catalog
        if pane.table is not None and pane.source is not None and catalog is not None:
            found = link_columns(catalog, pane.table)
            for column, info in enumerate(pane.source.columns):
                if info.name in found:
                    targets[column], links[column] = found[info.name]
        for column in self.links.links:
            pane.view.setItemDelegateForColumn(column, None)
        for column in links:
            pane.view.setItemDelegateForColumn(column, self.links)
        self.links.links, self.links.targets = links, targets
        pane.view.viewport().update()

    def add_to_menu(self, menu: QMenu, row: int, column: int, linked: bool, where: QPoint) -> None:
        """The cell menu's items: follow the cell's link (enabled when `linked`), the rows referring to
        real `row` (a menu popped up at `where`)."""
        follow = menu.addAction("Go to referenced row\tCtrl+click")
        follow.setEnabled(column in self.links.links and linked)
        follow.triggered.connect(lambda: self.follow_link(row, column))
        menu.addAction("Rows referencing this row…").triggered.connect(
            lambda: self.tasks.spawn(self._menu_of_incoming(row, where))
        )

    # --- following links --------------------------------------------------------------------------

    def _on_cell_clicked(self, index: QModelIndex) -> None:
        if index.isValid() and QGuiApplication.keyboardModifiers() & Qt.KeyboardModifier.ControlModifier:
            self.follow_link(self.pane.model.real_row(index.row()), index.column())

    def follow_link(self, row: int, column: int) -> bool:
        """Open the row that cell (real `row`, `column`) refers to; False when it refers to none."""
        pane = self.pane
        source, table, catalog = pane.source, pane.table, pane.context.catalog
        values = pane.model.row_values(row)
        if source is None or table is None or catalog is None or values is None:
            return False
        if column not in self.links.links:
            return False
        name = source.columns[column].name
        shown = {info.name: value for info, value in zip(source.columns, values, strict=False)}
        links = outgoing_references(catalog, table, shown)
        link = next((ref for ref in links if name in ref.from_columns), None)
        if link is None:
            return False
        self._leave_place()
        pane.show_row(link.table, link.key)
        return True

    async def incoming_of(self, row: int) -> list[IncomingReference]:
        """The rows of other tables that refer to real `row` (counted per referring table and column)."""
        pane = self.pane
        source, table = pane.source, pane.table
        catalog, database = pane.context.catalog, pane.context.database
        if source is None or table is None or catalog is None or database is None:
            return []
        key = pane.model.row_key(row)
        if not source.pager.has_key or key is None:
            pane.status_message.emit("This row has no key that other rows could refer to.")
            return []
        token = CancelToken()
        try:
            return await database.run_sync(
                incoming_references, catalog, table, source.pager.key_dict(key), token, cancel=token
            )
        except UserError as exc:
            self.on_error(exc)
            return []

    async def _menu_of_incoming(self, row: int, where: QPoint) -> None:
        found = await self.incoming_of(row)
        menu = QMenu(self.pane)
        if not found:
            menu.addAction("No table refers to this table's rows").setEnabled(False)
        for ref in found:
            columns = ", ".join(ref.columns)
            label = f"{ref.table} ({columns}): {ref.count:,} row{'s' if ref.count != 1 else ''}"
            if ref.inferred:
                label += "  — inferred"
            action = menu.addAction(label)
            action.setEnabled(ref.count > 0)
            action.triggered.connect(lambda _=False, r=ref: self.open_incoming(r))
        menu.popup(where)

    def open_incoming(self, ref: IncomingReference) -> None:
        """Browse `ref.table` filtered to the rows that refer to the row `ref` was found for."""
        pane = self.pane
        self._leave_place()
        pane.show_table(ref.table)
        if pane.table is not None and pane.table.name == ref.table:
            pane.set_filters({c: value_filter(v) for c, v in zip(ref.columns, ref.values, strict=True)})

    # --- the trail --------------------------------------------------------------------------------

    def _leave_place(self) -> None:
        self.trail.leave(self.pane.save_state())
        self.update_buttons()

    def go_back(self) -> None:
        """Back to the place left by following a link (Alt+Left)."""
        place = self.trail.go_back(self.pane.save_state())
        if place is not None:
            self.pane.restore_state(place)
        self.update_buttons()

    def go_forward(self) -> None:
        """Forward again along the trail (Alt+Right)."""
        place = self.trail.go_forward(self.pane.save_state())
        if place is not None:
            self.pane.restore_state(place)
        self.update_buttons()

    def update_buttons(self) -> None:
        """Back and Forward enabled when there is somewhere to go."""
        self.back_button.setEnabled(bool(self.trail.back))
        self.forward_button.setEnabled(bool(self.trail.forward))
