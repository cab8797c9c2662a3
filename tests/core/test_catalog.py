"""The catalog: every kind of object and every awkward name."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.blobs.values import table_access
from desktop_app.core.browse.rows import key_columns
from desktop_app.core.schema.catalog import (
    Catalog,
    RowCount,
    TableKind,
    count_rows,
    declared_options,
    estimate_rows,
    read_catalog,
    read_tables,
)
from desktop_app.core.search.tables import read_search_tables
from desktop_app.core.snapshot.snapshot import open_snapshot
from tests.fixtures import AWKWARD_TABLES, build_edge_case_database


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sqlite3.Connection, Catalog]]:
    path = build_edge_case_database(tmp_path_factory.mktemp("edge") / "edge.db")
    snap = open_snapshot(path)
    conn = snap.connect()
    yield conn, read_catalog(conn)
    conn.close()
    snap.close()


def test_awkward_table_names_are_listed_and_countable(edge: tuple[sqlite3.Connection, Catalog]) -> None:
    conn, catalog = edge
    for name in AWKWARD_TABLES:
        table = catalog.table(name)
        assert table is not None, name
        assert count_rows(conn, table).value == 5
        assert [c.name for c in table.columns] == ["id", 'col "quoted"', "value"]


def test_kinds_flags_and_keys(edge: tuple[sqlite3.Connection, Catalog]) -> None:
    _conn, catalog = edge
    compound = catalog.table("compound")
    assert compound and compound.without_rowid and not compound.has_rowid
    assert compound.primary_key == ["a", "b"]
    strict = catalog.table("strict_table")
    assert strict and strict.strict
    view = catalog.table("parent_names")
    assert view and view.kind is TableKind.VIEW
    docs = catalog.table("docs")
    assert docs and docs.kind is TableKind.VIRTUAL and docs.module == "fts5"
    generated = catalog.table("generated")
    assert generated and [c.name for c in generated.columns if c.generated] == ["total", "doubled"]
    child = catalog.table("child")
    assert child and child.foreign_keys[0].target_table == "parent"
    assert (
        child.foreign_keys[0].from_columns == ("parent_id",) and child.foreign_keys[0].on_delete == "CASCADE"
    )
    parent = catalog.table("parent")
    assert parent and parent.column("name") and parent.column("name").not_null  # type: ignore[union-attr]
    assert parent.column("name").default == "'x'"  # type: ignore[union-attr]


def test_shadow_tables_hidden_by_default(edge: tuple[sqlite3.Connection, Catalog]) -> None:
    _conn, catalog = edge
    shadows = [t.name for t in catalog.tables if t.kind is TableKind.SHADOW]
    assert "docs_data" in shadows and "docs_config" in shadows
    visible = {t.name for t in catalog.visible_tables()}
    assert "docs_data" not in visible and "docs" in visible
    assert "docs_data" in {t.name for t in catalog.visible_tables(include_hidden=True)}


def test_broken_view_is_listed_with_its_error(edge: tuple[sqlite3.Connection, Catalog]) -> None:
    _conn, catalog = edge
    broken = catalog.table("broken_view")
    assert broken is not None and broken.error and "doomed" in broken.error


def test_indexes_and_triggers(edge: tuple[sqlite3.Connection, Catalog]) -> None:
    _conn, catalog = edge
    assert [i.columns for i in catalog.indexes_of("child") if i.name == "child_parent"] == [("parent_id",)]
    assert [t.name for t in catalog.triggers_of("parent")] == ["parent_touch"]


def test_count_with_budget_is_exact_or_an_estimate_never_a_block(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, v)")
    conn.execute(
        "INSERT INTO big (v) SELECT x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c "
        "LIMIT 300000) SELECT x FROM c)"
    )
    conn.commit()
    table = read_catalog(conn).table("big")
    assert table is not None
    # count(*) of a rowid table is one opcode (fast); the budget applies to scans such as views.
    assert count_rows(conn, table, budget_s=0.0).value == 300000
    estimate = estimate_rows(conn, table)
    assert not estimate.exact and estimate.value == 300000 and estimate.label() == "≈ 300,000"
    conn.execute("CREATE VIEW slow AS SELECT a.id FROM big a WHERE a.v % 7 = 0")
    view = read_catalog(conn).table("slow")
    assert view is not None
    assert count_rows(conn, view, budget_s=0.0) == RowCount(None, False)
    assert count_rows(conn, view).value == 300000 // 7
    conn.close()


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("chinook/Chinook_Sqlite.sqlite", {"Album", "Artist", "Customer", "Employee", "Genre", "Invoice",
                                           "InvoiceLine", "MediaType", "Playlist", "PlaylistTrack", "Track"}),
        ("northwind/northwind.db", {"Order Details", "Customers", "Orders", "Products", "Employees"}),
    ],
)  # fmt: skip
def test_corpus_catalogs(corpus: Path, file: str, expected: set[str]) -> None:
    snap = open_snapshot(corpus / file)
    conn = snap.connect()
    names = {t.name for t in read_catalog(conn).visible_tables()}
    assert expected <= names
    conn.close()
    snap.close()


def test_utf16_database_catalog(tmp_path: Path) -> None:
    path = tmp_path / "utf16.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA encoding = 'UTF-16le'")
    conn.execute('CREATE TABLE "naïve 😀" (x TEXT)')
    conn.execute("INSERT INTO \"naïve 😀\" VALUES ('héllo')")
    conn.commit()
    conn.close()
    snap = open_snapshot(path)
    assert snap.header.text_encoding == "UTF-16le"
    conn = snap.connect()
    table = read_catalog(conn).table("naïve 😀")
    assert table is not None
    assert conn.execute(f"SELECT x FROM {table.quoted}").fetchone()[0] == "héllo"
    conn.close()
    snap.close()


#: Table options as people write them; the first two are where two readers of the schema once disagreed.
OPTION_STATEMENTS = [
    "CREATE TABLE t (a INT PRIMARY KEY, b INT) STRICT, WITHOUT ROWID",
    "CREATE TABLE t (a INT PRIMARY KEY, b INT) WITHOUT ROWID, STRICT",
    "CREATE TABLE t (a PRIMARY KEY, b) without rowid",
    "CREATE TABLE t (a PRIMARY KEY, b) WITHOUT /* clustered */ ROWID",
    "CREATE TABLE t (a PRIMARY KEY, b) -- keyed\n WITHOUT\n ROWID",
    "CREATE TABLE t (a INT, b TEXT) STRICT",
    "CREATE TABLE t (a, b DEFAULT ') WITHOUT ROWID')",
    "CREATE TABLE t (a, b CHECK (b <> 'x'))",
]


def _deny_table_list(action: int, arg1: str | None, *_args: object) -> int:
    """An authorizer that refuses `PRAGMA table_list`, as SQLite before 3.37 (which lacks it) would."""
    refused = action == sqlite3.SQLITE_PRAGMA and arg1 == "table_list"
    return sqlite3.SQLITE_DENY if refused else sqlite3.SQLITE_OK


@pytest.mark.parametrize("statement", OPTION_STATEMENTS)
def test_table_options_read_from_the_statement_agree_with_sqlite(statement: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(statement)
    sql = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 't'").fetchone()[0]
    wr, strict = conn.execute("SELECT wr, strict FROM pragma_table_list('t')").fetchone()
    assert declared_options(sql) == (bool(wr), bool(strict))
    conn.set_authorizer(_deny_table_list)
    table = read_catalog(conn).table("t")
    assert table is not None and (table.without_rowid, table.strict) == (bool(wr), bool(strict))
    conn.close()


def test_without_table_list_a_strict_without_rowid_table_is_keyed_by_its_primary_key() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(OPTION_STATEMENTS[0])
    conn.execute("INSERT INTO t VALUES (7, 8)")
    conn.set_authorizer(_deny_table_list)
    (table,) = read_tables(conn)
    assert table.without_rowid and not table.has_rowid and key_columns(table) == ["a"]
    (searched,) = read_search_tables(conn)
    assert searched.key_columns == ("a",) and not searched.key_is_rowid
    access = table_access(conn, "main", "t")
    assert access.rowid_name is None and access.key_columns == ("a",)
    conn.close()


def test_schema_rows_holding_blobs_are_read_as_text() -> None:
    """A damaged schema row with a blob where the statement belongs still lists its table."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t4(x)")
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_schema SET sql = CAST(sql AS BLOB) WHERE name = 't4'")
    assert conn.execute("SELECT typeof(sql) FROM sqlite_schema WHERE name = 't4'").fetchone() == ("blob",)
    catalog = read_catalog(conn)
    conn.close()
    assert [(table.name, table.sql) for table in catalog.tables] == [("t4", "CREATE TABLE t4(x)")]
