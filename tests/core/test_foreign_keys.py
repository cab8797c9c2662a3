"""Following foreign keys: where a row points (declared or inferred, marked) and who points at it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop_app.core.browse.references import RowLink, incoming_references, outgoing_references
from desktop_app.core.errors import Cancelled
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.snapshot.snapshot import open_snapshot
from tests.conftest import folder_state


def _build(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE category (label TEXT);  -- no id: rows found by rowid
        CREATE TABLE "odd ""place"" tbl" (code TEXT, n INTEGER, PRIMARY KEY (code, n)) WITHOUT ROWID;
        CREATE TABLE posts (
            id INTEGER PRIMARY KEY,
            user_id INTEGER,
            category_id INTEGER,
            author INTEGER REFERENCES users,
            place_code TEXT, place_n INTEGER,
            FOREIGN KEY (place_code, place_n) REFERENCES "odd ""place"" tbl" (code, n)
        );
        INSERT INTO users VALUES (1, 'Ann'), (2, 'Bob');
        INSERT INTO category VALUES ('news'), ('misc');
        INSERT INTO "odd ""place"" tbl" VALUES ('x/1', 7);
        INSERT INTO posts VALUES (1, 1, 2, 2, 'x/1', 7), (2, 1, NULL, 1, NULL, NULL), (3, 2, 2, 1, 'x/1', 7);
        """
    )
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def opened(tmp_path: Path):
    folder = tmp_path / "src"
    folder.mkdir()
    path = _build(folder / "refs.db")
    before = sorted(p.name for p in folder.iterdir()), folder_state(folder)
    snapshot = open_snapshot(path)
    conn = snapshot.connect()
    yield conn, read_catalog(conn)
    conn.close()
    snapshot.close()
    assert (sorted(p.name for p in folder.iterdir()), folder_state(folder)) == before


def test_outgoing_references_declared_first_then_inferred_and_marked(opened) -> None:
    _conn, catalog = opened
    row = {"id": 1, "user_id": 1, "category_id": 2, "author": 2, "place_code": "x/1", "place_n": 7}
    links = outgoing_references(catalog, catalog.table("posts"), row)
    assert links == [
        RowLink(("author",), "users", {"id": 2}, inferred=False),  # no target column: the primary key
        RowLink(("place_code", "place_n"), 'odd "place" tbl', {"code": "x/1", "n": 7}, inferred=False),
        RowLink(("user_id",), "users", {"id": 1}, inferred=True),  # user → users
        RowLink(("category_id",), "category", {"rowid": 2}, inferred=True),  # no id column: rowid
    ]


def test_null_references_point_nowhere(opened) -> None:
    _conn, catalog = opened
    row = {"id": 2, "user_id": 1, "category_id": None, "author": 1, "place_code": None, "place_n": None}
    links = outgoing_references(catalog, catalog.table("posts"), row)
    assert [link.from_columns for link in links] == [("author",), ("user_id",)]


def test_incoming_counts_equal_direct_sql(opened) -> None:
    conn, catalog = opened
    incoming = incoming_references(conn, catalog, catalog.table("users"), {"id": 1})
    got = {(r.table, r.columns, r.values, r.inferred): r.count for r in incoming}
    assert got == {
        ("posts", ("author",), (1,), False): conn.execute(
            "SELECT count(*) FROM posts WHERE author = 1"
        ).fetchone()[0],
        ("posts", ("user_id",), (1,), True): conn.execute(
            "SELECT count(*) FROM posts WHERE user_id = 1"
        ).fetchone()[0],
    }
    assert got[("posts", ("user_id",), (1,), True)] == 2
    place = incoming_references(conn, catalog, catalog.table('odd "place" tbl'), {"code": "x/1", "n": 7})
    assert [(r.columns, r.values, r.count) for r in place] == [(("place_code", "place_n"), ("x/1", 7), 2)]
    by_rowid = incoming_references(conn, catalog, catalog.table("category"), {"rowid": 2})
    assert [(r.columns, r.count, r.inferred) for r in by_rowid] == [(("category_id",), 2, True)]


def test_incoming_references_stop_when_cancelled(opened) -> None:
    conn, catalog = opened
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        incoming_references(conn, catalog, catalog.table("users"), {"id": 1}, cancel)


def test_northwind_order_and_employee_references(corpus: Path) -> None:
    snapshot = open_snapshot(corpus / "northwind" / "northwind.db")
    conn = snapshot.connect()
    try:
        catalog = read_catalog(conn)
        cursor = conn.execute("SELECT * FROM Orders WHERE OrderID = 10248")
        row = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
        links = outgoing_references(catalog, catalog.table("Orders"), row)
        assert {(link.table, tuple(link.key.items()), link.inferred) for link in links} == {
            ("Shippers", (("ShipperID", 3),), False),
            ("Customers", (("CustomerID", "VINET"),), False),
            ("Employees", (("EmployeeID", 5),), False),
        }
        incoming = incoming_references(conn, catalog, catalog.table("Employees"), {"EmployeeID": 5})
        expected = {
            (
                "EmployeeTerritories",
                "EmployeeID",
            ): "SELECT count(*) FROM EmployeeTerritories WHERE EmployeeID = 5",
            ("Employees", "ReportsTo"): "SELECT count(*) FROM Employees WHERE ReportsTo = 5",
            ("Orders", "EmployeeID"): "SELECT count(*) FROM Orders WHERE EmployeeID = 5",
        }
        assert {(r.table, r.columns[0]): r.count for r in incoming} == {
            key: conn.execute(sql).fetchone()[0] for key, sql in expected.items()
        }
        assert {r.table: r.count for r in incoming}["Orders"] == 42
    finally:
        conn.close()
        snapshot.close()
