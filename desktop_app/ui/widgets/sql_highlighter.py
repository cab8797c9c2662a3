"""SQL syntax highlighting for the editor: keywords, functions, strings, quoted names, numbers, comments.

Strings, quoted identifiers and `/* */` comments may span lines, so each block remembers which one it
ends inside (`QSyntaxHighlighter` block state) and the next block continues it.
"""

from __future__ import annotations

import re

from PySide6.QtGui import (
    QColor,
    QFont,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)

from desktop_app.core.sqlite.quoting import SQL_KEYWORDS
from desktop_app.ui.theme import notifier, scheme

_KEYWORD_SET = frozenset(SQL_KEYWORDS) | {"TRUE", "FALSE", "ROWID", "STRICT"}
_TYPE_NAMES = frozenset({"INTEGER", "INT", "TEXT", "REAL", "BLOB", "NUMERIC", "ANY", "VARCHAR", "BOOLEAN"})

# Block states: what a line ends inside of (-1, Qt's default, and 0 mean nothing open).
_NORMAL, _COMMENT, _STRING, _DQUOTE, _BACKTICK, _BRACKET = range(6)
_CLOSERS = {_COMMENT: "*/", _STRING: "'", _DQUOTE: '"', _BACKTICK: "`", _BRACKET: "]"}
_OPENERS = {"/*": _COMMENT, "'": _STRING, '"': _DQUOTE, "`": _BACKTICK, "[": _BRACKET}
_TOKEN = re.compile(
    r"""
      (?P<line_comment>--.*)
    | (?P<open>/\*|['"`\[])
    | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<param>\?\d*|[:@$][\w$]+)
    | (?P<word>[^\W\d][\w$]*)
    """,
    re.VERBOSE,
)
_CALL = re.compile(r"\s*\(")


def _format(color: str, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


def _formats() -> dict[str, QTextCharFormat]:
    colours = scheme().sql
    formats = {name: _format(colour) for name, colour in colours.items()}
    formats["keyword"] = _format(colours["keyword"], bold=True)
    formats["comment"] = _format(colours["comment"], italic=True)
    return formats


_STATE_FORMAT = {_COMMENT: "comment", _STRING: "string", _DQUOTE: "identifier", _BACKTICK: "identifier"}


class SqlHighlighter(QSyntaxHighlighter):
    """Colours SQL as SQLite reads it; multi-line strings and comments carry over between lines."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._formats = _formats()
        notifier().changed.connect(self._restyle)

    def _restyle(self) -> None:
        """The theme changed: colour the text again in its colours."""
        self._formats = _formats()
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        """Colour one line, continuing whatever the previous line left open."""
        position = 0
        state = max(self.previousBlockState(), _NORMAL)
        if state != _NORMAL:
            position, state = self._continue(text, 0, state)
        while position < len(text):
            match = _TOKEN.search(text, position)
            if match is None:
                break
            kind = match.lastgroup
            start, end = match.span()
            if kind == "open":
                position, state = self._continue(text, start, _OPENERS[match.group()], skip=end - start)
                if state != _NORMAL:
                    break
                continue
            position = end
            if kind == "line_comment":
                self.setFormat(start, end - start, self._formats["comment"])
            elif kind == "word":
                self._word(text, match.group(), start, end)
            elif kind is not None:
                self.setFormat(start, end - start, self._formats[kind])
        self.setCurrentBlockState(state)

    def _word(self, text: str, word: str, start: int, end: int) -> None:
        upper = word.upper()
        if _CALL.match(text, end) and upper not in ("IN", "VALUES", "AS", "EXISTS", "USING", "OVER", "ON"):
            self.setFormat(start, end - start, self._formats["function"])
        elif upper in _KEYWORD_SET:
            self.setFormat(start, end - start, self._formats["keyword"])
        elif upper in _TYPE_NAMES:
            self.setFormat(start, end - start, self._formats["type"])

    def _continue(self, text: str, start: int, state: int, skip: int = 0) -> tuple[int, int]:
        """Colour from `start` to the construct's closer or the line's end; return (next position, state)."""
        closer = _CLOSERS[state]
        search_from = start + skip
        while True:
            found = text.find(closer, search_from)
            # A doubled quote inside a string or quoted name is an escaped quote, not the end.
            if found >= 0 and state != _COMMENT and state != _BRACKET and text.startswith(closer * 2, found):
                search_from = found + 2
                continue
            break
        end = len(text) if found < 0 else found + len(closer)
        self.setFormat(start, end - start, self._formats[_STATE_FORMAT.get(state, "identifier")])
        return end, (state if found < 0 else _NORMAL)
