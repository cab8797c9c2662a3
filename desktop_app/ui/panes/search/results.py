"""Search results: hits grouped by table in a tree, snippets painted with the matches highlighted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QGuiApplication,
    QHelpEvent,
    QKeyEvent,
    QPainter,
    QPalette,
    QStandardItem,
    QStandardItemModel,
    QTextCharFormat,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QTreeView,
    QWidget,
)

from desktop_app.core.search import Hit, TableDone
from desktop_app.ui.theme import dim_colour, error_colour, match_colours
from desktop_app.ui.widgets.names import name_label, name_tooltip

#: (start, end) spans of the matches inside the displayed snippet.
SpansRole = Qt.ItemDataRole.UserRole + 1

_TABLE_COLUMN, _MATCH_COLUMN, _KEY_COLUMN = 0, 1, 2
_HEADERS = ("Table / column", "Match", "Row")
_Index = QModelIndex | QPersistentModelIndex
#: New tables open automatically while fewer hits than this show; later ones stay folded.
AUTO_EXPAND_HITS = 300
#: Laid-out snippets kept by the delegate (a screenful is ~50).
_LAYOUT_CACHE_ENTRIES = 512


@dataclass
class _TableNode:
    """One table's group: its row of items, its hits so far and, once finished, its report."""

    name: str
    items: list[QStandardItem]
    hits: list[Hit] = field(default_factory=list)
    done: TableDone | None = None

    def summary(self) -> str:
        count = len(self.hits)
        more = "+" if self.done is not None and self.done.truncated else ""
        return f"{count:,}{more} hit{'' if count == 1 and not more else 's'}"


class SearchResultsModel(QStandardItemModel):
    """Table rows (name, hit count, note) with their hits as children: column, snippet, row key.

    A C++ item model on purpose: the tree lays out every open row on each change, and a Python model
    answers that through thousands of calls (measured: ~150 ms for 1,000 open rows, here ~10 ms to add
    them as items).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setHorizontalHeaderLabels(list(_HEADERS))
        for section, title in enumerate(_HEADERS):
            self.horizontalHeaderItem(section).setToolTip(title)
        self._tables: list[_TableNode] = []
        self._by_name: dict[str, _TableNode] = {}
        self.hit_count = 0
        self._bold, self._italic = QFont(), QFont()
        self._bold.setBold(True)
        self._bold_italic = QFont(self._bold)  # a blank table name, labelled "(empty name)"
        self._bold_italic.setItalic(True)
        self._italic.setItalic(True)

    # --- filling ------------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every result."""
        self.removeRows(0, self.rowCount())
        self._tables.clear()
        self._by_name.clear()
        self.hit_count = 0

    def add_hits(self, table: str, hits: list[Hit] | tuple[Hit, ...]) -> None:
        """Append `hits` under `table` (one row insertion for the whole batch)."""
        if not hits:
            return
        node = self._node(table)
        parent = node.items[0]
        first = parent.rowCount()
        rows = [self._hit_items(hit) for hit in hits]
        parent.insertRows(first, len(rows))
        # The view learns of the new rows once (above) and reads their cells when it paints, after this
        # call: filling them must not signal it 3 times per hit (a multi-cell dataChanged would also
        # repaint the whole view, even for rows under a folded table).
        self.blockSignals(True)
        try:
            for offset, items in enumerate(rows):
                for column, item in enumerate(items):
                    parent.setChild(first + offset, column, item)
        finally:
            self.blockSignals(False)
        node.hits.extend(hits)
        self.hit_count += len(hits)
        self._show_table(node)

    def finish_table(self, done: TableDone) -> None:
        """Record a finished table; a table without hits appears only when there is something to say."""
        if done.table not in self._by_name and not (done.note or done.error):
            return
        node = self._node(done.table)
        node.done = done
        self._show_table(node)

    def _node(self, table: str) -> _TableNode:
        node = self._by_name.get(table)
        if node is None:
            items = [QStandardItem(table), QStandardItem(), QStandardItem()]
            items[0].setFont(self._bold_italic if not table.strip() else self._bold)
            items[0].setColumnCount(len(_HEADERS))
            items[1].setFont(self._italic)
            node = _TableNode(table, items)
            self._tables.append(node)
            self._by_name[table] = node
            self.appendRow(items)
        return node

    def _hit_items(self, hit: Hit) -> list[QStandardItem]:
        column = QStandardItem(hit.column if hit.value_type == "text" else f"{hit.column} ({hit.value_type})")
        snippet = QStandardItem(hit.snippet)
        snippet.setData(hit.spans, SpansRole)
        key = QStandardItem(key_label(hit))
        if hit.key is None:
            key.setForeground(dim_colour())
        # As few calls per hit as possible (setEditable and setToolTip cost ~20 µs each): the view does
        # not edit, and tooltips are made when asked for (`SearchResultsView.viewportEvent`).
        return [column, snippet, key]

    def _show_table(self, node: _TableNode) -> None:
        name, note, _key = node.items
        name.setText(f"{name_label(node.name)}  ({node.summary()})")
        done = node.done
        lines = [f"{name_tooltip(node.name)}: {node.summary()}"]
        if done is not None:
            note.setText(done.note or "")
            note.setForeground(error_colour() if done.error else dim_colour())
            lines.append(f"searched by {done.method.value}")
            if done.truncated:
                lines.append("stopped at the hit limit")
            if done.note:
                lines.append(done.note)
        name.setToolTip("\n".join(lines))

    # --- reading ------------------------------------------------------------------------------

    def tables(self) -> list[str]:
        """Names of the table rows, in order."""
        return [node.name for node in self._tables]

    def hits_of(self, table: str) -> list[Hit]:
        """The hits shown under `table`."""
        node = self._by_name.get(table)
        return list(node.hits) if node is not None else []

    def all_hits(self) -> list[Hit]:
        """Every hit shown, in order."""
        return [hit for node in self._tables for hit in node.hits]

    def report_of(self, table: str) -> TableDone | None:
        """The finished report of `table`, if shown."""
        node = self._by_name.get(table)
        return node.done if node is not None else None

    def table_index(self, table: str) -> QModelIndex:
        """The row of `table` (invalid when it has none)."""
        node = self._by_name.get(table)
        return node.items[0].index() if node is not None else QModelIndex()

    def table_at(self, index: _Index) -> str | None:
        """The table of a table row or of one of its hits, or None."""
        if not index.isValid():
            return None
        parent = index.parent()
        row = parent.row() if parent.isValid() else index.row()
        return self._tables[row].name if 0 <= row < len(self._tables) else None

    def hit(self, index: _Index) -> Hit | None:
        """The hit of a hit row, or None."""
        parent = index.parent() if index.isValid() else QModelIndex()
        if not parent.isValid():
            return None
        return self._tables[parent.row()].hits[index.row()]


