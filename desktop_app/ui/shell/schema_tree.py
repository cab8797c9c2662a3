"""The schema tree: tables, views, virtual tables, indexes, triggers, columns, with counts as they arrive."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHeaderView,
    QLineEdit,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from desktop_app.core.export.csv_file import table_export_sql
from desktop_app.core.schema.catalog import Catalog, RowCount, Table, TableKind
from desktop_app.core.schema.visible_names import visible_name
from desktop_app.ui.theme import dim_colour, error_colour, notifier
from desktop_app.ui.widgets.full_text_tips import add_full_text_tips
from desktop_app.ui.widgets.layout import hbox, vbox
from desktop_app.ui.widgets.names import label_tree_item, name_tooltip

_ROLE_KIND = Qt.ItemDataRole.UserRole
_ROLE_NAME = Qt.ItemDataRole.UserRole + 1
_ROLE_SQL = Qt.ItemDataRole.UserRole + 2
_ROLE_SCHEMA = Qt.ItemDataRole.UserRole + 3

#: Counts arriving within this many milliseconds are fitted into the Rows column together.
COUNT_COLUMN_REFIT_MS = 100

_GROUPS = (
    (TableKind.TABLE, "Tables"),
    (TableKind.VIEW, "Views"),
    (TableKind.VIRTUAL, "Virtual tables"),
    (TableKind.SHADOW, "Shadow and internal tables"),
)


class SchemaTree(QWidget):
    """Shows a `Catalog`; emits `browse_requested(name)` and `show_sql_requested(sql)`."""

    browse_requested = Signal(str)
    show_sql_requested = Signal(str)
    export_requested = Signal(str)  #: export a table or view (any format)
    #: Export a table or view of an attached database: schema, name.
    export_attached_requested = Signal(str, str)
    detach_requested = Signal(str)  #: forget the database attached under this schema name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter tables, columns…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.show_hidden = QCheckBox("Internal")
        self.show_hidden.setToolTip("Show shadow tables of virtual tables and SQLite's own sqlite_* tables")
        self.show_hidden.toggled.connect(lambda _on: self._rebuild())
        notifier().changed.connect(self._recolour)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Name", "Rows"])
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Sized on a timer, not ResizeToContents: that re-measured every row on each count (O(n²): ~0.9 s
        # of the window's time for 600 tables).
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self._fit_counts = QTimer(self)
        self._fit_counts.setSingleShot(True)
        self._fit_counts.setInterval(COUNT_COLUMN_REFIT_MS)
        self._fit_counts.timeout.connect(self._fit_rows_column)
        self._rows_width = 0  # the Rows column's width for its contents (measured when counts change)
        self.tree.setUniformRowHeights(True)
        add_full_text_tips(self.tree)  # names cut by a narrow sidebar can be read whole
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemActivated.connect(self._activated)
        vbox(hbox((self.filter, 1), self.show_hidden), self.tree, margins=0, parent=self)
        self._catalog: Catalog | None = None
        self._counts: dict[str, RowCount] = {}
        self._table_items: dict[str, QTreeWidgetItem] = {}
        self._attached: list[tuple[str, str, Catalog]] = []

    def set_attached(self, attached: list[tuple[str, str, Catalog]]) -> None:
        """Show the attached databases (schema name, file name, catalog) below the open one's objects."""
        self._attached = list(attached)
        self._rebuild()

    def attached_items(self) -> dict[str, QTreeWidgetItem]:
        """The group item of each attached database, by schema name."""
        found = {}
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, _ROLE_KIND) == "attached":
                found[item.data(0, _ROLE_SCHEMA)] = item
        return found

    def set_catalog(self, catalog: Catalog | None) -> None:
        """Show `catalog` (None clears the tree)."""
        self._catalog = catalog
        self._counts = {}
        self._rebuild()

    def set_row_count(self, table: str, count: RowCount) -> None:
        """Show a table's row count (estimates get a ≈)."""
        self._counts[table] = count
        item = self._table_items.get(table)
        if item is not None:
            item.setText(1, count.label())
            item.setToolTip(1, f"{count.label()} rows")
            if not self._fit_counts.isActive():
                self._fit_counts.start()

    def select_table(self, name: str) -> None:
        """Highlight `name` without emitting a request."""
        item = self._table_items.get(name)
        if item is not None:
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(item)
            self.tree.blockSignals(False)

    def _recolour(self) -> None:
        """The theme changed: the coloured texts (unreadable tables, notes) take its colours."""
        error, dim = error_colour(), dim_colour()
        pending = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while pending:
            item = pending.pop()
            pending.extend(item.child(i) for i in range(item.childCount()))
            for column, colour in ((0, error), (1, dim)):
                if item.data(column, Qt.ItemDataRole.ForegroundRole) is not None:
                    item.setForeground(column, colour)

    def _rebuild(self) -> None:
        self.tree.clear()
        self._table_items = {}
        catalog = self._catalog
        if catalog is None:
            return
        include_hidden = self.show_hidden.isChecked()
        for kind, label in _GROUPS:
            tables = [
                t
                for t in catalog.visible_tables(include_hidden)
                if (t.kind is kind and not (t.internal and kind is not TableKind.SHADOW))
                or (kind is TableKind.SHADOW and t.internal)
            ]
            if not tables:
                continue
            group = QTreeWidgetItem(self.tree, [f"{label} ({len(tables)})"])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for table in tables:
                self._add_table(group, table)
            group.setExpanded(kind in (TableKind.TABLE, TableKind.VIEW, TableKind.VIRTUAL))
        self._add_group("Indexes", [(i.name, f"on {i.table}", i.sql or "") for i in catalog.indexes], "index")
        self._add_group("Triggers", [(t.name, f"on {t.table}", t.sql) for t in catalog.triggers], "trigger")
        for schema, file_name, attached in self._attached:
            self._add_attached(schema, file_name, attached)
        self._apply_filter(self.filter.text())
        self._fit_rows_column()

    def _fit_rows_column(self) -> None:
        self.tree.resizeColumnToContents(1)
        self._rows_width = self.tree.columnWidth(1)
        self._cap_rows_column()

    def _cap_rows_column(self) -> None:
        """The Rows column takes at most a third of a narrow tree, so names keep most of the width."""
        cap = max(self.tree.viewport().width() // 3, 40)
        self.tree.setColumnWidth(1, min(self._rows_width, cap))

    def resizeEvent(self, event: QResizeEvent) -> None:
        """A narrower sidebar narrows the Rows column too."""
        super().resizeEvent(event)
        self._cap_rows_column()

    def _add_table(self, group: QTreeWidgetItem, table: Table) -> None:
        count = self._counts.get(table.name, RowCount(None, False))
        # Views are not counted: counting would run the view's whole query.
        label = "" if table.kind is TableKind.VIEW else count.label()
        item = QTreeWidgetItem(group, ["", label])
        item.setData(0, _ROLE_KIND, "table")
        item.setData(0, _ROLE_NAME, table.name)
        item.setData(0, _ROLE_SQL, table.sql or "")
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        flags = [table.module.upper()] if table.module else []
        flags += ["WITHOUT ROWID"] * table.without_rowid + ["STRICT"] * table.strict
        label_tree_item(
            item,
            0,
            table.name,
            name_tooltip(table.name, table.kind.value) + (f" ({', '.join(flags)})" if flags else ""),
        )
        if table.error:
            item.setToolTip(0, f"{name_tooltip(table.name, table.kind.value)} cannot be read: {table.error}")
            item.setForeground(0, error_colour())
        fk_targets = {col: fk.target_table for fk in table.foreign_keys for col in fk.from_columns}
        for column in table.columns:
            marks = []
            if column.pk_position:
                marks.append("PK")
            if column.name in fk_targets:
                marks.append(f"FK→{fk_targets[column.name]}")
            if column.generated:
                marks.append("generated")
            text = f"{visible_name(column.name)}  {column.declared_type}".rstrip()
            child = QTreeWidgetItem(item, [text, " ".join(marks)])
            child.setData(0, _ROLE_KIND, "column")
            child.setData(0, _ROLE_NAME, column.name)
            child.setForeground(1, dim_colour())
        self._table_items[table.name] = item

    def _add_attached(self, schema: str, file_name: str, catalog: Catalog) -> None:
        tables = [t for t in catalog.visible_tables(False) if not t.internal]
        group = QTreeWidgetItem(
            self.tree, [f"{visible_name(schema)}: {file_name} ({len(tables)})", "attached"]
        )
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        group.setData(0, _ROLE_KIND, "attached")
        group.setData(0, _ROLE_SCHEMA, schema)
        group.setToolTip(
            0, f"{file_name}, a read-only snapshot attached as {schema}: use {schema}.table in SQL"
        )
        for table in tables:
            item = QTreeWidgetItem(group, ["", table.kind.value])
            label_tree_item(item, 0, table.name, f"{table.kind.value} {name_tooltip(table.name)} in {schema}")
            item.setData(0, _ROLE_KIND, "attached_table")
            item.setData(0, _ROLE_NAME, table.name)
            item.setData(0, _ROLE_SQL, table.sql or "")
            item.setData(0, _ROLE_SCHEMA, schema)
            item.setForeground(1, dim_colour())
        group.setExpanded(True)

    def _add_group(self, label: str, entries: list[tuple[str, str, str]], kind: str) -> None:
        if not entries:
            return
        group = QTreeWidgetItem(self.tree, [f"{label} ({len(entries)})"])
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        for name, note, sql in entries:
            item = QTreeWidgetItem(group, ["", note])
            label_tree_item(item, 0, name, f"{name_tooltip(name, kind)} {note}")
            item.setData(0, _ROLE_KIND, kind)
            item.setData(0, _ROLE_NAME, name)
            item.setData(0, _ROLE_SQL, sql)
            item.setForeground(1, dim_colour())

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            shown = 0
            for j in range(group.childCount()):
                item = group.child(j)
                columns_match = any(needle in item.child(k).text(0).lower() for k in range(item.childCount()))
                visible = not needle or needle in item.text(0).lower() or columns_match
                item.setHidden(not visible)
                shown += visible
            group.setHidden(shown == 0)

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.data(0, _ROLE_KIND) == "attached_table":
            self.show_sql_requested.emit(
                table_export_sql(item.data(0, _ROLE_NAME), item.data(0, _ROLE_SCHEMA))
            )
            return
        target = item if item.data(0, _ROLE_KIND) == "table" else item.parent()
        if target is not None and target.data(0, _ROLE_KIND) == "table":
            self.browse_requested.emit(target.data(0, _ROLE_NAME))

    def _context_menu(self, position: object) -> None:
        item = self.tree.itemAt(position)  # type: ignore[arg-type]
        if item is None or item.data(0, _ROLE_KIND) is None:
            return
        kind = item.data(0, _ROLE_KIND)
        name = item.data(0, _ROLE_NAME)
        sql = item.data(0, _ROLE_SQL) or ""
        menu = QMenu(self)
        schema = item.data(0, _ROLE_SCHEMA)
        if kind == "attached":
            menu.addAction(f"Detach {schema}", lambda: self.detach_requested.emit(schema))
            menu.popup(self.tree.viewport().mapToGlobal(position))  # type: ignore[arg-type]
            return
        if kind == "attached_table":
            query = table_export_sql(name, schema)
            menu.addAction("Query in the SQL pane", lambda: self.show_sql_requested.emit(query))
            menu.addAction("Export…", lambda: self.export_attached_requested.emit(schema, name))
        if kind == "table":
            menu.addAction("Browse", lambda: self.browse_requested.emit(name))
            menu.addAction("Export…", lambda: self.export_requested.emit(name))
        menu.addAction("Copy name", lambda: QGuiApplication.clipboard().setText(name))
        if sql:
            menu.addAction("Copy CREATE statement", lambda: QGuiApplication.clipboard().setText(sql))
            menu.addAction("Show SQL", lambda: self.show_sql_requested.emit(sql))
        menu.popup(self.tree.viewport().mapToGlobal(position))  # type: ignore[arg-type]
