"""Views of one migration tool's status: applied history, warnings, pending files and (up, down) pairs."""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QIcon, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.migrations import (
    AppliedMigration,
    PendingReport,
    ReversibleMigration,
    ToolStatus,
    incomplete_note,
)
from desktop_app.ui.theme import (
    BoxColours,
    box_style,
    error_box,
    follow,
    ok_colour,
    warning_box,
    warning_colour,
)
from desktop_app.ui.widgets.layout import tabs

#: Extra columns that are the tracking table's own row key: no news for the user.
_HIDDEN_EXTRAS = frozenset({"row_id"})
_MAX_COLUMN_PX = 260
_SHORT_CHECKSUM = 12
_ColumnGetter = Any
_Index = QModelIndex | QPersistentModelIndex


def local_time(moment: datetime | None) -> str:
    """An aware datetime as local wall-clock time, '' for None."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def row_state(row: AppliedMigration) -> tuple[str, BoxColours | None]:
    """The words for a history row's state and its colours, None for plain (the words say it too)."""
    if row.rolled_back:
        return "↺ rolled back", warning_box()
    if row.success is False:
        return "✗ failed / dirty", error_box()
    if row.success is True:
        return "✓ succeeded", None
    return "applied", None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def tool_summary(status: ToolStatus) -> str:
    """Short lines for the tool list: label, table, current version, counts, then warnings if any."""
    where = f"table {status.table}" if status.table else "PRAGMA user_version"
    version = status.current_version if status.current_version is not None else "none"
    counts = [f"{len(status.history)} applied"]
    pending = status.pending
    if pending is not None and pending.compared:
        counts.append(f"{len(pending.pending)} pending" + ("?" if pending.incomplete else ""))
        if pending.missing:
            counts.append(f"{len(pending.missing)} missing")
        if pending.checksum_mismatches:
            counts.append(f"{len(pending.checksum_mismatches)} changed")
    lines = [status.label, where, f"current: {version}", " · ".join(counts)]
    if status.warnings:
        lines.append(f"⚠ {len(status.warnings)} warning{'s' if len(status.warnings) != 1 else ''}")
    return "\n".join(lines)


class ToolListDelegate(QStyledItemDelegate):
    """Draws a `tool_summary` entry: the label in bold, then the other lines; a warning line in amber."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        """Draw the entry's background, icon (right) and lines, each elided to the width."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        # From the model: the style option's text has its newlines turned into U+2028 already.
        lines, icon = str(index.data() or "").split("\n"), QIcon(opt.icon)  # type: ignore[attr-defined]
        opt.text, opt.icon = "", QIcon()  # type: ignore[attr-defined]
        style = opt.widget.style() if opt.widget else QApplication.style()  # type: ignore[attr-defined]
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)  # type: ignore[attr-defined]
        rect = opt.rect.adjusted(8, 5, -8, -5)  # type: ignore[attr-defined]
        if not icon.isNull():
            icon.paint(painter, QRect(rect.right() - 16, rect.top(), 16, 16))
            rect.setRight(rect.right() - 22)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        top = rect.top()
        for number, line in enumerate(lines):
            font = QFont(opt.font)  # type: ignore[attr-defined]
            font.setBold(number == 0)
            metrics = QFontMetrics(font)
            painter.setFont(font)
            warning = "⚠" in line and not selected
            painter.setPen(warning_colour() if warning else opt.palette.color(role))  # type: ignore[attr-defined]
            line_rect = QRect(rect.left(), top, rect.width(), metrics.height())
            elided = metrics.elidedText(line, Qt.TextElideMode.ElideRight, rect.width())
            painter.drawText(line_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)
            top += metrics.height() + 1
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        """Room for every line of the entry."""
        lines = str(index.data() or "").count("\n") + 1
        return QSize(200, lines * (option.fontMetrics.height() + 1) + 10)  # type: ignore[attr-defined]


