"""Output files are never the source: every way of naming the database or its sidecars is refused.

CLI `query --csv`, `blobs --out`, the core CSV and blob exports, and the folder-swap race of a blob
export; each case checks the database (and its folder) is byte for byte what it was.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.core.blobs import export as blob_export
from desktop_app.core.blobs.export import export_blob, export_blobs, export_column
from desktop_app.core.blobs.values import BlobRef
from desktop_app.core.errors import ExportError, OutputIsSourceError
from desktop_app.core.export import output_paths
from desktop_app.core.export.csv_file import export_csv
from desktop_app.core.export.output_paths import OutputFolder, SourceFiles, ensure_not_source
from desktop_app.core.snapshot.snapshot import open_snapshot

REFUSAL = "is the database being read (or one of its -wal/-shm/-journal files)"


def make_database(path: Path, rows: int = 3) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, bytes([i]) * 100) for i in range(1, rows + 1)])
    conn.close()
    return path


def state(folder: Path) -> dict[str, str]:
    """Every entry under `folder` (links as links) with the hash of what it holds."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[key] = "dir"
    return found


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_database(tmp_path / "home" / "data.db")


# ----- the rule ------------------------------------------------------------------------------------


def _same(db: Path) -> Path:
    return db


def _sidecar(suffix: str) -> Callable[[Path], Path]:
    return lambda db: db.with_name(db.name + suffix)


def _existing_sidecar(suffix: str) -> Callable[[Path], Path]:
    def make(db: Path) -> Path:
        path = db.with_name(db.name + suffix)
        path.write_bytes(b"sidecar bytes")
        return path

    return make


def _hard_link(db: Path) -> Path:
    link = db.parent.parent / "elsewhere" / "hard.csv"
    link.parent.mkdir(exist_ok=True)
    os.link(db, link)
    return link


def _symlink(db: Path) -> Path:
    link = db.parent.parent / "link.csv"
    link.symlink_to(db)
    return link


def _symlink_to_wal(db: Path) -> Path:
    link = db.parent.parent / "wal-link.csv"
    link.symlink_to(db.with_name(db.name + "-wal"))  # dangling: the -wal does not exist yet
    return link


def _folder_link(suffix: str) -> Callable[[Path], Path]:
    def make(db: Path) -> Path:
        folder = db.parent.parent / "same-folder"
        folder.symlink_to(db.parent, target_is_directory=True)
        return folder / (db.name + suffix)

    return make


def _dotted(db: Path) -> Path:
    return db.parent / ".." / db.parent.name / "." / db.name


OUTPUTS = {
    "the database": _same,
    "-wal": _sidecar("-wal"),
    "-shm": _sidecar("-shm"),
    "-journal": _sidecar("-journal"),
    "existing -wal": _existing_sidecar("-wal"),
    "existing -shm": _existing_sidecar("-shm"),
    "existing -journal": _existing_sidecar("-journal"),
    "hard link": _hard_link,
    "symlink": _symlink,
    "symlink to the -wal": _symlink_to_wal,
    "symlinked folder + name": _folder_link(""),
    "symlinked folder + -journal": _folder_link("-journal"),
    "dots in the path": _dotted,
}


@pytest.mark.parametrize("make_output", OUTPUTS.values(), ids=OUTPUTS.keys())
def test_every_name_of_the_source_or_its_sidecars_is_refused(db: Path, make_output: Callable) -> None:
    output = make_output(db)
    with pytest.raises(OutputIsSourceError, match="database being read") as caught:
        ensure_not_source(output, db)
    assert str(output) in caught.value.message


