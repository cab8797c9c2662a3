"""The Structure pane's other tabs: the schema as readable SQL, the database's facts, health and space."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.structure.facts import DatabaseFacts
from desktop_app.core.structure.health import HealthReport, IntegrityResult
from desktop_app.core.structure.schema_text import SchemaEntry, pretty_sql
from desktop_app.core.structure.space import ObjectSpace, SpaceReport
from desktop_app.ui.theme import dim_colour, error_box, label_box_style, ok_box, palette, scheme
from desktop_app.ui.widgets.full_text_tips import add_full_text_tips
from desktop_app.ui.widgets.sql_highlighter import SqlHighlighter

_ENTRY_ROLE = Qt.ItemDataRole.UserRole


def human_bytes(count: int) -> str:
    """1234567 → '1.2 MB' (decimal units, as file managers show sizes)."""
    size = float(count)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{count:,} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{count:,} bytes"


class SchemaView(QWidget):
    """Every schema object in a list; the selected one's CREATE statement laid out and highlighted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[SchemaEntry] = []
        self.list = QListWidget()
        add_full_text_tips(self.list)
        self.list.currentItemChanged.connect(lambda *_: self._show_current())
        self.marks = QLabel()
        self.marks.setWordWrap(True)
        self.marks.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.highlighter = SqlHighlighter(self.text.document())
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy this statement")
        self.copy_button.clicked.connect(self.copy)
        self.copy_all_button = QPushButton("Copy whole schema")
        self.copy_all_button.clicked.connect(self.copy_all)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(self.marks, 1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.copy_all_button)
        right_layout.addLayout(bar)
        right_layout.addWidget(self.text, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.list)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([260, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    def show_entries(self, entries: list[SchemaEntry]) -> None:
        """List `entries` (hidden ones greyed, at the end of their kind) and show the first."""
        self.entries = entries
        self.list.clear()
        for entry in entries:
            label = f"{entry.kind}: {entry.name}"
            if entry.kind in ("index", "trigger"):
                label += f"  (on {entry.table})"
            item = QListWidgetItem(label)
            item.setData(_ENTRY_ROLE, entry)
            tip = "\n".join([label, *entry.marks])
            item.setToolTip(tip)
            if entry.hidden:
                item.setForeground(dim_colour())
            self.list.addItem(item)
        if entries:
            self.list.setCurrentRow(0)
        else:
            self.text.clear()
            self.marks.clear()

    def select(self, name: str) -> bool:
        """Show the object called `name`."""
        for row, entry in enumerate(self.entries):
            if entry.name == name:
                self.list.setCurrentRow(row)
                return True
        return False

    def current(self) -> SchemaEntry | None:
        """The object shown."""
        item = self.list.currentItem()
        return item.data(_ENTRY_ROLE) if item is not None else None

    def _show_current(self) -> None:
        entry = self.current()
        if entry is None:
            return
        words = list(entry.marks)
        if entry.reads:
            words.append("reads: " + ", ".join(entry.reads))
        self.marks.setText(" · ".join(words) if words else f"{entry.kind} {entry.name}")
        sql = pretty_sql(entry.sql)
        self.text.setPlainText(sql or "-- created by SQLite for a UNIQUE or PRIMARY KEY constraint (no SQL)")

    def copy(self) -> None:
        """Copy the shown statement."""
        QGuiApplication.clipboard().setText(self.text.toPlainText())

    def copy_all(self) -> None:
        """Copy every statement, laid out, separated by semicolons."""
        QGuiApplication.clipboard().setText(
            "\n\n".join(pretty_sql(e.sql) + ";" for e in self.entries if e.sql.strip()) + "\n"
        )


class FactsView(QScrollArea):
    """The database's own facts as a form."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.facts: DatabaseFacts | None = None
        self.rows: dict[str, str] = {}
        self.show_facts(None)

    def show_facts(self, facts: DatabaseFacts | None, message: str = "") -> None:
        """Show `facts` (None: `message` alone)."""
        self.facts = facts
        body = QWidget()
        form = QFormLayout(body)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.rows = {}
        if facts is None:
            form.addRow(QLabel(message))
        else:
            for label, value in fact_rows(facts):
                self.rows[label] = value
                text = QLabel(value)
                text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                text.setWordWrap(True)
                form.addRow(f"{label}:", text)
        self.setWidget(body)


def fact_rows(facts: DatabaseFacts) -> list[tuple[str, str]]:
    """The facts as (label, value) lines, in reading order."""
    app_id = f"{facts.application_id} (0x{facts.application_id & 0xFFFFFFFF:08X})"
    if facts.application_id_name:
        app_id += f": {facts.application_id_name}"
    elif facts.application_id == 0:
        app_id += ": none set"
    return [
        ("Created by", facts.application or "not recognised (no known application id or tables)"),
        ("Recognised from its tables", "; ".join(facts.schema_fingerprints) or "nothing known"),
        (
            "Size",
            f"{human_bytes(facts.size_bytes)} ({facts.page_count:,} pages of {facts.page_size:,} bytes)",
        ),
        (
            "Free pages",
            f"{facts.freelist_pages:,} ({human_bytes(facts.freelist_pages * facts.page_size)} reusable)",
        ),
        ("Text encoding", facts.encoding),
        ("user_version", str(facts.user_version)),
        ("application_id", app_id),
        (
            "Journal",
            {"wal": "WAL (write-ahead log)", "rollback": "rollback journal"}.get(
                facts.journal, facts.journal
            ),
        ),
        ("auto_vacuum", facts.auto_vacuum),
        ("Schema format", str(facts.schema_format) if facts.schema_format is not None else "unknown"),
        ("Last written by SQLite", facts.sqlite_version or "unknown"),
        (
            "Reserved bytes per page",
            str(facts.reserved_bytes) if facts.reserved_bytes is not None else "unknown",
        ),
        ("Change counter", str(facts.change_counter) if facts.change_counter is not None else "unknown"),
    ]


class HealthView(QWidget):
    """The checks' buttons, their summary, and a table of problems that link to their table and row."""

    #: (table, rowid or None): open the table in Browse, at that row when known
    open_requested = Signal(str, object)
    COLUMNS = ("Problem", "Table or index", "Table", "Page", "Row")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.quick_button = QPushButton("Quick check")
        self.quick_button.setToolTip(
            "quick_check: every page and record, without comparing indexes with tables"
        )
        self.full_button = QPushButton("Integrity check")
        self.full_button.setToolTip(
            "integrity_check: everything quick_check does, and every index against its table"
        )
        self.keys_button = QPushButton("Foreign keys")
        self.keys_button.setToolTip("foreign_key_check: rows whose foreign key points at no parent row")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.progress = QLabel()
        self.summary = QLabel("These checks read the snapshot (never your file) and change nothing.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        add_full_text_tips(self.table)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setToolTip("Double-click a problem to open its table (at its row when known)")
        self.table.cellDoubleClicked.connect(self._open_row)
        self.links: list[tuple[str | None, int | None]] = []
        bar = QHBoxLayout()
        for button in (self.quick_button, self.full_button, self.keys_button, self.stop_button):
            bar.addWidget(button)
        bar.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    def set_running(self, running: bool, label: str = "") -> None:
        """Buttons off and Stop on while a check runs."""
        for button in (self.quick_button, self.full_button, self.keys_button):
            button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.progress.setText(label)

    def show_report(self, report: HealthReport | IntegrityResult | None, summary: str = "") -> None:
        """Show a health report, an integrity result alone, or (None) just `summary`."""
        self.table.setRowCount(0)
        self.links = []
        if report is None:
            self.summary.setText(summary)
            self.summary.setStyleSheet("")
            return
        integrity = report.integrity if isinstance(report, HealthReport) else report
        violations = report.foreign_keys if isinstance(report, HealthReport) else []
        rows: list[tuple[str, str, str | None, int | None, int | None]] = [
            (p.message, p.object or "", p.table, p.page, p.row) for p in integrity.problems
        ]
        rows += [
            (f"foreign key {v.fkid} points at a missing row of {v.parent}", v.table, v.table, None, v.rowid)
            for v in violations
        ]
        for message, named, table, page, row in rows:
            index = self.table.rowCount()
            self.table.insertRow(index)
            for column, value in enumerate((message, named, table or "", page, row)):
                self.table.setItem(index, column, QTableWidgetItem("" if value is None else str(value)))
            self.links.append((table, row))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        healthy = report.ok
        self.summary.setText(report.summary())
        self.summary.setStyleSheet(label_box_style(ok_box() if healthy else error_box()))

    def _open_row(self, row: int, _column: int) -> None:
        if 0 <= row < len(self.links):
            table, rowid = self.links[row]
            if table:
                self.open_requested.emit(table, rowid)


class SpaceBars(QWidget):
    """Horizontal bars, one per b-tree, longest first: used, unused and overflow bytes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.objects: list[ObjectSpace] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_objects(self, objects: list[ObjectSpace], most: int = 40) -> None:
        """Draw the `most` largest of `objects`."""
        self.objects = objects[:most]
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        """Room for every bar."""
        return QSize(400, 22 * max(1, len(self.objects)) + 30)

    def paintEvent(self, _event: QPaintEvent) -> None:
        """Paint a bar per object: payload (blue), unused (grey) and overflow (orange) parts."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.objects:
            return
        metrics = painter.fontMetrics()
        label_w = min(self.width() // 3, max(metrics.horizontalAdvance(o.name) for o in self.objects) + 12)
        value_w = metrics.horizontalAdvance("999.9 MB") + 12
        span = max(1, self.width() - label_w - value_w - 8)
        biggest = max(o.bytes for o in self.objects) or 1
        chart = scheme()
        content, overflow_colour = chart.chart_content, chart.chart_overflow
        unused_colour = chart.chart_unused
        for i, obj in enumerate(self.objects):
            y = 6 + i * 22
            name = metrics.elidedText(obj.name, Qt.TextElideMode.ElideMiddle, label_w - 8)
            painter.setPen(palette().color(QPalette.ColorRole.WindowText))
            painter.drawText(
                QRectF(0, y, label_w - 8, 18),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
            width = span * obj.bytes / biggest
            overflow = obj.overflow_pages * (obj.bytes / obj.pages) if obj.pages else 0
            unused = min(obj.unused_bytes, obj.bytes)
            parts = (
                (max(0.0, obj.bytes - unused - overflow), content),
                (overflow, overflow_colour),
                (unused, unused_colour),
            )
            x = float(label_w)
            painter.setPen(Qt.PenStyle.NoPen)
            for amount, colour in parts:
                w = width * amount / obj.bytes if obj.bytes else 0
                painter.setBrush(QColor(colour))
                painter.drawRect(QRectF(x, y + 2, w, 14))
                x += w
            painter.setPen(dim_colour())
            painter.drawText(
                QRectF(x + 6, y, value_w, 18), Qt.AlignmentFlag.AlignVCenter, human_bytes(obj.bytes)
            )
        legend_y = 6 + len(self.objects) * 22 + 4
        x = float(label_w)
        legend = (("content", content), ("overflow pages", overflow_colour), ("unused", unused_colour))
        for text, colour in legend:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colour))
            painter.drawRect(QRectF(x, legend_y + 4, 10, 10))
            painter.setPen(palette().color(QPalette.ColorRole.WindowText))
            painter.drawText(QRectF(x + 14, legend_y, 200, 18), Qt.AlignmentFlag.AlignVCenter, text)
            x += 14 + metrics.horizontalAdvance(text) + 18
        painter.end()


class SpaceView(QWidget):
    """Space per table and index: a sorted table and a bar chart."""

    COLUMNS = ("Name", "Kind", "Table", "Pages", "Bytes", "Overflow pages", "Unused bytes", "Cells")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.measure_button = QPushButton("Measure space")
        self.measure_button.setToolTip("Read every page of the snapshot (SQLite's dbstat table)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.summary = QLabel("Press Measure space to see where the file's size goes.")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        add_full_text_tips(self.table)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.bars = SpaceBars()
        bars_scroll = QScrollArea()
        bars_scroll.setWidgetResizable(True)
        bars_scroll.setWidget(self.bars)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(bars_scroll)
        split.setSizes([560, 440])
        bar = QHBoxLayout()
        bar.addWidget(self.measure_button)
        bar.addWidget(self.stop_button)
        bar.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        self.report: SpaceReport | None = None

    def set_running(self, running: bool, label: str = "") -> None:
        """Measure off and Stop on while measuring."""
        self.measure_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        if label:
            self.summary.setText(label)

    def show_report(self, report: SpaceReport | None, message: str = "") -> None:
        """Fill the table (largest first) and the bars."""
        self.report = report
        self.table.setSortingEnabled(False)
        self.table.setRowCount(0)
        if report is None:
            self.bars.set_objects([])
            self.summary.setText(message)
            return
        for obj in report.objects:
            row = self.table.rowCount()
            self.table.insertRow(row)
            values: tuple[object, ...] = (
                obj.name,
                obj.kind,
                obj.table,
                obj.pages,
                obj.bytes,
                obj.overflow_pages,
                obj.unused_bytes,
                obj.cells,
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem()
                if isinstance(value, int):
                    item.setData(Qt.ItemDataRole.DisplayRole, value)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                else:
                    item.setText(str(value))
                self.table.setItem(row, column, item)
        self.table.setSortingEnabled(True)
        self.table.sortItems(4, Qt.SortOrder.DescendingOrder)
        self.table.resizeColumnsToContents()
        self.bars.set_objects(report.objects)
        totals = report.totals
        self.summary.setText(
            f"{human_bytes(report.page_count * report.page_size)} in {report.page_count:,} pages: "
            f"{human_bytes(totals.bytes)} in tables and indexes "
            f"({human_bytes(totals.unused_bytes)} of it unused), "
            f"{report.freelist_pages:,} free pages."
        )
