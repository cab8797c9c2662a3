"""`EXPLAIN QUERY PLAN` of a user's statement as a tree: what is slow, and which index is used."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop_app.core.schema.catalog import Catalog, estimate_rows, read_catalog
from desktop_app.core.sqlite.guard import check_user_sql, preparing, refused_error
from desktop_app.core.sqlite.statements import Statement

EXPLAIN_QUERY_PLAN = "EXPLAIN QUERY PLAN "

#: "SCAN t", "SEARCH t USING INDEX i (a=?)", "SCAN t VIRTUAL TABLE INDEX 0:…"; before SQLite 3.36 the
#: words were "SCAN TABLE t" and a table with an alias read "t AS a".
_ACCESS = re.compile(
    r"^(?P<verb>SCAN|SEARCH)\s+(?:TABLE\s+)?(?P<name>.+?)(?:\s+AS\s+(?P<alias>.+?))?"
    r"(?:\s+(?P<how>USING\s+.*|VIRTUAL\s+TABLE\s+.*))?$"
)
_INDEX = re.compile(
    r"USING\s+(?P<kind>COVERING INDEX|AUTOMATIC COVERING INDEX|AUTOMATIC PARTIAL COVERING INDEX|INDEX)"
    r"(?:\s+(?P<name>[^(\s].*?))?(?:\s+\(.*\))?(?:\s+FOR\s+IN-OPERATOR)?$"
)
_NOT_TABLES = ("CONSTANT ROW", "(subquery-", "(join-")


@dataclass
class PlanNode:
    """One row of the plan, with what it means."""

    id: int
    parent: int  #: the `id` of the row it is nested under (0 for a top-level row)
    detail: str  #: SQLite's words for the row, e.g. "SEARCH t USING INDEX i (a=?)"
    children: list[PlanNode] = field(default_factory=list)
    #: the table (or alias, CTE) a full scan reads, when the row is a SCAN without an index
    full_scan: str | None = None
    #: that table's row count as cheaply known (sqlite_stat1 or max(rowid)), when the name is a table
    estimated_rows: int | None = None
    temp_btree: bool = False  #: "USE TEMP B-TREE FOR ORDER BY / GROUP BY / DISTINCT": a sort
    index: str | None = None  #: the index used; "INTEGER PRIMARY KEY" / "PRIMARY KEY" for the key itself
    covering: bool = False  #: the index holds every column needed (the table is not read)
    automatic_index: bool = False  #: an index SQLite builds for this query only (a missing index)

    @property
    def flags(self) -> list[str]:
        """Short words for what to notice: 'full scan', 'temp b-tree', 'automatic index'."""
        out = []
        if self.full_scan is not None:
            out.append("full scan")
        if self.temp_btree:
            out.append("temp b-tree")
        if self.automatic_index:
            out.append("automatic index")
        return out

    def walk(self, depth: int = 0) -> list[tuple[int, PlanNode]]:
        """This node and its descendants in plan order, with their depth."""
        out = [(depth, self)]
        for child in self.children:
            out += child.walk(depth + 1)
        return out


@dataclass
class QueryPlan:
    """The plan of one statement: its top-level nodes, and every row as SQLite gave it."""

    sql: str  #: the EXPLAIN QUERY PLAN statement that ran
    roots: list[PlanNode]
    rows: list[tuple[int, int, str]]  #: (id, parent, detail) in SQLite's order

    def nodes(self) -> list[tuple[int, PlanNode]]:
        """Every node in plan order, with its depth."""
        return [item for root in self.roots for item in root.walk()]

    def lines(self) -> list[str]:
        """The plan as indented text."""
        return ["  " * depth + node.detail for depth, node in self.nodes()]


def plan_statement_sql(statement: Statement | str) -> str:
    """The EXPLAIN QUERY PLAN statement for `statement` (itself when it already is one)."""
    text = statement.text if isinstance(statement, Statement) else statement
    if re.match(r"\s*EXPLAIN\s+QUERY\s+PLAN\b", text, re.IGNORECASE):
        return text
    return EXPLAIN_QUERY_PLAN + text


def build_plan(
    rows: Sequence[Sequence[Any]],
    catalog: Catalog | None = None,
    conn: sqlite3.Connection | None = None,
    sql: str = "",
) -> QueryPlan:
    """The tree of EXPLAIN QUERY PLAN rows (id, parent, notused, detail), each node read for its flags.

    With `catalog` and `conn`, a full scan of a table gets the table's estimated row count.
    """
    by_id: dict[int, PlanNode] = {}
    roots: list[PlanNode] = []
    plain: list[tuple[int, int, str]] = []
    for row in rows:
        if len(row) < 4:
            continue
        node = PlanNode(int(row[0]), int(row[1]), str(row[3]))
        plain.append((node.id, node.parent, node.detail))
        _read_detail(node)
        if node.full_scan is not None and catalog is not None and conn is not None:
            table = catalog.table(node.full_scan)  # None for an alias or a CTE
            if table is not None:
                node.estimated_rows = estimate_rows(conn, table).value
        owner = by_id.get(node.parent)
        (owner.children if owner is not None else roots).append(node)
        by_id[node.id] = node
    return QueryPlan(sql, roots, plain)


def read_plan(
    conn: sqlite3.Connection, rows: Sequence[Sequence[Any]], catalog: Catalog | None = None, sql: str = ""
) -> QueryPlan:
    """`build_plan` with each full scan's row estimate read on `conn` (for `Database.run_sync`)."""
    if catalog is None and any(len(r) >= 4 and str(r[3]).startswith("SCAN") for r in rows):
        catalog = read_catalog(conn)
    return build_plan(rows, catalog, conn, sql)


def _read_detail(node: PlanNode) -> None:
    detail = node.detail
    if detail.startswith("USE TEMP B-TREE"):
        node.temp_btree = True
        return
    index = _INDEX.search(detail)
    if index is not None:
        node.index = index["name"]  # None for an automatic index: SQLite builds it for this query only
        node.covering = "COVERING" in index["kind"]
        node.automatic_index = index["kind"].startswith("AUTOMATIC")
    elif "USING INTEGER PRIMARY KEY" in detail:
        node.index = "INTEGER PRIMARY KEY"
    elif "USING PRIMARY KEY" in detail:
        node.index = "PRIMARY KEY"
    access = _ACCESS.match(detail)
    if access is None or access["verb"] != "SCAN" or access["how"]:
        return
    name = access["name"]
    if any(name.startswith(word) for word in _NOT_TABLES):
        return
    node.full_scan = name


def explain_query_plan(conn: sqlite3.Connection, sql: str, *, catalog: Catalog | None = None) -> QueryPlan:
    """EXPLAIN QUERY PLAN of the user's one statement `sql` (checked by the guard), as a tree.

    A write may be planned (EXPLAIN only describes it; the guard lets the description through and
    nothing runs). Raises `GuardRefused` for what the guard refuses (two statements, ATTACH…), and
    `sqlite3.Error` for SQL SQLite rejects.
    """
    text = check_user_sql(plan_statement_sql(sql.strip())).text
    try:
        with preparing(conn, text):
            rows = conn.execute(text).fetchall()
    except sqlite3.Error as exc:
        refused = refused_error(conn, exc, sql)
        if refused is not None:
            raise refused from None
        raise
    if catalog is None and any(r[3].startswith("SCAN") for r in rows if len(r) >= 4):
        catalog = read_catalog(conn)
    return build_plan(rows, catalog, conn, text)