def key_label(hit: Hit) -> str:
    """How a hit's row is named in the results: `rowid=5`, `a='x', b=2`, or why it has no key."""
    return hit.key.label() if hit.key is not None else "(no row key)"


class SnippetDelegate(QStyledItemDelegate):
    """Paints a snippet with its match spans on a highlight, keeping the first match in view.

    One `QTextLayout` per cell shapes the text once (measuring piece by piece cost ~0.1 ms a call).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._highlight = QTextCharFormat()
        background, text = match_colours()
        self._highlight.setBackground(background)
        self._highlight.setForeground(text)
        self._no_wrap = QTextOption()
        self._no_wrap.setWrapMode(QTextOption.WrapMode.NoWrap)
        self._layouts: dict[tuple[Any, ...], QTextLayout] = {}

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        """Default look for everything but a snippet with spans."""
        spans = index.data(SpansRole)
        if not spans:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
        rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        rect = rect.adjusted(margin, 0, -margin, 0)
        layout = self._layout(text, spans, opt.font, opt.fontMetrics, rect.width())
        line = layout.lineAt(0)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setClipRect(rect)
        painter.setPen(
            opt.palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        )
        layout.draw(painter, QPointF(rect.left(), rect.top() + (rect.height() - line.height()) / 2))
        painter.restore()

    def _layout(
        self, text: str, spans: tuple[tuple[int, int], ...], font: QFont, metrics: QFontMetrics, width: int
    ) -> QTextLayout:
        """The laid-out snippet (cached: repaints of the same rows do not shape text again)."""
        key = (text, spans, font.key(), width)
        layout = self._layouts.get(key)
        if layout is not None:
            return layout
        shown, shown_spans = keep_match_in_view(text, spans, metrics, width)
        layout = QTextLayout(shown, font)
        layout.setTextOption(self._no_wrap)
        layout.setFormats([self._range(start, end) for start, end in shown_spans])
        layout.beginLayout()
        layout.createLine().setLineWidth(1_000_000)
        layout.endLayout()
        if len(self._layouts) >= _LAYOUT_CACHE_ENTRIES:
            self._layouts.pop(next(iter(self._layouts)))
        self._layouts[key] = layout
        return layout

    def _range(self, start: int, end: int) -> QTextLayout.FormatRange:
        format_range = QTextLayout.FormatRange()
        format_range.start, format_range.length, format_range.format = start, end - start, self._highlight
        return format_range


def keep_match_in_view(
    text: str, spans: tuple[tuple[int, int], ...], metrics: QFontMetrics, width: int
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Drop leading context (shown as "…") when the first match would start past a third of `width`."""
    first = min(start for start, _end in spans)
    if first == 0 or metrics.horizontalAdvance(text[:first]) <= width / 3:
        return text, spans
    keep = max(1, int(width / 4 / max(1, metrics.averageCharWidth())))
    cut = max(0, first - keep)
    shift = cut - 1  # one character for the "…"
    return "…" + text[cut:], tuple((start - shift, end - shift) for start, end in spans if end > cut)


