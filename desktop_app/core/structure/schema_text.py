"""The schema, readable: every object's CREATE statement pretty-printed (sqlparse), with its marks.

Marks are what a reader would otherwise have to spot in the SQL: STRICT, WITHOUT ROWID, virtual tables
and their module, shadow and internal tables, generated columns; views and triggers list the tables
their SQL names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlparse
from sqlparse import lexer
from sqlparse import tokens as T

from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import Catalog, Table, TableKind

_INDENT = "    "
#: sqlparse's reindent breaks "INSERT OR REPLACE" over three lines: join them again.
_SPLIT_OR = re.compile(r"\b(INSERT|UPDATE|REPLACE)\s*\n\s*OR\s*\n\s*(\w+)")


@dataclass(frozen=True)
class SchemaEntry:
    """One schema object as the Schema view shows it."""

    kind: str  #: "table", "view", "virtual table", "shadow table", "index", "trigger"
    name: str
    table: str  #: the table an index or trigger belongs to (the name itself otherwise)
    sql: str  #: the CREATE statement as stored ('' for automatic indexes); `pretty_sql` lays it out
    marks: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)  #: tables and views a view's or trigger's SQL names
    hidden: bool = False  #: shadow or internal: shown only on request


def pretty_sql(sql: str) -> str:
    """`sql` laid out for reading: a CREATE TABLE one column a line, a trigger's body one statement a
    block, anything else as sqlparse's reindent lays it out (a few ms a statement)."""
    text = sql.strip()
    if not text:
        return ""
    tokens = _tokens(text)
    words = [v.upper() for t, v in tokens if t in T.Keyword or t in T.DDL][:4]
    laid_out = None
    if "TABLE" in words and "VIRTUAL" not in words:
        laid_out = _table_layout(tokens)
    elif "TRIGGER" in words:
        laid_out = _trigger_layout(tokens)
    return laid_out if laid_out is not None else _reindent(text)


def _tokens(sql: str) -> list[tuple[object, str]]:
    """sqlparse's tokens (the lexer alone: ten times faster than parsing)."""
    return [(ttype, value) for ttype, value in lexer.tokenize(sql)]


def _reindent(sql: str) -> str:
    text = sqlparse.format(sql, reindent=True, indent_width=4, keyword_case="upper").strip()
    return _SPLIT_OR.sub(lambda m: f"{m[1]} OR {m[2]}", text)


def _table_layout(tokens: list[tuple[object, str]]) -> str | None:
    """CREATE TABLE with each column and constraint on its own line (split at top-level commas)."""
    head: list[str] = []
    parts: list[list[str]] = [[]]
    tail: list[str] = []
    depth = 0
    for ttype, value in tokens:
        if ttype in T.Punctuation and value == "(":
            depth += 1
            if depth == 1:
                continue
        elif ttype in T.Punctuation and value == ")":
            depth -= 1
            if depth == 0:
                tail.append(value)
                continue
        if depth == 0:
            (tail if tail else head).append(value)
        elif depth == 1 and ttype in T.Punctuation and value == ",":
            parts.append([])
        else:
            parts[-1].append(value)
    if depth != 0 or not tail:
        return None
    lines = ["\n".join(x.strip() for x in "".join(p).strip().splitlines()) for p in parts]
    body = (",\n" + _INDENT).join(line.replace("\n", "\n" + _INDENT) for line in lines)
    start = " ".join("".join(head).split())
    return f"{start} (\n{_INDENT}{body}\n{''.join(tail)}".rstrip()


def _trigger_layout(tokens: list[tuple[object, str]]) -> str | None:
    """CREATE TRIGGER … BEGIN, each statement of its body indented, END."""
    begin = next((i for i, (t, v) in enumerate(tokens) if t in T.Keyword and v.upper() == "BEGIN"), None)
    end = max((i for i, (t, v) in enumerate(tokens) if t in T.Keyword and v.upper() == "END"), default=None)
    if begin is None or end is None or end < begin:
        return None
    head = " ".join("".join(v for _t, v in tokens[:begin]).split())
    body = "".join(v for _t, v in tokens[begin + 1 : end])
    statements = [_reindent(s) for s in sqlparse.split(body) if s.strip()]
    inner = "\n".join(_INDENT + s.replace("\n", "\n" + _INDENT) for s in statements)
    return f"{head}\nBEGIN\n{inner}\nEND"


def names_read(sql: str, names: Iterable[str], own: str = "") -> list[str]:
    """Which of `names` (tables, views) the statement `sql` names, in the order given, but `own`."""
    wanted = {n.lower(): n for n in names if n.lower() != own.lower()}
    found: set[str] = set()
    for ttype, value in _tokens(sql):
        if ttype in T.Name or ttype in T.Literal.String.Symbol or ttype in T.Keyword:
            word = _unquote(value).lower()
            if word in wanted:
                found.add(word)  # a keyword too: a table may be called "items" or "data"
    return [name for key, name in wanted.items() if key in found]


def _unquote(text: str) -> str:
    if len(text) >= 2 and (text[0], text[-1]) in (('"', '"'), ("[", "]"), ("`", "`")):
        inner = text[1:-1]
        return inner.replace('""', '"') if text[0] == '"' else inner
    return text


def table_marks(table: Table) -> list[str]:
    """What is special about `table`, in words."""
    marks = []
    if table.kind is TableKind.VIRTUAL:
        marks.append(f"virtual table (module {table.module})" if table.module else "virtual table")
    if table.kind is TableKind.SHADOW:
        marks.append("shadow table (kept by a virtual table; hidden by default)")
    if table.internal:
        marks.append("internal table kept by SQLite (hidden by default)")
    if table.strict:
        marks.append("STRICT")
    if table.without_rowid:
        marks.append("WITHOUT ROWID")
    for column in table.columns:
        if column.generated:
            how = "stored" if column.hidden == 3 else "virtual"
            marks.append(f"generated column {column.name} ({how})")
    if table.error:
        marks.append(f"its columns could not be read: {table.error}")
    return marks


def schema_entries(catalog: Catalog, cancel: CancelToken | None = None) -> list[SchemaEntry]:
    """Every table, view, index and trigger, tables first, with marks and what views and triggers
    read (tokenising takes ~0.5 ms a statement). Raises `Cancelled` when `cancel` fires."""
    names = [t.name for t in catalog.tables]
    entries = []
    for table in catalog.tables:
        if cancel is not None:
            cancel.raise_if_cancelled()
        kind = {TableKind.VIRTUAL: "virtual table", TableKind.SHADOW: "shadow table"}.get(
            table.kind, table.kind.value
        )
        reads = names_read(table.sql or "", names, table.name) if table.kind is TableKind.VIEW else []
        entries.append(
            SchemaEntry(
                kind,
                table.name,
                table.name,
                table.sql or "",
                table_marks(table),
                reads,
                table.hidden_by_default,
            )
        )
    for index in catalog.indexes:
        marks = ["automatic (from a UNIQUE or PRIMARY KEY constraint)"] if not index.sql else []
        marks += ["UNIQUE"] if index.unique else []
        marks += ["partial"] if index.partial else []
        entries.append(SchemaEntry("index", index.name, index.table, index.sql or "", marks))
    for trigger in catalog.triggers:
        if cancel is not None:
            cancel.raise_if_cancelled()
        reads = names_read(trigger.sql, names)
        entries.append(SchemaEntry("trigger", trigger.name, trigger.table, trigger.sql, [], reads))
    return entries
