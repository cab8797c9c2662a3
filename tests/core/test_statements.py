"""Statement splitting with positions, the statement under the cursor, read-only checks, error places."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.core.errors import ReadOnlyError
from desktop_app.core.sqlite.guard import check_user_sql
from desktop_app.core.sqlite.statements import (
    Statement,
    StatementKind,
    from_utf16_offset,
    is_read_only,
    locate_error,
    split_statements,
    statement_at,
    statement_kind,
    to_utf16_offset,
    tokenize,
)


def texts(sql: str) -> list[str]:
    return [statement.text for statement in split_statements(sql)]


def test_offsets_point_at_the_statement_text_in_the_original() -> None:
    sql = "  -- lead\nSELECT 1;\n\n  /* c */ SELECT 'x'  ;  SELECT 3"
    for statement in split_statements(sql):
        assert sql[statement.start : statement.end] == statement.text
    assert texts(sql) == ["SELECT 1;", "SELECT 'x'  ;", "SELECT 3"]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select 'a;b'; select 2", ["select 'a;b';", "select 2"]),
        ("select 'it''s;'; select 2", ["select 'it''s;';", "select 2"]),
        ("select 1 -- c;omment\n; select 2", ["select 1 -- c;omment\n;", "select 2"]),
        ("select /* a;b */ 1; select 2;", ["select /* a;b */ 1;", "select 2;"]),
        ('select "a;b" from t; select 2', ['select "a;b" from t;', "select 2"]),
        ('select "q"";t"; select 2', ['select "q"";t";', "select 2"]),
        ("select [x;y] from t; select `p;q` from t", ["select [x;y] from t;", "select `p;q` from t"]),
        ("select x'00;'; select 2", ["select x'00;';", "select 2"]),
    ],
)
def test_semicolons_inside_strings_identifiers_and_comments_do_not_split(
    sql: str, expected: list[str]
) -> None:
    assert texts(sql) == expected


def test_trigger_body_with_semicolons_stays_one_statement() -> None:
    trigger = (
        "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW WHEN new.a > 0 BEGIN\n"
        "  INSERT INTO log VALUES (new.a, 'x;y');\n"
        "  UPDATE t SET b = CASE WHEN 1 THEN 2 END;\n"
        "END;"
    )
    assert texts(f"{trigger}\nSELECT 1;") == [trigger, "SELECT 1;"]


def test_trigger_named_begin_and_temp_trigger_split_where_sqlite_does() -> None:
    sql = (
        'create trigger begin after insert on t begin select 1; end; create temp trigger "e;nd" '
        "before delete on t begin select raise(abort, 'no;'); end;select 3"
    )
    assert texts(sql) == [
        "create trigger begin after insert on t begin select 1; end;",
        "create temp trigger \"e;nd\" before delete on t begin select raise(abort, 'no;'); end;",
        "select 3",
    ]


def test_transaction_begin_end_are_ordinary_statements() -> None:
    assert texts("BEGIN; select 1; END; BEGIN TRANSACTION; COMMIT") == [
        "BEGIN;",
        "select 1;",
        "END;",
        "BEGIN TRANSACTION;",
        "COMMIT",
    ]


def test_empty_and_comment_only_pieces_are_dropped() -> None:
    assert texts("") == []
    assert texts("   \n\t") == []
    assert texts("-- only a comment\n;;  ; /* and another */ ;") == []
    assert texts("select 1; -- trailing comment") == ["select 1;"]
    assert texts(";;select 1;;") == ["select 1;"]


def test_unterminated_comment_and_string_run_to_the_end_like_sqlite() -> None:
    assert texts("select 1 /* never closed ; select 2") == ["select 1"]
    assert texts("select 'never closed ; select 2") == ["select 'never closed ; select 2"]


def test_where_sqlparse_goes_wrong_we_follow_sqlite() -> None:
    # A bare CR does not end a -- comment in SQLite; backslash is not an escape; `#` is not a comment.
    assert texts("select 1 -- x\r; select 2") == ["select 1"]
    assert texts(r"select 'a\'; select 2") == [r"select 'a\';", "select 2"]
    assert texts("select 1 # ;\nselect 2") == ["select 1 # ;", "select 2"]
    assert texts("select (1; select 2") == ["select (1;", "select 2"]


def test_statements_split_like_sqlite_runs_them(tmp_path: Path) -> None:
    sql = (
        "CREATE TABLE t(a, b);\n"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET b = 'x;' WHERE a = new.a; END;\n"
        "INSERT INTO t(a) VALUES (1); -- done;\n"
        "SELECT a, b FROM t"
    )
    conn = sqlite3.connect(tmp_path / "split.db")
    for statement in split_statements(sql):
        conn.execute(statement.text)  # one statement each, or Python refuses
    assert conn.execute("SELECT a, b FROM t").fetchall() == [(1, "x;")]
    conn.close()


@given(st.text(alphabet="sel ct1;'\"-/*\n\r[]`x", max_size=60))
def test_statements_end_exactly_where_sqlite_says_a_statement_is_complete(sql: str) -> None:
    assert "".join(token.text for token in tokenize(sql)) == sql
    covered: set[int] = set()
    previous_end = 0
    statements = split_statements(sql)
    for statement in statements:
        assert sql[statement.start : statement.end] == statement.text
        assert previous_end <= statement.start < statement.end
        previous_end = statement.end
        covered.update(range(statement.start, statement.end))
        text = statement.text
        if statement is not statements[-1]:
            assert sqlite3.complete_statement(text)  # never split too early
        inner = [i for i, char in enumerate(text[:-1]) if char == ";"]
        assert not any(sqlite3.complete_statement(text[: i + 1]) for i in inner)  # never split too late
    # Outside the statements there is only space, comments and empty `;`.
    for token in tokenize(sql):
        if token.kind not in ("space", "comment") and token.text != ";":
            assert token.start in covered


SCRIPT = "select 1;  select 2;\n\nselect 3;\n-- note\nselect 4"


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [
        (0, "select 1;"),
        (4, "select 1;"),
        (9, "select 1;"),  # just after the `;`
        (10, "select 1;"),  # on the same line, before the next statement starts
        (11, "select 2;"),
        (21, "select 3;"),  # blank line between: the next one
        (len(SCRIPT) - 12, "select 4"),  # on the comment line above
        (len(SCRIPT), "select 4"),
    ],
)
def test_statement_at_cursor(cursor: int, expected: str) -> None:
    statement = statement_at(SCRIPT, cursor)
    assert statement is not None
    assert statement.text == expected


def test_statement_at_in_empty_or_comment_only_text_is_none() -> None:
    assert statement_at("", 0) is None
    assert statement_at("-- nothing here\n", 5) is None


def test_statement_at_after_the_last_statement_picks_the_last() -> None:
    sql = "select 1;\nselect 2;\n\n\n"
    statement = statement_at(sql, len(sql))
    assert statement is not None
    assert statement.text == "select 2;"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "  /* c */ select * from t",
        "VALUES (1), (2)",
        "WITH x AS (SELECT 1) SELECT * FROM x",
        "with recursive c(n) as (select 1 union all select n + 1 from c) select n from c",
        "WITH x AS MATERIALIZED (SELECT 1), y AS (SELECT 2) SELECT * FROM x, y",
        "EXPLAIN QUERY PLAN SELECT 1",
        "EXPLAIN INSERT INTO t VALUES (1)",
        "PRAGMA table_info(t)",
        "PRAGMA main.index_list('t')",
        "pragma foreign_key_check",
        "PRAGMA user_version",
        "PRAGMA integrity_check(10)",
        "PRAGMA journal_mode",
    ],
)
def test_reading_statements_are_read_only(sql: str) -> None:
    assert statement_kind(sql) is StatementKind.READ
    assert is_read_only(sql)
    check_user_sql(sql)  # does not raise


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t VALUES (1)",
        "replace into t values (1)",
        "UPDATE t SET a = 1",
        "DELETE FROM t",
        "WITH x AS (SELECT 1) DELETE FROM t WHERE a IN x",
        "WITH x(a) AS (VALUES (1)) INSERT INTO t SELECT a FROM x",
        "CREATE TABLE t(a)",
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;",
        "DROP VIEW v",
        "ALTER TABLE t ADD COLUMN b",
        "ATTACH 'other.db' AS o",
        "DETACH o",
        "VACUUM",
        "VACUUM INTO '/tmp/copy.db'",
        "REINDEX",
        "ANALYZE",
        "PRAGMA user_version = 3",
        "PRAGMA main.cache_size=-2000",
        "PRAGMA query_only = OFF",
        "PRAGMA query_only(0)",
        "PRAGMA optimize",
        "BEGIN",
        "BEGIN IMMEDIATE TRANSACTION",
        "COMMIT",
        "END",
        "ROLLBACK",
        "SAVEPOINT s",
        "RELEASE s",
    ],
)
def test_changing_statements_are_writes(sql: str) -> None:
    assert statement_kind(sql) is StatementKind.WRITE
    assert not is_read_only(sql)


def test_unrecognised_sql_is_left_for_sqlite_to_judge() -> None:
    assert statement_kind("selec 1") is StatementKind.UNKNOWN
    assert is_read_only("selec 1")
    assert statement_kind("-- nothing") is StatementKind.UNKNOWN


def test_write_refusal_says_the_snapshot_is_read_only() -> None:
    statement = split_statements("select 1;\n  WITH x AS (SELECT 1) DELETE FROM t")[1]
    with pytest.raises(ReadOnlyError) as caught:
        check_user_sql(statement)
    assert "read-only" in caught.value.message
    assert "DELETE" in caught.value.message
    assert caught.value.offset == statement.start
    with pytest.raises(ReadOnlyError, match="CREATE TABLE"):
        check_user_sql("create table t(a)")


def test_keyword_skips_leading_comments() -> None:
    assert Statement("/* x */ -- y\n explain select 1", 0, 30).keyword == "EXPLAIN"


def sqlite_message(sql: str) -> str:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(sql)
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()
    raise AssertionError(f"{sql!r} did not fail")


@pytest.mark.parametrize(
    ("sql", "marked"),
    [
        ("select a, b from t where a = = 1", "= 1"),  # the second `=`, not the first
        ("select 1;\n  selec 2", "selec 2"),
        ("select * from 'where' where where", "where"),
        ("select 'x' from t where a = 'from' from", "from"),
        ("select 1 )", ")"),
        ('select "a" "b" "c"', '"c"'),
        ("select 'unterminated", "'unterminated"),
        ("select x'0g'", "x'0g'"),
    ],
)
def test_syntax_error_is_located_at_the_token_sqlite_names(sql: str, marked: str) -> None:
    statement = split_statements(sql)[-1]
    message = sqlite_message(statement.text)
    offset = locate_error(statement, message)
    assert offset is not None
    assert sql[offset:].startswith(marked)
    if marked == "where":
        assert offset == sql.rindex("where")
    if marked == "from":
        assert offset == sql.rindex("from")


def test_incomplete_input_points_at_the_end_of_the_statement() -> None:
    sql = "select 1;\nselect 2 from   \n"
    statement = split_statements(sql)[1]
    assert sqlite_message(statement.text) == "incomplete input"
    assert locate_error(statement, "incomplete input") == sql.index("from") + len("from")


def test_semicolon_sqlite_did_not_expect_is_located() -> None:
    sql = "select 1 from ;"
    statement = split_statements(sql)[0]
    assert locate_error(statement, sqlite_message(statement.text)) == sql.index(";")


def test_missing_table_is_located_even_when_quoted() -> None:
    sql = 'select 1;\nselect x from "My Table"'
    statement = split_statements(sql)[1]
    offset = locate_error(statement, sqlite_message(statement.text))
    assert offset == sql.index('"My Table"')


def test_unknown_error_has_no_position() -> None:
    statement = split_statements("select 1")[0]
    assert locate_error(statement, "database is locked") is None


def test_locating_an_attach_error_creates_no_file(tmp_path: Path) -> None:
    target = tmp_path / "created.db"
    sql = f"ATTACH '{target}' AS other junk"
    statement = split_statements(sql)[0]
    offset = locate_error(statement, 'near "junk": syntax error')
    assert offset == sql.index("junk")
    assert not target.exists()


def test_utf16_offsets_count_emoji_twice() -> None:
    text = "select '🎉' , x"
    index = text.index(",")
    assert to_utf16_offset(text, index) == index + 1
    assert from_utf16_offset(text, index + 1) == index
    assert to_utf16_offset("plain", 3) == 3
