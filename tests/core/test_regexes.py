"""The user's regular expressions run on RE2: bounded memory, linear time, clear refusals, and whole-word
matches that agree with Python's."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.cli import main
from desktop_app.core import regexes
from desktop_app.core.errors import QueryError, UserError
from desktop_app.core.functions.registry import FunctionRegistry, evaluate_expression
from desktop_app.core.search import SearchOptions, collect
from desktop_app.core.sqlite.connection import configure_connection

from .test_search_db import build_search_database

ROOT = Path(__file__).resolve().parents[2]
#: Issue #17: compiling this with Python's `regex` took 23.8 GB.
NESTED_COUNTS = "(?:(?:(?:a{100}){100}){100}){100}"


def connect() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    configure_connection(conn, [FunctionRegistry().hook])
    return conn


def run_python(code: str, *blocked: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter with an address-space cap (1 GiB), `blocked` modules unimportable."""
    prelude = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        f"for name in {list(blocked)!r}:\n"
        "    sys.modules[name] = None\n"
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_nested_counted_repetition_is_refused_within_500_mb(tmp_path: Path) -> None:
    database = build_search_database(tmp_path / "search.db")
    code = f"""
import sqlite3
from desktop_app.core.sqlite.connection import configure_connection
from desktop_app.core.functions.registry import FunctionRegistry
from desktop_app.core.search import SearchOptions, collect
from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.core.errors import UserError
conn = sqlite3.connect(":memory:")
configure_connection(conn, [FunctionRegistry().hook])
try:
    conn.execute("SELECT regexp(?, 'a')", [{NESTED_COUNTS!r}]).fetchone()
except sqlite3.Error as exc:
    print("sql refused")
snapshot = open_snapshot({str(database)!r})
search_conn = snapshot.connect()
try:
    collect(search_conn, SearchOptions({NESTED_COUNTS!r}, regex=True))
except UserError as exc:
    print("search:", exc.message)
print("peak", [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")][0])
"""
    result = run_python(code)
    lines = result.stdout.splitlines()
    assert lines[0] == "sql refused", result.stdout + result.stderr
    assert lines[1] == (
        "search: Invalid regular expression: invalid repetition size: {100} "
        "(RE2 syntax allows at most 1000 repetitions, nested counts multiplied)."
    )
    peak_kb = int(lines[2].split()[1])
    assert peak_kb < 500 * 1024


def test_nested_counts_in_sql_get_the_repetition_message() -> None:
    with pytest.raises(QueryError) as error:
        evaluate_expression(connect(), f"'a' REGEXP '{NESTED_COUNTS}'")
    assert error.value.message.startswith(f"regexp(): invalid regular expression '{NESTED_COUNTS}': ")
    assert "at most 1000 repetitions" in error.value.message


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        (r"(a)\1", r"backreferences such as \1"),
        ("(?P<x>a)(?P=x)", "named backreferences (?P=name)"),
        ("a(?=b)", "lookahead and lookbehind"),
        ("a(?!b)", "lookahead and lookbehind"),
        ("(?<=a)b", "lookahead and lookbehind"),
        ("(?<!a)b", "lookahead and lookbehind"),
        ("(?>a)", "atomic groups"),
        ("a++", "possessive quantifiers"),
        ("a*+", "possessive quantifiers"),
        (r"end\Z", r"\Z (write \z for the end of the text)"),
        ("(?x) a b", "the flags a, L, u and x"),
    ],
)
def test_unsupported_construct_is_named_with_rex2_syntax(pattern: str, construct: str) -> None:
    with pytest.raises(UserError) as error:
        regexes.compile_user_pattern(pattern)
    assert error.value.message.startswith(
        f"Regular expressions use RE2 syntax, which does not support {construct}"
    )
    assert error.value.message.count("\n") == 0


def test_backreference_in_regexp_and_search_gets_the_clear_message(tmp_path: Path) -> None:
    with pytest.raises(QueryError) as error:
        evaluate_expression(connect(), r"'aa' REGEXP '(a)\1'")
    assert error.value.message == (
        r"regexp(): invalid regular expression '(a)\\1': Regular expressions use RE2 syntax, which does not "
        r"support backreferences such as \1: invalid escape sequence: \1."
    )
    database = build_search_database(tmp_path / "search.db")
    conn = sqlite3.connect(database)
    try:
        with pytest.raises(UserError, match=r"does not support backreferences such as \\1"):
            collect(conn, SearchOptions(r"(\w)\1", regex=True))
    finally:
        conn.close()