class HistoryModel(QAbstractTableModel):
    """The applied history of one tool; columns nobody filled are left out."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[AppliedMigration] = []
        self.columns: list[tuple[str, _ColumnGetter]] = []

    def set_history(self, rows: list[AppliedMigration]) -> None:
        """Show `rows` (oldest first, as the tool ordered them)."""
        self.beginResetModel()
        self.rows = rows
        self.columns = self._columns_for(rows)
        self.endResetModel()

    @staticmethod
    def _columns_for(rows: list[AppliedMigration]) -> list[tuple[str, _ColumnGetter]]:
        candidates: list[tuple[str, _ColumnGetter]] = [
            ("ID", lambda r: r.id),
            ("Name", lambda r: r.name if r.name != r.id else None),
            ("Status", lambda r: row_state(r)[0] if r.success is not None or r.rolled_back else None),
            ("Applied (local time)", lambda r: local_time(r.applied_at)),
            ("Batch", lambda r: r.batch),
            ("Checksum", lambda r: r.checksum),
        ]
        keep = [(title, get) for title, get in candidates if title == "ID" or any(get(r) for r in rows)]
        extras: list[str] = []
        for row in rows:
            extras += [key for key in row.extra if key not in extras and key not in _HIDDEN_EXTRAS]
        for key in extras:
            if any(row.extra.get(key) not in (None, "") for row in rows):
                keep.append((key.replace("_", " "), lambda r, k=key: r.extra.get(k)))
        return keep

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Number of history rows."""
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Number of columns shown."""
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles (their tooltip too: a long one is cut); row numbers down the side."""
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section][0]
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if horizontal:
            return self.columns[section][0]
        return section + 1

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Text, colours and tooltips of one cell."""
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        title, get = self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            text = _cell(get(row))
            if role == Qt.ItemDataRole.ToolTipRole and title == "Applied (local time)" and row.applied_at:
                return f"{text} (local time)\nrecorded as {row.applied_at.isoformat()}"
            return text or None
        _label, colours = row_state(row)
        if role == Qt.ItemDataRole.BackgroundRole and colours:
            return QBrush(QColor(colours.background))
        if role == Qt.ItemDataRole.ForegroundRole:
            if colours:
                return QBrush(QColor(colours.text))
            if title == "Status" and row.success is True:
                return QBrush(ok_colour())
        if role == Qt.ItemDataRole.FontRole and title == "Status" and colours:
            font = QFont()
            font.setBold(True)
            return font
        return None


def _read_only_table(model: QAbstractTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long checksums and ids keep both ends
    view.setAlternatingRowColors(False)  # the row colours carry meaning
    view.horizontalHeader().setStretchLastSection(True)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    return view


def _text_label(text_format: Qt.TextFormat) -> QLabel:
    """A wrapped label whose text can be selected and copied."""
    label = QLabel()
    label.setTextFormat(text_format)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _warning_frame(name: str, label: QLabel) -> QFrame:
    """`label` inside a warning-coloured box (styled by object name `name`)."""
    frame = QFrame()
    frame.setObjectName(name)
    follow(frame, lambda: box_style(f"#{name}", warning_box()))
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(10, 6, 10, 6)
    layout.addWidget(label)
    return frame


def _sql_viewer(placeholder: str) -> QPlainTextEdit:
    editor = QPlainTextEdit()
    editor.setReadOnly(True)
    editor.setPlaceholderText(placeholder)
    editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    editor.setFont(QFont("monospace"))
    return editor


class PendingView(QWidget):
    """What the chosen folder holds that the history does not, and the reverse."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro = _text_label(Qt.TextFormat.PlainText)
        self.intro.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        #: Says when the folder was not read completely or files named like migrations were not read.
        self.walk_note = _text_label(Qt.TextFormat.PlainText)
        self.walk_note_box = _warning_frame("walk_note", self.walk_note)
        self.walk_note_box.setVisible(False)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Migration", "Details", "File"])
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.walk_note_box)
        layout.addWidget(self.intro)
        layout.addWidget(self.tree, 1)

    def show_pending(self, pending: PendingReport | None, folder: str | None) -> None:
        """Fill the view; `folder` None means the user has not chosen one yet."""
        self.tree.clear()
        self._show_walk_note(pending)
        if folder is None:
            self._intro(
                "Choose the project's migrations folder (above) to list migrations not applied yet, "
                "applied ones whose file is missing, and files changed since they were applied."
            )
            return
        if pending is None:
            self._intro(f"This tool's pending migrations cannot be worked out from a folder ({folder}).")
            return
        lines = [f"Folder: {pending.folder}", *pending.notes]
        if pending.compared and not (pending.pending or pending.missing or pending.checksum_mismatches):
            lines.insert(1, "Up to date: every migration in the folder is applied and none is missing.")
        self._intro("\n".join(lines))
        self._section(
            "Not applied yet",
            [(item.id, item.name or "", item.path) for item in pending.pending],
            None,
        )
        self._section(
            "Applied, but the file is missing from the folder",
            [(row.id, local_time(row.applied_at), "") for row in pending.missing],
            warning_box(),
        )
        self._section(
            "Changed since applied (checksum differs)",
            [
                (m.id, f"stored {_short(m.stored)} · file {_short(m.computed)}", m.path)
                for m in pending.checksum_mismatches
            ],
            error_box(),
            {
                m.id: f"stored checksum: {m.stored}\nfile's checksum: {m.computed}"
                for m in pending.checksum_mismatches
            },
        )
        if pending.heads:
            self._section("Heads of the revision graph on disk", [(h, "", "") for h in pending.heads], None)
        self._section(
            "Not read (named like a migration)",
            [(Path(item.path).name, item.reason, item.path) for item in pending.skipped],
            warning_box(),
        )
        self.tree.setVisible(self.tree.topLevelItemCount() > 0)
        self.tree.expandAll()
        for column in range(2):
            self.tree.resizeColumnToContents(column)
            self.tree.setColumnWidth(column, min(self.tree.columnWidth(column), _MAX_COLUMN_PX))

    def _show_walk_note(self, pending: PendingReport | None) -> None:
        lines = []
        note = incomplete_note(pending) if pending is not None else None
        if note is not None:
            lines.append(f"⚠ {note}")
        if pending is not None and pending.skipped:
            count = len(pending.skipped)
            lines.append(
                f"⚠ {count} file{'s' if count != 1 else ''} named like a migration "
                f"{'were' if count != 1 else 'was'} not read (listed under “Not read”)."
            )
        self.walk_note.setText("\n".join(lines))
        self.walk_note_box.setVisible(bool(lines))

    def _intro(self, text: str) -> None:
        self.intro.setText(text)
        self.tree.setVisible(False)

    def _section(
        self,
        title: str,
        rows: list[tuple[str, str, str]],
        colours: BoxColours | None,
        tooltips: dict[str, str] | None = None,
    ) -> None:
        tooltips = tooltips or {}
        if not rows:
            return
        top = QTreeWidgetItem([f"{title} ({len(rows)})"])
        font = top.font(0)
        font.setBold(True)
        top.setFont(0, font)
        for values in rows:
            child = QTreeWidgetItem(list(values))
            for column, value in enumerate(values):
                child.setToolTip(column, tooltips.get(values[0], value) if column == 1 else value)
                if colours:
                    child.setBackground(column, QBrush(QColor(colours.background)))
                    child.setForeground(column, QBrush(QColor(colours.text)))
            top.addChild(child)
        self.tree.addTopLevelItem(top)
        top.setFirstColumnSpanned(True)


