"""SQLCipher databases open with their passphrase, decrypted in memory only; a wrong one is a clean error."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from desktop_app.core.errors import Cancelled, EncryptedDatabase
from desktop_app.core.progress import CancelToken, Progress
from desktop_app.core.search import index
from desktop_app.core.search.index import IndexLocation, estimate_index
from desktop_app.core.snapshot import encrypted
from desktop_app.core.snapshot.encrypted import CipherKey, CipherSettings, looks_encrypted
from desktop_app.core.snapshot.snapshot import SnapshotMode, open_snapshot
from tests.conftest import folder_state

sqlcipher3 = pytest.importorskip("sqlcipher3")

MARKER = "cipher-plaintext-marker-7f3a"
PASSPHRASE = "correct horse battery staple"
RAW_KEY = "x'" + "2DD29CA851E7B56E4697B0E1F08507293D761A05CE4D1B628663F411A8086D99" + "'"


def make_encrypted(path: Path, key_pragma: str, *pragmas: str, rows: int = 300) -> list[tuple[object, ...]]:
    """An encrypted database made by SQLCipher itself; returns its rows as `sqlcipher3` reads them."""
    conn = sqlcipher3.connect(str(path))
    conn.execute(key_pragma)
    for pragma in pragmas:
        conn.execute(pragma)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)")
    conn.execute("CREATE INDEX t_v ON t (v)")
    conn.executemany(
        "INSERT INTO t (v, b) VALUES (?, ?)", [(f"{MARKER} {i}", bytes([i % 256]) * 10) for i in range(rows)]
    )
    conn.commit()
    conn.close()
    reader = sqlcipher3.connect(str(path))
    reader.execute(key_pragma)
    for pragma in pragmas:
        reader.execute(pragma)
    expected = reader.execute("SELECT id, v, b FROM t ORDER BY id").fetchall()
    reader.close()
    return expected


def our_rows(path: Path, key: CipherKey) -> list[tuple[object, ...]]:
    snap = open_snapshot(path, key=key)
    try:
        assert snap.mode is SnapshotMode.MEMORY and snap.encrypted
        conn = snap.connect()
        try:
            return conn.execute("SELECT id, v, b FROM t ORDER BY id").fetchall()
        finally:
            conn.close()
    finally:
        snap.close()


def files_holding(folders: list[Path], needle: bytes) -> list[Path]:
    """Every file under `folders` whose bytes hold `needle`."""
    found = []
    for folder in folders:
        for root, _dirs, files in os.walk(folder):
            for name in files:
                path = Path(root, name)
                try:
                    if needle in path.read_bytes():
                        found.append(path)
                except OSError:
                    pass
    return found


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "user"
    folder.mkdir()
    return folder


@pytest.fixture
def sqlite_temp(private_temp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """SQLite's and SQLCipher's temporary files (if any were made) land in the test's own folder."""
    monkeypatch.setenv("SQLITE_TMPDIR", str(private_temp))
    monkeypatch.setenv("TMPDIR", str(private_temp))
    return private_temp


def test_a_sqlcipher_4_file_gives_the_rows_sqlcipher_reads_and_leaves_no_plaintext(
    user_folder: Path, sqlite_temp: Path
) -> None:
    path = user_folder / "secret.db"
    expected = make_encrypted(path, f"PRAGMA key = '{PASSPHRASE}'")
    assert files_holding([user_folder], MARKER.encode()) == []  # the marker really is encrypted on disk
    before = folder_state(user_folder)
    scanned_during: list[list[Path]] = []

    def scan(_progress: Progress) -> None:
        scanned_during.append(files_holding([user_folder, sqlite_temp], MARKER.encode()))

    snap = open_snapshot(path, key=CipherKey(PASSPHRASE), progress=scan)
    try:
        assert snap.connect().execute("SELECT id, v, b FROM t ORDER BY id").fetchall() == expected
        assert snap.connect().execute("SELECT count(*) FROM t WHERE v > ''").fetchone()[0] == 300
    finally:
        snap.close()
    assert scanned_during and all(found == [] for found in scanned_during)
    assert files_holding([user_folder, sqlite_temp], MARKER.encode()) == []
    assert files_holding([user_folder, sqlite_temp], PASSPHRASE.encode()) == []
    assert folder_state(user_folder) == before  # hashes and listing


def test_a_sqlcipher_3_compatible_file_opens_with_the_3_settings(user_folder: Path) -> None:
    path = user_folder / "old.db"
    expected = make_encrypted(path, f"PRAGMA key = '{PASSPHRASE}'", "PRAGMA cipher_compatibility = 3")
    assert our_rows(path, CipherKey(PASSPHRASE, CipherSettings(compatibility=3))) == expected
    with pytest.raises(EncryptedDatabase, match="wrong passphrase or settings \\(SQLCipher 4 defaults\\)"):
        open_snapshot(path, key=CipherKey(PASSPHRASE))  # right passphrase, wrong settings


