"""The selected cells of a grid as values, for Copy and Copy as: exactly the cells selected, nothing between.

Rows are read in contiguous runs (Ctrl-clicked rows 1 and 90,000 fetch two rows, not 90,000), from the
model's cache where loaded. Long values the grid holds in part are fetched whole when the format must
be exact (JSON, SQL); the human formats copy what the grid shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QTableView

from desktop_app.core.browse.paging import Truncated
from desktop_app.core.errors import UserError
from desktop_app.core.export.clipboard import CellSelection
from desktop_app.core.limits import LIMITS
from desktop_app.ui.models.table_model import WindowedTableModel


@dataclass(frozen=True)
class Selected:
    """The cells read, and how many rows were selected in all (more than read when capped)."""

    cells: CellSelection
    selected_rows: int


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """(start, count) of each run of consecutive row numbers in sorted `rows`."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][0] + runs[-1][1] == row:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((row, 1))
    return runs


async def selected_cells(
    view: QTableView, model: WindowedTableModel, *, whole: bool = False
) -> Selected | None:
    """The selected, visible cells of `view` by real row; None when nothing is selected.

    At most `LIMITS.grid_copy_max_rows` rows are read (the first ones). With `whole`, values the grid
    holds in part are read whole (UserError when a row's key is not known any more).
    """
    source = model.source
    indexes = view.selectionModel().selectedIndexes()
    if source is None or not indexes:
        return None
    by_row: dict[int, set[int]] = {}
    for index in indexes:
        if not view.isColumnHidden(index.column()):
            by_row.setdefault(model.real_row(index.row()), set()).add(index.column())
    if not by_row:
        return None
    rows = sorted(by_row)
    wanted = rows[: LIMITS.grid_copy_max_rows]
    values: dict[int, tuple[Any, ...]] = {}
    for start, count in _runs(wanted):
        for offset, row in enumerate(await model.rows(start, count)):
            values[start + offset] = row
    cells: list[dict[int, Any]] = []
    for row in wanted:
        if row not in values:
            continue
        picked = {column: values[row][column] for column in sorted(by_row[row])}
        if whole:
            for column, value in picked.items():
                if isinstance(value, Truncated):
                    key = model.row_key(row)
                    if key is None:
                        raise UserError("A long value left the grid's memory: scroll to it and copy again.")
                    picked[column] = await source.full_value(column, key, row)
        cells.append(picked)
    names = [column.name for column in source.columns]
    return Selected(CellSelection(names, cells), len(rows))
