"""Addressing a row: by an unshadowed rowid name, by primary key, or by position only."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from desktop_app.core.browse.rows import (
    key_columns,
    names_rowid,
    rowid_alias_column,
    rowid_name,
    virtual_rowid_name,
)
from desktop_app.core.schema.catalog import Table, read_catalog


@pytest.fixture(scope="module")
def conn() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.executescript(
        """
        CREATE TABLE plain (id INTEGER PRIMARY KEY, v);
        CREATE TABLE one_shadowed ("ROWID" TEXT, v);
        CREATE TABLE all_shadowed (rowid TEXT, _rowid_ TEXT, oid TEXT, id INTEGER PRIMARY KEY);
        CREATE TABLE keyed (a, b, v, PRIMARY KEY (b, a)) WITHOUT ROWID;
        CREATE VIEW seen AS SELECT v FROM plain;
        CREATE VIRTUAL TABLE docs USING fts5(body);
        """
    )
    yield conn
    conn.close()


def table(conn: sqlite3.Connection, name: str) -> Table:
    found = read_catalog(conn).table(name)
    assert found is not None
    return found


def test_rowid_tables_are_addressed_by_the_first_name_no_column_takes(conn: sqlite3.Connection) -> None:
    assert key_columns(table(conn, "plain")) == ["rowid"]
    assert rowid_alias_column(table(conn, "plain")) == "id"
    shadowed = table(conn, "one_shadowed")
    assert key_columns(shadowed) == ["_rowid_"]
    assert not names_rowid(shadowed, "ROWID") and names_rowid(shadowed, "_ROWID_")


def test_a_table_whose_rowid_names_are_all_columns_has_no_rowid_name(conn: sqlite3.Connection) -> None:
    shadowed = table(conn, "all_shadowed")
    assert rowid_name(shadowed) is None and key_columns(shadowed) is None
    assert rowid_alias_column(shadowed) == "id"  # still the rowid, under its column's name


def test_without_rowid_tables_by_primary_key_views_by_position(conn: sqlite3.Connection) -> None:
    keyed = table(conn, "keyed")
    assert rowid_name(keyed) is None and key_columns(keyed) == ["b", "a"] and not names_rowid(keyed, "rowid")
    assert key_columns(table(conn, "seen")) is None


def test_virtual_tables_are_asked_whether_their_rows_have_a_rowid(conn: sqlite3.Connection) -> None:
    docs = table(conn, "docs")
    assert rowid_name(docs) is None  # not known from the catalog alone
    assert virtual_rowid_name(conn, docs) == "rowid"