def test_relative_names_are_taken_from_the_current_folder(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(db.parent)
    for output in ("data.db", "data.db-wal", "./data.db-journal"):
        with pytest.raises(OutputIsSourceError):
            ensure_not_source(output, "data.db")
        with pytest.raises(OutputIsSourceError):
            ensure_not_source(output, db)
    ensure_not_source("data.csv", "data.db")


def test_other_files_beside_the_source_are_allowed(db: Path, tmp_path: Path) -> None:
    for output in (
        db.with_name("data.csv"),
        db.with_name("data.db-wal.csv"),
        db.with_name("other.db-journal"),
        tmp_path / "data.db",
        tmp_path / "elsewhere" / "data.db-wal",
    ):
        ensure_not_source(output, db)
    ensure_not_source(db, None)  # nothing open: nothing to protect


def test_a_name_with_a_nul_character_is_a_clear_refusal(db: Path) -> None:
    with pytest.raises(ExportError, match="NUL character"):
        ensure_not_source(str(db.parent / "a\0b.csv"), db)


def test_a_symlinked_source_protects_the_link_and_its_target_with_their_sidecars(tmp_path: Path) -> None:
    target = make_database(tmp_path / "real" / "target.db")
    link = tmp_path / "view" / "shown.db"
    link.parent.mkdir()
    link.symlink_to(target)
    for output in (
        target,
        link,
        target.with_name("target.db-wal"),
        target.with_name("target.db-journal"),
        link.with_name("shown.db-wal"),
        link.with_name("shown.db-shm"),
    ):
        with pytest.raises(OutputIsSourceError):
            ensure_not_source(output, link)
    ensure_not_source(tmp_path / "view" / "shown.csv", link)


def test_a_case_sensitive_folder_allows_names_that_differ_only_in_case(db: Path) -> None:
    upper = db.with_name("DATA.DB")
    if upper.exists():
        pytest.skip("this folder ignores case")
    ensure_not_source(upper, db)
    ensure_not_source(db.with_name("DATA.DB-WAL"), db)


def test_a_folder_that_ignores_case_refuses_the_source_under_any_case(db: Path) -> None:
    files = SourceFiles.of(db)
    folder = output_paths._identity(os.stat(db.parent))
    # As a case-insensitive folder would record it (probing needs such a filesystem).
    folded = SourceFiles(
        files.source, files.paths, files.entries, frozenset({(folder, "data.db-wal")}), files.identities
    )
    assert folded.is_entry(folder, "Data.DB-WAL") and not files.is_entry(folder, "Data.DB-WAL")


# ----- CLI: query --csv ----------------------------------------------------------------------------


@pytest.mark.parametrize("make_output", OUTPUTS.values(), ids=OUTPUTS.keys())
def test_query_csv_onto_the_source_is_one_line_exit_1_and_changes_nothing(
    db: Path, make_output: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    output = make_output(db)
    before = state(db.parent.parent)
    assert main(["query", str(db), "SELECT * FROM t", "--csv", str(output)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and REFUSAL in err and "Traceback" not in err
    assert state(db.parent.parent) == before


def test_query_csv_to_stdout_and_to_another_file_still_work(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", str(db), "SELECT id FROM t", "--csv", "-"]) == 0
    assert capsys.readouterr().out.split() == ["id", "1", "2", "3"]
    out = db.with_name("out.csv")
    assert main(["query", str(db), "SELECT id FROM t", "--csv", str(out)]) == 0
    assert out.read_text().split() == ["id", "1", "2", "3"]


# ----- core CSV export -----------------------------------------------------------------------------


def test_csv_export_refuses_a_target_that_became_a_link_to_the_source_before_the_rename(
    db: Path,
) -> None:
    target = db.with_name("out.csv")
    before = state(db.parent)

    def pages() -> Iterator[list[tuple[int]]]:
        yield [(1,)]
        os.link(db, target)  # swapped in while the rows are written
        yield [(2,)]

    with pytest.raises(OutputIsSourceError):
        export_csv(pages(), ["n"], target, source_path=db)
    assert state(db.parent) == {**before, "out.csv": before["data.db"]}
    assert os.path.samefile(target, db)


def test_csv_export_over_an_earlier_file_is_atomic_and_a_failed_one_leaves_it(db: Path) -> None:
    target = db.with_name("out.csv")
    target.write_text("earlier\n")

    def failing() -> Iterator[list[tuple[int]]]:
        yield [(1,)]
        raise ExportError("stopped")

    with pytest.raises(ExportError, match="stopped"):
        export_csv(failing(), ["n"], target, source_path=db)
    assert target.read_text() == "earlier\n" and sorted(os.listdir(db.parent)) == ["data.db", "out.csv"]
    export_csv([[(1,)]], ["n"], target, source_path=db)
    assert target.read_text().split() == ["n", "1"]


# ----- blob export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("link", ["symlink", "hard link"])
def test_blobs_out_beside_a_link_to_the_source_numbers_the_file_and_leaves_the_source(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], link: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if link == "symlink":
        (out / "1.bin").symlink_to(db)
    else:
        os.link(db, out / "1.bin")
    before = state(db.parent)
    args = ["blobs", str(db), "--table", "t", "--column", "data", "--out", str(out), "--name", "{rowid}.bin"]
    assert main(args) == 0
    assert sorted(os.listdir(out)) == ["1 (2).bin", "1.bin", "2.bin", "3.bin"]
    assert os.path.samefile(out / "1.bin", db) and state(db.parent) == before
    capsys.readouterr()
    assert main([*args, "--overwrite"]) == 1  # replacing the link is refused: that row fails
    err = capsys.readouterr().err
    assert "failed: rowid 1:" in err and REFUSAL in err
    assert os.path.samefile(out / "1.bin", db) and state(db.parent) == before


@pytest.mark.parametrize(
    ("pattern", "extra"),
    [("data.db", []), ("data.db-journal", []), ("data.db-wal", ["--overwrite"]), ("data.db-shm", [])],
)
def test_blobs_out_into_the_source_folder_never_writes_the_source_or_its_sidecars(
    db: Path, pattern: str, extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    before = state(db.parent)
    args = ["blobs", str(db), "--table", "t", "--column", "data", "--out", str(db.parent), "--name", pattern]
    assert main([*args, *extra]) == 1
    err = capsys.readouterr().err
    assert err.count(REFUSAL) == 3 and "Traceback" not in err
    assert state(db.parent) == before


@pytest.mark.parametrize("suffix", ["", "-wal", "-journal"])
def test_blobs_out_named_like_the_source_or_a_sidecar_is_refused_before_any_folder_is_made(
    db: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = state(db.parent)
    out = db.with_name(db.name + suffix)
    assert main(["blobs", str(db), "--table", "t", "--column", "data", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and REFUSAL in err and "choose another folder" in err
    assert state(db.parent) == before


def test_saving_one_value_onto_the_source_is_refused(db: Path) -> None:
    conn = open_snapshot(db).connect()
    before = state(db.parent)
    for output in (db, db.with_name("data.db-journal"), _symlink(db)):
        with pytest.raises(OutputIsSourceError):
            export_blob(conn, BlobRef("main", "t", "data", 1), output, overwrite=True, source_path=db)
    assert state(db.parent) == before
    saved = export_blob(conn, BlobRef("main", "t", "data", 1), db.with_name("one.bin"), source_path=db)
    assert saved.read_bytes() == b"\x01" * 100
    conn.close()


# ----- item 12: the folder swapped for a symlink --------------------------------------------------


def _swap_for_link(folder: Path, to: Path) -> Path:
    """Move `folder` aside and put a symlink to `to` in its place; return where it went."""
    aside = folder.with_name(folder.name + ".moved")
    folder.rename(aside)
    folder.symlink_to(to, target_is_directory=True)
    return aside


def test_a_folder_swapped_for_a_symlink_before_it_is_opened_is_refused(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    real_prepare = blob_export.prepare_folder

    def prepare_then_swap(folder: object) -> Path:
        resolved = real_prepare(folder)  # checked and resolved ...
        _swap_for_link(out, db.parent)  # ... then swapped before the first file
        return resolved

    monkeypatch.setattr(blob_export, "prepare_folder", prepare_then_swap)
    before = state(db.parent)
    conn = open_snapshot(db).connect()
    with pytest.raises(ExportError, match="Cannot write to the folder"):
        export_column(conn, "t", "data", out, pattern="data.db-journal", source_path=db)
    conn.close()
    assert state(db.parent) == before


@pytest.mark.parametrize("dir_fd", [True, False], ids=["folder descriptor", "by path"])
def test_a_folder_swapped_for_a_symlink_mid_export_gets_nothing_written_through_it(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dir_fd: bool
) -> None:
    if dir_fd and not output_paths._USE_DIR_FD:
        pytest.skip("this system has no folder descriptors")
    monkeypatch.setattr(output_paths, "_USE_DIR_FD", dir_fd)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    out = tmp_path / "out"
    swapped: list[Path] = []
    real_check = OutputFolder.check_name

    def check_then_swap(self: OutputFolder, name: str, **kwargs: object) -> None:
        real_check(self, name, **kwargs)  # type: ignore[arg-type]
        if not swapped:  # between the check of the first file and its write
            swapped.append(_swap_for_link(out, outside))

    monkeypatch.setattr(OutputFolder, "check_name", check_then_swap)
    before_outside, before_db = state(outside), state(db.parent)
    items = [({"n": i}, bytes([i]) * 10) for i in range(1, 4)]
    with sqlite3.connect(":memory:") as conn:
        if dir_fd:
            result = export_blobs(conn, items, out, pattern="{n}.bin", source_path=db)
            assert result.written == 3
            assert sorted(os.listdir(swapped[0])) == ["1.bin", "2.bin", "3.bin"]
        else:  # by path, the swap is noticed before the next step and the export stops
            with pytest.raises(ExportError, match="was replaced during the export"):
                export_blobs(conn, items, out, pattern="{n}.bin", source_path=db)
    conn.close()
    assert state(outside) == before_outside and state(db.parent) == before_db


def test_without_folder_descriptors_the_source_names_are_still_refused(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output_paths, "_USE_DIR_FD", False)
    before = state(db.parent)
    with sqlite3.connect(":memory:") as conn:
        result = export_blobs(conn, [({}, b"x")], db.parent, pattern="data.db-wal", source_path=db)
    conn.close()
    assert result.written == 0 and REFUSAL in result.failures[0].reason
    assert state(db.parent) == before
    with pytest.raises(OutputIsSourceError):
        export_csv([[(1,)]], ["n"], db.with_name("data.db-shm"), source_path=db)
    assert state(db.parent) == before
