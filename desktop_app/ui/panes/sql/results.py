"""What one SQL result tab shows: the rows in a windowed grid (with the value inspector beside it, collapsed
until asked for), a query plan tree, or an error.

A cell's menu narrows the rows to a value ("Filter on this value" / "Exclude this value"): the query is
run again nested, with the condition outside it (`core.browse.result_filter`), so a result of any
length is filtered by SQLite, not in memory. Ctrl+F finds text in the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.blobs.name_preview import result_name_samples
from desktop_app.core.browse.result_filter import ValueCondition, filtered_query
from desktop_app.core.browse.row_sources import QueryRowSource, RowSource
from desktop_app.core.database import Database, Params
from desktop_app.core.errors import UserError
from desktop_app.core.export.clipboard import CopyFormat
from desktop_app.core.limits import LIMITS
from desktop_app.core.sqlite.nested_query import NestedQuery
from desktop_app.core.sqlite.statements import first_table_name
from desktop_app.core.structure.query_plan import PlanNode, QueryPlan, build_plan
from desktop_app.ui.models import cell_format
from desktop_app.ui.models.column_times import TimePreferences
from desktop_app.ui.models.selection import selected_cells
from desktop_app.ui.models.table_model import RawValueRole, WindowedTableModel, track_viewport
from desktop_app.ui.tasks import Tasks
from desktop_app.ui.theme import error_style, follow, scheme
from desktop_app.ui.widgets.cell_viewer import CellViewer
from desktop_app.ui.widgets.copy_as_menu import CopyHeaders, add_copy_as_menu, copy_selected
from desktop_app.ui.widgets.find_bar import FindBar
from desktop_app.ui.widgets.grid_window import GridView, GridWindow
from desktop_app.ui.widgets.inspect_cell import InspectCell
from desktop_app.ui.widgets.layout import hbox, vbox
from desktop_app.ui.widgets.row_header import RowNumberHeader
from desktop_app.ui.widgets.time_columns import TimeColumns
from desktop_app.ui.widgets.value_inspector import ValueInspector
from desktop_app.ui.widgets.value_menu import add_value_actions

#: Width the value inspector opens at beside a result.
_INSPECTOR_PX = 340

_COLUMN_MIN_PX, _COLUMN_MAX_PX = 48, 320
ExportCallback = Callable[[str, "int | None"], None]


def format_duration(seconds: float) -> str:
    """`123 ms` below ten seconds, `12.3 s` above."""
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


@dataclass(frozen=True)
class RunOutcome:
    """A finished statement: where its rows are, how many (None when the count was not possible)."""

    source: RowSource
    rows: int | None
    elapsed_s: float
    from_cache: bool
    #: True when a statement that cannot be paged (PRAGMA, EXPLAIN) returned more rows than are shown.
    capped: bool = False

    def summary(self) -> str:
        """`1,234 rows in 12 ms`, `1,234 rows (from cache)` and the like."""
        if not self.source.columns:
            return f"Done in {format_duration(self.elapsed_s)}; the statement returns no rows."
        if self.rows is None:
            return f"More rows than shown; counting them failed ({format_duration(self.elapsed_s)})."
        noun = "row" if self.rows == 1 else "rows"
        if self.capped:
            return (
                f"First {self.rows:,} {noun} shown (this statement cannot be paged; export gets them all), "
                f"in {format_duration(self.elapsed_s)}"
            )
        if self.from_cache:
            return f"{self.rows:,} {noun} (from cache)"
        return f"{self.rows:,} {noun} in {format_duration(self.elapsed_s)}"


class ErrorView(QWidget):
    """SQLite's message in plain words, with the failing statement below."""

    def __init__(self, error: UserError, sql: str, where: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.error = error
        self.message = QLabel(f"⚠ {error.message}")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        follow(self.message, lambda: error_style(bold=True))
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        if error.details and error.details != error.message:
            details = QLabel(error.details)
            details.setWordWrap(True)
            details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(details)
        if where:
            layout.addWidget(QLabel(where))
        layout.addWidget(QLabel("Statement:"))
        statement = QPlainTextEdit(sql)
        statement.setReadOnly(True)
        statement.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        lines = min(sql.count("\n") + 2, 12)
        statement.setMaximumHeight(statement.fontMetrics().lineSpacing() * lines + 16)
        layout.addWidget(statement)
        layout.addStretch(1)


def plan_notice(node: PlanNode) -> str:
    """What to notice about one plan step, in a few words ('' when nothing)."""
    words = []
    if node.full_scan is not None:
        rows = f" of ≈ {node.estimated_rows:,} rows" if node.estimated_rows is not None else ""
        words.append(f"full scan{rows}")
    if node.temp_btree:
        words.append("temporary b-tree (a sort)")
    if node.automatic_index:
        words.append("automatic index (built for this query)")
    return "; ".join(words)


def plan_advice(node: PlanNode) -> str:
    """Why a flagged step matters, for its tooltip."""
    if node.full_scan is not None:
        return f"Every row of {node.full_scan} is read; an index on the filtered columns could avoid it."
    if node.temp_btree:
        return "SQLite sorts the rows itself; an index in the same order could avoid it."
    return "SQLite builds an index for this query alone; a lasting index would avoid it."


class PlanView(QTreeWidget):
    """EXPLAIN QUERY PLAN as a tree: what to notice flagged (full scans with their row estimate, temp
    b-trees, automatic indexes) and the index each step uses named."""

    COLUMNS = ("Query plan", "Notice", "Index used")

    def __init__(self, plan: QueryPlan | Sequence[Sequence[Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(list(self.COLUMNS))
        self.plan = plan if isinstance(plan, QueryPlan) else build_plan(plan)

        def add(node: PlanNode, owner: QTreeWidgetItem | None) -> None:
            texts = [node.detail, plan_notice(node), node.index or ""]
            item = QTreeWidgetItem(texts) if owner is None else QTreeWidgetItem(owner, texts)
            if owner is None:
                self.addTopLevelItem(item)
            item.setToolTip(0, node.detail)
            if node.flags:
                big = node.full_scan is not None and (node.estimated_rows or 0) >= LIMITS.plan_big_scan_rows
                colour = QColor(scheme().plan_big_scan if big else scheme().plan_scan)
                for column in range(len(self.COLUMNS)):
                    item.setBackground(column, colour)
                item.setToolTip(1, plan_advice(node))
            for child in node.children:
                add(child, item)

        for root in self.plan.roots:
            add(root, None)
        self.expandAll()
        for column in range(len(self.COLUMNS) - 1):
            self.resizeColumnToContents(column)

    def flagged(self) -> list[tuple[str, str]]:
        """(detail, notice) of every flagged step, in plan order."""
        return [(node.detail, plan_notice(node)) for _depth, node in self.plan.nodes() if node.flags]

    def lines(self) -> list[str]:
        """The plan as indented text (for tests and copying)."""
        out: list[str] = []

        def walk(item: QTreeWidgetItem, depth: int) -> None:
            out.append("  " * depth + item.text(0))
            for index in range(item.childCount()):
                walk(item.child(index), depth + 1)

        for index in range(self.topLevelItemCount()):
            walk(self.topLevelItem(index), 0)
        return out


class ResultTab(QWidget):
    """One statement's tab: a status line with CSV export, and the rows, plan, or error."""

    status_message = Signal(str)
    show_blob_requested = Signal(str, str, object, object)
    #: Export one result column's values to files: (sql, column index, column names, name-preview samples).
    export_blobs_requested = Signal(str, int, object, object)
    #: Chart every row of the statement: (sql, [(column name, declared type)], row count or None).
    chart_requested = Signal(str, object, object)

    def __init__(
        self,
        sql: str,
        export: ExportCallback,
        parent: QWidget | None = None,
        *,
        database: Database | None = None,
        params: Params = (),
        times: TimePreferences | None = None,
        database_path: str | None = None,
    ) -> None:
        """`database`, `params`: to filter the result by running it again nested. `times` and
        `database_path`: where the columns' timestamp choices are remembered (results of queries share
        the table name "")."""
        super().__init__(parent)
        self.sql = sql
        self.database = database
        self.params = params
        #: The values the rows are narrowed to (empty: every row of the result).
        self.conditions: list[ValueCondition] = []
        self._export_callback = export
        self.outcome: RunOutcome | None = None
        self.custom_view: QWidget | None = None
        self._viewer: CellViewer | None = None
        self._tasks = Tasks()
        self._sized = False
        self.info = QLabel("Running…")
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write every row of this result to a file: CSV, JSON, Excel, SQL…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export)
        self.blobs_button = QPushButton("Export blobs…")
        self.blobs_button.setToolTip(
            "Write each value of the selected column (every row of the result) to its own file in a folder"
        )
        self.blobs_button.setEnabled(False)
        self.blobs_button.clicked.connect(self.export_blobs)
        self.chart_button = QPushButton("Chart…")
        self.chart_button.setToolTip(
            "Draw every row of this result as a line, bar, scatter chart or histogram"
        )
        self.chart_button.setEnabled(False)
        self.chart_button.clicked.connect(self.chart)

        self.model = WindowedTableModel(self)
        self.view = GridView()
        self.view.setModel(self.model)
        self.view.setWordWrap(False)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        rows = RowNumberHeader(self.view)
        self.view.setVerticalHeader(rows)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.view.doubleClicked.connect(self.open_cell)
        #: The view beside a scroll bar over every real row (the view itself shows a window of them).
        self.grid = GridWindow(self.view, self.model, track_viewport(self.view, self.model))
        self.model.loaded_changed.connect(self._on_loaded)
        self.model.failed.connect(lambda error: self.info.setText(f"⚠ {error.message}"))
        copy = QShortcut(QKeySequence.StandardKey.Copy, self.view)
        copy.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        copy.activated.connect(lambda: self._tasks.spawn(self.copy_selection()))
        #: Copy as … CSV/TSV starts with a header row (the Copy as menu's check box).
        self.copy_headers = CopyHeaders()
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._cell_menu)

        self.find_bar = FindBar(self.grid)
        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self.find_bar.open_bar)
        self.filter_info = QLabel()
        self.filter_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.clear_filter_button = QPushButton("Clear filter")
        self.clear_filter_button.setToolTip("Show every row of the result again")
        self.clear_filter_button.clicked.connect(self.clear_filter)
        self.filter_row = QWidget()
        hbox((self.filter_info, 1), self.clear_filter_button, margins=0, parent=self.filter_row)
        self.filter_row.hide()
        self._filter_text = ""
        self.model.count_changed.connect(self._show_filtered_count)
        #: Per-column timestamp choices ("Show as time", "Interpret as") from the header's menu.
        self.times = TimeColumns(
            self.model, times or TimePreferences(QSettings()), lambda: (database_path, "")
        )
        self.times.load()
        self.view.horizontalHeader().setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.horizontalHeader().customContextMenuRequested.connect(self._header_menu)
        self.inspector = ValueInspector(filterable=False)
        self.inspect = InspectCell(
            self.view, self.model, self.inspector, self.times, lambda: self.inspector_open
        )
        self.details_button = QPushButton("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("Show the selected value decoded: text, time, JSON tree, geometry")
        self.details_button.toggled.connect(self.show_inspector)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.grid)
        self.split = QSplitter()
        self.split.addWidget(self.stack)
        self.split.addWidget(self.inspector)
        self.split.setStretchFactor(0, 1)
        self.split.setCollapsible(0, False)
        self.split.setSizes([1, 0])
        self.split.splitterMoved.connect(lambda *_: self._on_split_moved())
        top = hbox(
            (self.info, 1), self.details_button, self.chart_button, self.blobs_button, self.export_button
        )
        layout = vbox(top, self.filter_row, (self.split, 1), self.find_bar, parent=self)
        layout.setContentsMargins(0, 4, 0, 0)

    # --- value inspector ----------------------------------------------------------------------------

    @property
    def inspector_open(self) -> bool:
        """True when the value inspector is shown beside the rows."""
        return self.split.sizes()[1] > 0

    def show_inspector(self, shown: bool = True) -> None:
        """Open (or collapse) the value inspector beside the rows, showing the current cell."""
        total = sum(self.split.sizes())
        width = min(_INSPECTOR_PX, max(total // 2, 1))
        self.split.setSizes([max(total - width, 1), width] if shown else [total, 0])
        if self.details_button.isChecked() != shown:
            self.details_button.setChecked(shown)
        self.inspect.update()

    def _on_split_moved(self) -> None:
        self.details_button.setChecked(self.inspector_open)
        self.inspect.update()

    def _header_menu(self, point: QPoint) -> None:
        column = self.view.horizontalHeader().logicalIndexAt(point)
        if column < 0 or self.model.source is None:
            return
        menu = QMenu(self)
        self.times.add_to_menu(menu, column)
        menu.popup(self.view.horizontalHeader().mapToGlobal(point))

    # --- what is shown ----------------------------------------------------------------------------

    def show_source(self, source: RowSource, text: str) -> None:
        """Show `source`'s rows in the grid (before the run has finished counting them)."""
        if self.model.source is not source:
            self.model.set_source(source)
        if self.custom_view is None:
            self.stack.setCurrentWidget(self.grid)
        self.info.setText(text)

    def show_outcome(self, outcome: RunOutcome) -> None:
        """The statement finished: show its rows (unless a plan is shown) and the summary."""
        self.outcome = outcome
        self.show_source(outcome.source, outcome.summary())
        for button in (self.export_button, self.blobs_button, self.chart_button):
            button.setEnabled(bool(outcome.source.columns))

    def show_view(self, view: QWidget) -> None:
        """Show `view` (an error or a plan) instead of the grid."""
        if self.custom_view is not None:
            self.stack.removeWidget(self.custom_view)
            self.custom_view.deleteLater()
        self.custom_view = view
        self.stack.addWidget(view)
        self.stack.setCurrentWidget(view)
        if isinstance(view, ErrorView):
            self.info.setText("Failed.")

    def show_stopped(self, elapsed: float) -> None:
        """The user stopped the statement."""
        loaded = self.model.total_rows
        rows = f" ({loaded:,}+ rows so far)" if loaded else ""
        self.info.setText(f"Stopped after {format_duration(elapsed)}{rows}.")
        if self.model.source is None:
            self.show_view(QLabel("  Stopped before any row arrived."))
        else:
            for button in (self.export_button, self.blobs_button, self.chart_button):
                button.setEnabled(True)

    def close_source(self) -> None:
        """Cancel the grid's fetches (the tab is going away)."""
        self.model.close()

    # --- actions ----------------------------------------------------------------------------------

    def export(self) -> None:
        """Export every row of this statement to CSV."""
        total = None
        if self.outcome is not None and not self.outcome.capped:
            total = self.outcome.rows
        self._export_callback(self.sql, total)

    def chart(self) -> None:
        """Ask for a chart of every row of this statement."""
        source = self.model.source
        if source is None or not source.columns:
            return
        total = self.outcome.rows if self.outcome is not None and not self.outcome.capped else None
        self.chart_requested.emit(self.sql, [(c.name, c.declared_type) for c in source.columns], total)

    def export_blobs(self) -> None:
        """Ask to export the selected column's values (else the first column showing a blob) to files."""
        source = self.model.source
        if source is None or not source.columns:
            return
        loaded = [row for r in range(min(self.model.total_rows, 50)) if (row := self.model.row_values(r))]
        column = self.view.currentIndex().column()
        if column < 0:
            columns = range(len(source.columns))
            column = next((c for c in columns if any(cell_format.is_blob(r[c]) for r in loaded)), 0)
        names = [c.name for c in source.columns]
        self.export_blobs_requested.emit(self.sql, column, names, result_name_samples(names, loaded, column))

    def open_cell(self, index: QModelIndex) -> None:
        """Show a cell's whole value: blobs in the Blobs pane, text and numbers in the cell viewer."""
        row = self.model.real_row(index.row())
        if not index.isValid() or not self.model.is_loaded(row) or self.model.source is None:
            return
        value = self.model.data(index, RawValueRole)
        column = self.model.source.columns[index.column()].name
        if cell_format.is_blob(value):
            self.show_blob_requested.emit("", column, {}, value)
            return
        if self._viewer is None:
            self._viewer = CellViewer(self)
        self._viewer.show_value(value, f"{column} — row {row + 1:,}")

    async def copy_selection(self) -> str:
        """Copy exactly the selected cells as tab-separated text (fetching rows not loaded yet)."""
        return await self.copy_as(CopyFormat.TSV)

    async def copy_as(self, fmt: CopyFormat, headers: bool = False) -> str:
        """Put exactly the selected cells on the clipboard in `fmt` and return the text."""
        try:
            selected = await selected_cells(self.view, self.model, whole=not fmt.has_header_choice)
        except UserError as exc:
            self.status_message.emit(exc.message)
            return ""
        if selected is None:
            return ""
        text, message = copy_selected(
            fmt, selected, headers=headers, table=first_table_name(self.sql) or "result"
        )
        self.status_message.emit(message)
        return text

    def _cell_menu(self, point: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction("Copy\tCtrl+C").triggered.connect(lambda: self._tasks.spawn(self.copy_selection()))
        add_copy_as_menu(menu, self.copy_headers, lambda fmt, h: self._tasks.spawn(self.copy_as(fmt, h)))
        menu.addSeparator()
        menu.addAction("Inspect value").triggered.connect(lambda: self.show_inspector(True))
        index = self.view.indexAt(point)
        values = self.model.row_values(self.model.real_row(index.row())) if index.isValid() else None
        if values is not None:
            column = index.column()
            menu.addSeparator()
            value = values[column]

            def on_filter(exclude: bool) -> None:
                self.filter_on(column, value, exclude)

            add_value_actions(
                menu,
                value,
                on_filter=on_filter if self.filterable_query() is not None else None,
                on_find=self.find_bar.open_bar,
                why_not="Only the rows of a single query can be filtered (not a PRAGMA or a query plan).",
            )
        menu.popup(self.view.viewport().mapToGlobal(point))

    # --- filter on a value ------------------------------------------------------------------------

    def filterable_query(self) -> NestedQuery | None:
        """The statement as a query that can be filtered, or None (PRAGMA, EXPLAIN, not run yet)."""
        if self.database is None or self.outcome is None or not self.outcome.source.columns:
            return None
        return NestedQuery.of(self.sql, self.params)

    def filter_on(self, column: int, value: Any, exclude: bool = False) -> bool:
        """Narrow the rows to those whose `column` holds `value` (with `exclude`: does not); False when the
        result cannot be filtered."""
        query, outcome = self.filterable_query(), self.outcome
        if query is None or outcome is None or self.database is None:
            return False
        self.conditions.append(ValueCondition(column, value, exclude))
        columns = outcome.source.columns
        narrowed = filtered_query(query, len(columns), self.conditions)
        self.model.set_source(QueryRowSource(self.database, narrowed, columns))
        parts = []
        for condition in self.conditions:
            name = columns[condition.column].name
            if condition.value is None:
                parts.append(f"{name} IS {'NOT ' if condition.exclude else ''}NULL")
            else:
                shown = cell_format.display_text(condition.value)
                parts.append(f"{name} {'≠' if condition.exclude else '='} {shown}")
        self._filter_text = "Filtered: " + " and ".join(parts)
        self._show_filtered_count()
        self.filter_row.show()
        return True

    def _show_filtered_count(self) -> None:
        if not self.conditions:
            return
        rows = self.model.total_rows
        count = f"{rows:,} row{'s' if rows != 1 else ''}" if self.model.exact else "counting…"
        self.filter_info.setText(f"{self._filter_text} — {count}")

    def clear_filter(self) -> None:
        """Show every row of the result again."""
        self.conditions = []
        self.filter_row.hide()
        if self.outcome is not None:
            self.model.set_source(self.outcome.source)

    def _on_loaded(self) -> None:
        if not self._sized and self.model.is_loaded(0):
            self._sized = True
            metrics = self.view.fontMetrics()
            rows = [self.model.row_values(r) for r in range(min(self.model.total_rows, 50))]
            for column in range(self.model.columnCount()):
                texts = [str(self.model.headerData(column, Qt.Orientation.Horizontal))]
                texts += [cell_format.display_text(r[column]) for r in rows if r is not None]
                widest = max(metrics.horizontalAdvance(t) for t in texts) + 18
                self.view.setColumnWidth(column, max(_COLUMN_MIN_PX, min(widest, _COLUMN_MAX_PX)))
