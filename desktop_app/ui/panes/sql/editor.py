"""The SQL editor: a plain-text editor with line numbers, highlighting, completion and an error marker.

Positions in the public API are Python string indexes into `sql()`; Qt counts UTF-16 units, which
differ after an emoji, so conversions go through `to_utf16_offset`/`from_utf16_offset`.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

from desktop_app.core.sqlite.statements import from_utf16_offset, to_utf16_offset, tokenize
from desktop_app.ui.panes.sql.completer import SqlCompleter, complete, is_identifier_char
from desktop_app.ui.theme import error_colour, scheme
from desktop_app.ui.widgets.sql_highlighter import SqlHighlighter

_INDENT = "    "
_POPUP_KEYS = frozenset(
    {Qt.Key.Key_Enter, Qt.Key.Key_Return, Qt.Key.Key_Escape, Qt.Key.Key_Tab, Qt.Key.Key_Backtab}
)


class _LineNumbers(QWidget):
    """The gutter: line numbers, and a red mark on the line of the error."""

    def __init__(self, editor: SqlEditor) -> None:
        super().__init__(editor)
        self.editor = editor
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        """Wide enough for the largest line number."""
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the numbers of the visible lines."""
        self.editor.paint_gutter(self, event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Show the error message when hovering its mark."""
        message = self.editor.error_message
        line = self.editor.error_line
        if message and line is not None and self.editor.line_at_y(round(event.position().y())) == line:
            QToolTip.showText(event.globalPosition().toPoint(), message, self)
        else:
            QToolTip.hideText()


class SqlEditor(QPlainTextEdit):
    """Monospace SQL editor; `mark_error` underlines where SQLite says a statement failed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(font.pointSizeF(), 10.0))
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * len(_INDENT))
        self.setPlaceholderText(
            "Write SQL here. F5 or Ctrl+Return runs it all (or the selection), Ctrl+E the statement under "
            "the cursor, Shift+F5 the line; Ctrl+Shift+X explains its query plan. Ctrl+Space completes names."
        )
        self.highlighter = SqlHighlighter(self.document())
        self.completer = SqlCompleter(self)
        self.completer.chosen.connect(self._insert_completion)
        self.error_message = ""
        self.error_line: int | None = None
        self._error_range: tuple[int, int] | None = None  # Qt positions
        self._gutter = _LineNumbers(self)
        self.blockCountChanged.connect(self._update_gutter_width)
        self.updateRequest.connect(self._update_gutter)
        self.cursorPositionChanged.connect(self._refresh_selections)
        self.textChanged.connect(self._on_text_changed)
        self._update_gutter_width()
        self._refresh_selections()

    # --- text and positions ---------------------------------------------------------------------

    def sql(self) -> str:
        """The whole text."""
        return self.toPlainText()

    def set_sql(self, text: str) -> None:
        """Replace the text (undoable) and put the cursor at its end."""
        cursor = self.textCursor()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        self.setTextCursor(cursor)

    def cursor_index(self) -> int:
        """The cursor as a Python index into `sql()`."""
        return from_utf16_offset(self.sql(), self.textCursor().position())

    def selection_range(self) -> tuple[int, int] | None:
        """(start, end) Python indexes of the selection, or None without one."""
        cursor = self.textCursor()
        if not cursor.hasSelection():
            return None
        text = self.sql()
        return from_utf16_offset(text, cursor.selectionStart()), from_utf16_offset(
            text, cursor.selectionEnd()
        )

    def set_cursor_index(self, index: int, anchor: int | None = None) -> None:
        """Move the cursor to Python index `index` (selecting from `anchor` when given)."""
        text = self.sql()
        cursor = self.textCursor()
        if anchor is not None:
            cursor.setPosition(min(to_utf16_offset(text, anchor), len(text.encode("utf-16-le")) // 2))
            mode = QTextCursor.MoveMode.KeepAnchor
        else:
            mode = QTextCursor.MoveMode.MoveAnchor
        cursor.setPosition(min(to_utf16_offset(text, index), len(text.encode("utf-16-le")) // 2), mode)
        self.setTextCursor(cursor)

    # --- error marker -----------------------------------------------------------------------------

    def mark_error(self, start: int, end: int | None, message: str) -> None:
        """Underline `start`..`end` (Python indexes; one token from `start` when `end` is None)."""
        text = self.sql()
        start = max(0, min(start, len(text)))
        if end is None:
            end = _token_end(text, start)
        end = max(start + 1, min(end, len(text))) if text else start
        self._error_range = (to_utf16_offset(text, start), to_utf16_offset(text, end))
        self.error_message = message
        self.error_line = self.document().findBlock(self._error_range[0]).blockNumber()
        self.set_cursor_index(start)
        self.ensureCursorVisible()
        self._refresh_selections()
        self._gutter.update()

    def clear_error(self) -> None:
        """Remove the error marker."""
        if self._error_range is None:
            return
        self._error_range = None
        self.error_message = ""
        self.error_line = None
        self._refresh_selections()
        self._gutter.update()

    @property
    def error_range(self) -> tuple[int, int] | None:
        """The marked range as Python indexes, or None."""
        if self._error_range is None:
            return None
        text = self.sql()
        return from_utf16_offset(text, self._error_range[0]), from_utf16_offset(text, self._error_range[1])

    def _on_text_changed(self) -> None:
        self.clear_error()  # the marked text may be gone; the next run marks again

    def _refresh_selections(self) -> None:
        selections = []
        line = QTextEdit.ExtraSelection()
        line.format.setBackground(QColor(scheme().current_line))
        line.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        line.cursor = self.textCursor()
        line.cursor.clearSelection()
        selections.append(line)
        if self._error_range is not None:
            start, end = self._error_range
            whole_line = QTextEdit.ExtraSelection()
            whole_line.format.setBackground(QColor(scheme().error_line))
            whole_line.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            whole_line.cursor = QTextCursor(self.document().findBlock(start))
            selections.append(whole_line)
            token = QTextEdit.ExtraSelection()
            token.format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            token.format.setUnderlineColor(error_colour())
            token.format.setBackground(QColor(scheme().error_token))
            cursor = QTextCursor(self.document())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            token.cursor = cursor
            selections.append(token)
        self.setExtraSelections(selections)

    # --- gutter ----------------------------------------------------------------------------------

    def gutter_width(self) -> int:
        """Pixels needed for the line numbers and the error mark."""
        digits = len(str(max(1, self.blockCount())))
        return 14 + self.fontMetrics().horizontalAdvance("9") * max(digits, 2)

    def _update_gutter_width(self, _count: int = 0) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())
        if rect.contains(self.viewport().rect()):
            self._update_gutter_width()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the gutter the height of the editor."""
        super().resizeEvent(event)
        area = self.contentsRect()
        self._gutter.setGeometry(QRect(area.left(), area.top(), self.gutter_width(), area.height()))

    def line_at_y(self, y: int) -> int | None:
        """The line number (0-based) drawn at height `y`, or None."""
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        while block.isValid():
            bottom = top + round(self.blockBoundingRect(block).height())
            if top <= y < bottom:
                return block.blockNumber()
            block, top = block.next(), bottom
        return None

    def paint_gutter(self, gutter: QWidget, event: QPaintEvent) -> None:
        """Draw the visible line numbers, and a red dot on the error's line."""
        painter = QPainter(gutter)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.color(QPalette.ColorRole.AlternateBase))
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        dim = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        current = self.textCursor().blockNumber()
        while block.isValid() and top <= event.rect().bottom():
            bottom = top + round(self.blockBoundingRect(block).height())
            if block.isVisible() and bottom >= event.rect().top():
                number = block.blockNumber()
                if number == self.error_line:
                    painter.setBrush(error_colour())
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.drawEllipse(3, top + height // 2 - 3, 7, 7)
                painter.setPen(palette.color(QPalette.ColorRole.Text) if number == current else dim)
                painter.drawText(
                    0, top, gutter.width() - 4, height, Qt.AlignmentFlag.AlignRight, str(number + 1)
                )
            block, top = block.next(), bottom
        painter.end()

    # --- keys and completion -----------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Indent with spaces, keep the indentation on Enter, and drive the completion popup."""
        popup = self.completer.popup()
        if popup.isVisible() and event.key() in _POPUP_KEYS:
            event.ignore()  # the completer handles it
            return
        forced = event.key() == Qt.Key.Key_Space and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if forced:
            self.show_completions(forced=True)
            return
        control = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and control:
            event.ignore()  # Ctrl+Return runs: the pane's key, no new line
            return
        if event.key() == Qt.Key.Key_Tab and not event.modifiers():
            self.insertPlainText(_INDENT)
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            line = self.textCursor().block().text()
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            super().keyPressEvent(event)
            self.insertPlainText(indent)
            return
        super().keyPressEvent(event)
        typed = event.text()
        if typed == "." or (typed and is_identifier_char(typed)):
            self.show_completions()
        elif popup.isVisible() and typed:
            popup.hide()

    def show_completions(self, *, forced: bool = False) -> bool:
        """Offer completions at the cursor; True when the popup is shown."""
        popup = self.completer.popup()
        completion = complete(self.sql(), self.cursor_index(), self.completer.names, forced=forced)
        if completion is None:
            popup.hide()
            return False
        rect = self.cursorRect()
        rect.translate(self.viewportMargins().left(), 0)
        self.completer.show_for(self, completion, rect)
        return True

    def _insert_completion(self, start: int, text: str) -> None:
        end = self.cursor_index()
        full = self.sql()
        cursor = self.textCursor()
        cursor.setPosition(to_utf16_offset(full, start))
        cursor.setPosition(to_utf16_offset(full, end), QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text)
        self.setTextCursor(cursor)


def _token_end(text: str, start: int) -> int:
    """End of the token beginning at `start` (a word, a quoted name or string, or one character)."""
    for token in tokenize(text[start : start + 2000]):
        return start + max(len(token.text.rstrip()), 1)
    return start + 1
