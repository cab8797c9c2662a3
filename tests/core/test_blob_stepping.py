"""The Blobs pane steps through rows in key order (or by position), and every pane names a row one way."""

from __future__ import annotations

import sqlite3

import pytest

from desktop_app.core.blobs.stepping import has_row_at, neighbour_key, value_at
from desktop_app.core.browse.row_labels import key_label, row_label
from desktop_app.core.schema.catalog import Catalog, read_catalog
from desktop_app.core.sqlite.connection import configure_connection


@pytest.fixture
def db() -> tuple[sqlite3.Connection, Catalog]:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.executescript(
        """
        CREATE TABLE pics(data BLOB);
        INSERT INTO pics(rowid, data) VALUES (5, x'01'), (9, x'02'), (40, x'03');
        CREATE TABLE words(lang TEXT, id INTEGER, data BLOB, PRIMARY KEY (lang, id)) WITHOUT ROWID;
        INSERT INTO words VALUES ('en', 2, x'aa'), ('de', 7, x'bb'), ('en', 1, x'cc');
        CREATE VIEW v AS SELECT data FROM pics ORDER BY rowid DESC;
        """
    )
    configure_connection(conn)
    return conn, read_catalog(conn)


def test_rows_are_stepped_in_key_order_and_stop_at_either_end(db: tuple[sqlite3.Connection, Catalog]) -> None:
    conn, catalog = db
    pics = catalog.table("pics")
    assert pics is not None
    assert neighbour_key(conn, pics, ["rowid"], None, 0) == {"rowid": 5}
    assert neighbour_key(conn, pics, ["rowid"], None, -1) == {"rowid": 40}  # no row yet: back means the last
    assert neighbour_key(conn, pics, ["rowid"], {"rowid": 5}, 1) == {"rowid": 9}
    assert neighbour_key(conn, pics, ["rowid"], {"rowid": 9}, -1) == {"rowid": 5}
    assert neighbour_key(conn, pics, ["rowid"], {"rowid": 40}, 1) is None
    words = catalog.table("words")
    assert words is not None
    keys = ["lang", "id"]
    assert neighbour_key(conn, words, keys, None, 0) == {"lang": "de", "id": 7}
    assert neighbour_key(conn, words, keys, {"lang": "en", "id": 1}, 1) == {"lang": "en", "id": 2}
    assert neighbour_key(conn, words, keys, {"other": 1}, 1) == {"lang": "de", "id": 7}  # not this key: first


def test_a_view_is_read_by_position(db: tuple[sqlite3.Connection, Catalog]) -> None:
    conn, catalog = db
    view = catalog.table("v")
    assert view is not None
    assert has_row_at(conn, view, 2) and not has_row_at(conn, view, 3)
    assert value_at(conn, view, "data", 0) == b"\x03"
    assert value_at(conn, view, "data", 3) is None


def test_row_means_position_and_the_key_is_named_beside_it() -> None:
    assert row_label(11, {"rowid": 57}) == "row 12 (rowid 57)"
    assert row_label(79_999) == "row 80,000"
    assert row_label(None, {"rowid": 5}) == "rowid 5"
    assert key_label({"lang": "en", "id": 7}) == "lang 'en', id 7"
    assert row_label(None, {}) == "row"
