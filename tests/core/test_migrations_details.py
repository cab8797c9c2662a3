"""Details that decide whether a migration counts: times, checksums, rollbacks, squashes, changelogs."""

from __future__ import annotations

import binascii
import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop_app.core.migrations import ToolStatus, flyway_checksum, migration_status, parse_time
from desktop_app.core.migrations.checksums import prisma_checksum_matches
from desktop_app.core.sqlite.connection import configure_connection


def _status(tmp_path: Path, script: str, folder: Path | None = None, params: list[tuple] = ()) -> ToolStatus:
    db = tmp_path / "app.db"
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA journal_mode=MEMORY")
    statements = [s for s in script.split(";\n") if s.strip()]
    for statement in statements:
        writer.execute(statement)
    for sql, *values in params:
        writer.execute(sql, values)
    writer.commit()
    writer.close()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    configure_connection(conn)
    (status,) = migration_status(conn, folder=folder).tools
    return status


def _write(root: Path, relative: str, content: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- times -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2024-03-01 10:20:30", datetime(2024, 3, 1, 10, 20, 30, tzinfo=UTC)),  # SQLite CURRENT_TIMESTAMP
        ("2024-03-01T10:20:30.123456", datetime(2024, 3, 1, 10, 20, 30, 123456, tzinfo=UTC)),  # Django, Ecto
        ("2024-03-01 10:20:30.1234567", datetime(2024, 3, 1, 10, 20, 30, 123456, tzinfo=UTC)),  # .NET ticks
        ("2024-03-01T10:20:30Z", datetime(2024, 3, 1, 10, 20, 30, tzinfo=UTC)),
        ("2024-03-01 12:20:30+0200", datetime(2024, 3, 1, 10, 20, 30, tzinfo=UTC)),
        ("2024-03-01 10:20:30 UTC", datetime(2024, 3, 1, 10, 20, 30, tzinfo=UTC)),
        (1709288430, datetime(2024, 3, 1, 10, 20, 30, tzinfo=UTC)),  # Unix seconds
        (1709288430123, datetime(2024, 3, 1, 10, 20, 30, 123000, tzinfo=UTC)),  # Unix ms (Prisma, Knex)
        ("1709288430123", datetime(2024, 3, 1, 10, 20, 30, 123000, tzinfo=UTC)),
        (1709288430.5, datetime(2024, 3, 1, 10, 20, 30, 500000, tzinfo=UTC)),
        (1709288430123456, datetime(2024, 3, 1, 10, 20, 30, 123456, tzinfo=UTC)),  # microseconds
    ],
)
def test_applied_times_become_aware_datetimes_whatever_the_storage(
    stored: object, expected: datetime
) -> None:
    parsed = parse_time(stored)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None


def test_offset_in_text_is_kept() -> None:
    parsed = parse_time("2024-03-01T10:20:30-05:00")
    assert parsed is not None and parsed.utcoffset() == timedelta(hours=-5)
    assert parsed.astimezone(UTC).hour == 15


@pytest.mark.parametrize("stored", [None, "", "yesterday", b"\xff", True, "2024-13-45", 1e300])
def test_unreadable_times_are_none(stored: object) -> None:
    assert parse_time(stored) is None


# --- checksums -------------------------------------------------------------------------------------------


def test_flyway_checksum_is_crc32_of_the_lines_without_line_endings() -> None:
    expected = binascii.crc32(b"CREATE TABLE a (x);INSERT INTO a VALUES (1);")
    expected = expected - (1 << 32) if expected >= 1 << 31 else expected
    assert flyway_checksum(b"CREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n") == expected


def test_flyway_checksum_ignores_line_ending_style_and_a_leading_bom() -> None:
    unix = flyway_checksum(b"first\nsecond\nthird")
    for variant in (
        b"first\r\nsecond\r\nthird\r\n",
        b"first\rsecond\rthird",
        b"\xef\xbb\xbffirst\nsecond\nthird",
    ):
        assert flyway_checksum(variant) == unix
    assert flyway_checksum(b"first\n\xef\xbb\xbfsecond\nthird") != unix  # only the first line is BOM-filtered
    assert flyway_checksum(b"") == 0


def test_flyway_checksum_is_a_signed_32_bit_int() -> None:
    values = [flyway_checksum(f"SELECT {i};".encode()) for i in range(64)]
    assert all(-(1 << 31) <= v < 1 << 31 for v in values)
    assert any(v < 0 for v in values)


