"""The Browse pane: any table of any size in a lazy grid, with sort, filters, copy and a cell viewer.

Beside the grid, a details area: the value inspector and the column profile; foreign keys are links
(Ctrl+click) with Back/Forward along the trail; a cell's menu filters on its value and finds in the rows
(Ctrl+F). The pane keeps the grid and what it shows; each feature's glue has its own module: values.py
(timestamps, value inspector), profile_side.py (column profile), navigation.py (links, Back/Forward),
cell_filters.py (filter on a value, find).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    QRegularExpression,
    QSignalBlocker,
    Qt,
    QTimer,
)
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QRegularExpressionValidator, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.browse.filters import parse_filter
from desktop_app.core.browse.paging import SortKey, Truncated, sort_markers, toggle_sort
from desktop_app.core.browse.references import IncomingReference
from desktop_app.core.browse.row_labels import row_label
from desktop_app.core.browse.row_sources import TableRowSource
from desktop_app.core.errors import UserError
from desktop_app.core.export.clipboard import CopyFormat
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import Table
from desktop_app.core.sqlite.quoting import quote_identifier
from desktop_app.ui.context import AppContext
from desktop_app.ui.models import cell_format
from desktop_app.ui.models.selection import selected_cells
from desktop_app.ui.models.table_model import WindowedTableModel, track_viewport
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.browse.cell_filters import CellFilters
from desktop_app.ui.panes.browse.filter_header import FilterHeader
from desktop_app.ui.panes.browse.grid_message import GridMessage
from desktop_app.ui.panes.browse.navigation import LinkNavigation
from desktop_app.ui.panes.browse.profile_side import BrowseProfile
from desktop_app.ui.panes.browse.values import BrowseValues
from desktop_app.ui.settings import read_column_widths, write_column_widths
from desktop_app.ui.tasks import Tasks
from desktop_app.ui.theme import bad_input_style
from desktop_app.ui.widgets.cell_viewer import CellViewer
from desktop_app.ui.widgets.chart import ChartSource, open_chart
from desktop_app.ui.widgets.copy_as_menu import CopyHeaders, add_copy_as_menu, copy_selected
from desktop_app.ui.widgets.grid_window import GridView, GridWindow
from desktop_app.ui.widgets.layout import push_button
from desktop_app.ui.widgets.names import add_name_item
from desktop_app.ui.widgets.row_header import RowNumberHeader

_COLUMN_MIN_PX, _COLUMN_MAX_PX = 64, 320


@dataclass(frozen=True)
class ShownRows:
    """The rows Browse shows, as a statement to export."""

    table: str
    sql: str
    params: tuple[Any, ...]
    #: Rows under the filters, when counted.
    total: int | None
    #: True when a filter or sort is active (the export is not the plain table).
    narrowed: bool


class BrowsePane(Pane):
    """Pick a table, scroll through it, sort, filter, copy, open cells."""

    title = "Browse"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.table: Table | None = None
        self.source: TableRowSource | None = None
        self.sort: list[SortKey] = []
        self.filters: dict[str, str] = {}
        #: Copy as … CSV/TSV starts with a header row (the Copy as menu's check box).
        self.copy_headers = CopyHeaders()
        self.unfiltered_total: int | None = None
        self._auto_widths: dict[int, int] = {}
        #: Columns the user sized (now or for this table before): never fitted again.
        self._user_widths: dict[int, int] = {}
        #: Where the columns were last fitted: (top row, table). A new sort or filter is not a new table.
        self._sized_at: tuple[int, str] | None = None
        #: Columns whose cells show a decoded time: when that changes they need fitting again.
        self._time_columns: set[int] = set()
        self._pending_top_row: int | None = None
        #: Selection to put back once the rows exist: (current row, column) and (top, left, bottom, right).
        self._pending_selection: tuple[list[int] | None, list[list[int]]] | None = None
        self._tasks = Tasks()
        self.viewer: CellViewer | None = None

        self.picker = QComboBox()
        self.picker.setMinimumContentsLength(24)
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.currentIndexChanged.connect(self._on_picked)
        self.goto = QLineEdit()
        self.goto.setPlaceholderText("Go to row (Ctrl+G)")
        self.goto.setToolTip("Row number in the order shown: 1 is the first row (Ctrl+G)")
        self.goto.setValidator(QRegularExpressionValidator(QRegularExpression(r"[1-9][0-9]{0,17}"), self))
        self.goto.setMaximumWidth(160)
        self.goto.returnPressed.connect(self._on_goto)
        self.status = QLabel()
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.model = WindowedTableModel(self)
        self.view = GridView()
        self.header = FilterHeader(self.view)
        self.view.setHorizontalHeader(self.header)
        self.view.setModel(self.model)
        self.view.setWordWrap(False)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._cell_menu)
        rows = RowNumberHeader(self.view)
        self.view.setVerticalHeader(rows)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.header.sectionPressed.disconnect()  # a click sorts; it does not select the whole column
        self.header.sectionClicked.connect(self._on_header_clicked)
        self.header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.header.customContextMenuRequested.connect(self._header_menu)
        self.header.filters_changed.connect(self._on_filters_edited)
        self.header.viewport().installEventFilter(self)  # a resize by the user ends with a release
        self.view.doubleClicked.connect(self.open_cell)
        self.tracker = track_viewport(self.view, self.model)
        #: The view beside a scroll bar over every real row (the view itself shows a window of them).
        self.grid = GridWindow(self.view, self.model, self.tracker)
        # The grid stays anchored top-left when the details area opens or closes beside it: Qt then
        # repaints only what a resize uncovers, not the whole grid (its full repaint, 14-23 ms of the GUI
        # thread, was the longest callback while the profile panel opened and profiled).
        for widget in (self.grid, self.view, self.view.viewport()):
            widget.setAttribute(Qt.WidgetAttribute.WA_StaticContents, True)
        self.model.count_changed.connect(self._on_loaded)
        self.model.loaded_changed.connect(self._on_loaded)
        self.model.failed.connect(self._show_error)
        #: Over the grid's rows: why some rows could not be read (the status line is easy to miss).
        self.read_error = GridMessage(self.view)
        self.model.read_errors_changed.connect(self._show_read_error)
        #: Foreign keys as links (Ctrl+click follows one), rows referring to a row, Back/Forward.
        self.navigation = LinkNavigation(self, self._show_error)
        self.links, self.trail = self.navigation.links, self.navigation.trail
        self.back_button, self.forward_button = self.navigation.back_button, self.navigation.forward_button
        #: Filter on (or exclude) a value; find in the rows (Ctrl+F).
        self.cell_filters = CellFilters(self, self._show_error)
        self.find_bar = self.cell_filters.find_bar
        self.model.times_changed.connect(self._on_times_changed)
        #: Timestamp columns (guess and choices) and the details area beside the grid (collapsed until a tab
        #: is shown): the value inspector (Value) and the column profile (Profile).
        self.values = BrowseValues(
            self.model,
            self.view,
            self.grid,
            context.settings,
            context.jobs,
            self._time_scope,
            self._row_label,
        )
        self.values.inspector.filter_requested.connect(self.filter_json_path)
        self.times, self.details, self.inspector = (
            self.values.times,
            self.values.details,
            self.values.inspector,
        )
        self.inspect, self.details_button = self.values.inspect, self.values.button
        #: The column profile (a tab of the details area) and its button.
        self.column_profile = BrowseProfile(
            context,
            self.view,
            self.details,
            lambda: self.table,
            lambda: [c.name for c in self.source.columns] if self.source is not None else None,
            lambda column, value: self.filter_on_value(column, value),
        )
        self.profile_panel, self.profile_button = self.column_profile.panel, self.column_profile.button

        view, pane = self.view, self
        for keys, slot, owner in (
            (QKeySequence.StandardKey.Copy, lambda: self.copy_later("\t", False), view),
            (QKeySequence(Qt.Key.Key_Return), self._open_current, view),
            (QKeySequence(Qt.Key.Key_Enter), self._open_current, view),
            (QKeySequence("Ctrl+G"), self._focus_goto, pane),
            (QKeySequence.StandardKey.Find, self.find_bar.open_bar, pane),
            (QKeySequence("Alt+Left"), self.go_back, pane),
            (QKeySequence("Alt+Right"), self.go_forward, pane),
            (QKeySequence(Qt.Key.Key_F4), lambda: self.details_button.toggle(), pane),
        ):
            shortcut = QShortcut(keys, owner)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

        bar = QHBoxLayout()
        bar.addWidget(self.back_button)
        bar.addWidget(self.forward_button)
        bar.addWidget(QLabel("Table:"))
        bar.addWidget(self.picker)
        bar.addWidget(self.goto)
        bar.addStretch(1)
        bar.addWidget(self.details_button)
        bar.addWidget(self.profile_button)
        self.chart_button = push_button(
            "Chart…", self.chart, "Draw every row as Browse shows it (filters too) as a chart or histogram"
        )
        bar.addWidget(self.chart_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.values.split, 1)
        layout.addWidget(self.find_bar)
        layout.addWidget(self.status)
        self.navigation.update_buttons()
        self.on_database_changed()

    # --- database and table -------------------------------------------------------------------

    def on_database_changed(self) -> None:
        """Refill the picker; keep showing the same table (same sort and filters) when it still exists."""
        catalog = self.context.catalog
        shown = self.table.name if self.table is not None else None
        with QSignalBlocker(self.picker):
            self.picker.clear()
            if catalog is not None and self.context.database is not None:
                for table in catalog.visible_tables():
                    add_name_item(self.picker, table.name, f"  ({table.kind.value})")
            self.picker.setCurrentIndex(-1)
        previous, self.table = self.table, None
        table = catalog.table(shown) if shown is not None and catalog is not None else None
        if table is not None:
            if table == previous:  # same definition (e.g. the same state, now in memory): keep the header
                self.table = previous
            self._open(table, self.sort, self.filters)
        else:
            self.source = None
            self.model.set_source(None)
            self.header.set_columns([], {})
            self._table_shown()
            self._update_status()

    def show_table(self, name: str) -> None:
        """Show table `name` from its first row, unsorted and unfiltered."""
        self.refresh_if_stale()
        catalog = self.context.catalog
        table = catalog.table(name) if catalog is not None else None
        if table is None or self.context.database is None:
            self.status_message.emit(f"There is no table “{name}”.")
            return
        self._open(table, [], {})

    def show_row(self, table_name: str, key: dict[str, Any]) -> None:
        """Open `table_name`, scroll to the row with `key` and select it."""
        self.refresh_if_stale()
        if self.table is None or self.table.name != table_name:
            self.show_table(table_name)
        if self.source is not None:
            self._tasks.spawn(self._show_row(dict(key)))

    def _open(self, table: Table, sort: list[SortKey], filters: dict[str, str]) -> None:
        database = self.context.database
        assert database is not None
        same_table = self.table is not None and self.table.name == table.name
        try:
            source = TableRowSource(database, table, sort, filters)
        except UserError as exc:
            if sort or filters:  # a saved sort/filter no longer fits the table: start plain
                self._open(table, [], {})
                return
            # Name the table in the picker and empty the grid, so the picker and the grid agree.
            self.table, self.source, self.sort, self.filters = table, None, [], {}
            self._select_in_picker(table.name)
            self.model.set_source(None)
            self.header.set_columns([], {})
            self._table_shown()
            self._show_error(exc)
            return
        if (
            same_table
            and self.source is not None
            and self.source.database.generation == database.generation
            and (list(sort), dict(filters)) == (self.sort, self.filters)
        ):
            # The same data through another database (the quick direct view, now in memory): no reload.
            self.source = source
            self._select_in_picker(table.name)
            self.values.load_choices()
            self.model.replace_source(source)  # stops a time guess still running on the old database
            self.values.guess(source)
            self._table_shown()
            self._update_status()
            return
        if self.source is None:
            self.read_error.hide()  # why the last table could not be shown
        same_rows = same_table and dict(filters) == self.filters and self.model.exact
        keep_top = self.grid.top_row() if same_rows else 0
        self.table, self.source, self.sort, self.filters = table, source, list(sort), dict(filters)
        self._select_in_picker(table.name)
        self.values.load_choices()  # before the first rows arrive
        self.model.set_source(source, rows_hint=self.model.total_rows if same_rows else None)
        self.model.set_header_markers(sort_markers(self.sort, [c.name for c in source.columns]))
        if not same_table:
            self.header.set_columns([c.name for c in source.columns], self.filters)
            self.unfiltered_total = None
            self._auto_widths, self._sized_at = {}, None
            for column in range(self.model.columnCount()):
                self.view.setColumnHidden(column, False)
            self._apply_remembered_widths()
        if self.filters and self.unfiltered_total is None:
            self._tasks.spawn(self._count_unfiltered(source))
        self.values.guess(source)
        if keep_top:  # the same rows in a new order: stay at the same row number
            self.scroll_to_row(keep_top, select=False)
        else:
            self.view.scrollToTop()
        self._table_shown()
        self._update_status()

    def _table_shown(self) -> None:
        """Tell the parts that follow the table (links, profile) which one is shown now."""
        self.column_profile.set_table(self.table)
        self.navigation.table_shown()

    def _select_in_picker(self, name: str) -> None:
        with QSignalBlocker(self.picker):
            if self.picker.findData(name) < 0:  # a hidden (shadow/internal) table opened from the tree
                add_name_item(self.picker, name)
            self.picker.setCurrentIndex(self.picker.findData(name))

    def _on_picked(self, index: int) -> None:
        name = self.picker.itemData(index)
        if isinstance(name, str) and (self.table is None or self.table.name != name):
            self.show_table(name)

    async def _count_unfiltered(self, source: TableRowSource) -> None:
        total = await TableRowSource(source.database, source.table).count(CancelToken())
        if self.table is source.table:
            self.unfiltered_total = total
            self._update_status()

    # --- details -------------------------------------------------------------------------------

    def show_details(self, shown: bool = True) -> None:
        """Open (or collapse) the details area beside the grid, showing the current cell."""
        self.values.show_details(shown)

    def _on_times_changed(self) -> None:
        shown = {c for c in range(self.model.columnCount()) if self.model.time_shown(c)}
        if shown == self._time_columns:
            return  # a guess for a new sort or filter: the grid keeps its widths
        self._time_columns = shown
        self._sized_at = None  # a column shown as time needs room for it
        self._size_columns()

    def _time_scope(self) -> tuple[str | None, str]:
        database = self.context.database
        path = str(database.snapshot.path) if database is not None else None
        return path, self.table.name if self.table is not None else ""

    def _row_label(self, row: int) -> str:
        key = self.model.row_key(row) or ()
        source = self.source
        key_dict = source.pager.key_dict(key) if source is not None and source.pager.has_key else {}
        return row_label(row, key_dict)

    # --- sort and filters ---------------------------------------------------------------------

    def _on_header_clicked(self, section: int) -> None:
        if self.source is None:
            return
        name = self.source.columns[section].name
        add = bool(QGuiApplication.keyboardModifiers() & Qt.KeyboardModifier.ControlModifier)
        self.set_sort(toggle_sort(self.sort, name, add))

    def set_sort(self, sort: list[SortKey]) -> None:
        """Re-query the table in `sort` order (ties broken by the row key)."""
        if self.table is not None:
            self._open(self.table, sort, self.filters)

    def _on_filters_edited(self) -> None:
        if self.source is None or self.table is None:
            return
        filters: dict[str, str] = {}
        bad: list[str] = []
        for column, editor in zip(self.source.columns, self.header.editors, strict=False):
            text = editor.text()
            try:
                parse_filter(quote_identifier(column.name), text)
                editor.setStyleSheet("")
            except UserError as exc:
                editor.setStyleSheet(bad_input_style())
                bad.append(f"{column.name}: {exc.message}")
                continue
            if text.strip():
                filters[column.name] = text
        if bad:
            self.status.setText("Filter not applied — " + "; ".join(bad))
            return
        if filters != self.filters:
            self._open(self.table, self.sort, filters)

    def set_filters(self, filters: dict[str, str]) -> None:
        """Filter the table (column → filter text) as if typed in the filter boxes."""
        if self.table is not None:
            columns = self.source.columns if self.source else []
            for column, editor in zip(columns, self.header.editors, strict=False):
                with QSignalBlocker(editor):
                    editor.setText(filters.get(column.name, ""))
            self._open(self.table, self.sort, filters)

    # --- status -------------------------------------------------------------------------------

    def _update_status(self) -> None:
        if self.source is None:
            if self.table is None:
                self.status.setText("No table selected." if self.context.database else "No database open.")
            return
        rows = self.model.total_rows
        counting = "count failed" if self.model.count_error is not None else "counting…"
        # Until the count arrives: an estimate (max rowid, the previous count) or the rows seen so far.
        about = "≈" if self.model.estimated else "≥"
        count = f"{rows:,}" if self.model.exact else f"{about} {rows:,} ({counting})"
        text = f"rows {count}"
        if self.filters:
            total = f"{self.unfiltered_total:,}" if self.unfiltered_total is not None else "…"
            text += f" (filtered from {total})"
        text += f", loaded {self.model.loaded_rows:,}"
        self.status.setText(text)

    def _on_loaded(self) -> None:
        self._update_status()
        self._size_columns()
        if self._pending_top_row is not None and self.model.exact:
            row, self._pending_top_row = self._pending_top_row, None
            self.scroll_to_row(row, select=False)
        if self._pending_selection is not None and self.model.exact:
            self._select(*self._pending_selection)

    def _show_error(self, error: UserError) -> None:
        self.status.setText(f"⚠ {error.message}")
        self.status_message.emit(error.message)
        if self.source is None:  # nothing could be shown at all: say why over the empty grid
            why = f" SQLite says: {error.details}" if error.details else ""
            self.read_error.show_message(f"⚠ {error.message}{why}")

    def _show_read_error(self) -> None:
        error = self.model.read_error
        if error is None:
            self.read_error.hide()
            return
        error = error.rstrip(".")
        if "malformed" in error or "corrupt" in error.lower():
            error += " (the file is damaged)"
        first = self.model.first_unreadable_row
        if first is None:
            text = f"⚠ The rows could not be counted to the end: {error}. The count shown is an estimate."
        else:
            text = (
                f"⚠ Some rows could not be read, the first is row {first + 1:,}: {error}. "
                "Rows that could be read are shown; the others say “unreadable”."
            )
        self.read_error.show_message(text)

    def _size_columns(self) -> None:
        """Widen columns to fit titles and the rows on screen, within bounds; never undo a user's resize."""
        top = self.grid.top_row()
        if self.table is None or (top, self.table.name) == self._sized_at or not self.model.is_loaded(top):
            return
        self._sized_at = (top, self.table.name)
        rows = [self.model.row_values(r) for r in range(top, min(self.model.total_rows, top + 50))]
        rows = [r for r in rows if r is not None]
        if not rows:
            return
        metrics = self.view.fontMetrics()
        widths: dict[int, int] = {}
        for column in range(self.model.columnCount()):
            chosen = self._auto_widths.get(column)
            if (
                self.view.isColumnHidden(column)
                or column in self._user_widths
                or (chosen is not None and self.view.columnWidth(column) != chosen)
            ):
                continue  # hidden, or resized by the user
            title = str(self.model.headerData(column, Qt.Orientation.Horizontal)) + "  ▲9"
            texts = [title] + [self.model.cell_text(r, column) for r in rows]
            widest = max(metrics.horizontalAdvance(t) for t in texts) + 16
            width = max(_COLUMN_MIN_PX, min(widest, _COLUMN_MAX_PX), chosen or 0)
            if width != chosen:
                widths[column] = width
        if widths:
            self._set_column_widths(widths)

    def _database_key(self) -> str | None:
        database = self.context.database
        return str(database.snapshot.path) if database is not None else None

    def _apply_remembered_widths(self) -> None:
        """Give the columns of the table just opened the widths the user chose for them last time."""
        database, source = self._database_key(), self.source
        self._user_widths = {}
        if database is None or source is None or self.table is None:
            return
        saved = read_column_widths(self.context.settings, database, self.table.name)
        names = [c.name for c in source.columns]
        self._user_widths = {names.index(name): px for name, px in saved.items() if name in names}
        if self._user_widths:
            self._set_column_widths(self._user_widths, fitted=False)

    def _remember_widths(self) -> None:
        """After a mouse release on the header: keep the widths the user changed, for this table."""
        database, source = self._database_key(), self.source
        if database is None or source is None or self.table is None:
            return
        changed = False
        for column in range(len(source.columns)):
            width = self.view.columnWidth(column)
            if self.view.isColumnHidden(column) or width <= 0:
                continue
            if width != self._user_widths.get(column, self._auto_widths.get(column)):
                self._user_widths[column] = width
                changed = True
        if changed:
            names = [c.name for c in source.columns]
            widths = {names[c]: px for c, px in self._user_widths.items() if c < len(names)}
            write_column_widths(self.context.settings, database, self.table.name, widths)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A mouse release on the header may end a column resize: remember the widths."""
        if watched is self.header.viewport() and event.type() == QEvent.Type.MouseButtonRelease:
            QTimer.singleShot(0, self._remember_widths)
        return super().eventFilter(watched, event)

    def _set_column_widths(self, widths: dict[int, int], *, fitted: bool = True) -> None:
        """Resize columns with one repaint of the grid.

        The view answers each resize by repainting the columns' area once more on a timer, after the
        repaint the new rows asked for: a second full paint of the grid in the same turn of the event
        loop (measured 5–7 ms each, doubling the stall of a jump). With the header's signals blocked
        that repaint is not asked for; the geometry it would have updated is updated here.
        """
        with QSignalBlocker(self.header):
            for column, width in widths.items():
                self.header.resizeSection(column, width)
                if fitted:
                    self._auto_widths[column] = width
        self.header.place_editors()
        self.view.updateGeometries()
        self.view.viewport().update()

    # --- moving around ------------------------------------------------------------------------

    def _focus_goto(self) -> None:
        self.goto.setFocus()
        self.goto.selectAll()

    def _on_goto(self) -> None:
        text = self.goto.text().strip()
        if text.isdigit():
            self.scroll_to_row(int(text) - 1)
            self.view.setFocus()

    def scroll_to_row(self, row: int, *, select: bool = True) -> None:
        """Bring real `row` (0-based) into view, clamped to the table, and optionally select it."""
        if select:
            self.grid.go_to_row(row, QAbstractItemView.ScrollHint.PositionAtCenter, whole_row=True)
        else:
            self.grid.scroll_to_row(row, QAbstractItemView.ScrollHint.PositionAtTop)

    async def _show_row(self, key: dict[str, Any]) -> None:
        source = self.source
        assert source is not None and self.table is not None
        try:
            position = await source.position_of(key)
            if position is None and (self.filters or self.sort):
                self._open(self.table, [], {})
                source = self.source
                assert source is not None
                position = await source.position_of(key)
        except UserError as exc:
            self._show_error(exc)
            return
        if position is None:
            self.status_message.emit(f"That row is not in “{self.table.name}” any more.")
            return
        for _ in range(1000):  # the count arrives within moments; never wait forever
            if self.model.total_rows > position or self.source is not source:
                break
            await asyncio.sleep(0.01)
        if self.source is source:
            self.scroll_to_row(position)

    # --- cells --------------------------------------------------------------------------------

    def _open_current(self) -> None:
        self.open_cell(self.view.currentIndex())

    def open_cell(self, index: QModelIndex) -> None:
        """Show the cell's whole value: blobs in the Blobs pane, anything else in the cell viewer."""
        row = self.model.real_row(index.row())
        if index.isValid() and self.model.is_loaded(row):
            self._tasks.spawn(self._open_cell(row, index.column()))

    async def _open_cell(self, row: int, column: int) -> None:
        source, found, key = self.source, self.model.row_values(row), None
        if source is None or self.table is None or found is None:
            return
        value = found[column]
        key = self.model.row_key(row) or ()
        name = source.columns[column].name
        key_dict = source.pager.key_dict(key) if source.pager.has_key else {}
        if cell_format.is_blob(value):
            whole = None if isinstance(value, Truncated) else value
            self.show_blob_requested.emit(self.table.name, name, key_dict, whole)
            return
        if isinstance(value, Truncated):
            try:
                value = await source.full_value(column, key, row)
            except UserError as exc:
                self._show_error(exc)
                return
        if self.viewer is None:
            self.viewer = CellViewer(self)
        self.viewer.show_value(value, f"{self.table.name}.{name} — {row_label(row, key_dict)}")

    # --- the features' glue (each in its own module) ---------------------------------------------

    def filter_on_value(self, column: str, value: Any, *, exclude: bool = False) -> None:
        """Filter `column` on `value` (with `exclude`: on not `value`), replacing that column's filter."""
        self.cell_filters.filter_on_value(column, value, exclude=exclude)

    async def _filter_cell(self, row: int, column: int, exclude: bool) -> None:
        await self.cell_filters.filter_cell(row, column, exclude)

    def filter_json_path(self, column: str, path: str, value: Any) -> None:
        """Show only rows whose JSON in `column` has `value` at `path` (as the column's filter text)."""
        self.cell_filters.filter_json_path(column, path, value)

    def profile_column(self, name: str) -> None:
        """Show the profile of column `name` in the side area."""
        self.column_profile.profile_column(name)

    def profile_all_columns(self) -> None:
        """Show the profile of every column in the side area."""
        self.column_profile.profile_all_columns()

    def follow_link(self, row: int, column: int) -> bool:
        """Open the row that cell (real `row`, `column`) refers to; False when it refers to none."""
        return self.navigation.follow_link(row, column)

    async def incoming_of(self, row: int) -> list[IncomingReference]:
        """The rows of other tables that refer to real `row` (counted per referring table and column)."""
        return await self.navigation.incoming_of(row)

    def open_incoming(self, ref: IncomingReference) -> None:
        """Browse `ref.table` filtered to the rows that refer to the row `ref` was found for."""
        self.navigation.open_incoming(ref)

    def go_back(self) -> None:
        """Back to the place left by following a link (Alt+Left)."""
        self.navigation.go_back()

    def go_forward(self) -> None:
        """Forward again along the trail (Alt+Right)."""
        self.navigation.go_forward()

    # --- export -------------------------------------------------------------------------------

    def shown_rows(self) -> ShownRows | None:
        """What the grid shows, for export: the statement (filters, sort, visible columns) and row count."""
        source, table = self.source, self.table
        if source is None or table is None:
            return None
        visible = [c.name for i, c in enumerate(source.columns) if not self.view.isColumnHidden(i)]
        sql, params = source.shown_rows_query(visible)
        total = self.model.total_rows if self.model.exact else None
        return ShownRows(table.name, sql, params, total, bool(self.filters or self.sort))

    def chart(self) -> None:
        """Open a chart of every row Browse shows (its filters, its visible columns)."""
        shown, source = self.shown_rows(), self.source
        if shown is None or source is None:
            self.status_message.emit("Open a table first.")
            return
        columns = [
            (c.name, c.declared_type) for i, c in enumerate(source.columns) if not self.view.isColumnHidden(i)
        ]
        chart_source = ChartSource(shown.table, shown.sql, shown.params, columns, shown.total)
        open_chart(self.window(), self.context, chart_source)

    # --- copy ---------------------------------------------------------------------------------

    def copy_later(self, delimiter: str, headers: bool) -> None:
        """Copy the selection in the background (rows not loaded yet are fetched first)."""
        self._tasks.spawn(self.copy_selection(delimiter, headers))

    async def copy_selection(self, delimiter: str = "\t", headers: bool = False) -> str:
        """Put exactly the selected cells on the clipboard as TSV (or CSV) and return the text."""
        return await self.copy_as(CopyFormat.CSV if delimiter == "," else CopyFormat.TSV, headers)

    async def copy_as(self, fmt: CopyFormat, headers: bool = False) -> str:
        """Put exactly the selected cells on the clipboard in `fmt` and return the text."""
        try:
            selected = await selected_cells(self.view, self.model, whole=not fmt.has_header_choice)
        except UserError as exc:
            self._show_error(exc)
            return ""
        if selected is None or self.table is None:
            return ""
        text, message = copy_selected(fmt, selected, headers=headers, table=self.table.name)
        self.status_message.emit(message)
        return text

    # --- menus --------------------------------------------------------------------------------

    def _cell_menu(self, point: QPoint) -> None:
        menu = QMenu(self)
        for label, delimiter, headers in (
            ("Copy\tCtrl+C", "\t", False),
            ("Copy with headers", "\t", True),
            ("Copy as CSV", ",", False),
            ("Copy as CSV with headers", ",", True),
        ):
            action = menu.addAction(label)
            action.triggered.connect(lambda _=False, d=delimiter, h=headers: self.copy_later(d, h))
        add_copy_as_menu(menu, self.copy_headers, lambda fmt, h: self._tasks.spawn(self.copy_as(fmt, h)))
        menu.addSeparator()
        menu.addAction("Open cell\tEnter").triggered.connect(self._open_current)
        menu.addAction("Inspect value\tF4").triggered.connect(self.values.inspect_current)
        index = self.view.indexAt(point)
        row = self.model.real_row(index.row()) if index.isValid() else -1
        values = self.model.row_values(row) if index.isValid() else None
        if values is not None:
            column = index.column()
            menu.addSeparator()
            self.cell_filters.add_to_menu(menu, row, column, values[column])
            menu.addSeparator()
            where = self.view.viewport().mapToGlobal(point)
            self.navigation.add_to_menu(menu, row, column, values[column] is not None, where)
        menu.popup(self.view.viewport().mapToGlobal(point))

    def _header_menu(self, point: QPoint) -> None:
        if self.source is None:
            return
        menu = QMenu(self)
        section = self.header.logicalIndexAt(point)
        in_range = 0 <= section < len(self.source.columns)
        self.column_profile.add_to_menu(menu, self.source.columns[section].name if in_range else None)
        menu.addSeparator()
        if section >= 0:
            self.times.add_to_menu(menu, section)
            menu.addSeparator()
        for column, info in enumerate(self.source.columns):
            action = QAction(info.name, menu)
            action.setCheckable(True)
            action.setChecked(not self.view.isColumnHidden(column))
            action.toggled.connect(lambda shown, c=column: self.set_column_visible(c, shown))
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction("Show all columns").triggered.connect(self._show_all_columns)
        menu.addAction("Clear sort").triggered.connect(lambda: self.set_sort([]))
        menu.popup(self.header.mapToGlobal(point))

    def set_column_visible(self, column: int, visible: bool) -> None:
        """Show or hide one column (at least one stays visible)."""
        shown = [c for c in range(self.model.columnCount()) if not self.view.isColumnHidden(c)]
        if not visible and shown == [column]:
            return
        self.view.setColumnHidden(column, not visible)
        self.header.place_editors()

    def _show_all_columns(self) -> None:
        for column in range(self.model.columnCount()):
            self.view.setColumnHidden(column, False)
        self.header.place_editors()

    # --- state across reloads -----------------------------------------------------------------

    def shortcuts(self) -> list[tuple[str, str]]:
        """Go to row, open the current cell, copy the selection."""
        return [
            ("Ctrl+G", "Go to a row number"),
            ("Return", "Open the current cell in the viewer"),
            (QKeySequence(QKeySequence.StandardKey.Copy).toString(), "Copy the selected cells as TSV"),
        ]

    def save_state(self) -> dict[str, Any]:
        """Table, top row, selection, sort, filters and hidden columns."""
        if self.table is None:
            return {}
        columns = self.source.columns if self.source is not None else []
        hidden = [info.name for c, info in enumerate(columns) if self.view.isColumnHidden(c)]
        current = self.view.currentIndex()
        return {
            "table": self.table.name,
            "top_row": self.grid.top_row(),
            # Real rows, as the top row: the grid's window may sit elsewhere when they are put back.
            "current": [self.model.real_row(current.row()), current.column()] if current.isValid() else None,
            "selection": [
                [self.model.real_row(r.top()), r.left(), self.model.real_row(r.bottom()), r.right()]
                for r in self.view.selectionModel().selection()
            ],
            "sort": [[key.column, key.descending] for key in self.sort],
            "filters": dict(self.filters),
            "hidden": hidden,
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Reopen the saved table with its sort and filters, and scroll back to the saved top row and
        selection (at once when the rows are there: the view does not move)."""
        catalog = self.context.catalog
        table = catalog.table(state.get("table", "")) if catalog is not None and state.get("table") else None
        if table is None or self.context.database is None:
            return
        sort = [SortKey(str(c), bool(d)) for c, d in state.get("sort", [])]
        filters = dict(state.get("filters", {}))
        if not (self.table == table and self.sort == sort and self.filters == filters):
            self.table = None  # force a fresh open with the saved filter boxes
            self._open(table, sort, filters)
        if self.source is not None:
            names = [c.name for c in self.source.columns]
            for name in state.get("hidden", []):
                if name in names:
                    self.view.setColumnHidden(names.index(name), True)
        top_row = int(state.get("top_row", 0))
        selection = (state.get("current"), list(state.get("selection", [])))
        if top_row and top_row < self.model.total_rows:
            self.scroll_to_row(top_row, select=False)  # the row count was kept: no jump to the top
        self._pending_top_row = top_row or None
        self._pending_selection = selection if selection[0] or selection[1] else None
        if self._pending_selection is not None:
            self._select(*self._pending_selection)
        self._on_loaded()

    def _select(self, current: list[int] | None, ranges: list[list[int]]) -> None:
        """Put a saved selection (real rows) back once its rows exist; what lies outside the grid's window
        is left out, as a selection is kept only within the window."""
        rows = self.model.total_rows
        wanted = [current[0]] if current else []
        if any(row >= rows for row in wanted + [r[2] for r in ranges]):
            return  # not counted that far yet: `_on_loaded` tries again
        self._pending_selection = None
        last = self.model.rowCount() - 1
        selection = QItemSelection()
        for top, left, bottom, right in ranges:
            first, end = max(self.model.view_row(top), 0), min(self.model.view_row(bottom), last)
            if first <= end:
                selection.select(self.model.index(first, left), self.model.index(end, right))
        model = self.view.selectionModel()
        if current and 0 <= self.model.view_row(current[0]) <= last:
            index = self.model.index(self.model.view_row(current[0]), current[1])
            model.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
        model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
