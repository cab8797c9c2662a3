"""Keyset paging returns exactly the rows of the equivalent ORDER BY/WHERE query, at any position."""

from __future__ import annotations

import random
import re
import sqlite3
from typing import Any

import pytest

from desktop_app.core.browse.filters import where_clause
from desktop_app.core.browse.paging import SortKey, TablePager, Truncated, sort_markers, toggle_sort
from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.sqlite.connection import configure_connection


def make_db(script: str) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.executescript(script)
    configure_connection(conn)
    return conn


@pytest.fixture(scope="module")
def mixed() -> sqlite3.Connection:
    """500 rows with gaps in the rowids, NULLs, ties and mixed types."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, grp TEXT, val REAL, note)")
    rng = random.Random(7)
    rows = []
    for i in range(1, 700):
        if rng.random() < 0.3:
            continue  # gaps: rowids are not dense
        grp = rng.choice(["a", "b", "c", None])
        val = rng.choice([None, rng.randint(-5, 5), rng.random()])
        note = rng.choice([None, "x", 3, b"\x00\x01", "y" * 3])
        rows.append((i, grp, val, note))
    conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", rows)
    conn.commit()
    configure_connection(conn)
    return conn


def expected_ids(conn: sqlite3.Connection, sort: list[SortKey], filters: dict[str, str]) -> list[int]:
    condition = where_clause(filters)
    where = f" WHERE {condition.sql}" if condition else ""
    order = ", ".join(f'"{s.column}" {"DESC" if s.descending else "ASC"}' for s in sort)
    order = f"{order}, rowid" if order else "rowid"
    sql = f"SELECT rowid FROM items{where} ORDER BY {order}"
    return [r[0] for r in conn.execute(sql, condition.params if condition else ())]


def pager_ids(conn: sqlite3.Connection, pager: TablePager, page: int, seed: int) -> list[int]:
    """Fetch every page in a random order (to exercise every seek path) and stitch them together."""
    total = pager.count(conn)
    starts = list(range(0, total, page))
    random.Random(seed).shuffle(starts)
    found: dict[int, list[int]] = {}
    for start in starts:
        result = pager.fetch(conn, start, page)
        assert result.start == start
        found[start] = [key[0] for key in result.keys]
        assert len(result.rows) == len(result.keys)
    return [rowid for start in sorted(found) for rowid in found[start]]


SORTS = [
    [],
    [SortKey("grp")],
    [SortKey("grp", descending=True)],
    [SortKey("val", descending=True)],
    [SortKey("grp"), SortKey("val", descending=True)],
    [SortKey("note"), SortKey("grp", descending=True), SortKey("val")],
    [SortKey("id", descending=True)],
]
FILTERS = [{}, {"grp": "a"}, {"val": ">0"}, {"grp": "NOT NULL", "note": "NULL"}]


@pytest.mark.parametrize(
    "sort", SORTS, ids=lambda s: ",".join(f"{k.column}{'-' if k.descending else '+'}" for k in s) or "key"
)
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f"{k}{v}" for k, v in f.items()) or "all")
@pytest.mark.parametrize("indexed", [False, True])
def test_pages_match_the_equivalent_query(
    mixed: sqlite3.Connection, sort: list[SortKey], filters: dict[str, str], indexed: bool
) -> None:
    table = read_catalog(mixed).table("items")
    assert table is not None
    pager = TablePager(table, sort, filters, index_step=16)
    if indexed:
        pager.count(mixed)
        pager.build_index(mixed)
    assert pager_ids(mixed, pager, 23, seed=len(sort) * 10 + len(filters)) == expected_ids(
        mixed, sort, filters
    )


def test_dense_rowids_jump_straight_to_any_position() -> None:
    conn = make_db(
        "CREATE TABLE t(v);"
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000) "
        "INSERT INTO t SELECT i FROM s;"
    )
    pager = TablePager(read_catalog(conn).tables[0])
    assert pager.count(conn) == 5000
    assert pager.dense
    last = pager.fetch(conn, 4990, 100)
    assert [k[0] for k in last.keys] == list(range(4991, 5001))
    assert last.rows[-1] == (5000,)
    assert pager.build_index(conn) == 0  # nothing to index: positions are rowids


def test_sparse_rowids_are_indexed_in_one_stepping_pass() -> None:
    conn = make_db(
        "CREATE TABLE t(v);"
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000) "
        "INSERT INTO t(rowid, v) SELECT i * 3, i FROM s;"
    )
    pager = TablePager(read_catalog(conn).tables[0], index_step=100)
    assert pager.count(conn) == 5000
    assert not pager.dense
    assert pager.build_index(conn) == 50
    assert [k[0] for k in pager.fetch(conn, 4321, 3).keys] == [4322 * 3, 4323 * 3, 4324 * 3]
    assert pager.position_of(conn, {"rowid": 4322 * 3}) == 4321


def test_index_entries_serve_jumps_while_the_index_is_still_being_built() -> None:
    conn = make_db(
        "CREATE TABLE t(v);"
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000) "
        "INSERT INTO t(rowid, v) SELECT i * 3, i FROM s;"
    )
    pager = TablePager(read_catalog(conn).tables[0], index_step=10)
    pager.count(conn)
    jumps: list[tuple[int, tuple[Any, ...], list[str]]] = []

    def jump_midway(progress: Any) -> None:
        # A jump made now (in the grid: on another connection) to just behind the walk's frontier.
        if not jumps and progress.done < progress.total:
            statements: list[str] = []
            conn.set_trace_callback(statements.append)
            key = pager.fetch(conn, progress.done - 5, 1).keys[0]
            conn.set_trace_callback(None)
            jumps.append((progress.done, key, statements))

    pager.build_index(conn, jump_midway)
    assert jumps, "no index entries were usable before the whole walk ended"
    done, key, statements = jumps[0]
    assert done <= 20000 // 2
    assert key == ((done - 5 + 1) * 3,)
    walked = re.search(r"OFFSET (\d+)", statements[-1])
    assert walked is not None and int(walked[1]) < 10  # from the nearest entry, not from the first row


def test_last_rows_without_an_index_are_read_from_the_end() -> None:
    conn = make_db(
        "CREATE TABLE t(v);"
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000) "
        "INSERT INTO t(rowid, v) SELECT i * 2, i FROM s;"
    )
    pager = TablePager(read_catalog(conn).tables[0])
    pager.count(conn)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    page = pager.fetch(conn, 2990, 50)
    conn.set_trace_callback(None)
    assert [r[0] for r in page.rows] == list(range(2991, 3001))
    assert "DESC" in statements[-1] and "OFFSET 0" in statements[-1]


def test_without_rowid_compound_key_pages_in_key_order() -> None:
    conn = make_db(
        "CREATE TABLE pairs(a TEXT, b INTEGER, v, PRIMARY KEY (a, b)) WITHOUT ROWID;"
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 400) "
        "INSERT INTO pairs SELECT char(65 + i % 7), i, i * 10 FROM s;"
    )
    table = read_catalog(conn).table("pairs")
    assert table is not None and table.without_rowid
    pager = TablePager(table, index_step=16)
    assert pager.key_columns == ["a", "b"]
    expected = conn.execute("SELECT a, b FROM pairs ORDER BY a, b").fetchall()
    got = [key for start in range(0, 400, 37) for key in pager.fetch(conn, start, 37).keys]
    assert got == expected
    pager.build_index(conn)
    assert pager.fetch(conn, 250, 2).keys == expected[250:252]
    assert pager.position_of(conn, {"a": "C", "b": 9}) == expected.index(("C", 9))
    assert pager.key_dict(expected[0]) == {"a": expected[0][0], "b": expected[0][1]}


def test_view_pages_by_offset_and_has_no_key() -> None:
    conn = make_db(
        "CREATE TABLE t(v); INSERT INTO t VALUES (3), (1), (2);"
        "CREATE VIEW odd AS SELECT v, v * 2 AS w FROM t;"
    )
    pager = TablePager(read_catalog(conn).table("odd"), [SortKey("v")])  # type: ignore[arg-type]
    assert not pager.has_key
    assert pager.count(conn) == 3
    assert pager.fetch(conn, 1, 5).rows == [(2, 4), (3, 6)]
    assert pager.position_of(conn, {"v": 2}) == 1
    assert pager.full_value(conn, "w", (), 2) == 6


def test_long_values_are_held_in_part_and_read_whole_on_request() -> None:
    conn = make_db(
        "CREATE TABLE t(txt, bin); INSERT INTO t VALUES (printf('%.*c', 5000, 'x'), zeroblob(9000));"
    )
    pager = TablePager(read_catalog(conn).tables[0], cell_max_chars=100)
    (row,) = pager.fetch(conn, 0, 1).rows
    assert row[0] == Truncated("x" * 100, 5000)
    assert row[1] == Truncated(b"\x00" * 100, 9000) and row[1].is_blob
    assert pager.full_value(conn, "txt", (1,), 0) == "x" * 5000


def test_awkward_names_and_a_shadowed_rowid_column() -> None:
    conn = make_db(
        """CREATE TABLE "it's ""q"" ]😀"("select" TEXT, rowid TEXT, "" INTEGER);
        INSERT INTO "it's ""q"" ]😀" VALUES ('b', 'r1', 1), ('a', 'r2', 2), (NULL, 'r3', 3);"""
    )
    table = read_catalog(conn).tables[0]
    pager = TablePager(table, [SortKey("select")], {"": ">=1", "rowid": "r*"})
    assert pager.key_columns == ["_rowid_"]
    pager.count(conn)
    page = pager.fetch(conn, 0, 10)
    assert page.rows == [(None, "r3", 3), ("a", "r2", 2), ("b", "r1", 1)]
    assert pager.key_dict(page.keys[0]) == {"_rowid_": 3}
    assert pager.position_of(conn, {"_rowid_": 1}) == 2


def test_invalid_utf8_text_is_shown_with_replacement_characters() -> None:
    conn = make_db("CREATE TABLE t(v TEXT); INSERT INTO t VALUES (CAST(x'41ff42' AS TEXT));")
    pager = TablePager(read_catalog(conn).tables[0])
    assert pager.fetch(conn, 0, 1).rows == [("A\ufffdB",)]


def test_position_of_follows_sort_and_filter(mixed: sqlite3.Connection) -> None:
    table = read_catalog(mixed).table("items")
    assert table is not None
    sort, filters = [SortKey("grp", descending=True), SortKey("val")], {"note": "NOT NULL"}
    pager = TablePager(table, sort, filters)
    order = expected_ids(mixed, sort, filters)
    for rowid in order[::17]:
        assert pager.position_of(mixed, {"rowid": rowid}) == order.index(rowid)
    excluded = mixed.execute("SELECT rowid FROM items WHERE note IS NULL LIMIT 1").fetchone()[0]
    assert pager.position_of(mixed, {"rowid": excluded}) is None


def test_index_build_stops_when_cancelled(mixed: sqlite3.Connection) -> None:
    table = read_catalog(mixed).table("items")
    assert table is not None
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        TablePager(table, [SortKey("val")], index_step=4).build_index(mixed, cancel=cancel)


@pytest.mark.parametrize(
    ("sort", "filters"), [([SortKey("nope")], {}), ([], {"nope": "1"}), ([], {"v": ">"})]
)
def test_unknown_columns_and_bad_filters_are_user_errors(
    sort: list[SortKey], filters: dict[str, Any]
) -> None:
    conn = make_db("CREATE TABLE t(v)")
    with pytest.raises(UserError):
        TablePager(read_catalog(conn).tables[0], sort, filters)


def test_header_clicks_cycle_and_ctrl_adds_columns() -> None:
    assert toggle_sort([], "a", add=False) == [SortKey("a")]
    assert toggle_sort([SortKey("a")], "a", add=False) == [SortKey("a", True)]
    assert toggle_sort([SortKey("a", True)], "a", add=False) == []
    assert toggle_sort([SortKey("a")], "b", add=False) == [SortKey("b")]
    assert toggle_sort([SortKey("a")], "b", add=True) == [SortKey("a"), SortKey("b")]
    assert toggle_sort([SortKey("a"), SortKey("b")], "a", add=True) == [SortKey("a", True), SortKey("b")]
    assert toggle_sort([SortKey("a", True), SortKey("b")], "a", add=True) == [SortKey("b")]
    assert sort_markers([SortKey("b", True)], ["a", "b"]) == {1: "▼"}
    assert sort_markers([SortKey("b"), SortKey("a", True)], ["a", "b"]) == {1: "▲1", 0: "▼2"}


def test_estimate_is_the_rowid_span_and_no_guess_when_rowids_are_far_apart() -> None:
    conn = make_db("CREATE TABLE t(v); INSERT INTO t(rowid, v) VALUES (5, 1), (9, 2);")
    assert TablePager(read_catalog(conn).tables[0]).estimate(conn) == 5
    conn = make_db("CREATE TABLE t(v); INSERT INTO t(rowid, v) VALUES (1, 1), (9223372036854775806, 2);")
    pager = TablePager(read_catalog(conn).tables[0])
    assert pager.estimate(conn) is None
    assert pager.count(conn) == 2 and not pager.dense
    assert [k[0] for k in pager.fetch(conn, 1, 5).keys] == [9223372036854775806]
