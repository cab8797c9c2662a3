"""Packed databases (.gz, .bz2, .xz, .zst, .zip, .tar*, Anki .apkg) open from memory, never extracted."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import sqlite3
import tarfile
import zipfile
from pathlib import Path

import pytest

from desktop_app.core.errors import DatabaseOpenError, SeveralDatabases
from desktop_app.core.progress import Progress
from desktop_app.core.snapshot import snapshot as snapshot_module
from desktop_app.core.snapshot.packed import list_contents, packed_contents, packed_format
from desktop_app.core.snapshot.snapshot import SnapshotMode, open_snapshot
from tests.conftest import folder_state
from tests.snapshot_limits import lower_snapshot_limits

MARKER = "packed-plaintext-marker"


def make_db(path: Path, rows: int = 200, table: str = "t") -> bytes:
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany(f"INSERT INTO {table} (v) VALUES (?)", [(f"{MARKER} {i}",) for i in range(rows)])
    conn.commit()
    conn.close()
    data = path.read_bytes()
    path.unlink()
    return data


def zstd_compress(data: bytes) -> bytes:
    zstandard = pytest.importorskip("zstandard")
    return zstandard.ZstdCompressor().compress(data)


def tar_bytes(members: dict[str, bytes], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def rows_of(path: Path, **kwargs: object) -> list[tuple[object, ...]]:
    snap = open_snapshot(path, **kwargs)  # type: ignore[arg-type]
    try:
        assert snap.mode is SnapshotMode.MEMORY
        conn = snap.connect()
        try:
            return conn.execute("SELECT id, v FROM t ORDER BY id").fetchall()
        finally:
            conn.close()
    finally:
        snap.close()


PACKERS = {
    "db.gz": gzip.compress,
    "db.bz2": bz2.compress,
    "db.xz": lzma.compress,
    "db.zst": zstd_compress,
    "zip": lambda data: zip_bytes({"inner.db": data}),
    "tar": lambda data: tar_bytes({"inner.db": data}),
    "tar.gz": lambda data: tar_bytes({"inner.db": data}, "w:gz"),
    "tar.bz2": lambda data: tar_bytes({"inner.db": data}, "w:bz2"),
    "tar.xz": lambda data: tar_bytes({"inner.db": data}, "w:xz"),
    "tar.zst": lambda data: zstd_compress(tar_bytes({"inner.db": data})),
}


@pytest.mark.parametrize("suffix", list(PACKERS))
def test_each_packed_format_opens_with_the_same_rows_and_the_folder_is_untouched(
    tmp_path: Path, private_temp: Path, suffix: str
) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    data = make_db(tmp_path / "plain.db")
    expected = [(i + 1, f"{MARKER} {i}") for i in range(200)]
    packed = folder / f"archive.{suffix}"
    packed.write_bytes(PACKERS[suffix](data))
    before = folder_state(folder)
    assert rows_of(packed) == expected
    assert folder_state(folder) == before  # hashes and listing: nothing extracted beside it
    assert list(private_temp.iterdir()) == []  # nor in the temporary folder


def test_format_is_told_by_the_first_bytes_not_the_name(tmp_path: Path) -> None:
    data = make_db(tmp_path / "plain.db")
    disguised = tmp_path / "download.bin"
    disguised.write_bytes(gzip.compress(data))
    assert packed_format(disguised.read_bytes()[:512]) == "gzip"
    assert len(rows_of(disguised)) == 200


def test_an_anki_package_opens_its_newest_collection(tmp_path: Path) -> None:
    old = make_db(tmp_path / "old.db", rows=1)
    new = make_db(tmp_path / "new.db", rows=7)
    apkg = tmp_path / "deck.apkg"
    members = {"collection.anki2": old, "collection.anki21": new, "media": b"{}", "0": b"x"}
    apkg.write_bytes(zip_bytes(members))
    snap = open_snapshot(apkg)
    try:
        assert snap.member == "collection.anki21"
        assert snap.connect().execute("SELECT count(*) FROM t").fetchone()[0] == 7
    finally:
        snap.close()


def test_a_zstandard_packed_anki_collection_is_unpacked_inside_the_zip(tmp_path: Path) -> None:
    data = make_db(tmp_path / "c.db", rows=3)
    colpkg = tmp_path / "backup.colpkg"
    colpkg.write_bytes(zip_bytes({"collection.anki21b": zstd_compress(data), "media": b""}))
    assert len(rows_of(colpkg)) == 3


def test_several_databases_are_listed_and_one_is_chosen_by_name(tmp_path: Path) -> None:
    first = make_db(tmp_path / "a.db", rows=2)
    second = make_db(tmp_path / "b.db", rows=5)
    archive = tmp_path / "two.tar.gz"
    archive.write_bytes(tar_bytes({"a.db": first, "notes.txt": b"hello", "sub/b.db": second}, "w:gz"))
    with pytest.raises(SeveralDatabases) as caught:
        open_snapshot(archive)
    assert caught.value.members == ["a.db", "sub/b.db"]
    assert list_contents(archive, "gzip").databases == ["a.db", "sub/b.db"]
    assert len(rows_of(archive, member="sub/b.db")) == 5


def test_an_archive_bomb_is_refused_past_the_cap_with_the_limit_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lower_snapshot_limits(monkeypatch, packed_max_bytes=1 << 20)
    bomb = tmp_path / "bomb.db.gz"
    bomb.write_bytes(gzip.compress(b"SQLite format 3\x00" + bytes(8 << 20)))  # 8 MB of zeros: ~8 KB packed
    seen: list[Progress] = []
    with pytest.raises(DatabaseOpenError, match=r"more than 1\.0 MiB.*archive bomb"):
        open_snapshot(bomb, progress=seen.append)
    assert all(p.total == bomb.stat().st_size for p in seen)  # progress in bytes of the packed file


def test_a_corrupt_archive_says_it_is_damaged(tmp_path: Path) -> None:
    data = gzip.compress(make_db(tmp_path / "plain.db"))
    broken = tmp_path / "broken.db.gz"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatabaseOpenError, match="damaged or truncated gzip file"):
        open_snapshot(broken)
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(DatabaseOpenError, match="damaged or truncated zip file"):
        open_snapshot(bad_zip)


def test_an_archive_holding_no_database_names_what_it_holds(tmp_path: Path) -> None:
    archive = tmp_path / "docs.zip"
    archive.write_bytes(zip_bytes({"readme.txt": b"hello", "data.csv": b"a,b\n1,2\n"}))
    listing = r"holds no SQLite database\. It holds: readme\.txt, data\.csv"
    with pytest.raises(DatabaseOpenError, match=listing):
        open_snapshot(archive)
    text = tmp_path / "notes.txt.gz"
    text.write_bytes(gzip.compress(b"just text " * 100))
    with pytest.raises(DatabaseOpenError, match="holds no SQLite database"):
        open_snapshot(text)


def test_a_named_member_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "mixed.zip"
    archive.write_bytes(zip_bytes({"a.db": make_db(tmp_path / "a.db"), "readme.txt": b"hello"}))
    with pytest.raises(DatabaseOpenError, match=r"“readme\.txt” in “mixed\.zip” is not a SQLite database"):
        open_snapshot(archive, member="readme.txt")
    with pytest.raises(DatabaseOpenError, match=r"holds no file named “nope\.db”"):
        open_snapshot(archive, member="nope.db")


def test_a_change_to_the_archive_is_seen(tmp_path: Path) -> None:
    archive = tmp_path / "live.db.gz"
    archive.write_bytes(gzip.compress(make_db(tmp_path / "a.db", rows=10), mtime=0))
    snap = open_snapshot(archive)
    try:
        assert not snap.changed_on_disk()
        archive.write_bytes(gzip.compress(make_db(tmp_path / "a.db", rows=11), mtime=0))
        assert snap.changed_on_disk()
    finally:
        snap.close()


def test_a_packed_wal_mode_database_opens(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("INSERT INTO t (v) VALUES ('x')")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    packed = tmp_path / "wal.db.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert rows_of(packed) == [(1, "x")]


def test_a_gzip_file_of_several_members_is_unpacked_whole(tmp_path: Path) -> None:
    data = make_db(tmp_path / "plain.db")
    half = len(data) // 2
    packed = tmp_path / "joined.db.gz"
    packed.write_bytes(gzip.compress(data[:half]) + gzip.compress(data[half:]))  # as `cat a.gz b.gz`
    assert len(rows_of(packed)) == 200


def test_a_file_of_another_kind_shows_its_first_bytes_in_hex_not_a_python_literal(tmp_path: Path) -> None:
    other = tmp_path / "notes.db"
    other.write_bytes(b"hello, this is text and not a database\n" * 50)
    with pytest.raises(DatabaseOpenError) as caught:
        open_snapshot(other)
    assert "68 65 6c 6c 6f" in caught.value.details and "b'" not in caught.value.details


def test_packed_contents_lists_the_databases_for_a_caller_to_choose(tmp_path: Path) -> None:
    archive = tmp_path / "two.zip"
    archive.write_bytes(
        zip_bytes({"a.db": make_db(tmp_path / "a.db"), "b.txt": b"x", "c.db": make_db(tmp_path / "c.db")})
    )
    contents = packed_contents(archive)
    assert contents is not None and contents.format == "zip" and contents.databases == ["a.db", "c.db"]
    plain = tmp_path / "plain.db"
    plain.write_bytes(make_db(tmp_path / "p.db"))
    assert packed_contents(plain) is None


def test_running_out_of_memory_while_unpacking_is_said_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed_file = tmp_path / "big.db.gz"
    packed_file.write_bytes(gzip.compress(make_db(tmp_path / "a.db")))

    def no_memory(*_args: object) -> tuple[str, bytearray]:
        raise MemoryError

    monkeypatch.setattr(snapshot_module, "read_member", no_memory)
    with pytest.raises(DatabaseOpenError, match="did not fit in the memory available"):
        open_snapshot(packed_file)
