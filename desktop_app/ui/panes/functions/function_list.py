"""The list of SQL functions in the Functions pane: a table filterable by text and source, and details."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStyle,
    QTableView,
    QTextBrowser,
    QWidget,
)

from desktop_app.core.functions.registry import SOURCE_BUILTIN, SOURCE_SQLITE, FunctionInfo
from desktop_app.ui.models.list_model import ListTableModel
from desktop_app.ui.theme import dim_colour, scheme
from desktop_app.ui.widgets.layout import hbox, splitter, vbox

#: Values of the source filter.
ALL_SOURCES, USER_SOURCE = "all", "user"
COLUMNS = ("Name", "Kind", "Arguments", "Source", "Description")
NAME_COLUMN, KIND_COLUMN, ARGS_COLUMN, SOURCE_COLUMN, DOC_COLUMN = range(len(COLUMNS))
#: The sort key of a cell (numbers for the argument column), for the proxy.
SortRole = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class FunctionRow:
    """One function as the list shows it: every argument count of a (name, kind, source) together."""

    name: str
    kind: str
    nargs: tuple[int, ...]
    source: str
    doc: str
    signature: str
    deterministic: bool | None

    @property
    def is_user(self) -> bool:
        """True when the function comes from the user's file."""
        return self.source not in (SOURCE_SQLITE, SOURCE_BUILTIN)


def group_functions(infos: Iterable[FunctionInfo]) -> list[FunctionRow]:
    """Merge the per-argument-count entries of each function into one row, keeping the list's order."""
    grouped: dict[tuple[str, str, str], list[FunctionInfo]] = {}
    for info in infos:
        grouped.setdefault((info.name, info.kind, info.source), []).append(info)
    rows = []
    for (name, kind, source), members in grouped.items():
        first = members[0]
        rows.append(
            FunctionRow(
                name=name,
                kind=kind,
                nargs=tuple(sorted({member.narg for member in members})),
                source=source,
                doc=first.doc,
                signature=first.signature or f"{name}(...)",
                deterministic=first.deterministic,
            )
        )
    return rows


def arguments_text(kind: str, nargs: Sequence[int]) -> str:
    """How many arguments a function takes, in words: `any`, `2`, `1 or 2`, `0–3`."""
    if kind == "collation":
        return "—"
    if not nargs or any(n < 0 for n in nargs):
        return "any"
    if len(nargs) >= 3 and list(nargs) == list(range(nargs[0], nargs[-1] + 1)):
        return f"{nargs[0]}–{nargs[-1]}"
    if len(nargs) >= 2:
        return ", ".join(str(n) for n in nargs[:-1]) + f" or {nargs[-1]}"
    return str(nargs[0])


def source_text(source: str) -> str:
    """`SQLite`, `built-in`, or the name of the user's file."""
    if source == SOURCE_SQLITE:
        return "SQLite"
    if source == SOURCE_BUILTIN:
        return "built-in"
    return Path(source).name


