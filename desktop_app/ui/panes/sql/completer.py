"""Completion for the SQL editor: keywords, functions, pragmas, tables, and `table.` → that table's columns.

`complete(text, cursor, names)` is plain Python (what to offer, and which characters it replaces);
`SqlCompleter` is the popup. Inserted names are quoted with `quote_identifier` when they need it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QRect, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QCompleter, QWidget

from desktop_app.core.functions.registry import FunctionInfo
from desktop_app.core.sqlite.quoting import quote_identifier
from desktop_app.core.sqlite.statements import Token, statement_at, tokenize
from desktop_app.ui.panes.sql.highlighter import SQL_KEYWORDS

#: Most suggestions shown at once.
MAX_ITEMS = 200
#: Characters around the cursor looked at to find the current statement (a pasted dump can be huge).
_CONTEXT_CHARS = 20_000
_KEYWORDS = frozenset(SQL_KEYWORDS)
_TABLE_INTRODUCERS = frozenset({"FROM", "JOIN", "UPDATE", "INTO", "TABLE"})
_OPEN_QUOTES = {'"': '"', "[": "]", "`": "`"}


@dataclass(frozen=True)
class CompletionItem:
    """One suggestion: the text inserted, its kind (column, table, function, keyword, pragma), a detail."""

    insert: str
    kind: str
    detail: str = ""


@dataclass
class CompletionNames:
    """What the database offers for completion."""

    #: Table/view name → its columns as (name, declared type).
    tables: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: Function name → a short description (signature and doc).
    functions: dict[str, str] = field(default_factory=dict)
    pragmas: list[str] = field(default_factory=list)

    def columns_of(self, name: str) -> list[tuple[str, str]] | None:
        """Columns of the table called `name` (exact match first, then case-insensitive)."""
        if name in self.tables:
            return self.tables[name]
        lowered = name.lower()
        return next((cols for table, cols in self.tables.items() if table.lower() == lowered), None)


@dataclass(frozen=True)
class Completion:
    """Suggestions for the text before the cursor, replacing `text[start:cursor]`."""

    start: int
    prefix: str
    items: list[CompletionItem]
    #: True right after `name.`: suggestions are that table's columns and should pop up at once.
    qualified: bool = False


def _unquote(token: Token) -> str:
    text = token.text
    if token.kind == "quoted" and text[:1] in _OPEN_QUOTES:
        closer = _OPEN_QUOTES[text[0]]
        inner = text[1:-1] if len(text) > 1 and text.endswith(closer) else text[1:]
        return inner.replace(closer * 2, closer) if closer != "]" else inner
    return text


def _aliases(tokens: Sequence[Token]) -> dict[str, str]:
    """Names after FROM/JOIN (and `, name`) → themselves and their aliases, from one statement's tokens."""
    significant = [t for t in tokens if t.kind not in ("space", "comment")]
    found: dict[str, str] = {}
    in_from = False
    for index, token in enumerate(significant):
        upper = token.text.upper()
        if token.kind == "word" and upper in _TABLE_INTRODUCERS:
            in_from = upper in ("FROM", "JOIN")
            introduced = True
        elif in_from and token.text == ",":
            introduced = True
        else:
            introduced = False
            if token.kind == "word" and upper in _KEYWORDS and upper not in ("AS",):
                in_from = in_from and upper in ("LEFT", "RIGHT", "INNER", "OUTER", "CROSS", "NATURAL", "FULL")
        if not introduced or index + 1 >= len(significant):
            continue
        name_token = significant[index + 1]
        if name_token.kind not in ("word", "quoted") or name_token.text.upper() in _KEYWORDS:
            continue
        name = _unquote(name_token)
        rest = significant[index + 2 :]
        if len(rest) >= 2 and rest[0].text == "." and rest[1].kind in ("word", "quoted"):
            name, rest = _unquote(rest[1]), rest[2:]  # schema.table
        found[name] = name
        if rest and rest[0].text.upper() == "AS":
            rest = rest[1:]
        if rest and rest[0].kind in ("word", "quoted") and rest[0].text.upper() not in _KEYWORDS:
            found[_unquote(rest[0])] = name
    return found


def _statement_context(text: str, cursor: int) -> tuple[int, list[Token]]:
    """Where the statement around `cursor` starts in `text`, and all its tokens (for FROM aliases)."""
    window_start = max(0, cursor - _CONTEXT_CHARS)
    window = text[window_start : cursor + _CONTEXT_CHARS]
    relative = cursor - window_start
    statement = statement_at(window, relative)
    if statement is None or statement.start > relative:
        return cursor, []
    start = window_start + statement.start
    end = window_start + max(statement.end, relative)
    return start, list(tokenize(text[start:end]))


def _match_case(word: str, prefix: str) -> str:
    return word.lower() if prefix and prefix == prefix.lower() else word