def test_custom_settings_and_a_raw_key_open(user_folder: Path) -> None:
    path = user_folder / "custom.db"
    pragmas = (
        "PRAGMA cipher_page_size = 1024",
        "PRAGMA kdf_iter = 1000",
        "PRAGMA cipher_hmac_algorithm = HMAC_SHA256",
        "PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA256",
    )
    expected = make_encrypted(path, f"PRAGMA key = '{PASSPHRASE}'", *pragmas, rows=20)
    settings = CipherSettings(
        page_size=1024, kdf_iter=1000, hmac_algorithm="HMAC_SHA256", kdf_algorithm="PBKDF2_HMAC_SHA256"
    )
    assert our_rows(path, CipherKey(PASSPHRASE, settings)) == expected
    raw = user_folder / "raw.db"
    expected_raw = make_encrypted(raw, f'PRAGMA key = "{RAW_KEY}"', rows=5)
    assert our_rows(raw, CipherKey(RAW_KEY)) == expected_raw


def test_a_wrong_passphrase_is_a_clean_error_saying_so(user_folder: Path) -> None:
    path = user_folder / "secret.db"
    make_encrypted(path, f"PRAGMA key = '{PASSPHRASE}'", rows=3)
    before = folder_state(user_folder)
    with pytest.raises(EncryptedDatabase) as caught:
        open_snapshot(path, key=CipherKey("not it"))
    assert caught.value.wrong_key
    said = "“secret.db” did not open: wrong passphrase or settings (SQLCipher 4 defaults)."
    assert str(caught.value) == said
    assert "not it" not in caught.value.details
    with pytest.raises(EncryptedDatabase, match="64 hexadecimal digits"):
        open_snapshot(path, key=CipherKey("x'abc'"))
    assert folder_state(user_folder) == before


def test_without_a_key_an_encrypted_file_says_it_looks_encrypted(user_folder: Path) -> None:
    path = user_folder / "secret.db"
    make_encrypted(path, f"PRAGMA key = '{PASSPHRASE}'", rows=3)
    with pytest.raises(EncryptedDatabase) as caught:
        open_snapshot(path)
    assert not caught.value.wrong_key and caught.value.available
    assert "looks encrypted" in str(caught.value)