def first_line(text: str) -> str:
    """The first non-empty line of a docstring."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


class FunctionListModel(ListTableModel[FunctionRow]):
    """The functions of one listing, read-only."""

    headers = COLUMNS

    @property
    def rows(self) -> list[FunctionRow]:
        """The functions listed, one per row."""
        return self.items

    def set_functions(self, infos: Iterable[FunctionInfo]) -> None:
        """Replace the list."""
        self.set_items(group_functions(infos))

    def function_at(self, row: int) -> FunctionRow | None:
        """The function in source row `row`."""
        return self.item_at(row)

    def cell(self, function: FunctionRow, column: int, role: int) -> Any:
        """What `function` shows in `column` for `role`."""
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(function, column)
        if role == SortRole:
            if column == ARGS_COLUMN:
                return min(function.nargs, default=-1)
            return self.display(function, column).casefold()
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == SOURCE_COLUMN and function.is_user:
                return function.source
            if column in (NAME_COLUMN, DOC_COLUMN):
                return function.signature
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and function.is_user
            and column in (NAME_COLUMN, SOURCE_COLUMN)
        ):
            return QColor(scheme().user_function)
        return None

    @staticmethod
    def display(function: FunctionRow, column: int) -> str:
        """The text shown for `function` in `column`."""
        if column == NAME_COLUMN:
            return function.name
        if column == KIND_COLUMN:
            return function.kind
        if column == ARGS_COLUMN:
            return arguments_text(function.kind, function.nargs)
        if column == SOURCE_COLUMN:
            return source_text(function.source)
        return first_line(function.doc)


class FunctionFilterProxy(QSortFilterProxyModel):
    """Keeps the functions whose name or description contains every word typed, from the chosen source."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self._source = ALL_SOURCES
        self.setSortRole(SortRole)

    def set_text(self, text: str) -> None:
        """Filter on `text` (case-insensitive; every word must appear in the name or description)."""
        words = text.casefold().split()
        self._refilter(lambda: setattr(self, "_words", words))

    def set_source(self, source: str) -> None:
        """Show one source: ALL_SOURCES, SOURCE_SQLITE, SOURCE_BUILTIN or USER_SOURCE."""
        self._refilter(lambda: setattr(self, "_source", source))

    def _refilter(self, change: Callable[[], None]) -> None:
        if hasattr(self, "endFilterChange"):  # Qt ≥ 6.9, where invalidateFilter() is deprecated
            self.beginFilterChange()
            change()
            self.endFilterChange()
        else:
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        function = model.function_at(source_row) if isinstance(model, FunctionListModel) else None
        if function is None:
            return False
        if self._source == USER_SOURCE and not function.is_user:
            return False
        if self._source not in (ALL_SOURCES, USER_SOURCE) and function.source != self._source:
            return False
        haystack = f"{function.name} {function.kind} {function.doc}".casefold()
        return all(word in haystack for word in self._words)


_KIND_WORDS = {
    "scalar": "scalar function",
    "aggregate": "aggregate function",
    "window": "aggregate and window function",
    "collation": "collation",
}


def details_html(function: FunctionRow) -> str:
    """The details area for one function: signature, facts, and its description."""
    facts = [_KIND_WORDS.get(function.kind, function.kind)]
    if function.kind != "collation":
        count = arguments_text(function.kind, function.nargs)
        facts.append(
            "any number of arguments" if count == "any" else f"{count} argument{'s' * (count != '1')}"
        )
    if function.deterministic:
        facts.append("deterministic")
    if function.source == SOURCE_SQLITE:
        facts.append("part of SQLite")
    elif function.source == SOURCE_BUILTIN:
        facts.append("built into this app")
    else:
        facts.append(f"from your file <code>{html.escape(function.source)}</code>")
    doc = html.escape(function.doc) if function.doc else "<i>No description.</i>"
    fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
    dim = dim_colour().name()
    return (
        f"<p style='font-family: \"{html.escape(fixed)}\"; font-size: large'><b>"
        f"{html.escape(function.signature)}</b></p>"
        f"<p style='color: {dim}'>{' · '.join(facts)}</p>"
        f"<p style='white-space: pre-wrap'>{doc}</p>"
        f"<p style='color: {dim}'><i>Double-click the function to try it.</i></p>"
    )


