"""Searching every value of every table: options, awkward names, FTS tables, bad input, streaming, cancel."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.progress import CancelToken
from desktop_app.core.search import (
    Hit,
    HitBatch,
    Method,
    RowKey,
    SearchFinished,
    SearchOptions,
    SearchStarted,
    TableDone,
    collect,
    more_hits,
    search,
)
from desktop_app.core.search import scan as scan_module
from desktop_app.core.snapshot.snapshot import Snapshot, open_snapshot
from tests.fixtures import AWKWARD_TABLES, build_edge_case_database, numbers, script_database

from .test_search_db import LONG_NOTE, build_big_table_database, build_search_database


@pytest.fixture(scope="module")
def search_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    snapshot = open_snapshot(build_search_database(tmp_path_factory.mktemp("search") / "search.db"))
    yield snapshot
    snapshot.close()


@pytest.fixture
def conn(search_snapshot: Snapshot) -> Iterator[sqlite3.Connection]:
    connection = search_snapshot.connect()
    yield connection
    connection.close()


def corpus_connection(path: Path) -> tuple[Snapshot, sqlite3.Connection]:
    snapshot = open_snapshot(path)
    return snapshot, snapshot.connect()


def where(hits: list[Hit]) -> set[tuple[str, str, tuple[object, ...] | None]]:
    return {(h.table, h.column, h.key.values if h.key else None) for h in hits}


def find(conn: sqlite3.Connection, text: str, **options: object) -> list[Hit]:
    return collect(conn, SearchOptions(text, **options)).hits  # type: ignore[arg-type]


# --- corpus ---------------------------------------------------------------------------------------


def test_chinook_artist_hit_names_table_column_and_rowid(corpus: Path) -> None:
    snapshot, conn = corpus_connection(corpus / "chinook" / "Chinook_Sqlite.sqlite")
    try:
        result = collect(conn, SearchOptions("AC/DC"))
    finally:
        conn.close()
        snapshot.close()
    artist = [h for h in result.hits if h.table == "Artist"]
    assert [(h.column, h.key) for h in artist] == [("Name", RowKey(("rowid",), (1,), True))]
    assert artist[0].snippet == "AC/DC" and artist[0].spans == ((0, 5),)
    assert {h.table for h in result.hits} == {"Artist", "Track"}
    assert result.finished is not None and result.finished.tables_done == 11


def test_northwind_table_with_a_space_is_searched(corpus: Path) -> None:
    snapshot, conn = corpus_connection(corpus / "northwind" / "northwind.db")
    try:
        hits = find(conn, "0.25", include_numbers=True, tables=("Order Details",), limit_per_table=None)
    finally:
        conn.close()
        snapshot.close()
    assert len(hits) == 154
    assert {(h.table, h.column, h.value_type) for h in hits} == {("Order Details", "Discount", "real")}
    assert all(h.key is not None and h.key.is_rowid for h in hits)


def test_invalid_utf8_values_are_searched_without_error(corpus: Path) -> None:
    snapshot, conn = corpus_connection(corpus / "plaso" / "load_statistics.db")
    try:
        found = find(conn, "scorecard")
        everything = collect(conn, SearchOptions("a", include_blobs=True, include_numbers=True, regex=True))
    finally:
        conn.close()
        snapshot.close()
    assert where(found) == {("load_statistics", "resource_hostname", (2,))}
    assert not [t for t in everything.tables if t.error]
    assert any(h.column == "resource_url_hash" for h in everything.hits)


def test_corpus_fts5_table_answers_whole_word_search_through_match(corpus: Path) -> None:
    snapshot, conn = corpus_connection(corpus / "duckdb-sqlite" / "fts.db")
    try:
        whole = collect(conn, SearchOptions("body", whole_word=True))
        part = collect(conn, SearchOptions("gmail"))
    finally:
        conn.close()
        snapshot.close()
    assert whole.started.tables == ("email",)  # the shadow tables are never searched
    assert [(h.column, h.key, h.method) for h in whole.hits] == [
        ("body", RowKey(("rowid",), (1,), True), Method.FTS)
    ]
    assert [(h.column, h.snippet, h.method) for h in part.hits] == [("sender", "test@gmail.com", Method.SCAN)]


def test_every_awkward_table_of_the_edge_case_database_is_searched(tmp_path: Path) -> None:
    snapshot, conn = corpus_connection(build_edge_case_database(tmp_path / "edge.db"))
    try:
        result = collect(conn, SearchOptions("row", include_views=True))
    finally:
        conn.close()
        snapshot.close()
    for name in AWKWARD_TABLES:
        hits = [h for h in result.hits if h.table == name]
        assert [h.key.values for h in hits if h.key] == [(1,), (2,), (3,), (4,), (5,)], name
        assert {h.column for h in hits} == {'col "quoted"'}
    errors = [t.table for t in result.tables if t.error]
    assert errors == ["broken_view"]


# --- options --------------------------------------------------------------------------------------


def test_case_insensitive_by_default_and_exact_on_request(conn: sqlite3.Connection) -> None:
    assert where(find(conn, "ann smith")) >= {("people", "name", (1,))}
    assert where(find(conn, "ann smith", case_sensitive=True)) == set()
    assert where(find(conn, "Ann Smith", case_sensitive=True)) == {("people", "name", (1,))}


def test_case_insensitive_search_folds_non_ascii_letters(conn: sqlite3.Connection) -> None:
    assert where(find(conn, "émile")) == {("people", "name", (2,))}
    assert where(find(conn, "école")) == {("people", "note", (2,))}
    assert where(find(conn, "école", case_sensitive=True)) == set()


def test_whole_word_skips_matches_inside_longer_words(conn: sqlite3.Connection) -> None:
    assert where(find(conn, "bob", tables=("people",))) == {
        ("people", "name", (3,)),
        ("people", "note", (3,)),
    }
    hits = find(conn, "bobby", whole_word=True)
    assert where(hits) == {("people", "note", (3,))}
    assert where(find(conn, "tables", whole_word=True)) == {("people", "note", (3,))}
    assert where(find(conn, "table", whole_word=True, tables=("people",))) == set()
    assert where(find(conn, "bob", whole_word=True, case_sensitive=True, tables=("people",))) == {
        ("people", "name", (3,)),
        ("people", "note", (3,)),  # "bob's": the apostrophe ends the word
    }


def test_regular_expression_with_numbers(conn: sqlite3.Connection) -> None:
    assert where(find(conn, r"\d{5}")) == set()
    hits = find(conn, r"\d{5}", regex=True, include_numbers=True)
    assert where(hits) == {("people", "age", (3,))}
    assert hits[0].value_type == "integer" and hits[0].snippet == "12345"
    assert where(find(conn, r"^ANN\b", regex=True, tables=("people",))) == {
        ("people", "name", (1,)),
        ("people", "name", (6,)),
    }
    assert where(find(conn, r"(?i)^ann\s", regex=True, case_sensitive=True, tables=("people",))) == {
        ("people", "name", (1,)),
        ("people", "name", (6,)),
    }


def test_numbers_match_by_their_sql_text_only_when_included(conn: sqlite3.Connection) -> None:
    assert where(find(conn, "12345")) == set()
    assert where(find(conn, "12345", include_numbers=True)) == {("people", "age", (3,))}
    reals = find(conn, "e+20", include_numbers=True)
    assert [(h.column, h.snippet, h.value_type) for h in reals] == [("score", "1.0e+20", "real")]


def test_text_stored_in_an_integer_column_is_found(conn: sqlite3.Connection) -> None:
    hits = find(conn, "forty")
    assert [(h.column, h.value_type) for h in hits] == [("age", "text")]


def test_blobs_match_only_when_included(conn: sqlite3.Connection) -> None:
    assert find(conn, "secret") == []
    hits = find(conn, "secret", include_blobs=True)
    assert [(h.table, h.column, h.value_type) for h in hits] == [("people", "photo", "blob")]
    assert hits[0].snippet[slice(*hits[0].spans[0])] == "secret"


def test_views_are_searched_only_when_asked_and_have_no_key(conn: sqlite3.Connection) -> None:
    assert "people_view" not in collect(conn, SearchOptions("zola")).started.tables
    hits = find(conn, "zola", include_views=True)
    assert where(hits) == {("people", "name", (2,)), ("people_view", "name", None)}


def test_scope_limits_the_search_to_chosen_tables_and_columns(conn: sqlite3.Connection) -> None:
    assert {h.table for h in find(conn, "e", tables=("PAIRS",))} == {"pairs"}
    chosen = find(conn, "a", columns=(("people", "name"), ('it\'s "odd"', "col ]x")))
    assert {(h.table, h.column) for h in chosen} == {("people", "name")}
    assert {(h.table, h.column) for h in find(conn, "o", columns=(('it\'s "odd"', "col ]x"),))} == {
        ('it\'s "odd"', "col ]x")
    }
    with pytest.raises(UserError, match="No table or view named 'nope'"):
        find(conn, "a", tables=("nope",))
    with pytest.raises(UserError, match="has no column 'nope'"):
        find(conn, "a", columns=(("people", "nope"),))


def test_limits_stop_a_table_and_the_whole_search(conn: sqlite3.Connection) -> None:
    per_table = collect(conn, SearchOptions("e", limit_per_table=1))
    assert all(t.hits <= 1 for t in per_table.tables)
    assert any(t.truncated for t in per_table.tables)
    overall = collect(conn, SearchOptions("e", limit=3, limit_per_table=None))
    assert len(overall.hits) == 3
    assert overall.finished is not None and overall.finished.truncated
    assert overall.finished.tables_done < overall.finished.tables_total


def test_without_rowid_hits_are_keyed_by_primary_key(conn: sqlite3.Connection) -> None:
    hits = find(conn, "second pair")
    assert [h.key for h in hits] == [RowKey(("a", "b"), ("k/1", 2), False)]
    assert hits[0].key is not None and hits[0].key.as_dict() == {"a": "k/1", "b": 2}


def test_table_whose_rowid_names_are_all_columns_has_hits_without_key(conn: sqlite3.Connection) -> None:
    assert where(find(conn, "unaddressable")) == {("shadowed", "body", None)}


def test_strict_and_any_columns_are_searched_by_what_they_can_hold(conn: sqlite3.Connection) -> None:
    assert {h.column for h in find(conn, "text", tables=("typed",))} == {"t", "anything"}
    assert {h.column for h in find(conn, "5", include_numbers=True, tables=("typed",))} == {"n", "r"}


def test_invalid_utf8_text_is_matched_around_its_bad_bytes_shown_escaped(conn: sqlite3.Connection) -> None:
    hits = find(conn, "needle", tables=("people",))
    bad = next(h for h in hits if h.key == RowKey(("rowid",), (7,), True))
    assert bad.snippet == "\\xc3(needle" and bad.spans == ((5, 11),)  # escaped, as Browse shows it


def test_invalid_utf8_text_is_found_by_its_escape_as_shown(conn: sqlite3.Connection) -> None:
    # A regular expression is checked in SQL by a Python function: it must read the value as shown.
    hits = find(conn, r"\\xc3\(nee", regex=True, tables=("people",))
    assert [(h.key, h.snippet) for h in hits] == [(RowKey(("rowid",), (7,), True), "\\xc3(needle")]
    assert find(conn, "\ufffd", tables=("people",)) == []  # never a replacement character


def test_snippet_of_a_long_value_is_short_and_marks_the_match(conn: sqlite3.Connection) -> None:
    [hit] = find(conn, "target")
    assert hit.match_start == LONG_NOTE.index("target")
    assert len(hit.snippet) < 200 and hit.snippet.startswith("…") and hit.snippet.endswith("…")
    start, end = hit.spans[0]
    assert hit.snippet[start:end] == "target"


# --- FTS tables -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '"draft"',
        'report "draft" NEAR',
        "NEAR deadline",
        "lunch - tomorrow",
        "tomorrow:",
        "maybe^ *",
        '"',
        "*",
    ],
)
def test_fts_syntax_in_the_text_is_literal(conn: sqlite3.Connection, text: str) -> None:
    for whole_word in (False, True):
        with_fts = collect(conn, SearchOptions(text, whole_word=whole_word, tables=("mail", "people")))
        scanned = collect(conn, SearchOptions(text, whole_word=whole_word, tables=("mail",), use_fts=False))
        assert not [t for t in with_fts.tables if t.error]
        assert where([h for h in with_fts.hits if h.table == "mail"]) == where(scanned.hits)


def test_fts_tables_give_the_same_hits_as_scanning(conn: sqlite3.Connection) -> None:
    for text in ("boat", "running", "NEAR", "report", "gram tok", "alice", "Tri"):
        for options in ({}, {"whole_word": True}, {"case_sensitive": True}):
            fts = collect(conn, SearchOptions(text, limit_per_table=None, **options))  # type: ignore[arg-type]
            scan = collect(conn, SearchOptions(text, limit_per_table=None, use_fts=False, **options))  # type: ignore[arg-type]
            assert where(fts.hits) == where(scan.hits), (text, options)


def test_external_content_fts_answers_for_its_content_table(conn: sqlite3.Connection) -> None:
    result = collect(conn, SearchOptions("boat", whole_word=True))
    assert [(h.table, h.column, h.key, h.method) for h in result.hits] == [
        ("articles", "body", RowKey(("rowid",), (1,), True), Method.FTS)
    ]
    skipped = result.table("articles_fts")
    assert skipped is not None and skipped.method is Method.SKIPPED and "articles" in (skipped.note or "")
    assert where(find(conn, "boat")) == {("articles", "body", (1,)), ("articles", "body", (2,))}


def test_porter_fts4_and_trigram_fts5_tables_are_used(conn: sqlite3.Connection) -> None:
    porter = collect(conn, SearchOptions("running", whole_word=True, tables=("old_fts",)))
    assert [(h.table, h.method) for h in porter.hits] == [("old_fts", Method.FTS)]
    trigram = collect(conn, SearchOptions("gram tok", tables=("tri",)))
    assert [(h.table, h.method) for h in trigram.hits] == [("tri", Method.FTS)]


def test_contentless_fts_table_is_skipped_with_a_note(conn: sqlite3.Connection) -> None:
    report = collect(conn, SearchOptions("hidden")).table("blind")
    assert report is not None and report.method is Method.SKIPPED and "contentless" in (report.note or "")


def test_failing_full_text_table_falls_back_to_scanning(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_module, "match_query", lambda _info, _options: "NEAR(")  # an FTS syntax error
    result = collect(conn, SearchOptions("alice", whole_word=True, tables=("mail",)))
    assert [(h.column, h.method) for h in result.hits] == [("sender", Method.SCAN)]
    report = result.table("mail")
    assert report is not None and not report.error and "full-text table not used" in (report.note or "")


# --- bad input and unreadable tables --------------------------------------------------------------


def test_empty_query_is_refused_with_a_clear_message(conn: sqlite3.Connection) -> None:
    with pytest.raises(UserError, match="Type something to search for"):
        search(conn, SearchOptions(""))


def test_one_and_two_character_queries_scan(conn: sqlite3.Connection) -> None:
    assert where(find(conn, "é", tables=("people",))) == {("people", "name", (2,)), ("people", "note", (2,))}
    assert ("pairs", "label", ("k/1", 1)) in where(find(conn, "st"))


def test_invalid_regular_expression_is_a_user_error(conn: sqlite3.Connection) -> None:
    with pytest.raises(UserError, match=r"Invalid regular expression \(RE2 syntax\): missing \): abc\(\."):
        search(conn, SearchOptions("abc(", regex=True))


def test_unpaired_surrogate_in_the_text_is_a_user_error(conn: sqlite3.Connection) -> None:
    with pytest.raises(UserError, match="cannot be searched"):
        search(conn, SearchOptions("a\udc80b"))


def test_table_with_a_missing_module_is_noted_and_the_search_goes_on(conn: sqlite3.Connection) -> None:
    result = collect(conn, SearchOptions("hello"))
    ghost = result.table("ghost")
    assert ghost is not None and ghost.error and "nosuchmodule" in (ghost.note or "")
    assert where(result.hits) == {('it\'s "odd"', "col ]x", (1,))}


# --- streaming, progress, cancel ------------------------------------------------------------------


def test_events_stream_per_table_with_progress(conn: sqlite3.Connection) -> None:
    progress: list[int] = []
    events = list(search(conn, SearchOptions("e"), progress=lambda p: progress.append(p.done)))
    assert isinstance(events[0], SearchStarted) and isinstance(events[-1], SearchFinished)
    done = [e for e in events if isinstance(e, TableDone)]
    assert [d.tables_done for d in done] == list(range(1, len(events[0].tables) + 1))
    assert all(d.tables_total == len(events[0].tables) for d in done)
    first_batch = next(i for i, e in enumerate(events) if isinstance(e, HitBatch))
    assert first_batch < events.index(done[-1])
    assert progress[-1] == len(done)


def test_cancel_between_tables_stops_the_search(conn: sqlite3.Connection) -> None:
    cancel = CancelToken()
    events = search(conn, SearchOptions("e"), cancel=cancel)
    seen = 0
    with pytest.raises(Cancelled):
        for event in events:
            if isinstance(event, TableDone):
                seen += 1
                cancel.cancel()
    assert seen == 1
    assert conn.execute("SELECT count(*) FROM people").fetchone()[0] == 7  # the connection is reusable


def test_cancel_interrupts_a_scan_in_the_middle_of_a_table(tmp_path: Path) -> None:
    snapshot, conn = corpus_connection(build_big_table_database(tmp_path / "big.db", 200_000))
    cancel = CancelToken()
    timer = threading.Timer(0.05, cancel.cancel)
    tables_done = []
    try:
        timer.start()
        with pytest.raises(Cancelled):
            # A regular expression runs Python per value: the first table alone takes seconds.
            for event in search(conn, SearchOptions(r"needle\b", regex=True), cancel=cancel):
                if isinstance(event, TableDone):
                    tables_done.append(event.table)
        assert tables_done == []
        # The private function no longer holds the search's pattern.
        assert conn.execute("SELECT _search_match(CAST('needle' AS BLOB))").fetchone() == (None,)
    finally:
        timer.cancel()
        conn.close()
        snapshot.close()


def test_first_hit_arrives_before_the_table_is_finished(tmp_path: Path) -> None:
    snapshot, conn = corpus_connection(build_big_table_database(tmp_path / "big.db", 50_000))
    try:
        events = search(conn, SearchOptions("row 1 ", limit_per_table=None))
        next(events)
        first = next(events)
        assert isinstance(first, HitBatch) and len(first.hits) == 1 and first.hits[0].table == "a_big"
        events.close()
    finally:
        conn.close()
        snapshot.close()


def test_more_hits_continues_a_table_past_its_limit_until_the_total_is_known(tmp_path: Path) -> None:
    path = script_database(
        tmp_path / "many.db",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, other TEXT);"
        f"INSERT INTO notes (body, other) {numbers(25)} SELECT 'needle ' || i, 'needle too' FROM numbers;",
    )
    snapshot = open_snapshot(path)
    conn = snapshot.connect()
    try:
        options = SearchOptions("needle", limit_per_table=10, columns=(("notes", "body"),))
        first = collect(conn, options)
        assert len(first.hits) == 10 and first.table("notes").truncated  # type: ignore[union-attr]
        second = more_hits(conn, options, "notes", 10)
        assert (len(second.hits), second.more, second.total) == (10, True, None)
        third = more_hits(conn, options, "notes", 20)
        assert (len(third.hits), third.more, third.total) == (5, False, 25)
        found = first.hits + list(second.hits + third.hits)
        assert len({hit.key for hit in found}) == 25 and {hit.column for hit in found} == {"body"}
    finally:
        conn.close()
        snapshot.close()