class ReversibleView(QWidget):
    """The hand-rolled (up, down) pairs, with their SQL; shown only, never applied."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.migrations: list[ReversibleMigration] = []
        self.note = QLabel(
            "Shown only: these (up, down) migrations are never run; the snapshot is read-only."
        )
        self.note.setWordWrap(True)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Version", "Name", "State", "Down", "Source"])
        self.list.setRootIsDecorated(False)
        self.list.currentItemChanged.connect(self._on_current)
        self.up = _sql_viewer("up SQL")
        self.down = _sql_viewer("no down migration")
        texts = QSplitter(Qt.Orientation.Horizontal)
        for title, editor in (("Up", self.up), ("Down", self.down)):
            box = QWidget()
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            inner.addWidget(QLabel(title))
            inner.addWidget(editor)
            texts.addWidget(box)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list)
        split.addWidget(texts)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.note)
        layout.addWidget(split, 1)

    def show_migrations(self, migrations: list[ReversibleMigration]) -> None:
        """List `migrations` and show the first one's SQL."""
        self.migrations = migrations
        self.list.clear()
        for migration in migrations:
            item = QTreeWidgetItem(
                [
                    str(migration.version),
                    migration.name or "",
                    "applied" if migration.applied else "not applied",
                    "yes" if migration.down is not None else "no",
                    migration.source,
                ]
            )
            item.setToolTip(4, migration.source)
            self.list.addTopLevelItem(item)
        for column in range(4):
            self.list.resizeColumnToContents(column)
        self.up.clear()
        self.down.clear()
        if migrations:
            self.list.setCurrentItem(self.list.topLevelItem(0))

    def _on_current(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        index = self.list.indexOfTopLevelItem(current) if current is not None else -1
        migration = self.migrations[index] if 0 <= index < len(self.migrations) else None
        self.up.setPlainText(migration.up if migration else "")
        self.down.setPlainText(migration.down or "" if migration else "")


class ToolDetail(QWidget):
    """Everything about one tool: heading, warnings, side facts, then history / pending / (up, down) tabs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        heading_font = self.heading.font()
        heading_font.setPointSizeF(heading_font.pointSizeF() * 1.3)
        heading_font.setBold(True)
        self.heading.setFont(heading_font)
        self.subtitle = _text_label(Qt.TextFormat.PlainText)
        self.warnings = _text_label(Qt.TextFormat.RichText)
        self.warnings_box = _warning_frame("warnings", self.warnings)
        self.details = _text_label(Qt.TextFormat.RichText)
        self.history_model = HistoryModel(self)
        self.history = _read_only_table(self.history_model)
        self.pending = PendingView()
        self.reversible = ReversibleView()
        self.tabs = tabs(
            (self.history, "Applied"), (self.pending, "Pending"), (self.reversible, "Reversible (up, down)")
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.warnings_box)
        layout.addWidget(self.details)
        layout.addWidget(self.tabs, 1)

    def show_status(self, status: ToolStatus, folder: str | None) -> None:
        """Show `status`; `folder` is the migrations folder compared with it, if any."""
        self.heading.setText(status.label)
        where = f"Table {status.table}" if status.table else "PRAGMA user_version"
        version = status.current_version if status.current_version is not None else "none"
        self.subtitle.setText(f"{where} · current version: {version} · {len(status.history)} applied")
        count = len(status.warnings)
        self.warnings.setText(
            f"<b>⚠ {count} warning{'s' if count != 1 else ''}</b><br>"
            + "<br>".join(f"• {escape(w)}" for w in status.warnings)
        )
        self.warnings_box.setVisible(bool(status.warnings))
        facts = [f"{escape(key)}: {escape(value)}" for key, value in status.details.items()]
        if status.related_tables:
            facts.append(f"related tables: {escape(', '.join(status.related_tables))}")
        self.details.setText("<br>".join(facts))
        self.details.setVisible(bool(facts))
        self.history_model.set_history(status.history)
        self.history.resizeColumnsToContents()
        for column in range(self.history_model.columnCount()):
            self.history.setColumnWidth(column, min(self.history.columnWidth(column), _MAX_COLUMN_PX))
        self.pending.show_pending(status.pending, folder)
        reversible = status.pending.reversible if status.pending else []
        self.reversible.show_migrations(reversible)
        self.tabs.setTabText(0, f"Applied ({len(status.history)})")
        self.tabs.setTabText(1, _pending_tab_title(status.pending))
        self.tabs.setTabVisible(2, bool(reversible))
        self.tabs.setTabText(2, f"Reversible (up, down) ({len(reversible)})")


def _short(checksum: str) -> str:
    return checksum if len(checksum) <= _SHORT_CHECKSUM + 1 else checksum[:_SHORT_CHECKSUM] + "…"


def _pending_tab_title(pending: PendingReport | None) -> str:
    if pending is None or not pending.compared:
        return "Pending"
    problems = len(pending.missing) + len(pending.checksum_mismatches)
    count = (
        f"{len(pending.pending)}, possibly incomplete" if pending.incomplete else str(len(pending.pending))
    )
    return f"Pending ({count})" + (f" ⚠ {problems}" if problems else "")