class FunctionBrowser(QWidget):
    """A filter bar, the table of functions and the details of the selected one."""

    #: The user double-clicked a function to try it (a FunctionRow).
    try_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = FunctionListModel(self)
        self.proxy = FunctionFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter functions by name or description…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_changed)
        self.source_combo = QComboBox()
        for label, value in (
            ("All sources", ALL_SOURCES),
            ("SQLite", SOURCE_SQLITE),
            ("Built-in", SOURCE_BUILTIN),
            ("Your file", USER_SOURCE),
        ):
            self.source_combo.addItem(label, value)
        self.source_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.count_label = QLabel()

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(NAME_COLUMN, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(DOC_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.details = QTextBrowser()
        self.details.setOpenLinks(False)
        self.details.setMinimumWidth(220)
        self.details.setPlaceholderText("Select a function to see what it does.")

        split = splitter((self.table, 3), (self.details, 2), sizes=[640, 400])
        bar = hbox((self.filter_edit, 1), self.source_combo, self.count_label)
        vbox(bar, (split, 1), margins=0, parent=self)

    def set_functions(self, infos: Iterable[FunctionInfo]) -> None:
        """Show `infos`, keeping the selected function selected."""
        selected = self.selected_function()
        self.model.set_functions(infos)
        # Sized when the list changes, not while filtering, so columns do not jump as the user types.
        self._fit_columns()
        if selected is not None:
            self.select_function(selected.name, selected.kind, selected.source)
        self._update_count()

    def _fit_columns(self) -> None:
        """Width of the longest text per column (measured here: Qt's resizeColumnToContents asks the
        model for every role of every row, ~40 ms of the window's time for 170 functions)."""
        metrics = self.table.fontMetrics()
        header = self.table.horizontalHeader().fontMetrics()
        padding = 2 * self.table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 12
        for column in (NAME_COLUMN, KIND_COLUMN, ARGS_COLUMN, SOURCE_COLUMN):
            texts = {FunctionListModel.display(row, column) for row in self.model.rows}
            longest = sorted(texts, key=len)[-8:]  # proportional fonts: measure a few of the longest
            width = max((metrics.horizontalAdvance(text) for text in longest), default=0)
            title = header.horizontalAdvance(COLUMNS[column]) + 24  # room for the sort arrow
            self.table.setColumnWidth(column, max(width + padding, title))

    def show_failure(self, message: str) -> None:
        """Say the list could not be read."""
        self.count_label.setText("Could not list the functions")
        self.details.setPlainText(message)

    def selected_function(self) -> FunctionRow | None:
        """The function selected in the list, if any."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.function_at(self.proxy.mapToSource(rows[0]).row())

    def select_function(self, name: str, kind: str | None = None, source: str | None = None) -> bool:
        """Select the first listed function called `name` (case-insensitive); False if none is shown."""
        for proxy_row in range(self.proxy.rowCount()):
            function = self.model.function_at(self.proxy.mapToSource(self.proxy.index(proxy_row, 0)).row())
            if function is None or function.name.casefold() != name.casefold():
                continue
            if (kind is None or function.kind == kind) and (source is None or function.source == source):
                self.table.selectRow(proxy_row)
                self.table.scrollTo(
                    self.proxy.index(proxy_row, 0), QAbstractItemView.ScrollHint.PositionAtCenter
                )
                return True
        return False

    def shown_names(self) -> list[str]:
        """Names of the functions the filter lets through, in display order."""
        return [str(self.proxy.index(row, NAME_COLUMN).data()) for row in range(self.proxy.rowCount())]

    def _on_filter_changed(self) -> None:
        self.proxy.set_text(self.filter_edit.text())
        self.proxy.set_source(self.source_combo.currentData())
        self._update_count()

    def _update_count(self) -> None:
        rows = self.model.rows
        builtin = sum(1 for row in rows if row.source == SOURCE_BUILTIN)
        user = sum(1 for row in rows if row.is_user)
        text = f"{len(rows)} functions · {builtin} built-in · {user} yours"
        shown = self.proxy.rowCount()
        self.count_label.setText(text if shown == len(rows) else f"{shown} of {text}")

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        function = self.selected_function()
        if function is None:
            self.details.clear()
        else:
            self.details.setHtml(details_html(function))

    def _on_double_clicked(self, index: QModelIndex) -> None:
        function = self.model.function_at(self.proxy.mapToSource(index).row())
        if function is not None:
            self.try_requested.emit(function)
