"""Exporting blobs to files: corpus columns, flat memory, hostile names, skips, collisions, cancel."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.cli import main as cli_main
from desktop_app.core.blobs import export as blob_export
from desktop_app.core.blobs.export import (
    BlobExportCancelled,
    export_blob,
    export_blobs,
    export_column,
    suggested_file_name,
)
from desktop_app.core.blobs.values import BlobRef, blob_sha256
from desktop_app.core.errors import ExportError, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress
from desktop_app.core.sqlite.connection import configure_connection
from desktop_app.core.sqlite.guard import unguarded
from desktop_app.core.sqlite.quoting import quote_identifier
from tests.conftest import CORPUS

MBTILES = CORPUS / "mbtiles" / "plain_1.mbtiles"
FAVICONS = CORPUS / "plaso" / "places.sqlite"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(40))
HOSTILE_NAMES = [
    "../../etc/passwd",
    "CON",
    "a/b",
    "",
    "x" * 300,
    "🦆 duck",
    "..",
    "nul.txt",
    "a\x00b",
    "/abs",
]


def build_db(path: Path, *statements: str | tuple[str, tuple], encoding: str = "UTF-8") -> sqlite3.Connection:
    """Create a database file from SQL and return a configured (query-only) connection to it."""
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA encoding = '{encoding}'")
    for statement in statements:
        sql, params = statement if isinstance(statement, tuple) else (statement, ())
        conn.execute(sql, params)
    conn.commit()
    configure_connection(conn)
    return conn


@pytest.fixture
def corpus() -> Iterator[Callable[[Path], sqlite3.Connection]]:
    opened: list[sqlite3.Connection] = []

    def open_corpus(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        configure_connection(conn)
        opened.append(conn)
        return conn

    yield open_corpus
    for conn in opened:
        conn.close()


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def test_mbtiles_tiles_all_exported_as_pngs_with_the_database_hashes(corpus, tmp_path: Path) -> None:
    conn = corpus(MBTILES)
    result = export_column(conn, "images", "tile_data", tmp_path / "tiles", pattern="{tile_id}{ext}")
    assert (result.rows, result.written, result.skipped, result.failed) == (207, 207, 0, 0)
    expected = {
        f"{tile_id}.png": hashlib.sha256(data).hexdigest()
        for tile_id, data in conn.execute("SELECT tile_id, tile_data FROM images")
    }
    written = {path.name: path.read_bytes() for path in files_in(tmp_path / "tiles")}
    assert {name: hashlib.sha256(data).hexdigest() for name, data in written.items()} == expected
    assert all(data.startswith(b"\x89PNG\r\n\x1a\n") for data in written.values())
    assert result.bytes_written == sum(len(data) for data in written.values())


def test_mbtiles_view_exports_by_selecting_with_column_names(corpus, tmp_path: Path) -> None:
    conn = corpus(MBTILES)
    result = export_column(
        conn, "tiles", "tile_data", tmp_path, pattern="{zoom_level}-{tile_column}-{tile_row}{ext}"
    )
    rows = conn.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
    assert result.written == len(rows) and result.failed == 0
    for zoom, column, row, data in rows[:20]:
        assert (tmp_path / f"{zoom}-{column}-{row}.png").read_bytes() == data


def test_firefox_favicon_exported_with_url_in_its_name(corpus, tmp_path: Path) -> None:
    conn = corpus(FAVICONS)
    result = export_column(conn, "moz_favicons", "data", tmp_path, pattern="{id}-{url}{ext}")
    raw = conn.execute("SELECT data FROM moz_favicons").fetchone()[0]
    [path] = result.files
    assert path.name == "1-http___www.gstatic.com_news_img_favicon.ico.png"
    assert path.read_bytes() == raw


def test_50_mb_blob_exports_with_flat_memory_and_same_hash(tmp_path: Path) -> None:
    conn = build_db(
        tmp_path / "big.sqlite", "CREATE TABLE t (b BLOB)", "INSERT INTO t VALUES (randomblob(50 << 20))"
    )
    seen: list[Progress] = []
    tracemalloc.start()
    try:
        result = export_column(conn, "t", "b", tmp_path / "out", progress=seen.append)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [path] = result.files
    assert path.stat().st_size == 50 << 20
    assert peak < 4 * LIMITS.blob_chunk_bytes  # a chunk or two, never the 50 MB value
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    assert digest.hexdigest() == blob_sha256(conn, BlobRef("main", "t", "b", 1))
    assert seen[-1] == Progress(1, 1, "Exporting blobs")
    conn.close()


def test_hostile_names_from_the_database_stay_inside_the_folder(tmp_path: Path) -> None:
    conn = build_db(tmp_path / "db.sqlite", "CREATE TABLE t (name TEXT, b BLOB)")
    with unguarded(conn):  # test set-up writes through the snapshot connection
        conn.execute("PRAGMA query_only = OFF")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(name, PNG) for name in HOSTILE_NAMES])
        conn.commit()
        conn.execute("PRAGMA query_only = ON")
    out = tmp_path / "out" / "inner"
    result = export_column(conn, "t", "b", out, pattern="{name}{ext}")
    assert result.written == len(HOSTILE_NAMES) and result.failed == 0
    names = [path.name for path in result.files]
    assert names[:4] == ["_.._etc_passwd.png", "_CON.png", "a_b.png", "blob-4.png"]
    assert names[5:] == ["🦆 duck.png", "blob-7.png", "_nul.txt.png", "a.png", "_abs.png"]
    assert names[4].endswith("x.png") and len(names[4].encode()) <= LIMITS.blob_file_name_max_bytes
    assert sorted(path.name for path in files_in(out)) == sorted(names)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["inner"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.sqlite", "out"]


def test_null_skipped_empty_written_numbers_counted_and_text_exported_as_utf8(tmp_path: Path) -> None:
    conn = build_db(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)",
        "INSERT INTO t VALUES (1, NULL), (2, x''), (3, 42), (4, 'héllo')",
        "INSERT INTO t VALUES (5, '{\"a\": 1}'), (6, CAST(x'ff00' AS TEXT))",
    )
    result = export_column(conn, "t", "b", tmp_path / "out", pattern="{id}{ext}")
    assert (result.skipped_null, result.skipped_empty, result.skipped_not_blob) == (1, 0, 1)
    assert {path.name: path.read_bytes() for path in result.files} == {
        "2.bin": b"",
        "4.txt": "héllo".encode(),
        "5.json": b'{"a": 1}',
        "6.bin": b"\xff\x00",
    }
    skipping = export_column(conn, "t", "b", tmp_path / "out2", skip_empty=True)
    assert skipping.skipped_empty == 1 and skipping.written == 3
    assert "skipped 1 NULL, 1 empty, 1 not a blob" in skipping.summary()


def test_utf16_database_text_is_exported_as_utf8(tmp_path: Path) -> None:
    conn = build_db(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (b BLOB)",
        "INSERT INTO t VALUES ('🦆 héllo')",
        encoding="UTF-16le",
    )
    [path] = export_column(conn, "t", "b", tmp_path / "out").files
    assert path.read_bytes() == "🦆 héllo".encode()


def test_without_rowid_table_exports_small_and_large_values_by_key(tmp_path: Path) -> None:
    table = "Order Details"
    conn = build_db(
        tmp_path / "db.sqlite",
        f'CREATE TABLE {quote_identifier(table)} (k TEXT PRIMARY KEY, "select" BLOB) WITHOUT ROWID',
        (f"INSERT INTO {quote_identifier(table)} VALUES ('small', ?)", (PNG,)),
        f"INSERT INTO {quote_identifier(table)} VALUES ('large', randomblob(2 * 1024 * 1024 + 3))",
    )
    result = export_column(conn, table, "select", tmp_path / "out", pattern="{pk}{ext}")
    stored = dict(conn.execute(f'SELECT k, "select" FROM {quote_identifier(table)}').fetchall())
    assert {path.name for path in result.files} == {"small.png", "large.bin"}
    assert (tmp_path / "out" / "large.bin").read_bytes() == stored["large"]
    assert (tmp_path / "out" / "small.png").read_bytes() == stored["small"]


def test_existing_files_are_numbered_unless_overwrite_is_chosen(tmp_path: Path) -> None:
    conn = build_db(tmp_path / "db.sqlite", "CREATE TABLE t (b BLOB)", ("INSERT INTO t VALUES (?)", (PNG,)))
    out = tmp_path / "out"
    out.mkdir()
    (out / "1.png").write_bytes(b"keep me")
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"untouched")
    (out / "2.png").symlink_to(outside)
    first = export_column(conn, "t", "b", out, pattern="{rowid}{ext}")
    assert [path.name for path in first.files] == ["1 (2).png"]
    assert (out / "1.png").read_bytes() == b"keep me"
    again = export_column(conn, "t", "b", out, pattern="{n}{ext}", overwrite=False)
    assert [path.name for path in again.files] == ["1 (3).png"]
    replaced = export_column(conn, "t", "b", out, pattern="{rowid}{ext}", overwrite=True)
    assert [path.name for path in replaced.files] == ["1.png"] and (out / "1.png").read_bytes() == PNG
    via_link = export_column(conn, "t", "b", out, pattern="2{ext}", overwrite=True)
    assert not (out / "2.png").is_symlink() and outside.read_bytes() == b"untouched"
    assert via_link.written == 1


def test_same_name_twice_in_one_export_is_numbered_even_with_overwrite(tmp_path: Path) -> None:
    conn = build_db(
        tmp_path / "db.sqlite", "CREATE TABLE t (b BLOB)", "INSERT INTO t VALUES (x'01'), (x'02'), (x'03')"
    )
    result = export_column(conn, "t", "b", tmp_path / "out", pattern="Same", overwrite=True)
    assert [path.name for path in result.files] == ["Same", "Same (2)", "Same (3)"]
    assert [path.read_bytes() for path in result.files] == [b"\x01", b"\x02", b"\x03"]


def test_query_result_blobs_export_from_values_and_refs(tmp_path: Path) -> None:
    conn = build_db(tmp_path / "db.sqlite", "CREATE TABLE t (b BLOB)", ("INSERT INTO t VALUES (?)", (PNG,)))
    items = [
        ({"title": "in hand"}, PNG),
        ({"title": "by ref"}, BlobRef("main", "t", "b", 1)),
        ({"title": "nothing"}, None),
        ({"title": "text"}, "plain words"),
    ]
    result = export_blobs(conn, items, tmp_path / "out", pattern="{n:02d} {title}{ext}", total=len(items))
    assert [path.name for path in result.files] == ["01 in hand.png", "02 by ref.png", "04 text.txt"]
    assert result.skipped_null == 1
    with pytest.raises(UserError, match="nope"):
        export_blobs(conn, items, tmp_path / "out", pattern="{nope}")


def test_cancel_stops_mid_blob_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blob_export, "_PROGRESS_INTERVAL_S", 0.0)  # report every chunk
    conn = build_db(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (b BLOB)",
        ("INSERT INTO t VALUES (?)", (PNG,)),
        "INSERT INTO t VALUES (randomblob(5 << 20))",
        ("INSERT INTO t VALUES (?)", (PNG,)),
    )
    cancel = CancelToken()

    def on_progress(progress: Progress) -> None:
        if "MB of" in progress.label:  # inside the large blob: stop there
            cancel.cancel()

    with pytest.raises(BlobExportCancelled) as stopped:
        export_column(conn, "t", "b", tmp_path / "out", progress=on_progress, cancel=cancel)
    assert [path.name for path in files_in(tmp_path / "out")] == ["1.png"]
    assert stopped.value.result.written == 1


def test_cancel_stops_a_bulk_export_and_leaves_the_connection_usable(tmp_path: Path) -> None:
    conn = build_db(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (b BLOB)",
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000)"
        " INSERT INTO t SELECT randomblob(10) FROM c",
    )
    cancel = CancelToken()
    counted: list[int] = []

    def on_progress(progress: Progress) -> None:
        counted.append(progress.done)
        cancel.cancel()

    with pytest.raises(BlobExportCancelled):
        export_column(conn, "t", "b", tmp_path / "out", progress=on_progress, cancel=cancel)
    assert len(files_in(tmp_path / "out")) < 5000
    assert not [p for p in files_in(tmp_path / "out") if p.name.endswith(".partial")]
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 5000  # connection still usable


def test_export_one_blob_to_a_chosen_path(tmp_path: Path) -> None:
    conn = build_db(tmp_path / "db.sqlite", "CREATE TABLE t (b BLOB)", ("INSERT INTO t VALUES (?)", (PNG,)))
    ref = BlobRef("main", "t", "b", 1)
    target = tmp_path / suggested_file_name(ref, "image/png")
    assert target.name == "t-b-1.png"
    assert export_blob(conn, ref, target) == target and target.read_bytes() == PNG
    with pytest.raises(ExportError, match="already exists"):
        export_blob(conn, b"other", target)
    export_blob(conn, b"other", target, overwrite=True)
    assert target.read_bytes() == b"other"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_cli_exports_a_column_and_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    status = cli_main(
        ["blobs", str(FAVICONS), "--table", "moz_favicons", "--column", "data", "--out", str(out), "--json"]
    )
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert (report["written"], report["files"]) == (1, ["1.png"])
    assert (out / "1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_reports_a_bad_column_as_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = cli_main(
        ["blobs", str(MBTILES), "--table", "images", "--column", "nope", "--out", str(tmp_path)]
    )
    assert status == 1
    assert capsys.readouterr().err.strip() == "error: 'images' has no column named 'nope'."


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.text(st.characters(codec=None, categories=None), max_size=60), min_size=1, max_size=6),
    st.sampled_from(["{name}", "{name}{ext}", "../{name}", "{name}/{n}", "..{name}..", "{name}{name}"]),
)
def test_any_value_and_pattern_writes_only_inside_the_folder(
    tmp_path_factory: pytest.TempPathFactory, names: list[str], pattern: str
) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path_factory.getbasetemp()) as root:
        out = Path(root) / "out"
        items = [({"name": name}, PNG) for name in names]
        with sqlite3.connect(":memory:") as conn:
            result = export_blobs(conn, items, out, pattern=pattern)
        conn.close()
        assert result.written == len(names)
        assert os.listdir(root) == ["out"]
        assert sorted(os.listdir(out)) == sorted(path.name for path in result.files)
        assert all(path.parent == out.resolve() and path.is_file() for path in result.files)


def test_small_blobs_never_replace_or_delete_an_existing_file(tmp_path: Path) -> None:
    from desktop_app.core.blobs.files import FolderWriter

    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "taken.png").write_bytes(b"keep me")
    writer = FolderWriter(folder.resolve(), overwrite=False)
    assert writer.write_whole("taken.png", b"new") == "taken (2).png"
    assert (folder / "taken.png").read_bytes() == b"keep me"
    assert (folder / "taken (2).png").read_bytes() == b"new"
    assert sorted(p.name for p in folder.iterdir()) == ["taken (2).png", "taken.png"]