def test_prisma_checksum_forgives_line_endings_and_unpadded_old_rows() -> None:
    script = b"CREATE TABLE a (x);\nCREATE TABLE b (y);\n"
    digest = hashlib.sha256(script).digest()
    assert prisma_checksum_matches(script.replace(b"\n", b"\r\n"), digest.hex())
    assert prisma_checksum_matches(script, "".join(f"{b:x}" for b in digest))
    assert not prisma_checksum_matches(script + b"--", digest.hex())


# --- tool behaviours -------------------------------------------------------------------------------------

FLYWAY = """CREATE TABLE flyway_schema_history (installed_rank INT PRIMARY KEY, version VARCHAR(50),
 description VARCHAR(200), type VARCHAR(20), script VARCHAR(1000), checksum INT, installed_by VARCHAR(100),
 installed_on TEXT, execution_time INT, success BOOLEAN)"""
FLYWAY_ROW = (
    "INSERT INTO flyway_schema_history VALUES (?, ?, ?, 'SQL', ?, ?, 'sa', '2024-01-01 10:00:00.5', 5, 1)"
)


def test_flyway_repeatable_changed_since_last_run_is_pending(tmp_path: Path) -> None:
    folder = tmp_path / "sql"
    _write(folder, "V1__init.sql", "CREATE TABLE a (x);")
    _write(folder, "R__views.sql", "CREATE VIEW v AS SELECT 2;")
    _write(folder, "R__never_run.sql", "CREATE VIEW w AS SELECT 1;")
    rows = [
        (FLYWAY_ROW, 1, "1", "init", "V1__init.sql", flyway_checksum(b"CREATE TABLE a (x);")),
        (FLYWAY_ROW, 2, None, "views", "R__views.sql", flyway_checksum(b"CREATE VIEW v AS SELECT 1;")),
    ]
    status = _status(tmp_path, FLYWAY, folder, rows)
    assert status.pending is not None
    assert sorted(item.id for item in status.pending.pending) == ["R__never_run", "R__views"]
    assert status.pending.checksum_mismatches == []
    assert status.current_version == "1"


def test_flyway_version_below_current_is_noted_as_out_of_order(tmp_path: Path) -> None:
    folder = tmp_path / "sql"
    for version in ("1", "1_1", "2"):
        _write(folder, f"V{version}__step.sql", f"-- {version}")
    rows = [
        (FLYWAY_ROW, 1, "1", "step", "V1__step.sql", flyway_checksum(b"-- 1")),
        (FLYWAY_ROW, 2, "2", "step", "V2__step.sql", flyway_checksum(b"-- 2")),
    ]
    status = _status(tmp_path, FLYWAY, folder, rows)
    assert status.pending is not None
    assert [item.id for item in status.pending.pending] == ["1.1"]
    assert any("outOfOrder" in note for note in status.pending.notes)


PRISMA = """CREATE TABLE _prisma_migrations (id TEXT PRIMARY KEY, checksum TEXT NOT NULL,
 finished_at DATETIME, migration_name TEXT NOT NULL, logs TEXT, rolled_back_at DATETIME,
 started_at DATETIME NOT NULL, applied_steps_count INTEGER NOT NULL DEFAULT 0)"""


def test_prisma_rolled_back_row_is_flagged_and_its_migration_pending(tmp_path: Path) -> None:
    sql = b"CREATE TABLE a (x);"
    folder = tmp_path / "prisma" / "migrations"
    _write(folder, "20240101000000_init/migration.sql", sql)
    insert = "INSERT INTO _prisma_migrations VALUES (?, ?, ?, '20240101000000_init', NULL, ?, ?, 0)"
    rows = [(insert, "r1", hashlib.sha256(sql).hexdigest(), None, 1704067300000, 1704067200000)]
    status = _status(tmp_path, PRISMA, tmp_path, rows)
    assert status.history[0].rolled_back and status.history[0].success is not False
    assert status.history[0].applied_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert any("Rolled back" in w for w in status.warnings)
    assert status.pending is not None
    assert [item.id for item in status.pending.pending] == ["20240101000000_init"]


