"""EXPLAIN QUERY PLAN as a tree: the same rows as SQLite's, nodes flagged, through the guard."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.core.sqlite.guard import GuardRefused
from desktop_app.core.structure.query_plan import build_plan, explain_query_plan, plan_statement_sql

QUERIES = [
    "SELECT * FROM Track WHERE Name LIKE 'A%' ORDER BY Milliseconds",
    "SELECT * FROM Track WHERE TrackId = 5",
    "SELECT AlbumId FROM Track WHERE AlbumId = 3",
    "SELECT DISTINCT Composer FROM Track",
    "SELECT a.Title, t.Name FROM Album a JOIN Track t ON t.AlbumId = a.AlbumId WHERE a.ArtistId = 1",
    "SELECT * FROM Invoice WHERE CustomerId IN (SELECT CustomerId FROM Customer WHERE Country = 'France')",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT * FROM n",
    "SELECT g.Name, count(*) FROM Track t JOIN Genre g USING (GenreId) GROUP BY g.Name ORDER BY 2 DESC",
]


@pytest.fixture
def chinook(corpus: Path) -> Iterator[sqlite3.Connection]:
    snapshot = open_snapshot(corpus / "chinook" / "Chinook_Sqlite.sqlite")
    try:
        with closing(snapshot.connect()) as conn:
            yield conn
    finally:
        snapshot.close()


@pytest.mark.parametrize("sql", QUERIES)
def test_the_plan_tree_holds_exactly_sqlites_rows(chinook: sqlite3.Connection, sql: str) -> None:
    raw = chinook.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
    plan = explain_query_plan(chinook, sql)
    assert plan.rows == [(r[0], r[1], r[3]) for r in raw]
    # Every node sits under the node SQLite names as its parent (0: the top), in SQLite's order.
    placed = {node.id: node for _depth, node in plan.nodes()}
    assert [node.id for _depth, node in plan.nodes()] == [r[0] for r in raw]
    for node in placed.values():
        for child in node.children:
            assert child.parent == node.id
    assert all(root.parent not in placed for root in plan.roots)


def test_a_full_scan_is_flagged_with_the_tables_row_estimate(chinook: sqlite3.Connection) -> None:
    plan = explain_query_plan(chinook, QUERIES[0])
    scan, sort = (node for _depth, node in plan.nodes())
    assert (scan.detail, scan.full_scan, scan.flags) == ("SCAN Track", "Track", ["full scan"])
    assert scan.estimated_rows == 3503  # max(rowid): Chinook has no sqlite_stat1
    assert (sort.detail, sort.temp_btree, sort.flags) == (
        "USE TEMP B-TREE FOR ORDER BY",
        True,
        ["temp b-tree"],
    )


def test_the_index_used_is_named(chinook: sqlite3.Connection) -> None:
    by_key = explain_query_plan(chinook, QUERIES[1]).roots[0]
    assert (by_key.index, by_key.full_scan, by_key.flags) == ("INTEGER PRIMARY KEY", None, [])
    covering = explain_query_plan(chinook, QUERIES[2]).roots[0]
    assert covering.detail == "SEARCH Track USING COVERING INDEX IFK_TrackAlbumId (AlbumId=?)"
    assert (covering.index, covering.covering) == ("IFK_TrackAlbumId", True)


def test_subqueries_ctes_and_constant_rows_are_not_table_scans(chinook: sqlite3.Connection) -> None:
    plan = explain_query_plan(chinook, QUERIES[6])
    scans = {node.detail: node.full_scan for _depth, node in plan.nodes()}
    assert scans["SCAN CONSTANT ROW"] is None
    assert scans["SCAN n"] == "n"  # a CTE: a scan, but no table to estimate
    assert all(node.estimated_rows is None for _depth, node in plan.nodes())


def test_flags_are_read_from_sqlites_words() -> None:
    rows = [
        (2, 0, 0, "SCAN t1"),
        (16, 0, 0, "SEARCH t2 USING AUTOMATIC COVERING INDEX (x=?)"),
        (20, 0, 0, "SEARCH w USING PRIMARY KEY (k=?)"),
        (24, 0, 0, "USING INDEX i FOR IN-OPERATOR"),
        (25, 0, 0, "SCAN f VIRTUAL TABLE INDEX 0:M1"),
        (26, 0, 0, "SCAN TABLE old AS o"),  # before SQLite 3.36
        (27, 0, 0, "SCAN Order Details USING INDEX by date"),
        (28, 0, 0, "SCAN (subquery-1)"),
    ]
    nodes = build_plan(rows).roots
    assert [(n.full_scan, n.index, n.flags) for n in nodes] == [
        ("t1", None, ["full scan"]),
        (None, None, ["automatic index"]),
        (None, "PRIMARY KEY", []),
        (None, "i", []),
        (None, None, []),
        ("old", None, ["full scan"]),
        (None, "by date", []),
        (None, None, []),
    ]


def test_the_plan_goes_through_the_guard(chinook: sqlite3.Connection) -> None:
    with pytest.raises(GuardRefused, match="one statement"):
        explain_query_plan(chinook, "SELECT 1; SELECT 2")
    with pytest.raises(GuardRefused):
        explain_query_plan(chinook, "ATTACH DATABASE 'x.db' AS x")
    # A write may be described, never run.
    plan = explain_query_plan(chinook, "DELETE FROM Track WHERE TrackId = 1")
    assert plan.sql.startswith("EXPLAIN QUERY PLAN DELETE") and plan.rows
    assert chinook.execute("SELECT count(*) FROM Track").fetchone()[0] == 3503


def test_a_statement_already_asking_for_its_plan_is_kept() -> None:
    assert plan_statement_sql("explain  query plan SELECT 1") == "explain  query plan SELECT 1"
    assert plan_statement_sql("SELECT 1") == "EXPLAIN QUERY PLAN SELECT 1"


def test_sql_sqlite_rejects_raises_its_error(chinook: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        explain_query_plan(chinook, "SELECT * FROM nowhere")
