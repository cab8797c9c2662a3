"""Reading blobs: summaries, windows, hashes, rows without rowid, text and hex views."""

from __future__ import annotations

import codecs
import hashlib
import sqlite3
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop_app.core.blobs.text_and_hex import decode_blob_text, format_hex_dump, hex_rows
from desktop_app.core.blobs.values import (
    BlobRef,
    NotABlob,
    blob_sha256,
    blob_size,
    describe_blob,
    describe_ref,
    human_size,
    iter_blob_chunks,
    read_blob,
    read_blob_range,
    table_access,
)
from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.progress import CancelToken, Progress
from desktop_app.core.sqlite.connection import configure_connection
from desktop_app.core.sqlite.guard import unguarded
from desktop_app.core.sqlite.quoting import quote_identifier
from tests.conftest import CORPUS

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
FAVICONS = CORPUS / "plaso" / "places.sqlite"
MBTILES = CORPUS / "mbtiles" / "plain_1.mbtiles"

MakeDb = Callable[..., sqlite3.Connection]


@pytest.fixture
def make_db(tmp_path: Path) -> MakeDb:
    """Build a database file from SQL (and parameters) and return a configured read-only connection."""
    connections: list[sqlite3.Connection] = []

    def make(*statements: str | tuple[str, tuple], encoding: str = "UTF-8") -> sqlite3.Connection:
        path = tmp_path / f"db{len(connections)}.sqlite"
        conn = sqlite3.connect(path)
        conn.execute(f"PRAGMA encoding = '{encoding}'")
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, ())
            conn.execute(sql, params)
        conn.commit()
        configure_connection(conn)
        connections.append(conn)
        return conn

    yield make
    for conn in connections:
        conn.close()


def open_corpus(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    configure_connection(conn)
    return conn


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (761, "761 B"),
        (1023, "1023 B"),
        (1024, "1.0 KB"),
        (12_595, "12.3 KB"),
        (1048575, "1.0 MB"),
    ],
)
def test_human_size_uses_one_decimal_and_binary_units(size: int, text: str) -> None:
    assert human_size(size) == text


def test_describe_blob_labels_png_from_its_first_bytes_and_given_size() -> None:
    summary = describe_blob(PNG_HEADER, total_size=12_595)
    assert (summary.storage, summary.size, summary.mime) == ("blob", 12_595, "image/png")
    assert summary.label == "<BLOB 12.3 KB image/png>"
    assert summary.extension == ".png"


def test_describe_blob_handles_null_numbers_empty_and_text() -> None:
    assert describe_blob(None).label == "NULL"
    assert describe_blob(42).storage == "integer"
    assert describe_blob(b"").label == "<BLOB empty>"
    text = describe_blob('{"a": "é"}')
    assert (text.storage, text.size, text.mime) == ("text", 11, "application/json")
    assert text.label == "<TEXT 11 B application/json>"


def test_firefox_favicon_is_described_and_hashed_like_its_bytes() -> None:
    conn = open_corpus(FAVICONS)
    try:
        ref = BlobRef("main", "moz_favicons", "data", 1)
        raw = conn.execute("SELECT data FROM moz_favicons WHERE id = 1").fetchone()[0]
        assert describe_ref(conn, ref).label == "<BLOB 761 B image/png>"
        assert blob_sha256(conn, ref) == hashlib.sha256(raw).hexdigest()
        assert read_blob(conn, ref) == raw
    finally:
        conn.close()


def test_mbtiles_tile_read_in_small_chunks_matches_selected_value() -> None:
    conn = open_corpus(MBTILES)
    try:
        rowid, raw = conn.execute("SELECT rowid, tile_data FROM images LIMIT 1").fetchone()
        chunks = list(iter_blob_chunks(conn, BlobRef("main", "images", "tile_data", rowid), chunk_bytes=100))
        assert b"".join(chunks) == raw
        assert max(len(chunk) for chunk in chunks) == 100
    finally:
        conn.close()