def test_goose_down_row_undoes_the_version(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    _write(folder, "00001_init.sql", "-- +goose Up")
    _write(folder, "00002_more.sql", "-- +goose Up")
    script = """CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT,
     version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));
    INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1), (2, 1), (2, 0)"""
    status = _status(tmp_path, script, tmp_path)
    assert status.current_version == "1"
    assert any("goose down" in w for w in status.warnings)
    assert status.pending is not None
    assert [item.id for item in status.pending.pending] == ["00002"]


DJANGO = """CREATE TABLE django_migrations (id integer PRIMARY KEY AUTOINCREMENT, app varchar(255) NOT NULL,
 name varchar(255) NOT NULL, applied datetime NOT NULL)"""
DJANGO_ROW = "INSERT INTO django_migrations (app, name, applied) VALUES (?, ?, '2024-01-01 10:00:00')"
SQUASHED = """from django.db import migrations
raise SystemExit("never executed")


class Migration(migrations.Migration):
    replaces = [("shop", "0001_initial"), ("shop", "0002_price")]
    operations = []
"""


def _django_project(root: Path, *names: str) -> Path:
    app = root / "shop" / "migrations"
    _write(app, "__init__.py", "")
    _write(app, "0001_squashed_0002_price.py", SQUASHED)
    for name in names:
        _write(app, f"{name}.py", "from django.db import migrations\n")
    _write(root / "venv" / "django" / "contrib" / "auth" / "migrations", "0001_initial.py", "")
    return root


def test_django_squashed_migration_counts_as_applied_when_all_it_replaces_are(tmp_path: Path) -> None:
    project = _django_project(tmp_path / "src", "0003_stock")
    rows = [
        (DJANGO_ROW, "shop", "0001_initial"),
        (DJANGO_ROW, "shop", "0002_price"),
        (DJANGO_ROW, "auth", "0001_initial"),
    ]
    status = _status(tmp_path, DJANGO, project, rows)
    assert status.pending is not None
    assert [item.id for item in status.pending.pending] == ["shop.0003_stock"]
    assert status.pending.missing == []  # replaced files deleted after squashing; auth is not in the folder


def test_django_fresh_database_runs_the_squashed_migration_not_the_old_ones(tmp_path: Path) -> None:
    project = _django_project(tmp_path / "src", "0001_initial", "0002_price")
    status = _status(tmp_path, DJANGO, project)
    assert status.pending is not None
    assert [item.id for item in status.pending.pending] == ["shop.0001_squashed_0002_price"]


LIQUIBASE = """CREATE TABLE DATABASECHANGELOG (ID VARCHAR(255) NOT NULL, AUTHOR VARCHAR(255) NOT NULL,
 FILENAME VARCHAR(255) NOT NULL, DATEEXECUTED TIMESTAMP NOT NULL, ORDEREXECUTED INT NOT NULL,
 EXECTYPE VARCHAR(10) NOT NULL, MD5SUM VARCHAR(35), DESCRIPTION VARCHAR(255), COMMENTS VARCHAR(255),
 TAG VARCHAR(255), LIQUIBASE VARCHAR(20), CONTEXTS VARCHAR(255), LABELS VARCHAR(255),
 DEPLOYMENT_ID VARCHAR(10));
CREATE TABLE DATABASECHANGELOGLOCK (ID INT PRIMARY KEY, LOCKED BOOLEAN, LOCKGRANTED TIMESTAMP,
 LOCKEDBY VARCHAR(255));
INSERT INTO DATABASECHANGELOGLOCK VALUES (1, 1, '2024-01-01', 'build-host (10.0.0.5)');
INSERT INTO DATABASECHANGELOG VALUES ('1', 'bob', 'changes.sql', '2024-01-01 10:00:00', 1, 'EXECUTED',
 '9:aa', 'sql', NULL, 'v1', '4.25.0', NULL, NULL, '1')"""


def test_liquibase_sql_yaml_and_json_changelogs_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "db" / "changelog"
    _write(
        folder,
        "changes.sql",
        "--liquibase formatted sql\n--changeset bob:1\nCREATE TABLE a (x);\n--changeset bob:2\nSELECT 1;\n",
    )
    _write(
        folder,
        "more.yaml",
        "databaseChangeLog:\n  - changeSet:\n      id: 3\n      author: 'carol'\n      changes:\n"
        "        - createTable:\n            tableName: b\n            columns:\n              - column:\n"
        "                  name: id\n",
    )
    _write(
        folder, "last.json", json.dumps({"databaseChangeLog": [{"changeSet": {"id": "4", "author": "dave"}}]})
    )
    status = _status(tmp_path, LIQUIBASE, tmp_path)
    assert status.details["last_tag"] == "v1"
    assert any("build-host" in w for w in status.warnings)
    assert status.pending is not None
    pending = sorted(item.id for item in status.pending.pending)
    assert pending == ["changes.sql::2::bob", "last.json::4::dave", "more.yaml::3::carol"]


def test_hand_rolled_reversible_pairs_from_a_python_module_are_shown_not_run(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    _write(
        folder,
        "schema.py",
        'import sys\nsys.exit("never executed")\n'
        "MIGRATIONS = [\n"
        '    ("CREATE TABLE a (x)", "DROP TABLE a"),\n'
        '    ("ALTER TABLE a ADD y", "ALTER TABLE a DROP y"),\n'
        '    ("CREATE INDEX i ON a (y)", "DROP INDEX i"),\n'
        "]\n",
    )
    script = (
        "CREATE TABLE schema_version (version INTEGER NOT NULL);\nINSERT INTO schema_version VALUES (1), (2)"
    )
    status = _status(tmp_path, script, tmp_path)
    assert status.current_version == "2"
    assert status.pending is not None
    assert [(m.version, m.applied, m.down) for m in status.pending.reversible] == [
        (1, True, "DROP TABLE a"),
        (2, True, "ALTER TABLE a DROP y"),
        (3, False, "DROP INDEX i"),
    ]
    assert [item.id for item in status.pending.pending] == ["3"]


def test_golang_migrate_dirty_state_says_how_to_recover(tmp_path: Path) -> None:
    script = (
        "CREATE TABLE schema_migrations (version uint64, dirty bool);\n"
        "INSERT INTO schema_migrations VALUES (5, 1)"
    )
    status = _status(tmp_path, script)
    assert status.history[0].success is False
    assert any("force" in w for w in status.warnings)


def test_knex_lock_left_held_is_warned(tmp_path: Path) -> None:
    script = """CREATE TABLE knex_migrations (id integer PRIMARY KEY, name varchar, batch integer,
     migration_time datetime);
    CREATE TABLE knex_migrations_lock ("index" integer PRIMARY KEY, is_locked integer);
    INSERT INTO knex_migrations_lock VALUES (1, 1)"""
    status = _status(tmp_path, script)
    assert status.related_tables == ["knex_migrations_lock"]
    assert any("locked" in w for w in status.warnings)


def test_drizzle_notes_older_unapplied_migrations_it_will_skip(tmp_path: Path) -> None:
    folder = tmp_path / "drizzle"
    entries = []
    for when, tag in [(100, "0000_a"), (150, "0001_late_merge"), (200, "0002_b")]:
        _write(folder, f"{tag}.sql", f"-- {tag}")
        entries.append({"idx": len(entries), "when": when, "tag": tag, "breakpoints": True})
    _write(folder, "meta/_journal.json", json.dumps({"entries": entries}))
    script = (
        "CREATE TABLE __drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)"
    )
    rows = [
        (
            "INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)",
            hashlib.sha256(f"-- {t}".encode()).hexdigest(),
            w,
        )
        for w, t in [(100, "0000_a"), (200, "0002_b")]
    ]
    status = _status(tmp_path, script, tmp_path, rows)
    assert status.pending is not None
    assert [item.name for item in status.pending.pending] == ["0001_late_merge"]
    assert any("skip" in note for note in status.pending.notes)


def test_sqlx_reversible_files_count_once_and_down_files_are_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    _write(folder, "1_init.up.sql", "CREATE TABLE a (x);")
    _write(folder, "1_init.down.sql", "DROP TABLE a;")
    _write(folder, "2_more.up.sql", "CREATE TABLE b (x);")
    script = """CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
     installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL,
     checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)"""
    insert = "INSERT INTO _sqlx_migrations VALUES (1, 'init', '2024-01-01 10:00:00', 1, ?, 10)"
    status = _status(tmp_path, script, tmp_path, [(insert, hashlib.sha384(b"CREATE TABLE a (x);").digest())])
    assert status.pending is not None
    assert [item.id for item in status.pending.pending] == ["2"]
    assert status.pending.checksum_mismatches == []
    assert status.history[0].checksum == hashlib.sha384(b"CREATE TABLE a (x);").hexdigest()


def test_room_identity_hash_differs_from_exported_schema(tmp_path: Path) -> None:
    folder = tmp_path / "schemas" / "com.example.Db"
    for version, identity in [(1, "aaa"), (2, "bbb")]:
        _write(
            folder,
            f"{version}.json",
            json.dumps({"database": {"version": version, "identityHash": identity}}),
        )
    script = """CREATE TABLE room_master_table (id INTEGER PRIMARY KEY, identity_hash TEXT);
    INSERT INTO room_master_table VALUES (42, 'zzz');
    PRAGMA user_version = 2"""
    status = _status(tmp_path, script, tmp_path)
    assert status.label == "Android Room"
    assert status.details["identity_hash"] == "zzz"
    assert status.pending is not None
    assert [(m.id, m.stored, m.computed) for m in status.pending.checksum_mismatches] == [("2", "zzz", "bbb")]
