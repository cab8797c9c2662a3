"""The per-column timestamp choices of a grid: "Show as time" and "Interpret as → …" in its header menu,
applied to the grid model and remembered per database and table."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from desktop_app.core.values.timestamps import ENCODINGS
from desktop_app.ui.models.column_times import NOT_A_TIMESTAMP, TimePreferences
from desktop_app.ui.models.table_model import WindowedTableModel

#: Where the choices are remembered: (database path or None, table name; "" for query results).
Scope = Callable[[], tuple[str | None, str]]


class TimeColumns(QObject):
    """Applies and remembers one grid's timestamp choices."""

    def __init__(self, model: WindowedTableModel, preferences: TimePreferences, scope: Scope) -> None:
        super().__init__(model)
        self.model, self.preferences, self.scope = model, preferences, scope

    def load(self) -> None:
        """Apply the choices remembered for the current scope (call when the grid shows another table)."""
        encodings, shown = self.preferences.load(*self.scope())
        self.model.set_time_preferences(encodings, shown)

    def choose(self, column: str, encoding: str | None) -> None:
        """Read `column` with the encoding named `encoding` (`NOT_A_TIMESTAMP`: none; None: the guess)."""
        overrides = dict(self.model.time_overrides)
        if encoding is None:
            overrides.pop(column, None)
        else:
            overrides[column] = encoding
        self._store(overrides, self.model.times_shown)

    def show_as_time(self, column: str, shown: bool) -> None:
        """Show `column`'s cells as decoded times (True) or as stored."""
        names = set(self.model.times_shown)
        (names.add if shown else names.discard)(column)
        self._store(self.model.time_overrides, names)

    def _store(self, overrides: dict[str, str], shown: set[str]) -> None:
        self.model.set_time_preferences(overrides, shown)
        self.preferences.save(*self.scope(), overrides, shown)

    def add_to_menu(self, menu: QMenu, column: int) -> None:
        """Add "Show as time" and "Interpret as → …" for grid column `column` to `menu`."""
        source = self.model.source
        if source is None or not 0 <= column < len(source.columns):
            return
        name = source.columns[column].name
        encoding = self.model.time_encoding(column)
        show = menu.addAction("Show as time")
        show.setCheckable(True)
        show.setChecked(self.model.time_shown(column))
        show.setEnabled(encoding is not None)
        show.setToolTip("Show the decoded time in the cells (the stored value stays in the tooltip)")
        show.toggled.connect(lambda on: self.show_as_time(name, on))
        submenu = menu.addMenu("Interpret as")
        group = QActionGroup(submenu)
        override = self.model.time_overrides.get(name)
        guessed = self.model.guessed_time_encoding(column)
        automatic = f"Automatic ({guessed.label if guessed else 'no timestamp found'})"
        choices: list[tuple[str, str | None]] = [(automatic, None)]
        choices += [(e.label, e.name) for e in ENCODINGS] + [("Not a timestamp", NOT_A_TIMESTAMP)]
        for label, key in choices:
            action = QAction(label, submenu)
            action.setCheckable(True)
            action.setChecked(override == key)
            action.triggered.connect(lambda _=False, k=key: self.choose(name, k))
            group.addAction(action)
            submenu.addAction(action)
            if key is None:
                submenu.addSeparator()
