"""`diff` opens each side with its own options (--key-file for A, --b-key-file for B), `--attach` takes
`--attach-key-file NAME=…`/`--attach-member NAME=…`, and a plaintext-header file takes its size and salt."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest

from desktop_app.cli import main
from tests.conftest import folder_state
from tests.fixtures import make_user_folder, one_empty_table_database, sqlcipher_connector, text_rows_database

sqlcipher3 = pytest.importorskip("sqlcipher3")

PASSPHRASE = "two sides, one secret"
SALT = "00112233445566778899aabbccddeeff"


def make_encrypted(path: Path, rows: int, *pragmas: str) -> Path:
    return text_rows_database(path, rows, text="row {i}", connect=sqlcipher_connector(PASSPHRASE, *pragmas))


def encrypted_zip(path: Path, rows: int, members: tuple[str, ...]) -> Path:
    """A zip at `path` holding one encrypted database of `rows` rows under each name of `members`."""
    made = make_encrypted(path.with_suffix(".made"), rows)
    data = made.read_bytes()
    made.unlink()
    return zipped(path, dict.fromkeys(members, data))


def zipped(path: Path, members: dict[str, bytes]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_user_folder(tmp_path)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "key.txt"
    path.write_text(PASSPHRASE + "\n")
    return path


def test_diff_opens_an_encrypted_a_and_a_packed_encrypted_b_with_their_own_options(
    folder: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = make_encrypted(folder / "a.db", 3), encrypted_zip(folder / "b.zip", 5, ("b.db", "other.db"))
    before = folder_state(folder)
    a_options = ["--key-file", str(key_file)]
    b_options = ["--b-key-file", str(key_file), "--b-member", "b.db"]
    assert main(["diff", str(a), str(b), "--json", *a_options, *b_options]) == 0
    tables = json.loads(capsys.readouterr().out)["tables"]
    assert [(t["name"], t["added"], t["removed"]) for t in tables] == [("t", 2, 0)]
    assert folder_state(folder) == before


def test_diff_without_a_key_names_that_side_s_option_and_a_wrong_one_is_one_clean_line(
    folder: Path, key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = make_encrypted(folder / "a.db", 3)
    b = make_encrypted(folder / "b.db", 4)
    assert main(["diff", str(a), str(b), "--key-file", str(key_file)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--b-key-file FILE" in err and "“b.db” looks encrypted" in err
    assert main(["diff", str(a), str(b), "--b-key-file", str(key_file)]) == 1
    assert "give its passphrase with --key-file FILE" in capsys.readouterr().err
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not it")
    assert main(["diff", str(a), str(b), "--key-file", str(key_file), "--b-key-file", str(wrong)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: “b.db” did not open: wrong passphrase") and "Traceback" not in err


def test_query_attaches_an_encrypted_member_of_a_zip(
    folder: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_db = make_encrypted(folder / "main.db", 2)
    archive = encrypted_zip(folder / "pack.zip", 7, ("inner.db", "x.db"))
    before = folder_state(folder)
    sql = "SELECT (SELECT count(*) FROM t) AS a, (SELECT count(*) FROM other.t) AS b"
    command = ["query", str(main_db), sql, "--json", "--key-file", str(key_file)]
    attach = ["--attach", f"other={archive}", "--attach-member", "other=inner.db"]
    assert main([*command, *attach]) == 1
    err = capsys.readouterr().err
    assert "--attach-key-file other=FILE" in err and err.count("\n") == 1
    assert main([*command, *attach, "--attach-key-file", f"other={key_file}"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [[2, 7]]
    assert folder_state(folder) == before


def test_attach_without_a_member_names_the_attach_option(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = one_empty_table_database(tmp_path / "plain.db")
    archive = zipped(folder / "two.zip", {"a.db": plain.read_bytes(), "b.db": plain.read_bytes()})
    assert main(["query", str(plain), "SELECT 1", "--attach", f"o={archive}"]) == 1
    assert "Choose one with --attach-member o=NAME." in capsys.readouterr().err
    assert main(["query", str(plain), "SELECT 1", "--attach-member", "p=a.db"]) == 1
    assert "no --attach p=FILE" in capsys.readouterr().err


def test_a_plaintext_header_file_opens_with_its_size_and_salt(
    folder: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_encrypted(
        folder / "ios.db",
        4,
        "PRAGMA cipher_plaintext_header_size = 32",
        f"PRAGMA cipher_salt = \"x'{SALT}'\"",
    )
    assert path.read_bytes().startswith(b"SQLite format 3\x00")  # the system sees a SQLite file
    before = folder_state(folder)
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert "--cipher-plaintext-header 32 and --cipher-salt HEX" in err
    base = ["query", str(path), "SELECT count(*) FROM t", "--json", "--key-file", str(key_file)]
    assert main([*base, "--cipher-plaintext-header", "32"]) == 1
    assert "keeps its salt elsewhere" in capsys.readouterr().err
    assert main([*base, "--cipher-plaintext-header", "32", "--cipher-salt", SALT]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [[4]]
    assert main(["query", str(path), "SELECT 1", "--cipher-salt", SALT]) == 1
    assert "go with --key-file KEYFILE" in capsys.readouterr().err
    assert main([*base, "--cipher-plaintext-header", "32", "--cipher-salt", "abc"]) == 1
    assert "32 hexadecimal digits" in capsys.readouterr().err
    assert folder_state(folder) == before


def test_a_gzipped_encrypted_database_opens_with_its_key(
    folder: Path, key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_encrypted(tmp_path / "e.db", 6)
    packed = folder / "e.db.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    assert main(["query", str(packed), "SELECT count(*) FROM t", "--json", "--key-file", str(key_file)]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [[6]]