def test_read_blob_range_of_a_large_blob_reads_only_the_window(make_db: MakeDb) -> None:
    conn = make_db("CREATE TABLE t (b BLOB)", "INSERT INTO t VALUES (randomblob(20 * 1024 * 1024))")
    ref = BlobRef("main", "t", "b", 1)
    expected = conn.execute("SELECT substr(b, 10000001, 65536) FROM t").fetchone()[0]
    tracemalloc.start()
    try:
        window = read_blob_range(conn, ref, 10_000_000, 65536)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert window == expected
    assert peak < 1 << 20
    tail = conn.execute("SELECT substr(b, -10) FROM t").fetchone()[0]
    assert read_blob_range(conn, ref, 20 * 1024 * 1024 - 10, 100) == tail
    assert read_blob_range(conn, ref, 30 * 1024 * 1024, 10) == b""


def test_without_rowid_table_is_read_by_primary_key_in_windows(make_db: MakeDb) -> None:
    table = 'it\'s "q"'
    conn = make_db(
        f'CREATE TABLE {quote_identifier(table)} ("k ey" TEXT, n INT, "da ta" BLOB, PRIMARY KEY ("k ey", n))'
        " WITHOUT ROWID",
        f"INSERT INTO {quote_identifier(table)} VALUES ('a/b', 1, randomblob(3 * 1024 * 1024 + 5))",
    )
    access = table_access(conn, "main", table)
    assert access.rowid_name is None and access.key_columns == ("k ey", "n")
    ref = BlobRef.by_key("main", table, "da ta", {"k ey": "a/b", "n": 1})
    raw = conn.execute(f'SELECT "da ta" FROM {quote_identifier(table)}').fetchone()[0]
    assert blob_size(conn, ref) == len(raw)
    assert read_blob_range(conn, ref, 3 * 1024 * 1024, 100) == raw[3 * 1024 * 1024 :]
    assert blob_sha256(conn, ref) == hashlib.sha256(raw).hexdigest()


def test_virtual_generated_column_falls_back_to_selecting(make_db: MakeDb) -> None:
    conn = make_db(
        "CREATE TABLE g (a BLOB, b BLOB GENERATED ALWAYS AS (a) VIRTUAL)",
        ("INSERT INTO g (a) VALUES (?)", (PNG_HEADER * 10,)),
    )
    assert read_blob(conn, BlobRef("main", "g", "b", 1)) == PNG_HEADER * 10


def test_view_value_is_found_by_given_key_values(make_db: MakeDb) -> None:
    conn = make_db(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)",
        ("INSERT INTO t VALUES (7, ?)", (PNG_HEADER,)),
        "CREATE VIEW v AS SELECT id AS ident, b AS payload FROM t",
    )
    assert table_access(conn, "main", "v").kind == "view"
    ref = BlobRef.by_key("main", "v", "payload", {"ident": 7})
    assert describe_ref(conn, ref).mime == "image/png"
    assert read_blob_range(conn, ref, 8, 4) == b"\x00\x00\x00\r"


def test_text_in_blob_column_reads_as_raw_utf8_bytes_even_when_invalid(make_db: MakeDb) -> None:
    conn = make_db(
        "CREATE TABLE t (b BLOB)",
        "INSERT INTO t VALUES ('héllo')",
        "INSERT INTO t VALUES (CAST(x'41ff42' AS TEXT))",
    )
    assert read_blob(conn, BlobRef("main", "t", "b", 1)) == "héllo".encode()
    assert read_blob(conn, BlobRef("main", "t", "b", 2)) == b"A\xffB"


def test_text_in_utf16_database_reads_as_utf8(make_db: MakeDb) -> None:
    conn = make_db("CREATE TABLE t (b BLOB)", "INSERT INTO t VALUES ('héllo 🦆')", encoding="UTF-16le")
    assert read_blob(conn, BlobRef("main", "t", "b", 1)) == "héllo 🦆".encode()
    assert describe_ref(conn, BlobRef("main", "t", "b", 1)).mime == "text/plain"


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16le"])
def test_text_value_is_described_as_text_not_blob(make_db: MakeDb, encoding: str) -> None:
    conn = make_db(
        "CREATE TABLE t (b BLOB)",
        "CREATE TABLE k (id TEXT PRIMARY KEY, b) WITHOUT ROWID",
        "INSERT INTO t VALUES ('hello'), (x'00ff')",
        "INSERT INTO k VALUES ('a', 'hello')",
        encoding=encoding,
    )
    text = describe_ref(conn, BlobRef("main", "t", "b", 1))
    assert (text.storage, text.label) == ("text", "<TEXT 5 B text/plain>")
    assert describe_ref(conn, BlobRef("main", "t", "b", 2)).storage == "blob"
    assert describe_ref(conn, BlobRef("main", "k", "b", key=(("id", "a"),))).storage == "text"


