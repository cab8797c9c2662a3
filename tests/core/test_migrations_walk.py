"""The migrations folder walk reads regular files only, within limits, and says what it left out.

A FIFO named like a migration blocked the reader for ever and a link to /dev/zero never ended
(issue #17, item 7); the walk stopped at 50,000 files without saying so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.core.migrations import PendingReport, flyway_checksum, migration_status
from desktop_app.core.migrations import pending as pending_module

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")

INIT_SQL = b"CREATE TABLE users (id INTEGER);\n"
FLYWAY_COLUMNS = (
    "installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL,"
    " type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT,"
    " installed_by VARCHAR(100) NOT NULL, installed_on TEXT NOT NULL, execution_time INT NOT NULL,"
    " success BOOLEAN NOT NULL"
)


def build(path: Path, script: str) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.commit()
    conn.close()
    return path


def flyway_database(path: Path) -> Path:
    """Flyway's history with V1 applied and its checksum stored (so the file V1 is read)."""
    return build(
        path,
        f"CREATE TABLE flyway_schema_history ({FLYWAY_COLUMNS});"
        "INSERT INTO flyway_schema_history VALUES (1, '1', 'init', 'SQL', 'V1__init.sql',"
        f" {flyway_checksum(INIT_SQL)}, 'sa', '2024-01-01 12:00:00', 5, 1);",
    )


def django_database(path: Path) -> Path:
    return build(
        path,
        "CREATE TABLE django_migrations (id integer NOT NULL PRIMARY KEY AUTOINCREMENT,"
        " app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied datetime NOT NULL);"
        "INSERT INTO django_migrations (app, name, applied) VALUES"
        " ('shop', '0001_initial', '2024-01-01 12:00:00.000000');",
    )


def hand_rolled_database(path: Path) -> Path:
    return build(
        path, "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);"
    )


def snapshot_of_folder(folder: Path) -> dict[str, str]:
    """Every entry below `folder` with its kind, and the hash of each regular file (links not followed)."""
    listing = {}
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = Path(root, name)
            if path.is_symlink():
                listing[str(path)] = f"link to {os.readlink(path)}"
            elif path.is_fifo():
                listing[str(path)] = "fifo"
            elif path.is_file():
                listing[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                listing[str(path)] = "folder"
    return listing


def status_of(database: Path, folder: Path) -> PendingReport:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        (status,) = migration_status(conn, folder=folder).tools
    finally:
        conn.close()
    assert status.pending is not None
    return status.pending


def skipped(report: PendingReport) -> dict[str, str]:
    return {Path(item.path).name: item.reason for item in report.skipped}


@pytest.mark.parametrize(
    ("make_database", "fifo_at", "beside"),
    [
        (flyway_database, "V1__init.sql", {}),
        (django_database, "shop/migrations/0001_initial.py", {"shop/migrations/__init__.py": b""}),
        (hand_rolled_database, "migrations/001_init.up.sql", {"migrations/002_next.sql": b"SELECT 1;\n"}),
    ],
    ids=["flyway", "django", "hand-rolled"],
)
def test_fifo_named_like_a_migration_is_skipped_not_opened(
    tmp_path: Path,
    make_database: Callable[[Path], Path],
    fifo_at: str,
    beside: dict[str, bytes],
) -> None:
    database = make_database(tmp_path / "app.db")
    project = tmp_path / "project"
    fifo = project / fifo_at
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    for relative, content in beside.items():
        (project / relative).write_bytes(content)
    before = snapshot_of_folder(project)

    report = status_of(database, project)

    assert skipped(report) == {fifo.name: "a named pipe (FIFO), not a regular file"}
    assert report.incomplete is None  # not a limit: the FIFO is reported, the rest is whole
    assert snapshot_of_folder(project) == before


def test_links_to_a_device_or_outside_the_folder_are_skipped_inside_ones_are_read(tmp_path: Path) -> None:
    database = flyway_database(tmp_path / "app.db")
    project = tmp_path / "project"
    project.mkdir()
    (project / "real").mkdir()
    (project / "real" / "init.sql").write_bytes(INIT_SQL)
    (project / "V1__init.sql").symlink_to(project / "real" / "init.sql")  # inside: read
    (project / "V2__zero.sql").symlink_to("/dev/zero")
    outside = tmp_path / "elsewhere.sql"
    outside.write_bytes(b"SELECT 'secret';\n")
    (project / "V3__outside.sql").symlink_to(outside)
    (project / "V4__dangling.sql").symlink_to(project / "nothing-here.sql")
    before = snapshot_of_folder(project)

    report = status_of(database, project)

    assert skipped(report) == {
        "V2__zero.sql": "a link to /dev/zero, outside the project folder",
        "V3__outside.sql": f"a link to {outside.resolve()}, outside the project folder",
        "V4__dangling.sql": "a broken link",
    }
    assert report.pending == []  # V1 is applied, and read: its checksum matches
    assert report.checksum_mismatches == []
    assert snapshot_of_folder(project) == before


def test_file_over_the_size_cap_is_skipped_with_its_reason_and_the_result_is_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        pending_module, "LIMITS", dataclasses.replace(pending_module.LIMITS, migration_file_max_bytes=1024)
    )
    database = flyway_database(tmp_path / "app.db")
    project = tmp_path / "project"
    project.mkdir()
    (project / "V1__init.sql").write_bytes(INIT_SQL + b"-- padding\n" * 100)  # 1,133 bytes, applied
    (project / "V2__seed.sql").write_bytes(b"SELECT 1;\n")

    report = status_of(database, project)

    assert skipped(report) == {"V1__init.sql": "larger than 1,024 bytes, not read"}
    assert report.incomplete == "a file was larger than 1,024 bytes (migration_file_max_bytes)"
    assert [item.id for item in report.pending] == ["2"]  # listed by name, as V1 is
    assert report.checksum_mismatches == []  # V1's checksum could not be computed: not called changed