def test_search_cli_refuses_an_unsupported_pattern_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = build_search_database(tmp_path / "search.db")
    assert main(["search", str(database), "(?<=a)b\n(", "--regex"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "error: Regular expressions use RE2 syntax, which does not support lookahead and lookbehind, "
        "(?=…) (?!…) (?<=…) (?<!…): invalid perl operator: (?<=.\n"
    )


def test_pattern_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(UserError, match="at most 10,000 are accepted"):
        regexes.compile_user_pattern("a" * 10_001)


def test_pattern_over_the_memory_budget_is_refused() -> None:
    huge = r"\pL{1000}"  # any letter: ~1,200 instructions each
    with pytest.raises(UserError, match="too large: it needs more than 8 MB"):
        regexes.compile_user_pattern(huge)


def test_unbalanced_parenthesis_cannot_escape_the_whole_word_wrapping() -> None:
    with pytest.raises(UserError, match="unexpected \\)"):
        regexes.compile_user_pattern("a)(b", whole_word=True)


def test_spans_are_character_offsets_in_non_ascii_text() -> None:
    pattern = regexes.compile_user_pattern("é+|😀")
    assert list(pattern.spans("aéébé😀x")) == [(1, 3), (4, 5), (5, 6)]
    assert list(pattern.spans("aéébé😀x", 3)) == [(4, 5), (5, 6)]
    assert list(regexes.compile_user_pattern("x*").spans("axxb")) == [(0, 0), (1, 3), (3, 3), (4, 4)]


def test_case_insensitive_option_folds_unicode() -> None:
    pattern = regexes.compile_user_pattern("émile", case_sensitive=False)
    assert pattern.search("ÉMILE") and not regexes.compile_user_pattern("émile").search("ÉMILE")


WORDY = st.text(alphabet="ab -_.1é", max_size=12)
PATTERNS = ["a", "ab", "b+", "a|ab", "ab|a", "-", "a.b", "[ab]+", "é", "x*a", "1", ".", "a b"]


@settings(max_examples=300, deadline=None)
@given(text=WORDY, pattern=st.sampled_from(PATTERNS), pos=st.integers(0, 4))
def test_whole_word_regex_finds_what_python_lookaround_finds(text: str, pattern: str, pos: int) -> None:
    python = re.compile(rf"(?<!\w)(?:{pattern})(?!\w)")
    expected = [m.span() for m in python.finditer(text, pos) if m.end() > m.start()]
    found = regexes.compile_user_pattern(pattern, whole_word=True).spans(text, pos)
    assert [span for span in found if span[1] > span[0]] == expected


def test_whole_word_regex_search_in_a_database(tmp_path: Path) -> None:
    conn = sqlite3.connect(build_search_database(tmp_path / "search.db"))
    try:
        hits = collect(conn, SearchOptions("bob+", regex=True, whole_word=True, tables=("people",))).hits
        assert {(hit.column, hit.snippet, hit.spans) for hit in hits} == {
            ("name", "bob", ((0, 3),)),
            ("note", "Bobby tables; bob's", ((14, 17),)),  # not "Bobb": a letter follows
        }
    finally:
        conn.close()


def test_without_re2_regexps_say_how_to_install_and_plain_search_still_works(tmp_path: Path) -> None:
    database = build_search_database(tmp_path / "search.db")
    code = f"""
from desktop_app.cli import main
print("regex exit", main(["search", {str(database)!r}, "b.b", "--regex"]))
print("plain exit", main(["search", {str(database)!r}, "second pair"]))
print("query exit", main(["query", {str(database)!r}, "SELECT 'x' REGEXP 'x'"]))
"""
    result = run_python(code, "re2")
    assert "regex exit 1\n" in result.stdout and "plain exit 0\n" in result.stdout, result.stderr
    assert "query exit 1\n" in result.stdout
    install = regexes.unavailable_message()
    assert result.stderr.count(install) == 2, result.stderr
    assert "second pair" in result.stdout