class SearchResultsView(QTreeView):
    """The results tree; `hit_activated(hit)` on double-click or Enter on a hit row."""

    hit_activated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results = SearchResultsModel(self)
        self.setModel(self.results)
        self.setItemDelegateForColumn(_MATCH_COLUMN, SnippetDelegate(self))
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setExpandsOnDoubleClick(True)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(_TABLE_COLUMN, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(_MATCH_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(_KEY_COLUMN, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(_TABLE_COLUMN, 240)
        header.resizeSection(_KEY_COLUMN, 150)
        self.activated.connect(self._on_activated)
        self.results.rowsInserted.connect(self._expand_new_tables)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter opens the current hit (on every platform; macOS views do not activate on Enter)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            hit = self.current_hit()
            if hit is not None:
                self.hit_activated.emit(hit)
                event.accept()
                return
        super().keyPressEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        """Tooltips of hit rows: the whole snippet, its storage class and how it was found."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            hit = self.results.hit(self.indexAt(event.pos()))
            if hit is not None:
                where = key_label(hit)
                QToolTip.showText(
                    event.globalPos(),
                    f"{hit.snippet}\n\n{name_label(hit.table)}.{hit.column}, {where}: "
                    f"{hit.value_type} value, found by {hit.method.value}",
                    self.viewport(),
                )
                return True
        return super().viewportEvent(event)

    def _expand_new_tables(self, parent: QModelIndex, first: int, last: int) -> None:
        # Every open row is walked on each re-layout (in Python, through the model): open new tables only
        # while few hits show, so a search with thousands of hits keeps the UI responsive.
        if parent.isValid():
            return
        for row in range(first, last + 1):
            if self._open_hits() < AUTO_EXPAND_HITS:
                self.expand(self.results.index(row, 0))

    def _open_hits(self) -> int:
        return sum(
            self.results.rowCount(index)
            for row in range(self.results.rowCount())
            if self.isExpanded(index := self.results.index(row, 0))
        )

    def _context_menu(self, point: QPoint) -> None:
        hit = self.results.hit(self.indexAt(point))
        menu = QMenu(self)
        if hit is not None:
            menu.addAction("Open row\tEnter").triggered.connect(lambda: self.hit_activated.emit(hit))
            menu.addAction("Copy match text").triggered.connect(
                lambda: QGuiApplication.clipboard().setText(hit.snippet)
            )
            menu.addSeparator()
        menu.addAction("Expand all").triggered.connect(self.expandAll)
        menu.addAction("Collapse all").triggered.connect(self.collapseAll)
        menu.popup(self.viewport().mapToGlobal(point))

    def _on_activated(self, index: QModelIndex) -> None:
        hit = self.results.hit(index)
        if hit is not None:
            self.hit_activated.emit(hit)

    def current_hit(self) -> Hit | None:
        """The hit of the current row, if it is a hit row."""
        return self.results.hit(self.currentIndex())

    def select_first_hit(self) -> None:
        """Make the first hit current (keyboard: Down from the query box)."""
        for row in range(self.results.rowCount()):
            table = self.results.index(row, 0)
            if self.results.rowCount(table):
                self.setCurrentIndex(self.results.index(0, 0, table))
                return
