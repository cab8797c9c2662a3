"""The instant search index: same answers as scanning, kept out of the user's data, shared, cancellable."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.errors import Cancelled
from desktop_app.core.jobs import CancelToken, Progress
from desktop_app.core.search import (
    Hit,
    IndexUnavailable,
    Method,
    SearchIndex,
    SearchOptions,
    auto_index_wanted,
    collect,
    trigram_support,
)
from desktop_app.core.search import index as index_module
from desktop_app.core.snapshot import Snapshot, open_snapshot
from desktop_app.core.sqlite.guard import unguarded

from .test_search_db import build_big_table_database, build_search_database


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    snap = open_snapshot(build_search_database(tmp_path_factory.mktemp("index") / "search.db"))
    yield snap
    snap.close()


@pytest.fixture
def conn(snapshot: Snapshot) -> Iterator[sqlite3.Connection]:
    connection = snapshot.connect()
    yield connection
    connection.close()


@pytest.fixture
def index(snapshot: Snapshot, conn: sqlite3.Connection) -> Iterator[SearchIndex]:
    built = SearchIndex.build(conn, generation=snapshot.generation)
    yield built
    built.detach(conn)
    built.close()


def found(hits: list[Hit]) -> set[tuple[object, ...]]:
    return {(h.table, h.column, h.key, h.value_type, h.snippet, h.spans) for h in hits}


QUERIES = ["Ann", "ann smith", "école", "needle", "pair", '"draft" NEAR', "tokenizer", "ext", "k/1", "*st"]


@pytest.mark.parametrize(
    "options",
    [{}, {"case_sensitive": True}, {"whole_word": True}, {"whole_word": True, "case_sensitive": True}],
    ids=["plain", "case", "word", "word+case"],
)
def test_index_answers_the_same_hits_as_scanning(
    conn: sqlite3.Connection, index: SearchIndex, options: dict[str, bool]
) -> None:
    for text in QUERIES:
        indexed = collect(conn, SearchOptions(text, limit_per_table=None, **options), index=index)
        scanned = collect(conn, SearchOptions(text, limit_per_table=None, **options))
        assert indexed.started.uses_index, text
        assert found(indexed.hits) == found(scanned.hits), (text, options)
        assert {h.method for h in indexed.hits} <= {Method.INDEX}


def test_index_with_numbers_answers_number_searches(snapshot: Snapshot, conn: sqlite3.Connection) -> None:
    index = SearchIndex.build(conn, generation=snapshot.generation, include_numbers=True)
    try:
        for text in ("12345", "e+20", "2.5", "forty"):
            options = SearchOptions(text, include_numbers=True, limit_per_table=None)
            indexed = collect(conn, options, index=index)
            assert indexed.started.uses_index
            assert found(indexed.hits) == found(collect(conn, options).hits), text
    finally:
        index.detach(conn)
        index.close()


def test_index_lives_in_its_own_memory_database_never_in_main(
    snapshot: Snapshot, conn: sqlite3.Connection
) -> None:
    schema_before = conn.execute("SELECT * FROM main.sqlite_schema").fetchall()
    index = SearchIndex.build(conn, generation=snapshot.generation)
    try:
        attached = {name: file for _seq, name, file in conn.execute("PRAGMA database_list")}
        assert attached[index.schema].startswith("/search-")
        assert conn.execute("SELECT * FROM main.sqlite_schema").fetchall() == schema_before
        assert conn.execute("PRAGMA query_only").fetchone() == (1,)
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            conn.execute("CREATE TABLE main.intruder (x)")
        with unguarded(conn), pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("CREATE TABLE main.intruder (x)")  # query_only is back on under the guard
    finally:
        index.detach(conn)
        index.close()
    assert index.schema not in {row[1] for row in conn.execute("PRAGMA database_list")}


def test_index_records_generation_build_time_and_size(snapshot: Snapshot, conn: sqlite3.Connection) -> None:
    ticks: list[Progress] = []
    index = SearchIndex.build(conn, generation=41, progress=ticks.append)
    try:
        assert index.generation == 41
        assert index.built_at > 0 and index.build_seconds > 0
        assert index.size_bytes > 0 and index.entries > 10
        assert "people" in index.tables and "people_view" not in index.tables
        assert index.notes == {"ghost": "no such module: nosuchmodule"}
        assert ticks[-1].done == ticks[-1].total and ticks[-1].total
        assert [t.done for t in ticks] == sorted(t.done for t in ticks)
    finally:
        index.detach(conn)
        index.close()


def test_a_second_pooled_connection_shares_the_index(snapshot: Snapshot, index: SearchIndex) -> None:
    other = snapshot.connect()
    try:
        result = collect(other, SearchOptions("smith"), index=index)
        assert result.started.uses_index
        assert {(h.table, h.method) for h in result.hits} == {("people", Method.INDEX)}
    finally:
        other.close()


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"text": "an"}, "at least 3 characters"),
        ({"text": "a"}, "at least 3 characters"),
        ({"text": "ann", "regex": True}, "regular expressions"),
        ({"text": "secret", "include_blobs": True}, "blobs"),
        ({"text": "12345", "include_numbers": True}, "numbers"),
    ],
)
def test_what_the_index_cannot_answer_is_scanned_with_a_note(
    conn: sqlite3.Connection, index: SearchIndex, options: dict[str, object], reason: str
) -> None:
    search_options = SearchOptions(**options)  # type: ignore[arg-type]
    result = collect(conn, search_options, index=index)
    assert not result.started.uses_index and reason in (result.started.note or "")
    assert found(result.hits) == found(collect(conn, search_options).hits)
    assert result.hits


def test_views_are_scanned_beside_the_index(conn: sqlite3.Connection, index: SearchIndex) -> None:
    result = collect(conn, SearchOptions("zola", include_views=True), index=index)
    assert {(h.table, h.method) for h in result.hits} == {
        ("people", Method.INDEX),
        ("people_view", Method.SCAN),
    }


def test_closed_index_is_not_used(conn: sqlite3.Connection, snapshot: Snapshot) -> None:
    index = SearchIndex.build(conn, generation=snapshot.generation)
    index.detach(conn)
    index.close()
    result = collect(conn, SearchOptions("smith"), index=index)
    assert not result.started.uses_index and "closed" in (result.started.note or "")


def test_large_table_is_indexed_in_slices_with_the_same_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "_ROWS_PER_STEP", 7)
    snap = open_snapshot(build_big_table_database(tmp_path / "big.db", 100))
    conn = snap.connect()
    ticks: list[int] = []
    index = SearchIndex.build(conn, generation=snap.generation, progress=lambda p: ticks.append(p.done))
    try:
        assert len(ticks) > 15  # progress moved inside the big table
        for text in ("row 5", "needle", "filler text", "0"):
            options = SearchOptions(text, limit_per_table=None)
            assert found(collect(conn, options, index=index).hits) == found(collect(conn, options).hits)
        assert index.entries == 2 * 100 + 3
    finally:
        index.detach(conn)
        index.close()
        conn.close()
        snap.close()


def test_cancelled_build_leaves_the_connection_query_only_and_clean(tmp_path: Path) -> None:
    snap = open_snapshot(build_big_table_database(tmp_path / "big.db", 2000))
    conn = snap.connect()
    cancel = CancelToken()

    def cancel_soon(progress: Progress) -> None:
        if progress.done > 0:
            cancel.cancel()

    try:
        with pytest.raises(Cancelled):
            SearchIndex.build(conn, generation=1, progress=cancel_soon, cancel=cancel)
        assert conn.execute("PRAGMA query_only").fetchone() == (1,)
        assert [row[1] for row in conn.execute("PRAGMA database_list")] == ["main"]
    finally:
        conn.close()
        snap.close()


def test_missing_trigram_tokenizer_is_said_clearly(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert trigram_support() is None  # the SQLite here is new enough
    monkeypatch.setattr(index_module, "trigram_support", lambda: "no trigram tokenizer here")
    with pytest.raises(IndexUnavailable, match="no trigram tokenizer here"):
        SearchIndex.build(conn, generation=1)
    assert not auto_index_wanted(conn)


def test_small_snapshots_want_the_index_built_automatically(conn: sqlite3.Connection) -> None:
    assert auto_index_wanted(conn)


def test_utf16_database_is_scanned_and_indexed_alike(tmp_path: Path) -> None:
    path = tmp_path / "utf16.db"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA encoding = 'UTF-16le'")
    writer.execute("CREATE TABLE t (a TEXT, b)")
    writer.executemany("INSERT INTO t VALUES (?, ?)", [("Grüße aus Köln", 3.25), ("ÉCOLE", None)])
    writer.commit()
    writer.close()
    snap = open_snapshot(path)
    conn = snap.connect()
    index = SearchIndex.build(conn, generation=snap.generation)
    try:
        for options in (SearchOptions("köln"), SearchOptions("COL", case_sensitive=True)):
            scanned = collect(conn, options).hits
            assert len(scanned) == 1
            assert found(collect(conn, options, index=index).hits) == found(scanned)
        assert [h.snippet for h in collect(conn, SearchOptions(r"k.ln$", regex=True)).hits] == [
            "Grüße aus Köln"
        ]
    finally:
        index.detach(conn)
        index.close()
        conn.close()
        snap.close()
