"""The commands open packed and encrypted files: --member, --key-file, --cipher-compat; one-line errors."""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from desktop_app.cli import main
from tests.conftest import folder_state
from tests.fixtures import sqlcipher_connector, text_rows_database

PASSPHRASE = "open sesame: with spaces"


def plain_bytes(tmp_path: Path, rows: int) -> bytes:
    path = tmp_path / f"plain-{rows}.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"row {i}",) for i in range(rows)])
    conn.commit()
    conn.close()
    data = path.read_bytes()
    path.unlink()
    return data


def make_encrypted(path: Path, *pragmas: str) -> None:
    pytest.importorskip("sqlcipher3")
    text_rows_database(path, 4, text="row {i}", connect=sqlcipher_connector(PASSPHRASE, *pragmas))


def test_query_reads_a_gzipped_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    packed = tmp_path / "data.db.gz"
    packed.write_bytes(gzip.compress(plain_bytes(tmp_path, 3)))
    assert main(["query", str(packed), "SELECT count(*) AS n FROM t", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [[3]]


def test_several_databases_need_member_and_member_chooses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "two.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("a.db", plain_bytes(tmp_path, 2))
        zipped.writestr("b.db", plain_bytes(tmp_path, 5))
    archive.write_bytes(buffer.getvalue())
    assert main(["info", str(archive)]) == 1
    err = capsys.readouterr().err
    assert err == "error: “two.zip” holds 2 databases: a.db, b.db. Choose one with --member NAME.\n"
    assert main(["info", str(archive), "--member", "b.db", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["member"] == "b.db" and report["tables"][0]["rows"] == 5


def test_an_encrypted_file_without_a_key_says_how_to_give_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "secret.db"
    make_encrypted(path)
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: “secret.db” looks encrypted") and "--key-file FILE" in err


def test_key_file_opens_it_and_a_wrong_key_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    path = folder / "secret.db"
    make_encrypted(path)
    key_file = tmp_path / "key.txt"
    key_file.write_text(PASSPHRASE + "\n", encoding="utf-8")  # one trailing newline is not the passphrase
    before = folder_state(folder)
    assert main(["query", str(path), "SELECT count(*) FROM t", "--json", "--key-file", str(key_file)]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [[4]]
    key_file.write_text("wrong\n", encoding="utf-8")
    assert main(["check", str(path), "--key-file", str(key_file)]) == 1
    err = capsys.readouterr().err
    assert err == "error: “secret.db” did not open: wrong passphrase or settings (SQLCipher 4 defaults).\n"
    assert folder_state(folder) == before


def test_cipher_compat_3_opens_a_sqlcipher_3_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "old.db"
    make_encrypted(path, "PRAGMA cipher_compatibility = 3")
    key_file = tmp_path / "key.txt"
    key_file.write_text(PASSPHRASE, encoding="utf-8")
    args = ["search", str(path), "row 3", "--json", "--key-file", str(key_file)]
    assert main([*args, "--cipher-compat", "3"]) == 0
    assert "row 3" in capsys.readouterr().out


def test_a_missing_key_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "secret.db"
    make_encrypted(path)
    assert main(["info", str(path), "--key-file", str(tmp_path / "nope.txt")]) == 1
    assert capsys.readouterr().err.startswith("error: --key-file: “")


@pytest.mark.parametrize(
    "command", ["info", "query", "search", "blobs", "migrations", "check", "profile", "erd"]
)
def test_every_command_that_opens_a_file_takes_the_source_options(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    usage = capsys.readouterr().out
    assert "--key-file" in usage and "--cipher-compat" in usage and "--member" in usage
