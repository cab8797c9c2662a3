"""The UI never composes SQL nor runs it: every statement is written and executed in `desktop_app/core`.

Read with `ast`, so comments and docstrings (which may well talk about `SELECT`) are not SQL. What counts
as SQL text is a string literal, or the literal parts of an f-string, holding an upper-case SQL clause
keyword next to something else (`"SELECT 1"`, `f"... LIMIT {n}"`). A lone keyword (`"FROM"`, a label
reading `SELECT`) is a word about SQL — a token the completer compares with — not SQL composed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "desktop_app" / "ui"

#: Clause keywords that only appear in composed SQL (upper case: how the code base writes SQL). PRAGMA is
#: left out: the Migrations pane tells the user a version is kept in `PRAGMA user_version`; running a
#: pragma needs `.execute(`, which is checked.
_SQL_WORDS = re.compile(r"\b(SELECT|FROM|ORDER\s+BY|GROUP\s+BY|WHERE|LIMIT|OFFSET|EXPLAIN|UNION)\b")
_LONE_WORD = re.compile(r"[A-Z]+(?:\s+BY)?")
#: Method calls that run SQL.
_RUNNERS = frozenset({"execute", "executemany", "executescript"})


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the constant nodes that are docstrings (module, class, function)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _literal_text(node: ast.AST) -> str | None:
    """The text a string literal or f-string contributes (`{…}` for each interpolated part)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "{…}"
            for part in node.values
            if isinstance(part, ast.Constant | ast.FormattedValue)
        )
    return None


def sql_in_ui(source: str, filename: str) -> list[str]:
    """`file:line: what` for each SQL literal and `.execute(` call in one UI module's source, in order."""
    found = sorted(_findings(source, filename))
    return [f"{filename}:{line}: {what}" for line, what in found]


def _findings(source: str, filename: str) -> Iterator[tuple[int, str]]:
    tree = ast.parse(source, filename)
    docstrings = _docstrings(tree)
    inside_fstring = {
        id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _RUNNERS:
            yield node.lineno, f"runs SQL with .{node.func.attr}("
            continue
        if id(node) in docstrings or id(node) in inside_fstring:
            continue
        text = _literal_text(node)
        if text is None or (_LONE_WORD.fullmatch(text.strip()) and text == text.strip()):
            continue
        if _SQL_WORDS.search(text):
            yield node.lineno, f"SQL text {text[:60]!r}"


def test_the_ui_composes_and_runs_no_sql() -> None:
    found = [
        finding
        for path in sorted(UI.rglob("*.py"))
        for finding in sql_in_ui(path.read_text(encoding="utf-8"), str(path.relative_to(UI.parent)))
    ]
    assert not found, "SQL belongs in desktop_app/core:\n" + "\n".join(found)


def test_the_check_sees_sql_in_literals_fstrings_and_calls() -> None:
    source = '''
"""Docstring: SELECT * FROM t is prose here."""
KEYWORDS = {"FROM", "JOIN"}  # a lone keyword is data about SQL
label = "SELECT"
# SELECT x FROM comment
def f(conn, name, n):
    """SELECT in a docstring."""
    sql = f"SELECT * FROM {name} LIMIT {n}"
    conn.execute("x")
    return "ORDER BY " + name, "Rows from the table", "EXPLAIN QUERY PLAN "
'''
    found = sql_in_ui(source, "m.py")
    assert [line.split(": ", 1)[0] for line in found] == ["m.py:8", "m.py:9", "m.py:10", "m.py:10"]
    assert any("runs SQL with .execute(" in line for line in found)
