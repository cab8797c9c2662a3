"""Filtering on one value: the filter text Browse writes, a query result narrowed by nesting it, cells
found by text, and which columns link to other tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.browse.filters import FilterError, parse_filter, value_filter
from desktop_app.core.browse.find import cell_matches, matching_cells
from desktop_app.core.browse.paging import Truncated
from desktop_app.core.browse.references import link_columns
from desktop_app.core.browse.result_filter import ValueCondition, filtered_query
from desktop_app.core.limits import LIMITS
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.sqlite.nested_query import NestedQuery

NUMBERS: list[Any] = [None, 0, -5, 7, 2.5, 0.1 + 0.2, 1e300]
TEXTS: list[Any] = ["", "seven", 'say "hi"', "it's", "NULL", "a..b", "50%", "007"]
VALUES: list[Any] = NUMBERS + TEXTS + [b"", b"\x00\xff", b"seven"]


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    """`t(id, v)` holding every value of VALUES once, in a column with no affinity."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v)")
    connection.executemany("INSERT INTO t(v) VALUES (?)", [(v,) for v in VALUES])
    yield connection
    connection.close()


def ids(conn: sqlite3.Connection, text: str) -> list[int]:
    condition = parse_filter('"v"', text)
    assert condition is not None
    return [
        r[0] for r in conn.execute(f"SELECT id FROM t WHERE {condition.sql} ORDER BY id", condition.params)
    ]


@pytest.mark.parametrize("index", range(len(VALUES)))
def test_filter_on_a_value_keeps_exactly_its_rows_and_exclude_the_others(
    conn: sqlite3.Connection, index: int
) -> None:
    value = VALUES[index]
    everything = list(range(1, len(VALUES) + 1))
    same = [i + 1 for i, v in enumerate(VALUES) if v == value and type(v) is type(value)]
    assert ids(conn, value_filter(value)) == same
    kept = ids(conn, value_filter(value, exclude=True))
    if value is None:
        assert kept == [i for i in everything if VALUES[i - 1] is not None]
    else:  # `<>`, as a typed filter: NULL rows are left out as well
        assert kept == [i for i in everything if i not in same and VALUES[i - 1] is not None]


def test_filter_text_of_null_and_blobs_reads_as_typed() -> None:
    assert value_filter(None) == "NULL"
    assert value_filter(None, exclude=True) == "NOT NULL"
    assert value_filter(b"\x00\xff") == "=x'00ff'"
    assert value_filter("seven", exclude=True) == '<>"seven"'


def test_a_value_too_long_to_filter_on_is_refused_with_a_message() -> None:
    with pytest.raises(FilterError, match="too long to filter on"):
        value_filter(b"\x00" * LIMITS.filter_value_max_chars)
    with pytest.raises(FilterError, match="not valid UTF-8"):
        value_filter(object())


def test_filtered_query_narrows_any_result_by_position_with_the_users_parameters(
    conn: sqlite3.Connection,
) -> None:
    # Two columns share a name: they are told apart by position.
    query = NestedQuery.of("SELECT id AS x, v AS x FROM t WHERE id > ? -- note", (1,))
    assert query is not None
    narrowed = filtered_query(query, 2, [ValueCondition(1, b"\x00\xff")])
    rows = conn.execute(narrowed.body, narrowed.params).fetchall()
    assert rows == [(VALUES.index(b"\x00\xff") + 1, b"\x00\xff")]
    nulls = filtered_query(query, 2, [ValueCondition(1, None)])
    assert conn.execute(nulls.body, nulls.params).fetchall() == []  # the NULL is id 1, left out by id > 1
    named = NestedQuery.of("SELECT v FROM t WHERE id <= :last", {"last": 9})
    assert named is not None
    both = filtered_query(
        named, 1, [ValueCondition(0, None, exclude=True), ValueCondition(0, 7, exclude=True)]
    )
    expected = [(v,) for v in VALUES[:9] if v is not None and v != 7]
    assert conn.execute(both.body, both.params).fetchall() == expected
    assert filtered_query(named, 1, []) is named
    assert narrowed.count(conn) == 1  # still a nested query: counted and paged as any other


def test_find_matches_text_numbers_and_blob_hex_but_never_null() -> None:
    assert cell_matches("Seven Seas", "SEVEN")
    assert cell_matches(2.5, ".5") and cell_matches(0.1 + 0.2, "0000000000004")
    assert cell_matches(b"\x00\xff", "0FF") and cell_matches(b"seven", "seven")
    assert cell_matches(Truncated("a long text", 5000), "long")
    assert not cell_matches(None, "NULL") and not cell_matches(None, "") and not cell_matches("x", "")
    assert matching_cells([(1, "ab"), (None, "b")], 10, "b") == [(10, 1), (11, 1)]


def test_link_columns_are_declared_keys_and_inferred_id_columns(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "links.db")
    conn.executescript(
        """
        CREATE TABLE artist(id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE album(id INTEGER PRIMARY KEY, artist_id INTEGER, label_id INTEGER,
                           owner INTEGER REFERENCES artist(id));
        """
    )
    catalog = read_catalog(conn)
    album = catalog.table("album")
    assert album is not None
    assert link_columns(catalog, album) == {"owner": ("artist(id)", False), "artist_id": ("artist(id)", True)}
    conn.close()