def test_null_reads_as_none_and_numbers_are_not_blobs(make_db: MakeDb) -> None:
    conn = make_db("CREATE TABLE t (b BLOB)", "INSERT INTO t VALUES (NULL)", "INSERT INTO t VALUES (3.5)")
    assert read_blob(conn, BlobRef("main", "t", "b", 1)) is None
    assert blob_sha256(conn, BlobRef("main", "t", "b", 1)) is None
    assert describe_ref(conn, BlobRef("main", "t", "b", 1)).label == "NULL"
    with pytest.raises(NotABlob):
        read_blob(conn, BlobRef("main", "t", "b", 2))


def test_unknown_table_column_or_row_is_a_user_error(make_db: MakeDb) -> None:
    conn = make_db("CREATE TABLE t (b BLOB)")
    for ref in (
        BlobRef("main", "nope", "b", 1),
        BlobRef("main", "t", "nope", 1),
        BlobRef("main", "t", "b", 9),
    ):
        with pytest.raises(UserError):
            read_blob(conn, ref)


def test_emoji_table_in_attached_schema_is_read_with_blobopen(make_db: MakeDb, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as build:
        build.execute('CREATE TABLE "🦆 select" ("" BLOB)')
        build.execute('INSERT INTO "🦆 select" VALUES (?)', (PNG_HEADER,))
    build.close()
    conn = make_db()
    with unguarded(conn):  # snapshot connections refuse file ATTACHes; this test sets up a schema by hand
        conn.execute('ATTACH ? AS "we\'ird"', (str(other),))
    ref = BlobRef("we'ird", "🦆 select", "", 1)
    assert table_access(conn, "we'ird", "🦆 select").can_blobopen("")
    assert read_blob(conn, ref) == PNG_HEADER


def test_hashing_reports_progress_and_stops_on_cancel(make_db: MakeDb) -> None:
    conn = make_db("CREATE TABLE t (b BLOB)", "INSERT INTO t VALUES (randomblob(3 * 1024 * 1024))")
    seen: list[Progress] = []
    blob_sha256(conn, BlobRef("main", "t", "b", 1), progress=seen.append)
    assert [p.done for p in seen] == [1 << 20, 2 << 20, 3 << 20] and seen[-1].total == 3 << 20
    cancel = CancelToken()
    with pytest.raises(Cancelled):
        blob_sha256(conn, BlobRef("main", "t", "b", 1), progress=lambda _p: cancel.cancel(), cancel=cancel)


def test_hex_dump_shows_offset_hex_and_ascii_columns() -> None:
    dump = format_hex_dump(PNG_HEADER + b"ab", offset=0x20)
    assert dump.splitlines() == [
        "00000020  89 50 4e 47 0d 0a 1a 0a  00 00 00 0d 49 48 44 52  |.PNG........IHDR|",
        "00000030  61 62                                             |ab|",
    ]
    assert hex_rows(b"\x00\x7f~", 5, width=2)[1].ascii == "~" and hex_rows(b"", 0) == []


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        ("héllo".encode(), "utf-8", "héllo"),
        (codecs.BOM_UTF8 + "héllo".encode(), "utf-8", "héllo"),
        (codecs.BOM_UTF16_LE + "héllo".encode("utf-16-le"), "utf-16-le", "héllo"),
        (codecs.BOM_UTF16_BE + "héllo".encode("utf-16-be"), "utf-16-be", "héllo"),
        ("héllo".encode("latin-1"), "latin-1", "héllo"),
    ],
)
def test_text_view_guesses_the_encoding(data: bytes, encoding: str, text: str) -> None:
    decoded = decode_blob_text(data)
    assert (decoded.text, decoded.encoding, decoded.lossy) == (text, encoding, False)


def test_text_view_of_a_window_drops_a_character_cut_at_the_end() -> None:
    window = "aé".encode()[:-1]
    assert decode_blob_text(window, final=False).text == "a"
    assert decode_blob_text(window).encoding == "latin-1"
