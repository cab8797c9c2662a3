"""One nestable query, wrapped in one place: recognised, counted and paged (SQL pane, CSV export)."""

from __future__ import annotations

import sqlite3

import pytest

from desktop_app.core.progress import CancelToken
from desktop_app.core.sqlite.connection import configure_connection
from desktop_app.core.sqlite.nested_query import NestedQuery
from desktop_app.core.sqlite.statements import first_table_name, is_query_plan, query_plan_sql


@pytest.fixture
def conn() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute("CREATE TABLE t(n)")
    conn.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(1, 251)])
    configure_connection(conn)
    return conn


@pytest.mark.parametrize(
    ("sql", "body"),
    [
        ("SELECT n FROM t;", "SELECT n FROM t"),
        ("  select n from t ;; ", "select n from t"),
        ("VALUES (1), (2);", "VALUES (1), (2)"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH x AS (SELECT 1) SELECT * FROM x"),
        ("-- lead\nSELECT 1 -- trail", "SELECT 1"),
    ],
)
def test_a_single_read_query_is_nestable_without_its_semicolons(sql: str, body: str) -> None:
    query = NestedQuery.of(sql)
    assert query is not None and query.body == body
    assert query.subquery == f"(\n{body}\n)"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; SELECT 2",
        "PRAGMA table_info(t)",
        "EXPLAIN QUERY PLAN SELECT 1",
        "WITH x AS (SELECT 1) DELETE FROM t",
        "INSERT INTO t VALUES (1)",
        "",
        "-- only a comment",
    ],
)
def test_anything_else_is_not_nested(sql: str) -> None:
    assert NestedQuery.of(sql) is None


def test_a_nested_query_counts_and_pages_with_the_users_parameters(conn: sqlite3.Connection) -> None:
    query = NestedQuery.of(
        "SELECT n FROM t WHERE n > :low ORDER BY n -- the last line is a comment", {"low": 200}
    )
    assert query is not None
    assert query.count(conn) == 50
    assert query.rows(conn, 0, 3) == [(201,), (202,), (203,)]
    assert query.rows(conn, 48, 10) == [(249,), (250,)]
    assert query.rows(conn, 60, 10) == []


def test_a_stopped_count_raises_and_leaves_no_progress_handler(conn: sqlite3.Connection) -> None:
    cancel = CancelToken()
    cancel.cancel()
    query = NestedQuery.of("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c")
    assert query is not None
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        query.count(conn, cancel)  # an endless query: only the polled token stops it
    assert NestedQuery.of("SELECT n FROM t").count(conn) == 250  # type: ignore[union-attr]


def test_query_plans_and_the_first_table_are_read_from_the_text() -> None:
    assert query_plan_sql("SELECT 1") == "EXPLAIN QUERY PLAN SELECT 1"
    assert is_query_plan("explain query plan SELECT 1") and not is_query_plan("EXPLAIN SELECT 1")
    assert first_table_name('SELECT * FROM "Order Details" JOIN x') == "Order Details"
    assert first_table_name("select a from [my table]") == "my table"
    assert first_table_name("VALUES (1)") is None
