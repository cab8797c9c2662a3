"""Detection by table shape: look-alikes told apart, renamed tables found, ordinary tables left alone."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.migrations import detect_tools, migration_status
from desktop_app.core.progress import CancelToken
from desktop_app.core.sqlite.connection import configure_connection

FLYWAY_4 = (
    "CREATE TABLE schema_version (version_rank INT, installed_rank INT PRIMARY KEY, version VARCHAR(50),"
    " description VARCHAR(200), type VARCHAR(20), script VARCHAR(1000), checksum INT,"
    " installed_by VARCHAR(100), installed_on TEXT, execution_time INT, success BOOLEAN)"
)


def _open(tmp_path: Path, script: str, name: str = "look.db") -> sqlite3.Connection:
    db = tmp_path / name
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA journal_mode=MEMORY")
    writer.executescript(script)
    writer.commit()
    writer.close()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    configure_connection(conn)
    return conn


def _tools(conn: sqlite3.Connection) -> list[tuple[str, str | None]]:
    return sorted((d.spec.key, d.shape.name if d.shape else None) for d in detect_tools(conn))


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # schema_migrations: Rails has ar_internal_metadata beside it; golang-migrate has dirty; Ecto
        # has inserted_at; dbmate has only a text version.
        (
            "CREATE TABLE schema_migrations (version varchar PRIMARY KEY);"
            "CREATE TABLE ar_internal_metadata (key varchar PRIMARY KEY, value varchar);"
            "INSERT INTO schema_migrations VALUES ('20240101000001')",
            "rails",
        ),
        (
            "CREATE TABLE schema_migrations (version varchar(255) NOT NULL);"
            "CREATE UNIQUE INDEX unique_schema_migrations ON schema_migrations (version)",
            "rails",  # before Rails 5: no ar_internal_metadata, but its unique index
        ),
        (
            "CREATE TABLE schema_migrations (version uint64, dirty bool);"
            "INSERT INTO schema_migrations VALUES (3, 0)",
            "golang-migrate",
        ),
        ("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, inserted_at TEXT)", "ecto"),
        (
            "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);"
            "INSERT INTO schema_migrations VALUES ('20240101')",
            "dbmate",
        ),
        # migrations: Laravel has migration + batch; TypeORM timestamp + name; Knex renamed: batch + time.
        ("CREATE TABLE migrations (id integer PRIMARY KEY, migration varchar, batch integer)", "laravel"),
        ("CREATE TABLE migrations (id integer PRIMARY KEY, timestamp bigint, name varchar)", "typeorm"),
        (
            "CREATE TABLE migrations (id integer PRIMARY KEY, name varchar, batch integer,"
            " migration_time datetime)",
            "knex",
        ),
        # schema_version: Flyway 4 has installed_rank, script, checksum, success; hand-rolled one integer.
        (FLYWAY_4, "flyway"),
        (
            "CREATE TABLE schema_version (version INTEGER); INSERT INTO schema_version VALUES (1), (2)",
            "schema_version",
        ),
        # Any table whose only column is version_num is Alembic, whatever its name.
        ("""CREATE TABLE "it's ""v"" table" (version_num VARCHAR(32) PRIMARY KEY)""", "alembic"),
        (
            "CREATE TABLE history (id INTEGER PRIMARY KEY, hash text, created_at numeric);"
            f"INSERT INTO history (hash, created_at) VALUES ('{'ab' * 32}', 1700000000000)",
            "drizzle",
        ),
    ],
)
def test_look_alike_tables_are_told_apart_by_shape(tmp_path: Path, script: str, expected: str) -> None:
    conn = _open(tmp_path, script)
    assert [key for key, _table in _tools(conn)] == [expected]


def test_flyway_4_is_labelled_as_such(tmp_path: Path) -> None:
    conn = _open(tmp_path, FLYWAY_4)
    (status,) = migration_status(conn).tools
    assert "4" in status.label


@pytest.mark.parametrize(
    "script",
    [
        "CREATE TABLE tags (name TEXT); INSERT INTO tags VALUES ('red'), ('blue')",
        "CREATE TABLE files (id INTEGER PRIMARY KEY, hash TEXT, created_at INTEGER);"
        "INSERT INTO files VALUES (1, 'abc', 5)",
        "CREATE TABLE settings (version TEXT); INSERT INTO settings VALUES ('v1.2-beta')",
        "CREATE TABLE doc (version REAL); INSERT INTO doc VALUES (1.5)",
        "CREATE TABLE empty_meta (name VARCHAR(255))",
        "CREATE TABLE counters (version INTEGER)",
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)",
    ],
)
def test_ordinary_tables_are_not_taken_for_tracking_tables(tmp_path: Path, script: str) -> None:
    conn = _open(tmp_path, script)
    assert _tools(conn) == []


def test_database_without_migration_tool_reports_none(tmp_path: Path) -> None:
    conn = _open(tmp_path, "CREATE TABLE t (a); CREATE VIEW v AS SELECT 1")
    report = migration_status(conn, folder=tmp_path)
    assert not report.found
    assert report.tools == []


def test_several_tools_in_one_database_are_all_reported(tmp_path: Path) -> None:
    conn = _open(
        tmp_path,
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY);"
        "INSERT INTO alembic_version VALUES ('ab12');"
        "CREATE TABLE django_migrations (id integer PRIMARY KEY, app varchar, name varchar,"
        " applied datetime);"
        "CREATE TABLE SequelizeMeta (name VARCHAR(255) PRIMARY KEY);"
        "INSERT INTO SequelizeMeta VALUES ('1-init.js');"
        "PRAGMA user_version = 7;",
    )
    report = migration_status(conn)
    assert sorted(s.tool for s in report.tools) == ["alembic", "django", "sequelize", "user_version"]
    by_tool = {s.tool: s for s in report.tools}
    assert by_tool["alembic"].current_version == "ab12"
    assert by_tool["user_version"].current_version == "7"
    json.dumps(report.to_dict())  # plain data all the way down


def test_user_version_zero_is_unused_unless_room_is_there(tmp_path: Path) -> None:
    assert _tools(_open(tmp_path, "CREATE TABLE t (a)")) == []
    room = _open(
        tmp_path, "CREATE TABLE room_master_table (id INTEGER PRIMARY KEY, identity_hash TEXT)", "room.db"
    )
    (status,) = migration_status(room).tools
    assert status.label == "Android Room"
    assert status.current_version == "0"
    assert any("unused" in warning for warning in status.warnings)


def test_awkward_rows_and_names_are_read_without_error(tmp_path: Path) -> None:
    conn = _open(
        tmp_path,
        'CREATE TABLE "select" (id integer, name varchar, batch integer, migration_time datetime,'
        " PRIMARY KEY (id)) WITHOUT ROWID;"
        'INSERT INTO "select" VALUES (1, NULL, NULL, NULL),'
        " (2, CAST(X'6E6F74FF2E6A73' AS TEXT), 1, 'garbage'), (3, '🙂.js', 2, 1700000000000)",
    )
    (status,) = migration_status(conn).tools
    assert status.tool == "knex" and status.table == "select"
    assert [row.batch for row in status.history] == [None, 1, 2]
    assert status.history[1].applied_at is None  # unreadable time stays empty, no crash
    assert status.history[2].applied_at is not None and status.history[2].applied_at.year == 2023
    assert status.current_version == "🙂.js"


def test_invalid_utf8_in_a_tracking_table_is_replaced_not_raised(tmp_path: Path) -> None:
    conn = _open(
        tmp_path,
        "CREATE TABLE SequelizeMeta (name VARCHAR(255) PRIMARY KEY);"
        "INSERT INTO SequelizeMeta VALUES (CAST(X'41FF2E6A73' AS TEXT))",
    )
    (status,) = migration_status(conn).tools
    assert status.history[0].id == "A\ufffd.js"


def test_tool_filter_keeps_one_tool_and_rejects_unknown_names(tmp_path: Path) -> None:
    conn = _open(
        tmp_path,
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY); PRAGMA user_version = 2;",
    )
    assert [s.tool for s in migration_status(conn, tool="Alembic").tools] == ["alembic"]
    assert migration_status(conn, tool="flyway").tools == []
    with pytest.raises(UserError, match="Unknown migration tool"):
        migration_status(conn, tool="rubble")


def test_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    conn = _open(tmp_path, "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
    with pytest.raises(UserError, match="not found"):
        migration_status(conn, folder=tmp_path / "nope")


def test_cancelled_job_stops(tmp_path: Path) -> None:
    conn = _open(tmp_path, "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        migration_status(conn, cancel=token)


def test_reading_never_writes_to_the_connection(tmp_path: Path) -> None:
    conn = _open(
        tmp_path,
        "CREATE TABLE knex_migrations (id integer PRIMARY KEY, name varchar, batch integer,"
        " migration_time datetime)",
    )
    before = conn.total_changes
    migration_status(conn, folder=tmp_path)
    assert conn.total_changes == before
    assert conn.execute("PRAGMA query_only").fetchone()[0] == 1


def test_corpus_world_db_is_from_an_old_rails_app(corpus: Path) -> None:
    conn = sqlite3.connect(f"file:{corpus / 'world' / 'world.db'}?mode=ro", uri=True)
    configure_connection(conn)
    (status,) = migration_status(conn).tools
    assert status.tool == "rails"
    assert status.current_version == "20121004210237"


def test_corpus_firefox_places_reports_its_user_version(corpus: Path) -> None:
    conn = sqlite3.connect(f"file:{corpus / 'plaso' / 'places.sqlite'}?mode=ro", uri=True)
    configure_connection(conn)
    (status,) = migration_status(conn).tools
    assert (status.tool, status.label, status.current_version) == (
        "user_version",
        "PRAGMA user_version",
        "10",
    )