def test_walk_cap_reached_marks_pending_and_heads_possibly_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        pending_module, "LIMITS", dataclasses.replace(pending_module.LIMITS, migration_files_walked=5)
    )
    database = flyway_database(tmp_path / "app.db")
    project = tmp_path / "project"
    project.mkdir()
    (project / "V1__init.sql").write_bytes(INIT_SQL)
    for n in range(2, 10):
        (project / f"V{n}__more.sql").write_bytes(b"SELECT 1;\n")

    report = status_of(database, project)

    assert report.incomplete == (f"the walk of {project} stopped after 5 files (migration_files_walked)")
    assert len(report.pending) < 8  # the walk really stopped


def hostile_flyway_project(tmp_path: Path) -> tuple[Path, Path]:
    database = flyway_database(tmp_path / "app.db")
    project = tmp_path / "project"
    project.mkdir()
    (project / "V1__init.sql").write_bytes(INIT_SQL)
    os.mkfifo(project / "V2__pipe.sql")
    (project / "V3__zero.sql").symlink_to("/dev/zero")
    return database, project


def test_cli_text_lists_what_was_not_read_and_says_possibly_incomplete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        pending_module, "LIMITS", dataclasses.replace(pending_module.LIMITS, migration_files_walked=2)
    )
    database, project = hostile_flyway_project(tmp_path)
    assert main(["migrations", str(database), "--folder", str(project)]) == 0
    out = capsys.readouterr().out
    assert (
        f"  warning: Possibly incomplete: the walk of {project} stopped after 2 files "
        "(migration_files_walked). Pending, missing and heads may be incomplete.\n"
    ) in out


def test_cli_text_and_json_list_skipped_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database, project = hostile_flyway_project(tmp_path)
    assert main(["migrations", str(database), "--folder", str(project)]) == 0
    out = capsys.readouterr().out
    assert (
        "  not read (2):\n"
        f"    {project / 'V2__pipe.sql'}  a named pipe (FIFO), not a regular file\n"
        f"    {project / 'V3__zero.sql'}  a link to /dev/zero, outside the project folder\n"
    ) in out
    assert "Possibly incomplete" not in out

    assert main(["migrations", str(database), "--folder", str(project), "--json"]) == 0
    pending = json.loads(capsys.readouterr().out)["tools"][0]["pending"]
    assert pending["incomplete"] is None
    assert pending["skipped"] == [
        {"path": str(project / "V2__pipe.sql"), "reason": "a named pipe (FIFO), not a regular file"},
        {"path": str(project / "V3__zero.sql"), "reason": "a link to /dev/zero, outside the project folder"},
    ]


def test_json_says_incomplete_when_a_limit_stopped_the_walk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        pending_module, "LIMITS", dataclasses.replace(pending_module.LIMITS, migration_files_walked=1)
    )
    database, project = hostile_flyway_project(tmp_path)
    assert main(["migrations", str(database), "--folder", str(project), "--json"]) == 0
    pending = json.loads(capsys.readouterr().out)["tools"][0]["pending"]
    assert pending["incomplete"] == f"the walk of {project} stopped after 1 files (migration_files_walked)"


def test_read_bytes_never_waits_on_a_fifo_swapped_in_after_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "V1__init.sql"
    os.mkfifo(fifo)
    # As if the FIFO had been swapped in just after the check said "a regular file".
    monkeypatch.setattr(pending_module, "_problem", lambda _path, _walk, **_options: None)
    with pending_module.walking(tmp_path) as walk:
        assert pending_module.read_bytes(fifo) is None
    assert walk.skipped == {str(fifo): "a named pipe (FIFO), not a regular file"}


def test_alembic_import_is_not_attempted_over_a_fifo_revision(tmp_path: Path) -> None:
    database = build(
        tmp_path / "app.db",
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);"
        "INSERT INTO alembic_version VALUES ('aaa');",
    )
    versions = tmp_path / "project" / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "aaa_init.py").write_text('"""init"""\nrevision = "aaa"\ndown_revision = None\n')
    os.mkfifo(versions / "bbb_pipe.py")
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        (status,) = migration_status(conn, folder=tmp_path / "project", allow_import=True).tools
    finally:
        conn.close()
    report = status.pending
    assert report is not None
    assert report.notes[0].startswith(
        "Not imported: the folder holds revision files that cannot be read safely"
    )
    assert report.heads == ["aaa"]
    assert skipped(report) == {"bbb_pipe.py": "a named pipe (FIFO), not a regular file"}
