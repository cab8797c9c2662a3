"""The Blobs pane: what is inside one binary value (image, text, hex, size, type, SHA-256) and exporting it.

A cell arrives from Browse or a query result (`show_cell`), or the user picks table, column and row
here and steps through the rows. The value on show is read by the `BlobViewer` in bounded pieces;
"Save to file" writes it whole, and "Export column" writes every value of its column to a folder.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from desktop_app.core.blobs.export import BlobExportResult, export_blob, suggested_file_name
from desktop_app.core.blobs.name_preview import NameSample, table_name_samples
from desktop_app.core.blobs.names import format_name_value
from desktop_app.core.blobs.stepping import has_row_at, neighbour_key, value_at
from desktop_app.core.blobs.values import BlobRef, BlobSource, BlobSummary
from desktop_app.core.browse.row_labels import row_label
from desktop_app.core.browse.rows import ROWID_NAMES, key_columns, rowid_alias_column
from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.schema.catalog import Column, Table, TableKind
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.latest import LatestRequest
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.blobs.viewer import BlobViewer
from desktop_app.ui.settings import read_str
from desktop_app.ui.theme import error_style, follow
from desktop_app.ui.widgets.blob_export_dialog import BlobExportDialog, column_export_work
from desktop_app.ui.widgets.error_dialog import show_user_error
from desktop_app.ui.widgets.layout import hbox, push_button, vbox
from desktop_app.ui.widgets.names import add_name_item, name_label
from desktop_app.ui.widgets.save_dialog import save_file_dialog

SETTINGS_PREFIX = "blobs"
_EMPTY_HINT = "Open a blob cell in Browse (double-click it), or pick a table, column and row above."
_NO_DATABASE = "No database is open."
#: The row box's label when rows are picked by position ("row" always means a position, from 1).
_ROW_BY_POSITION = "Row:"


@dataclass(frozen=True)
class Cell:
    """The value on show: where it lives (table, column, key or position) or the value itself."""

    table: str | None  # None for a query result ("" is a table's name)
    column: str
    key: dict[str, Any] = field(default_factory=dict)
    value: Any = None
    position: int | None = None  # the row's position (from 0) in a table without keys, e.g. a view
    ref: BlobRef | None = None

    @property
    def source(self) -> BlobSource | None:
        """What the core reads: the reference, else the value in hand."""
        return self.ref if self.ref is not None else self.value

    @property
    def label(self) -> str:
        """`images.tile_data · rowid 5` (by key) or `v.data · row 2` (by position), for the details."""
        where = row_label(self.position, self.key) if self.key or self.position is not None else ""
        name = (
            f"{name_label(self.table)}.{self.column}"
            if self.table is not None
            else f"{self.column} (query result)"
        )
        return f"{name} · {where}" if where else name


def is_blobish(column: Column) -> bool:
    """True for a column that may hold blobs: declared BLOB, or with no type (which stores anything)."""
    declared = column.declared_type.upper()
    return not declared.strip() or "BLOB" in declared


def blob_rank(table: Table) -> int:
    """0 for a table with a declared BLOB column, 1 for one with an untyped column, 2 otherwise."""
    if any("BLOB" in c.declared_type.upper() for c in table.columns):
        return 0
    return 1 if any(is_blobish(c) for c in table.columns) else 2


class BlobsPane(Pane):
    """See what is inside a binary value and export it, one value or a whole column."""

    title = "Blobs"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.cell: Cell | None = None
        self.export_dialog: BlobExportDialog | None = None
        self._error: UserError | None = None
        self._navigation = LatestRequest()

        self.table_box = QComboBox()
        self.table_box.setMinimumContentsLength(18)
        self.table_box.setPlaceholderText("(query result)")
        self.table_box.activated.connect(self._on_table_picked)
        self.column_box = QComboBox()
        self.column_box.setMinimumContentsLength(14)
        self.column_box.activated.connect(self._on_column_picked)
        self.row_box = QLineEdit()
        self.row_box.setMaximumWidth(200)
        self.row_box.returnPressed.connect(self._on_row_entered)
        self.prev_button = QToolButton()
        self.prev_button.setArrowType(Qt.ArrowType.LeftArrow)
        self.prev_button.setToolTip("Previous row")
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button = QToolButton()
        self.next_button.setArrowType(Qt.ArrowType.RightArrow)
        self.next_button.setToolTip("Next row")
        self.next_button.clicked.connect(lambda: self.step(1))
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        follow(self.error_label, error_style)
        self.error_label.setVisible(False)
        self.error_label.linkActivated.connect(self._show_error_details)

        self.viewer = BlobViewer(context)
        self.viewer.summary_changed.connect(self._update_buttons)
        self.viewer.failed.connect(self._set_error)
        self.save_button = push_button("Save to file…", self.choose_save_path, "Write this value to a file")
        self.export_button = push_button(
            "Export column…",
            self.open_export_dialog,
            "Write every value of this column to its own file in a folder",
        )
        self.viewer.add_action(self.save_button)
        self.viewer.add_action(self.export_button)

        #: Says what the row box takes: the key's column names ("rowid:"), or "Row:" for a position.
        self.row_box_label = QLabel(_ROW_BY_POSITION)
        bar = hbox(
            QLabel("Table:"),
            self.table_box,
            QLabel("Column:"),
            self.column_box,
            self.row_box_label,
            self.row_box,
            self.prev_button,
            self.next_button,
        )
        bar.addStretch(1)
        vbox(bar, self.error_label, (self.viewer, 1), margins=4, parent=self)
        self.on_database_changed()

    @property
    def summary(self) -> BlobSummary | None:
        """What the value on show is (None until known)."""
        return self.viewer.summary

    # --- database and pickers -----------------------------------------------------------------

    def on_database_changed(self) -> None:
        """Refill the pickers; show the first row of the first table with blobs once the pane is seen."""
        self._stop_navigation()
        self.cell = None
        self._set_error(None)
        self.table_box.clear()
        catalog = self.context.catalog
        if catalog is not None and self.context.database is not None:
            # Declared BLOB columns first, then untyped ones (they store anything), then the rest.
            ordered = sorted(catalog.visible_tables(), key=blob_rank)
            for table in ordered:
                suffix = "" if table.kind is TableKind.TABLE else f"  ({table.kind.value})"
                add_name_item(self.table_box, table.name, suffix)
        self.table_box.setCurrentIndex(0 if self.table_box.count() else -1)
        self._fill_columns(self._picked_table(), None)
        self.row_box.clear()
        self.viewer.clear(_EMPTY_HINT if self.context.database is not None else _NO_DATABASE)
        if self.isVisible():
            self.step(0)

    def showEvent(self, event: QShowEvent) -> None:
        """Shown with nothing on show: show the first row of the picked table."""
        super().showEvent(event)
        if self.cell is None and not self._navigation.running and self._picked_table() is not None:
            self.step(0)

    def _table(self, name: str | None) -> Table | None:
        catalog = self.context.catalog
        return catalog.table(name) if catalog is not None and name is not None else None

    def _picked_table(self) -> Table | None:
        name = self.table_box.currentData()
        return self._table(name) if isinstance(name, str) else None

    def _fill_columns(self, table: Table | None, chosen: str | None) -> None:
        self.column_box.clear()
        if table is not None:
            blobish = [c.name for c in table.columns if is_blobish(c)]
            others = [c.name for c in table.columns if c.name not in blobish]
            for name in blobish:
                self.column_box.addItem(name, name)
            if blobish and others:
                self.column_box.insertSeparator(self.column_box.count())
            for name in others:
                self.column_box.addItem(name, name)
        if chosen is not None and self.column_box.findData(chosen) < 0:
            self.column_box.addItem(chosen, chosen)
        index = self.column_box.findData(chosen) if chosen is not None else 0
        self.column_box.setCurrentIndex(index if self.column_box.count() else -1)
        keys = key_columns(table) if table is not None else None
        named = ", ".join(keys) if keys is not None else ""
        self.row_box_label.setText(f"{named}:" if named else _ROW_BY_POSITION)
        self.row_box.setPlaceholderText("" if table is None else named or "row number")
        if table is None:
            self.row_box.setToolTip("")
        elif keys is None:
            self.row_box.setToolTip("Type a row number (1 is the first row) and press Enter")
        else:
            self.row_box.setToolTip(f"Type the {named} of a row and press Enter")
        order = f" (by {named})" if named else ""
        self.prev_button.setToolTip(f"Previous row{order}")
        self.next_button.setToolTip(f"Next row{order}")
        self.row_box.setEnabled(table is not None)
        for button in (self.prev_button, self.next_button):
            button.setEnabled(table is not None)

    def _on_table_picked(self, _index: int) -> None:
        self._fill_columns(self._picked_table(), None)
        self.cell = None
        self.row_box.clear()
        self.viewer.clear(_EMPTY_HINT)
        self.step(0)

    def _on_column_picked(self, _index: int) -> None:
        cell, column = self.cell, self.column_box.currentData()
        if not isinstance(column, str):
            return
        if cell is not None and cell.table is not None and (cell.key or cell.position is not None):
            self._go_to(cell.table, column, cell.key, cell.position)
        else:
            self.step(0)

    # --- showing a cell -------------------------------------------------------------------------

    def show_cell(self, table: str, column: str, key: dict[str, Any], value: object | None) -> None:
        """Show one cell: `key` finds it in `table` ({"rowid": 5}, primary-key values, or {} with `value`).

        A query result's cell comes with table "" and no key (a table named "" is found by its key).
        """
        self.refresh_if_stale()
        self._stop_navigation()
        key = dict(key or {})
        info = self._table(table) if table or key else None
        self.table_box.setCurrentIndex(self.table_box.findData(info.name) if info is not None else -1)
        self._fill_columns(info, column)
        self.row_box.setText(_key_text(key))
        ref = self._ref(table, column, key) if key else None
        self._load(
            Cell(table if table or key else None, column, key, None if ref is not None else value, None, ref)
        )

    def _ref(self, table: str, column: str, key: dict[str, Any]) -> BlobRef:
        """A reference by rowid where the key is the rowid (so blobopen reads it), else by key values."""
        info = self._table(table)
        name = info.name if info is not None else table
        if len(key) == 1:
            ((key_name, value),) = key.items()
            shadowed = info is not None and info.column(key_name) is not None
            alias = info is not None and key_name == rowid_alias_column(info)
            if isinstance(value, int) and (alias or (key_name.lower() in ROWID_NAMES and not shadowed)):
                return BlobRef("main", name, column, rowid=value)
        return BlobRef.by_key("main", name, column, key)

    def _load(self, cell: Cell) -> None:
        self._set_error(None)
        self.cell = cell
        self.viewer.show_source(cell.label, cell.source)
        self._update_buttons()

    # --- rows -----------------------------------------------------------------------------------

    def step(self, direction: int) -> None:
        """Show the first row (0), or the previous (-1) or next (1) row of the picked table."""
        table, column = self._picked_table(), self.column_box.currentData()
        database = self.context.database
        if table is None or database is None or not isinstance(column, str):
            return
        cell = self.cell if self.cell is not None and self.cell.table == table.name else None
        keys = key_columns(table)

        async def work(job: Job) -> tuple[dict[str, Any], int | None] | None:
            token = job.cancel_token
            if keys is None:  # no key: rows by position (views, virtual tables)
                position = 0 if cell is None or direction == 0 else (cell.position or 0) + direction
                if position < 0:
                    return None
                found = await database.run_sync(has_row_at, table, position, cancel=token)
                return ({}, position) if found else None
            current = cell.key if cell is not None else None
            key = await database.run_sync(neighbour_key, table, keys, current, direction, cancel=token)
            return (key, None) if key is not None else None

        def done(found: tuple[dict[str, Any], int | None] | None) -> None:
            if found is not None:
                self._go_to(table.name, column, *found)
            elif direction:
                self.status_message.emit(f"This is the {'first' if direction < 0 else 'last'} row.")
            else:
                self.cell = None
                self.row_box.clear()
                self.viewer.clear(f"“{name_label(table.name)}” has no rows.")

        self._navigate("Finding the row", work, done)

    def _go_to(self, table: str, column: str, key: dict[str, Any], position: int | None) -> None:
        if position is None:
            self.show_cell(table, column, key, None)
            return
        database, info = self.context.database, self._table(table)
        if database is None or info is None:
            return
        self.row_box.setText(str(position + 1))

        async def work(job: Job) -> Any:
            return await database.run_sync(value_at, info, column, position, cancel=job.cancel_token)

        self._navigate(
            "Reading the row", work, lambda value: self._load(Cell(info.name, column, {}, value, position))
        )

    def _navigate(self, label: str, work: Any, done: Any) -> None:
        """Run a row look-up; a newer one, or a cell shown meanwhile, replaces it."""

        def on_error(error: UserError) -> None:
            if not isinstance(error, Cancelled):
                self._set_error(error)

        self._navigation.start(
            self.context.jobs, label, work, on_done=done, on_error=on_error, show=False, owner=self
        )

    def _stop_navigation(self) -> None:
        self._navigation.cancel()

    def _on_row_entered(self) -> None:
        table, column = self._picked_table(), self.column_box.currentData()
        text = self.row_box.text().strip()
        if table is None or not isinstance(column, str) or not text:
            return
        keys = key_columns(table)
        try:
            if keys is None:
                position = int(text.replace(",", "")) - 1
                if position < 0:
                    raise ValueError(text)
                self._go_to(table.name, column, {}, position)
                return
            values = next(csv.reader([text], skipinitialspace=True)) if len(keys) > 1 else [text]
            if len(values) != len(keys):
                raise ValueError(text)
            self.show_cell(table.name, column, dict(zip(keys, map(_typed, values), strict=True)), None)
        except ValueError:
            expected = "a row number" if keys is None else ", ".join(keys)
            self._set_error(UserError(f"“{text}” does not name a row here: write {expected}."))

    # --- saving and exporting -------------------------------------------------------------------

    def _update_buttons(self, *_args: object) -> None:
        summary, cell = self.viewer.summary, self.cell
        self.save_button.setEnabled(summary is not None and summary.storage in ("blob", "text"))
        table = self._table(cell.table) if cell is not None else None
        self.export_button.setEnabled(table is not None and cell is not None and bool(table.columns))

    def choose_save_path(self) -> None:
        """Ask where to save the value on show (non-blocking dialog), then save it."""
        cell, summary = self.cell, self.viewer.summary
        if cell is None or summary is None:
            return
        ext = summary.extension
        name = suggested_file_name(cell.ref, summary.mime) if cell.ref else f"{cell.column or 'blob'}{ext}"
        folder = read_str(self.context.settings, f"{SETTINGS_PREFIX}/save_folder", str(Path.home()))
        dialog = save_file_dialog(self, "Save blob to file", str(Path(folder) / name))
        dialog.setNameFilters([f"{ext.lstrip('.').upper()} files (*{ext})", "All files (*)"])
        dialog.fileSelected.connect(self.save_to)
        dialog.open()

    def save_to(self, path: str, overwrite: bool = True) -> Job | None:
        """Write the value on show to `path` in a job (the file dialog has already asked about replacing)."""
        cell, database = self.cell, self.context.database
        if cell is None or database is None:
            return None
        self.context.settings.setValue(f"{SETTINGS_PREFIX}/save_folder", str(Path(path).parent))

        async def work(job: Job) -> Path:
            save = functools.partial(
                export_blob,
                overwrite=overwrite,
                progress=job.progress_callback(),
                cancel=job.cancel_token,
                source_path=database.snapshot.path,
            )
            return await database.run_sync(save, cell.source, path, cancel=job.cancel_token)

        return self.context.jobs.start(
            f"Saving {Path(path).name}",
            work,
            on_done=lambda target: self.status_message.emit(f"Saved {target}."),
            on_error=self._set_error,
            owner=self,
        )

    def open_export_dialog(self) -> None:
        """Read the first rows for the name preview, then open the bulk export dialog for this column."""
        cell, database = self.cell, self.context.database
        table = self._table(cell.table) if cell is not None else None
        if cell is None or table is None or database is None:
            return
        column = cell.column

        async def work(job: Job) -> list[NameSample]:
            return await database.run_sync(table_name_samples, table, column, cancel=job.cancel_token)

        self.context.jobs.start(
            "Preparing the export",
            work,
            on_done=lambda samples: self._show_export_dialog(table, column, samples),
            on_error=self._set_error,
            show=False,
            owner=self,
        )

    def _show_export_dialog(self, table: Table, column: str, samples: list[NameSample]) -> None:
        database = self.context.database
        if database is None:
            return
        if self.export_dialog is not None and self.export_dialog.job is None:
            self.export_dialog.close()
            self.export_dialog.deleteLater()
        self.export_dialog = BlobExportDialog(
            self.context.jobs,
            self.context.settings,
            title=f"Export {name_label(table.name)}.{column}",
            description=(
                f"Write each value of “{name_label(table.name)}.{column}” to its own file in a folder. "
                "NULLs get no file; anything in a value that would make a name unsafe is replaced."
            ),
            fields=[c.name for c in table.columns],
            samples=samples,
            work=column_export_work(database, table, column),
            settings_prefix=f"{SETTINGS_PREFIX}/export",
            parent=self,
        )
        self.export_dialog.exported.connect(self._on_exported)
        self.export_dialog.open()

    def _on_exported(self, result: BlobExportResult) -> None:
        self.status_message.emit(result.summary())

    # --- errors and state -----------------------------------------------------------------------

    def _set_error(self, error: UserError | None) -> None:
        self._error = error
        if error is None:
            self.error_label.setVisible(False)
            return
        more = ' <a href="details">Details…</a>' if error.details else ""
        self.error_label.setText(f"{_escape(error.message)}{more}")
        self.error_label.setVisible(True)

    def _show_error_details(self, _link: str) -> None:
        if self._error is not None:
            show_user_error(self, "Blobs", self._error)

    def save_state(self) -> dict[str, Any]:
        """The cell on show, to show it again after a reload."""
        cell = self.cell
        if cell is None or cell.table is None:
            return {}
        return {"table": cell.table, "column": cell.column, "key": dict(cell.key), "position": cell.position}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Show the saved cell again if its table still exists."""
        name, column = state.get("table"), state.get("column")
        table = self._table(name) if isinstance(name, str) else None
        if table is None or not isinstance(column, str):
            return
        key, position = state.get("key") or {}, state.get("position")
        if key:
            self.show_cell(table.name, column, key, None)
        elif isinstance(position, int):
            self.table_box.setCurrentIndex(self.table_box.findData(table.name))
            self._fill_columns(table, column)
            self._go_to(table.name, column, {}, position)


def _key_text(key: dict[str, Any]) -> str:
    """A key as the row box shows it: `5`, or `en, 7` for a compound key."""
    if len(key) == 1:
        return format_name_value(next(iter(key.values())))
    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow([format_name_value(value) for value in key.values()])
    return line.getvalue().replace(",", ", ")


def _typed(text: str) -> int | float | str:
    """A key typed by the user: a number when it reads as one (column affinity handles the rest)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