def test_without_sqlcipher_the_message_says_how_to_enable_it(
    user_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = user_folder / "secret.db"
    make_encrypted(path, f"PRAGMA key = '{PASSPHRASE}'", rows=3)
    monkeypatch.setattr(encrypted, "_library", lambda: None)
    hint = r'pip install "sqlite-snapshot-browser\[sqlcipher\]"'
    with pytest.raises(EncryptedDatabase, match=hint) as caught:
        open_snapshot(path, key=CipherKey(PASSPHRASE))
    assert not caught.value.available


def test_stop_while_decrypting_stops_the_open(user_folder: Path) -> None:
    path = user_folder / "secret.db"
    make_encrypted(path, f"PRAGMA key = '{PASSPHRASE}'", rows=3)
    token = CancelToken()

    def stop_at_derivation(progress: Progress) -> None:
        if progress.label.startswith("Deriving"):
            token.cancel()

    with pytest.raises(Cancelled):
        open_snapshot(path, key=CipherKey(PASSPHRASE), progress=stop_at_derivation, cancel=token)


def test_the_passphrase_never_shows_in_a_key_s_repr() -> None:
    assert PASSPHRASE not in repr(CipherKey(PASSPHRASE))


def test_text_and_sqlite_files_do_not_look_encrypted(tmp_path: Path) -> None:
    plain = tmp_path / "plain.db"
    sqlite3.connect(plain).executescript("CREATE TABLE t (x); INSERT INTO t VALUES (1);").close()
    data = plain.read_bytes()
    assert not looks_encrypted(data[:1024], len(data))
    text = (b"hello world " * 400)[:4096]
    assert not looks_encrypted(text[:1024], len(text))
    assert looks_encrypted(os.urandom(4096)[:1024], 4096)


def test_decrypted_data_never_spills_to_a_file_sorts_nor_the_search_index(user_folder: Path) -> None:
    path = user_folder / "secret.db"
    make_encrypted(path, f"PRAGMA key = '{PASSPHRASE}'", rows=3)
    snap = open_snapshot(path, key=CipherKey(PASSPHRASE))
    try:
        conn = snap.connect()
        assert conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # memory
        estimate = estimate_index(conn)
        assert estimate.location is IndexLocation.MEMORY
        conn.close()
    finally:
        snap.close()
    _location, refusal = index._choose_location(1 << 50, memory_only=True)
    assert refusal is not None and "never written to a file" in refusal


def test_compressed_media_with_a_known_magic_is_not_taken_for_ciphertext() -> None:
    noise = os.urandom(4096)
    for magic in (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"%PDF-1.7", b"7z\xbc\xaf\x27\x1c"):
        data = magic + noise[len(magic) :]
        assert not looks_encrypted(data[:1024], len(data))
    mp4 = b"\x00\x00\x00\x20ftypisom" + noise[12:]
    assert not looks_encrypted(mp4[:1024], len(mp4))


def test_stop_does_not_wait_for_a_key_derivation_sqlcipher_cannot_interrupt(
    user_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = user_folder / "secret.db"
    make_encrypted(path, f"PRAGMA key = '{PASSPHRASE}'", rows=3)
    deriving, release = threading.Event(), threading.Event()

    def endless_derivation(*_args: object) -> bytearray:
        deriving.set()
        release.wait(30)
        raise AssertionError("its result must be dropped")

    monkeypatch.setattr(encrypted, "_decrypt", endless_derivation)
    token = CancelToken()
    threading.Thread(target=lambda: deriving.wait(30) and token.cancel(), daemon=True).start()
    with pytest.raises(Cancelled):
        open_snapshot(path, key=CipherKey(PASSPHRASE), cancel=token)
    assert not release.is_set()  # stopped while the derivation was still running
    release.set()


@pytest.mark.parametrize("packing", ["zip", "gzip"])
def test_an_encrypted_database_in_an_archive_is_unpacked_and_decrypted_in_memory_only(
    user_folder: Path, sqlite_temp: Path, tmp_path: Path, packing: str
) -> None:
    import gzip
    import zipfile

    made = tmp_path / "made"
    made.mkdir()
    expected = make_encrypted(made / "inner.db", f"PRAGMA key = '{PASSPHRASE}'")
    ciphertext = (made / "inner.db").read_bytes()
    if packing == "zip":
        path = user_folder / "backup.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(made / "inner.db", "inner.db")
    else:
        path = user_folder / "inner.db.gz"
        path.write_bytes(gzip.compress(ciphertext))
    before = folder_state(user_folder)
    scanned: list[list[Path]] = []

    def scan(_progress: Progress) -> None:
        scanned.append(files_holding([user_folder, sqlite_temp], MARKER.encode()))
        scanned.append(files_holding([sqlite_temp], ciphertext[4096:4160]))  # nor the unpacked file

    with pytest.raises(EncryptedDatabase, match="looks encrypted"):
        open_snapshot(path)
    with pytest.raises(EncryptedDatabase, match="wrong passphrase"):
        open_snapshot(path, key=CipherKey("not it"))
    snap = open_snapshot(path, key=CipherKey(PASSPHRASE), progress=scan)
    try:
        assert snap.encrypted and snap.member == "inner.db" and snap.mode is SnapshotMode.MEMORY
        conn = snap.connect()
        assert conn.execute("SELECT id, v, b FROM t ORDER BY id").fetchall() == expected
        conn.close()
    finally:
        snap.close()
    assert scanned and all(found == [] for found in scanned)
    assert files_holding([user_folder, sqlite_temp], MARKER.encode()) == []
    assert files_holding([sqlite_temp], ciphertext[4096:4160]) == []
    assert folder_state(user_folder) == before


def test_a_plaintext_header_file_is_detected_and_opens_with_its_salt(user_folder: Path) -> None:
    salt = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    path = user_folder / "ios.db"
    expected = make_encrypted(
        path,
        f"PRAGMA key = '{PASSPHRASE}'",
        "PRAGMA cipher_plaintext_header_size = 32",
        f"PRAGMA cipher_salt = \"x'{salt}'\"",
    )
    head = path.read_bytes()[:1024]
    assert head.startswith(b"SQLite format 3\x00")
    assert encrypted.looks_encrypted_behind_plain_header(head, path.stat().st_size)
    plain = user_folder / "plain.db"
    sqlite3.connect(plain).execute("CREATE TABLE x (y)").connection.close()
    data = plain.read_bytes()
    assert not encrypted.looks_encrypted_behind_plain_header(data[:1024], len(data))
    before = folder_state(user_folder)
    with pytest.raises(EncryptedDatabase) as raised:
        open_snapshot(path)
    assert raised.value.plaintext_header == 32 and "plaintext SQLite header" in raised.value.message
    with pytest.raises(EncryptedDatabase, match="keeps its salt elsewhere"):
        open_snapshot(path, key=CipherKey(PASSPHRASE, CipherSettings(plaintext_header_size=32)))
    settings = CipherSettings(plaintext_header_size=32, salt=salt)
    assert our_rows(path, CipherKey(PASSPHRASE, settings)) == expected
    with pytest.raises(EncryptedDatabase, match="wrong passphrase"):
        our_rows(path, CipherKey("not it", settings))
    assert folder_state(user_folder) == before
