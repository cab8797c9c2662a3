"""Keeps a value inspector on a grid's current cell: reads the whole value when the grid holds only its
head, and passes the column's time encoding; the inspector's encoding choice goes to the grid's
`TimeColumns`."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QTableView

from desktop_app.core.browse.paging import Truncated
from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS
from desktop_app.ui.latest import LatestRequest
from desktop_app.ui.models.column_times import ColumnTime
from desktop_app.ui.models.table_model import WindowedTableModel
from desktop_app.ui.tasks import Tasks
from desktop_app.ui.widgets.time_columns import TimeColumns
from desktop_app.ui.widgets.value_inspector import ValueInspector


class InspectCell(QObject):
    """Shows `view`'s current cell in `inspector` while `shown()` says the inspector is on screen."""

    def __init__(
        self,
        view: QTableView,
        model: WindowedTableModel,
        inspector: ValueInspector,
        times: TimeColumns,
        shown: Callable[[], bool],
        row_label: Callable[[int], str] = lambda row: f"row {row + 1:,}",
    ) -> None:
        super().__init__(inspector)
        self.view, self.model, self.inspector, self.times = view, model, inspector, times
        self.shown, self.row_label = shown, row_label
        self._latest = LatestRequest()
        self._tasks = Tasks()
        view.selectionModel().currentChanged.connect(lambda *_: self.update())
        model.times_changed.connect(self.update)
        model.modelReset.connect(self.update)
        model.loaded_changed.connect(self._on_loaded)
        self._waiting = False  # the current cell's row was not loaded when last shown
        inspector.encoding_chosen.connect(self._on_encoding_chosen)

    def update(self) -> None:
        """Show the current cell (the whole value is read first when the grid holds only its head)."""
        if not self.shown():
            return
        index = self.view.currentIndex()
        source = self.model.source
        ticket = self._latest.begin()
        row = self.model.real_row(index.row()) if index.isValid() else -1
        values = self.model.row_values(row) if row >= 0 else None
        self._waiting = index.isValid() and values is None
        if source is None or values is None or not 0 <= index.column() < len(source.columns):
            self.inspector.show_value(None, column="", where="", placeholder=True)
            return
        column = index.column()
        value = values[column]
        if isinstance(value, Truncated) and value.size <= LIMITS.value_inspector_max_bytes:
            key = self.model.row_key(row) or ()

            async def whole() -> None:
                try:
                    full = await source.full_value(column, key, row)
                except UserError:
                    full = value  # the head is still worth showing
                if ticket.current:
                    self._show(column, row, full)

            self._tasks.spawn(whole())
            return
        self._show(column, row, value)

    def _on_loaded(self) -> None:
        if self._waiting:
            self.update()

    def _show(self, column: int, row: int, value: object) -> None:
        source = self.model.source
        assert source is not None
        name = source.columns[column].name
        self.inspector.show_value(
            value,
            column=name,
            declared_type=source.columns[column].declared_type,
            where=self.row_label(row),
            time=ColumnTime(
                self.model.time_encoding(column),
                self.model.guessed_time_encoding(column),
                self.model.time_overrides.get(name),
            ),
        )

    def _on_encoding_chosen(self, column: str, encoding: str | None) -> None:
        if column:
            self.times.choose(column, encoding)  # the model says times_changed: the inspector follows

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until a whole value being read has arrived (tests)."""
        await self._tasks.wait(timeout)
