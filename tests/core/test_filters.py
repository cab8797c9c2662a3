"""Column filters typed under the grid header become parameterised SQL that selects the right rows."""

from __future__ import annotations

import sqlite3

import pytest

from desktop_app.core.browse.filters import (
    Condition,
    FilterError,
    bind_value,
    json_path_condition,
    json_path_filter_text,
    parse_filter,
    where_clause,
)
from desktop_app.core.sqlite.connection import configure_connection


@pytest.fixture
def conn() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(
        """
        CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, "select" TEXT);
        INSERT INTO t VALUES
            (1, 'apple', 5, 'x'), (2, 'Banana', 12, NULL), (3, '', 7, 'y'), (4, NULL, NULL, 'x'),
            (5, 'ap_ple', 20, '007'), (6, '100%', 5, 'it''s'), (7, 'cherry pie', -3, 'a..b');
        """
    )
    configure_connection(db)
    return db


def ids(conn: sqlite3.Connection, column: str, text: str) -> list[int]:
    condition = where_clause({column: text})
    assert condition is not None
    return [
        r[0] for r in conn.execute(f"SELECT id FROM t WHERE {condition.sql} ORDER BY id", condition.params)
    ]


@pytest.mark.parametrize(
    ("column", "text", "expected"),
    [
        ("name", "NULL", [4]),
        ("name", "is null", [4]),
        ("name", "not null", [1, 2, 3, 5, 6, 7]),
        ("name", "EMPTY", [3]),
        ("name", "''", [3]),
        ("name", "not empty", [1, 2, 5, 6, 7]),
        ("qty", "=5", [1, 6]),
        ("qty", "5", [1, 6]),
        ("qty", "<>5", [2, 3, 5, 7]),
        ("qty", "!=5", [2, 3, 5, 7]),
        ("qty", ">7", [2, 5]),
        ("qty", ">=7", [2, 3, 5]),
        ("qty", "<0", [7]),
        ("qty", "<=-3", [7]),
        ("qty", "5..12", [1, 2, 3, 6]),
        ("qty", "12..", [2, 5]),
        ("qty", "..5", [1, 6, 7]),
        ("name", "an", [2]),
        ("name", "AN", [2]),
        ("name", "ap%", [1, 5]),
        ("name", "ap*", [1, 5]),
        ("name", "a_ple", [1]),
        ("name", "ap_ple", [5]),
        ("name", "*pie", [7]),
        ("name", "!ap*", [2, 3, 6, 7]),
        ("name", "100%", [6]),
        ("select", "007", [5]),
        ("select", "'it''s'", []),
        ("select", "it's", [6]),
        ("select", '"a..b"', [7]),
        ("select", '="a..b"', [7]),
        ("name", "= NULL", [4]),
        ("name", "<> NULL", [1, 2, 3, 5, 6, 7]),
    ],
)
def test_filter_selects_expected_rows(
    conn: sqlite3.Connection, column: str, text: str, expected: list[int]
) -> None:
    assert ids(conn, column, text) == expected


def test_values_are_bound_never_pasted() -> None:
    condition = parse_filter('"name"', "x'); DROP TABLE t; --")
    assert condition is not None
    assert "DROP" not in condition.sql
    assert condition.params == ("%x'); DROP TABLE t; --%",)


def test_numbers_are_bound_as_numbers_only_when_written_canonically() -> None:
    assert bind_value("12") == 12
    assert bind_value("-3") == -3
    assert bind_value("1.5") == 1.5
    assert bind_value("007") == "007"
    assert bind_value("1.50") == "1.50"
    assert bind_value("'12'") == "12"


def test_empty_filter_is_no_condition() -> None:
    assert parse_filter("x", "   ") is None
    assert where_clause({"a": "", "b": " "}) is None


def test_filters_on_several_columns_are_anded_with_params_in_order(conn: sqlite3.Connection) -> None:
    condition = where_clause({"qty": "5..20", "name": "ap*"})
    assert isinstance(condition, Condition)
    assert condition.params == (5, 20, "ap%")
    rows = conn.execute(f"SELECT id FROM t WHERE {condition.sql} ORDER BY id", condition.params).fetchall()
    assert [r[0] for r in rows] == [1, 5]


def test_awkward_column_names_are_quoted(conn: sqlite3.Connection) -> None:
    condition = where_clause({"select": "x"})
    assert condition is not None and condition.sql.startswith('("select"')
    assert ids(conn, "select", "x") == [1, 4]


@pytest.mark.parametrize("text", [">", "<=  ", "..", "="])
def test_incomplete_filter_is_a_user_error(text: str) -> None:
    with pytest.raises(FilterError):
        parse_filter("x", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$.a.b[1] = 20", [1]),
        ("$.a.b[2].c = true", [1]),
        ('$."a b" = null', [1]),  # a JSON null, not row 2's missing member
        ('$.s = "x"', [1, 2]),
        ("$.s = x", [1, 2]),  # not JSON: taken as the text written
        ("$.o = {}", [1]),
        ('$.a.b = [10,20,{"c":true}]', [1]),
        ("$.n = 2.5", [1]),
        ("$.missing = 1", []),
    ],
)
def test_json_path_filters_select_the_rows_json_extract_selects_and_skip_cells_that_are_not_json(
    text: str, expected: list[int]
) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE d(id INTEGER PRIMARY KEY, doc TEXT)")
    document = '{"a": {"b": [10, 20, {"c": true}]}, "a b": null, "s": "x", "o": {}, "n": 2.5}'
    db.executemany(
        "INSERT INTO d VALUES (?, ?)", [(1, document), (2, '{"s": "x"}'), (3, "not json"), (4, None)]
    )
    configure_connection(db)
    condition = where_clause({"doc": text})
    assert condition is not None and "?" in condition.sql and '"x"' not in condition.sql  # values bound
    found = [
        r[0] for r in db.execute(f"SELECT id FROM d WHERE {condition.sql} ORDER BY id", condition.params)
    ]
    assert found == expected


def test_json_path_filter_text_reads_back_as_the_same_filter() -> None:
    for path, value in (("$.a.b[2]", {"c": "x"}), ('$."odd key"', "é"), ("$.n", 1.5), ("$.f", False)):
        text = json_path_filter_text(path, value)
        assert parse_filter('"doc"', text) == json_path_condition('"doc"', path, value)
