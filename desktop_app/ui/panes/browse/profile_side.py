"""Browse's column profile beside the grid: the Profile button, the header menu's Profile items, and the
profile that follows the current column."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QSignalBlocker
from PySide6.QtWidgets import QMenu, QTableView

from desktop_app.core.schema.catalog import Table
from desktop_app.ui.context import AppContext
from desktop_app.ui.panes.browse.details import Details
from desktop_app.ui.panes.browse.profile_panel import ProfilePanel
from desktop_app.ui.widgets.layout import tool_button


class BrowseProfile(QObject):
    """The Profile tab of Browse's details area and the button that shows or hides it."""

    def __init__(
        self,
        context: AppContext,
        view: QTableView,
        details: Details,
        table: Callable[[], Table | None],
        columns: Callable[[], list[str] | None],
        on_filter: Callable[[str, Any], None],
    ) -> None:
        super().__init__(view)
        self.view, self.details = view, details
        #: The table shown and its column names (None when no rows can be shown).
        self._table, self._columns = table, columns
        self.panel = ProfilePanel(context)
        details.add_tab(self.panel, "Profile")
        self.panel.filter_requested.connect(lambda column, value: on_filter(column, value))
        view.selectionModel().currentColumnChanged.connect(self._on_current_column)
        self.button = tool_button("Profile", "Show or hide the column profile beside the grid")
        self.button.setCheckable(True)
        self.button.toggled.connect(self._toggle)
        details.splitter.splitterMoved.connect(lambda *_: self._sync_button())

    def set_table(self, table: Table | None) -> None:
        """Follow the table shown."""
        self.panel.set_table(table)

    def add_to_menu(self, menu: QMenu, column: str | None) -> None:
        """The header menu's items: profile `column` (when the click was on one), profile all columns."""
        if column is not None:
            menu.addAction(f"Profile “{column}”").triggered.connect(lambda: self.profile_column(column))
        menu.addAction("Profile all columns").triggered.connect(self.profile_all_columns)

    def profile_column(self, name: str) -> None:
        """Show the profile of column `name` in the side area."""
        self.details.show_tab(self.panel)
        self._sync_button()
        self.panel.set_table(self._table())
        self.panel.profile([name])

    def profile_all_columns(self) -> None:
        """Show the profile of every column in the side area."""
        self.details.show_tab(self.panel)
        self._sync_button()
        self.panel.set_table(self._table())
        self.panel.profile_all()

    def _shown(self) -> bool:
        return self.details.is_open and self.details.currentWidget() is self.panel

    def _toggle(self, shown: bool) -> None:
        if shown == self._shown():
            return
        if not shown:
            self.details.collapse()
            return
        current, columns = self.view.currentIndex(), self._columns()
        if self.panel.cards or columns is None:
            self.details.show_tab(self.panel)
        else:
            self.profile_column(columns[current.column() if current.isValid() else 0])

    def _sync_button(self) -> None:
        with QSignalBlocker(self.button):
            self.button.setChecked(self._shown())

    def _on_current_column(self, current: QModelIndex, previous: QModelIndex) -> None:
        """With one column's profile shown, moving to another column profiles that one."""
        columns = self._columns()
        if columns is None or not current.isValid() or not self._shown() or len(self.panel.columns) != 1:
            return
        name = columns[current.column()]
        if name != self.panel.columns[0]:
            self.panel.profile([name])