def complete(text: str, cursor: int, names: CompletionNames, *, forced: bool = False) -> Completion | None:
    """What to suggest at `cursor` in `text`; None inside a string or comment, or with nothing to offer."""
    statement_start, statement_tokens = _statement_context(text, cursor)
    before = list(tokenize(text[statement_start:cursor]))
    start, prefix, index = cursor, "", len(before)
    if before:
        last = before[-1]
        if last.kind == "comment" or (last.kind == "quoted" and last.text[0] not in _OPEN_QUOTES):
            return None  # inside (or just after) a comment or a string
        if last.kind == "word":
            if last.text[0].isdigit():
                return None
            start, prefix, index = statement_start + last.start, last.text, len(before) - 1
        elif last.kind == "quoted":
            closer = _OPEN_QUOTES[last.text[0]]
            if len(last.text) > 1 and last.text.endswith(closer):
                return None
            start, prefix, index = statement_start + last.start, _unquote(last), len(before) - 1
    qualifier = None
    if index >= 2 and before[index - 1].text == "." and before[index - 2].kind in ("word", "quoted"):
        qualifier = _unquote(before[index - 2])
    if qualifier is None and not forced and len(prefix) < 2:
        return None
    items = _candidates(prefix, qualifier, before[:index], statement_tokens, names)
    if not items:
        return None
    return Completion(start, prefix, items[:MAX_ITEMS], qualified=qualifier is not None)


def _candidates(
    prefix: str, qualifier: str | None, before: list[Token], tokens: list[Token], names: CompletionNames
) -> list[CompletionItem]:
    lowered = prefix.lower()

    def wanted(name: str) -> bool:
        return name.lower().startswith(lowered)

    aliases = _aliases(tokens)
    if qualifier is not None:
        table = aliases.get(qualifier, aliases.get(qualifier.lower(), qualifier))
        columns = names.columns_of(table)
        if columns is None:
            if qualifier.lower() in ("main", "temp"):
                return [CompletionItem(quote_identifier(t), "table") for t in names.tables if wanted(t)]
            return []
        return [
            CompletionItem(quote_identifier(c), "column", f"{table}.{c} {kind}".rstrip())
            for c, kind in columns
            if wanted(c)
        ]
    significant = [t for t in before if t.kind not in ("space", "comment")]
    if (significant and significant[-1].text.upper() == "PRAGMA") or (
        len(significant) >= 2 and significant[-2].text.upper() == "PRAGMA" and prefix
    ):
        return [CompletionItem(_match_case(p, prefix), "pragma") for p in names.pragmas if wanted(p)]
    items: list[CompletionItem] = []
    seen: set[str] = set()

    def add(item: CompletionItem) -> None:
        if item.insert.lower() not in seen:
            seen.add(item.insert.lower())
            items.append(item)

    for table in dict.fromkeys(aliases.values()):
        for column, kind in names.columns_of(table) or []:
            if wanted(column):
                add(CompletionItem(quote_identifier(column), "column", f"{table}.{column} {kind}".rstrip()))
    for table in names.tables:
        if wanted(table):
            add(CompletionItem(quote_identifier(table), "table"))
    for function, detail in names.functions.items():
        if wanted(function):
            add(CompletionItem(_match_case(function, prefix) + "(", "function", detail))
    for keyword in SQL_KEYWORDS:
        if wanted(keyword) and keyword.lower() != lowered:
            add(CompletionItem(_match_case(keyword, prefix), "keyword"))
    return items


_KIND_ROLE = Qt.ItemDataRole.UserRole + 1
_KIND_MARKS = {"column": "c", "table": "t", "function": "ƒ", "keyword": "k", "pragma": "p"}


class SqlCompleter(QCompleter):
    """The popup list of `Completion` items; `chosen(start, text)` asks the editor to insert one."""

    chosen = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items = QStandardItemModel(self)
        self.setModel(self._items)
        self.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setModelSorting(QCompleter.ModelSorting.UnsortedModel)
        self.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setMaxVisibleItems(12)
        self.names = CompletionNames()
        self._start = 0
        self.activated[str].connect(self._on_activated)  # type: ignore[index]

    def set_names(self, names: CompletionNames) -> None:
        """Use `names` (the database's tables, columns, functions) from now on."""
        self.names = names

    def show_for(self, widget: QWidget, completion: Completion, rect: QRect) -> None:
        """Fill the popup with `completion` and show it at `rect` of `widget`."""
        self._items.clear()
        for item in completion.items:
            row = QStandardItem(item.insert)
            row.setData(item.kind, _KIND_ROLE)
            row.setToolTip(f"{item.kind}: {item.detail}" if item.detail else item.kind)
            self._items.appendRow(row)
        self._start = completion.start
        self.setWidget(widget)
        self.setCompletionPrefix("")
        popup = self.popup()
        popup.setCurrentIndex(self.completionModel().index(0, 0))
        rect.setWidth(max(260, popup.sizeHintForColumn(0) + popup.verticalScrollBar().sizeHint().width() + 8))
        self.complete(rect)

    def _on_activated(self, text: str) -> None:
        self.chosen.emit(self._start, text)

    def item_texts(self) -> list[str]:
        """The suggestions currently in the popup (for tests)."""
        return [self._items.item(r).text() for r in range(self._items.rowCount())]


def function_descriptions(infos: Iterable[FunctionInfo]) -> dict[str, str]:
    """Function name → "signature — doc" (collations left out)."""
    described: dict[str, str] = {}
    for info in infos:
        if info.kind == "collation" or not info.name or info.name in described:
            continue
        signature = info.signature or f"{info.name}(...)"
        described[info.name] = f"{signature} — {info.doc}" if info.doc else signature
    return dict(sorted(described.items(), key=lambda kv: kv[0].lower()))


def is_identifier_char(char: str) -> bool:
    """True for characters that continue a word the completer completes."""
    return bool(re.match(r"[\w$]", char))
