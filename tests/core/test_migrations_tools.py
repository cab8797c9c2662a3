"""Every migration tool: a database built the way the tool builds it, and a matching migrations folder.

Each case below creates the tool's tracking table from the reference's column lists, records applied
migrations the way the tool does, and writes the tool's files. The same scenarios run for all of
them: everything applied, one pending, one applied file missing, one file changed after it was
applied (tools that store checksums) and one failed or dirty run (tools that record failures).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop_app.core.migrations import ToolStatus, flyway_checksum, migration_status
from desktop_app.core.sqlite.connection import configure_connection


@dataclass(frozen=True)
class Mig:
    """A migration of the scenarios: number 1..4, a snake_case name, and its SQL."""

    n: int
    name: str

    @property
    def sql(self) -> str:
        return f"-- migration {self.n}\nCREATE TABLE t{self.n} (id INTEGER);\n"

    @property
    def camel(self) -> str:
        return "".join(part.title() for part in self.name.split("_"))

    @property
    def stamp(self) -> str:
        return f"2024010100000{self.n}"


MIGS = {n: Mig(n, name) for n, name in [(1, "create_users"), (2, "add_email"), (3, "add_index"), (4, "gone")]}
CHANGED = "-- edited after it was applied\nCREATE TABLE changed (id INTEGER);\n"


@dataclass
class Case:
    """How one tool creates its table, records a run, lays out its files and names its migrations."""

    key: str
    create: str
    record: Callable[[sqlite3.Connection, Mig, bool], None]
    write: Callable[[Path, list[tuple[Mig, str]]], None]
    ident: Callable[[Mig], str]
    #: Tools that keep one number (golang-migrate, user_version...): pending = above it, missing = it.
    number_based: bool = False
    checksums: bool = False
    failures: bool = False
    #: Turns a reported id into a comparable key (Liquibase ids carry the file path as stored).
    key_of: Callable[[str], str] = lambda ident: ident


def _file(root: Path, relative: str, content: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def _each(pattern: Callable[[Mig], str]) -> Callable[[Path, list[tuple[Mig, str]]], None]:
    def write(root: Path, items: list[tuple[Mig, str]]) -> None:
        for mig, content in items:
            _file(root, pattern(mig), content)

    return write


def _insert(
    sql: str, params: Callable[[Mig, bool], tuple]
) -> Callable[[sqlite3.Connection, Mig, bool], None]:
    def record(conn: sqlite3.Connection, mig: Mig, failed: bool) -> None:
        conn.execute(sql, params(mig, failed))

    return record


def _ms(mig: Mig) -> int:
    return 1_704_067_200_000 + mig.n * 60_000


def _iso(mig: Mig) -> str:
    return f"2024-01-01 12:0{mig.n}:00"


# --- the tools -------------------------------------------------------------------------------------------


def _record_flyway(table: str) -> Callable[[sqlite3.Connection, Mig, bool], None]:
    def record(conn: sqlite3.Connection, mig: Mig, failed: bool) -> None:
        rank = conn.execute(f'SELECT COUNT(*) + 1 FROM "{table}"').fetchone()[0]
        conn.execute(
            f'INSERT INTO "{table}" (installed_rank, version, description, type, script, checksum,'
            " installed_by, installed_on, execution_time, success)"
            " VALUES (?, ?, ?, 'SQL', ?, ?, 'sa', ?, 12, ?)",
            (
                rank,
                str(mig.n),
                mig.name.replace("_", " "),
                f"V{mig.n}__{mig.name}.sql",
                flyway_checksum(mig.sql.encode()),
                _iso(mig),
                0 if failed else 1,
            ),
        )

    return record


FLYWAY_COLUMNS = """installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50),
    description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT,
    installed_by VARCHAR(100) NOT NULL,
    installed_on TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')), execution_time INT NOT NULL,
    success BOOLEAN NOT NULL"""


def _record_golang(conn: sqlite3.Connection, mig: Mig, failed: bool) -> None:
    conn.execute("DELETE FROM schema_migrations")
    conn.execute("INSERT INTO schema_migrations (version, dirty) VALUES (?, ?)", (mig.n, failed))


def _record_liquibase(conn: sqlite3.Connection, mig: Mig, failed: bool) -> None:
    order = conn.execute("SELECT COUNT(*) + 1 FROM DATABASECHANGELOG").fetchone()[0]
    conn.execute(
        "INSERT INTO DATABASECHANGELOG (ID, AUTHOR, FILENAME, DATEEXECUTED, ORDEREXECUTED, EXECTYPE, MD5SUM,"
        " DESCRIPTION, LIQUIBASE, DEPLOYMENT_ID) VALUES (?, 'alice', 'db/changelog/changelog.xml', ?, ?, ?,"
        " '9:0123456789abcdef0123456789abcdef', 'sql', '4.25.0', '0000000001')",
        (str(mig.n), _iso(mig), order, "FAILED" if failed else "EXECUTED"),
    )


def _write_liquibase(root: Path, items: list[tuple[Mig, str]]) -> None:
    changesets = "".join(
        f'  <changeSet id="{m.n}" author="alice"><sql>{c}</sql></changeSet>\n' for m, c in items
    )
    _file(
        root,
        "db/changelog/changelog.xml",
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
        f"{changesets}</databaseChangeLog>\n",
    )


def _record_prisma(conn: sqlite3.Connection, mig: Mig, failed: bool) -> None:
    conn.execute(
        "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at,"
        " started_at, applied_steps_count) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
        (
            str(uuid.uuid4()),
            hashlib.sha256(mig.sql.encode()).hexdigest(),
            None if failed else _ms(mig) + 50,
            f"{mig.stamp}_{mig.name}",
            "Error: table exists" if failed else None,
            _ms(mig),
            0 if failed else 1,
        ),
    )


def _write_typeorm(root: Path, items: list[tuple[Mig, str]]) -> None:
    for mig, content in items:
        stamp = 1_700_000_000_000 + mig.n
        _file(
            root,
            f"src/migrations/{stamp}-{mig.camel}.ts",
            f"export class {mig.camel}{stamp} implements MigrationInterface {{\n  // {content}\n}}\n",
        )


def _write_efcore(root: Path, items: list[tuple[Mig, str]]) -> None:
    for mig, content in items:
        _file(root, f"Migrations/{mig.stamp}_{mig.camel}.cs", f"// {content}")
        _file(root, f"Migrations/{mig.stamp}_{mig.camel}.Designer.cs", "// designer")
    _file(root, "Migrations/AppDbContextModelSnapshot.cs", "// snapshot")


def _record_goose(conn: sqlite3.Connection, mig: Mig, failed: bool) -> None:
    conn.execute(
        "INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES (?, 1, ?)", (mig.n, _iso(mig))
    )


def _record_sqlx(conn: sqlite3.Connection, mig: Mig, failed: bool) -> None:
    conn.execute(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)"
        " VALUES (?, ?, ?, ?, ?, 1200000)",
        (
            int(mig.stamp),
            mig.name.replace("_", " "),
            _iso(mig),
            not failed,
            hashlib.sha384(mig.sql.encode()).digest(),
        ),
    )


def _record_drizzle(conn: sqlite3.Connection, mig: Mig, failed: bool) -> None:
    conn.execute(
        "INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)",
        (hashlib.sha256(mig.sql.encode()).hexdigest(), 1_700_000_000_000 + mig.n),
    )


def _write_drizzle(root: Path, items: list[tuple[Mig, str]]) -> None:
    entries = []
    for index, (mig, content) in enumerate(items):
        tag = f"000{mig.n}_{mig.name}"
        _file(root, f"drizzle/{tag}.sql", content)
        entries.append(
            {"idx": index, "version": "6", "when": 1_700_000_000_000 + mig.n, "tag": tag, "breakpoints": True}
        )
    _file(
        root,
        "drizzle/meta/_journal.json",
        json.dumps({"version": "7", "dialect": "sqlite", "entries": entries}),
    )


def _record_sqlalchemy_migrate(conn: sqlite3.Connection, mig: Mig, failed: bool) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO migrate_version (repository_id, repository_path, version)"
        " VALUES ('shop', 'repo', ?)",
        (mig.n,),
    )


def _record_room(conn: sqlite3.Connection, mig: Mig, failed: bool) -> None:
    conn.execute(f"PRAGMA user_version = {mig.n}")
    conn.execute(
        "INSERT OR REPLACE INTO room_master_table (id, identity_hash) VALUES (42, ?)", (f"hash-{mig.n}",)
    )


def _write_room(root: Path, items: list[tuple[Mig, str]]) -> None:
    for mig, content in items:
        identity = f"hash-{mig.n}" if content == mig.sql else "hash-changed"
        schema = {
            "formatVersion": 1,
            "database": {"version": mig.n, "identityHash": identity, "entities": []},
        }
        _file(root, f"schemas/com.example.AppDatabase/{mig.n}.json", json.dumps(schema))


def _write_hand_rolled(root: Path, items: list[tuple[Mig, str]]) -> None:
    for mig, content in items:
        _file(root, f"migrations/00{mig.n}_{mig.name}.up.sql", content)
        _file(root, f"migrations/00{mig.n}_{mig.name}.down.sql", f"DROP TABLE t{mig.n};\n")


CASES = [
    Case(
        "django",
        "CREATE TABLE django_migrations (id integer NOT NULL PRIMARY KEY AUTOINCREMENT,"
        " app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied datetime NOT NULL)",
        _insert(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('shop', ?, ?)",
            lambda m, f: (f"000{m.n}_{m.name}", f"{_iso(m)}.123456"),
        ),
        lambda root, items: [
            _file(root, "shop/migrations/__init__.py", ""),
            *[_file(root, f"shop/migrations/000{m.n}_{m.name}.py", c) for m, c in items],
        ],
        lambda m: f"shop.000{m.n}_{m.name}",
    ),
    Case(
        "rails",
        "CREATE TABLE schema_migrations (version varchar NOT NULL PRIMARY KEY);"
        "CREATE TABLE ar_internal_metadata (key varchar NOT NULL PRIMARY KEY, value varchar,"
        " created_at datetime(6) NOT NULL, updated_at datetime(6) NOT NULL);"
        "INSERT INTO ar_internal_metadata VALUES ('environment', 'development', '2024-01-01', '2024-01-01')",
        _insert("INSERT INTO schema_migrations VALUES (?)", lambda m, f: (m.stamp,)),
        _each(lambda m: f"db/migrate/{m.stamp}_{m.name}.rb"),
        lambda m: m.stamp,
    ),
    Case(
        "golang-migrate",
        "CREATE TABLE schema_migrations (version uint64, dirty bool);"
        "CREATE UNIQUE INDEX version_unique ON schema_migrations (version)",
        _record_golang,
        lambda root, items: [
            _file(root, f"migrations/{m.n}_{m.name}.{d}.sql", c) for m, c in items for d in ("up", "down")
        ],
        lambda m: str(m.n),
        number_based=True,
        failures=True,
    ),
    Case(
        "dbmate",
        "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY)",
        _insert("INSERT INTO schema_migrations VALUES (?)", lambda m, f: (m.stamp,)),
        _each(lambda m: f"db/migrations/{m.stamp}_{m.name}.sql"),
        lambda m: m.stamp,
    ),
    Case(
        "ecto",
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, inserted_at TEXT)",
        _insert(
            "INSERT INTO schema_migrations VALUES (?, ?)",
            lambda m, f: (int(m.stamp), _iso(m).replace(" ", "T")),
        ),
        _each(lambda m: f"priv/repo/migrations/{m.stamp}_{m.name}.exs"),
        lambda m: m.stamp,
    ),
    Case(
        "flyway",
        f"CREATE TABLE flyway_schema_history ({FLYWAY_COLUMNS})",
        _record_flyway("flyway_schema_history"),
        _each(lambda m: f"src/main/resources/db/migration/V{m.n}__{m.name}.sql"),
        lambda m: str(m.n),
        checksums=True,
        failures=True,
    ),
    Case(
        "flyway",  # Flyway 4 and older: schema_version with version_rank
        f"CREATE TABLE schema_version (version_rank INT NOT NULL DEFAULT 1, {FLYWAY_COLUMNS})",
        _record_flyway("schema_version"),
        _each(lambda m: f"db/migration/V{m.n}__{m.name}.sql"),
        lambda m: str(m.n),
        checksums=True,
        failures=True,
    ),
    Case(
        "liquibase",
        "CREATE TABLE DATABASECHANGELOG (ID VARCHAR(255) NOT NULL, AUTHOR VARCHAR(255) NOT NULL,"
        " FILENAME VARCHAR(255) NOT NULL, DATEEXECUTED TIMESTAMP NOT NULL, ORDEREXECUTED INT NOT NULL,"
        " EXECTYPE VARCHAR(10) NOT NULL, MD5SUM VARCHAR(35), DESCRIPTION VARCHAR(255), COMMENTS VARCHAR(255),"
        " TAG VARCHAR(255), LIQUIBASE VARCHAR(20), CONTEXTS VARCHAR(255), LABELS VARCHAR(255),"
        " DEPLOYMENT_ID VARCHAR(10));"
        "CREATE TABLE DATABASECHANGELOGLOCK (ID INT NOT NULL PRIMARY KEY, LOCKED BOOLEAN NOT NULL,"
        " LOCKGRANTED TIMESTAMP, LOCKEDBY VARCHAR(255));"
        "INSERT INTO DATABASECHANGELOGLOCK VALUES (1, 0, NULL, NULL)",
        _record_liquibase,
        _write_liquibase,
        lambda m: f"changelog.xml::{m.n}::alice",
        failures=True,
        key_of=lambda ident: ident.split("::", 1)[1],
    ),
    Case(
        "prisma",
        'CREATE TABLE "_prisma_migrations" ("id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL,'
        ' "finished_at" DATETIME, "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,'
        ' "started_at" DATETIME NOT NULL DEFAULT current_timestamp,'
        ' "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)',
        _record_prisma,
        _each(lambda m: f"prisma/migrations/{m.stamp}_{m.name}/migration.sql"),
        lambda m: f"{m.stamp}_{m.name}",
        checksums=True,
        failures=True,
    ),
    Case(
        "knex",
        "CREATE TABLE knex_migrations (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, name varchar(255),"
        " batch integer, migration_time datetime);"
        "CREATE TABLE knex_migrations_lock (`index` integer NOT NULL PRIMARY KEY AUTOINCREMENT,"
        " is_locked integer);"
        "INSERT INTO knex_migrations_lock (is_locked) VALUES (0)",
        _insert(
            "INSERT INTO knex_migrations (name, batch, migration_time) VALUES (?, ?, ?)",
            lambda m, f: (f"{m.stamp}_{m.name}.js", 1 if m.n < 2 else 2, _ms(m)),
        ),
        _each(lambda m: f"migrations/{m.stamp}_{m.name}.js"),
        lambda m: f"{m.stamp}_{m.name}.js",
    ),
    Case(
        "sequelize",
        "CREATE TABLE `SequelizeMeta` (`name` VARCHAR(255) NOT NULL UNIQUE PRIMARY KEY)",
        _insert("INSERT INTO SequelizeMeta VALUES (?)", lambda m, f: (f"{m.stamp}-{m.name}.js",)),
        _each(lambda m: f"migrations/{m.stamp}-{m.name}.js"),
        lambda m: f"{m.stamp}-{m.name}.js",
    ),
    Case(
        "typeorm",
        'CREATE TABLE "migrations" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL,'
        ' "timestamp" bigint NOT NULL, "name" varchar NOT NULL)',
        _insert(
            "INSERT INTO migrations (timestamp, name) VALUES (?, ?)",
            lambda m, f: (1_700_000_000_000 + m.n, f"{m.camel}{1_700_000_000_000 + m.n}"),
        ),
        _write_typeorm,
        lambda m: f"{m.camel}{1_700_000_000_000 + m.n}",
    ),
    Case(
        "laravel",
        'CREATE TABLE "migrations" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL,'
        ' "migration" varchar NOT NULL, "batch" integer NOT NULL)',
        _insert(
            "INSERT INTO migrations (migration, batch) VALUES (?, ?)",
            lambda m, f: (f"2024_01_01_00000{m.n}_{m.name}", m.n),
        ),
        _each(lambda m: f"database/migrations/2024_01_01_00000{m.n}_{m.name}.php"),
        lambda m: f"2024_01_01_00000{m.n}_{m.name}",
    ),
    Case(
        "goose",
        "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL,"
        " is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));"
        "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1)",
        _record_goose,
        _each(lambda m: f"migrations/0000{m.n}_{m.name}.sql"),
        lambda m: str(m.n),
        key_of=lambda ident: ident.lstrip("0"),
    ),
    Case(
        "diesel",
        "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL,"
        " run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        _insert("INSERT INTO __diesel_schema_migrations VALUES (?, ?)", lambda m, f: (m.stamp, _iso(m))),
        _each(lambda m: f"migrations/2024-01-01-00000{m.n}_{m.name}/up.sql"),
        lambda m: m.stamp,
    ),
    Case(
        "sqlx",
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,"
        " installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL,"
        " checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
        _record_sqlx,
        _each(lambda m: f"migrations/{m.stamp}_{m.name}.sql"),
        lambda m: m.stamp,
        checksums=True,
        failures=True,
    ),
    Case(
        "efcore",
        'CREATE TABLE "__EFMigrationsHistory" ("MigrationId" TEXT NOT NULL'
        ' CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY, "ProductVersion" TEXT NOT NULL)',
        _insert(
            "INSERT INTO __EFMigrationsHistory VALUES (?, '8.0.1')", lambda m, f: (f"{m.stamp}_{m.camel}",)
        ),
        _write_efcore,
        lambda m: f"{m.stamp}_{m.camel}",
    ),
    Case(
        "yoyo",
        "CREATE TABLE _yoyo_migration (migration_hash VARCHAR(64) NOT NULL PRIMARY KEY,"
        " migration_id VARCHAR(255) NOT NULL, applied_at_utc TIMESTAMP NOT NULL);"
        "CREATE TABLE _yoyo_log (id VARCHAR(36), migration_hash VARCHAR(64), migration_id VARCHAR(255),"
        " operation VARCHAR(10), username VARCHAR(255), hostname VARCHAR(255), comment VARCHAR(255),"
        " created_at_utc TIMESTAMP);"
        "CREATE TABLE _yoyo_version (version INT NOT NULL PRIMARY KEY, installed_at_utc TIMESTAMP);"
        "CREATE TABLE yoyo_lock (locked INT DEFAULT 1, ctime TIMESTAMP, pid INT NOT NULL,"
        " PRIMARY KEY (locked))",
        _insert(
            "INSERT INTO _yoyo_migration VALUES (?, ?, ?)",
            lambda m, f: (
                hashlib.sha256(f"000{m.n}_{m.name}".encode()).hexdigest(),
                f"000{m.n}_{m.name}",
                _iso(m),
            ),
        ),
        lambda root, items: [
            _file(root, f"000{m.n}_{m.name}{suffix}", c)
            for m, c in items
            for suffix in (".sql", ".rollback.sql")
        ],
        lambda m: f"000{m.n}_{m.name}",
    ),
    Case(
        "peewee-migrate",
        'CREATE TABLE "migratehistory" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL,'
        ' "migrated_at" DATETIME NOT NULL)',
        _insert(
            "INSERT INTO migratehistory (name, migrated_at) VALUES (?, ?)",
            lambda m, f: (f"00{m.n}_{m.name}", _iso(m)),
        ),
        _each(lambda m: f"migrations/00{m.n}_{m.name}.py"),
        lambda m: f"00{m.n}_{m.name}",
    ),
    Case(
        "aerich",
        'CREATE TABLE "aerich" ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,'
        ' "version" VARCHAR(255) NOT NULL, "app" VARCHAR(100) NOT NULL, "content" JSON NOT NULL)',
        _insert(
            "INSERT INTO aerich (version, app, content) VALUES (?, 'models', '{}')",
            lambda m, f: (f"{m.n}_{m.stamp}_{m.name}.py",),
        ),
        _each(lambda m: f"migrations/models/{m.n}_{m.stamp}_{m.name}.py"),
        lambda m: f"models/{m.n}_{m.stamp}_{m.name}.py",
    ),
    Case(
        "drizzle",
        'CREATE TABLE "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)',
        _record_drizzle,
        _write_drizzle,
        lambda m: str(1_700_000_000_000 + m.n),
        checksums=True,
    ),
    Case(
        "sqlalchemy-migrate",
        "CREATE TABLE migrate_version (repository_id VARCHAR(250) NOT NULL PRIMARY KEY, repository_path TEXT,"
        " version INTEGER)",
        _record_sqlalchemy_migrate,
        _each(lambda m: f"versions/00{m.n}_{m.name}.py"),
        lambda m: str(m.n),
        number_based=True,
    ),
    Case(
        "user_version",
        "CREATE TABLE room_master_table (id INTEGER PRIMARY KEY, identity_hash TEXT);"
        "CREATE TABLE android_metadata (locale TEXT); INSERT INTO android_metadata VALUES ('en_US')",
        _record_room,
        _write_room,
        lambda m: str(m.n),
        number_based=True,
        checksums=True,
    ),
    Case(
        "schema_version",
        "CREATE TABLE schema_version (version INTEGER NOT NULL)",
        _insert("INSERT INTO schema_version VALUES (?)", lambda m, f: (m.n,)),
        _write_hand_rolled,
        lambda m: str(m.n),
        number_based=True,
    ),
]
IDS = [f"{case.key}-{index}" for index, case in enumerate(CASES)]
WITH_CHECKSUMS = [
    pytest.param(case, id=ident) for case, ident in zip(CASES, IDS, strict=True) if case.checksums
]
WITH_FAILURES = [
    pytest.param(case, id=ident) for case, ident in zip(CASES, IDS, strict=True) if case.failures
]


def _build(
    tmp_path: Path,
    case: Case,
    applied: list[int],
    on_disk: list[int],
    *,
    changed: int | None = None,
    failed: int | None = None,
) -> tuple[sqlite3.Connection, Path]:
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=MEMORY")  # no fsync: these files are throw-away
    conn.execute("PRAGMA synchronous=OFF")
    conn.executescript(case.create)
    for n in applied:
        case.record(conn, MIGS[n], False)
    if failed is not None:
        case.record(conn, MIGS[failed], True)
    conn.commit()
    conn.close()
    folder = tmp_path / "project"
    folder.mkdir()
    case.write(folder, [(MIGS[n], CHANGED if n == changed else MIGS[n].sql) for n in on_disk])
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    configure_connection(reader)
    return reader, folder


def _status(conn: sqlite3.Connection, case: Case, folder: Path) -> ToolStatus:
    report = migration_status(conn, folder=folder)
    found = [status for status in report.tools if status.tool == case.key]
    assert [s.tool for s in report.tools] == [case.key], f"expected only {case.key}, found {report.tools}"
    return found[0]


def _keys(case: Case, idents: list[str]) -> set[str]:
    return {case.key_of(ident) for ident in idents}


def _expected(case: Case, numbers: list[int]) -> set[str]:
    return {case.key_of(case.ident(MIGS[n])) for n in numbers}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_all_applied_means_nothing_pending_missing_or_changed(tmp_path: Path, case: Case) -> None:
    conn, folder = _build(tmp_path, case, applied=[1, 2, 3], on_disk=[1, 2, 3])
    status = _status(conn, case, folder)
    assert status.pending is not None and status.pending.compared, status.pending
    assert status.pending.pending == []
    assert status.pending.missing == []
    assert status.pending.checksum_mismatches == []
    assert status.warnings == []
    assert case.key_of(status.current_version or "") == case.key_of(case.ident(MIGS[3]))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_unapplied_file_is_pending(tmp_path: Path, case: Case) -> None:
    conn, folder = _build(tmp_path, case, applied=[1, 2], on_disk=[1, 2, 3])
    status = _status(conn, case, folder)
    assert status.pending is not None
    assert _keys(case, [item.id for item in status.pending.pending]) == _expected(case, [3])
    assert status.pending.missing == []
    assert case.key_of(status.current_version or "") == case.key_of(case.ident(MIGS[2]))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_applied_migration_without_file_is_missing(tmp_path: Path, case: Case) -> None:
    applied = [4] if case.number_based else [1, 2, 4]
    conn, folder = _build(tmp_path, case, applied=applied, on_disk=[1, 2, 3])
    status = _status(conn, case, folder)
    assert status.pending is not None
    assert _keys(case, [row.id for row in status.pending.missing]) == _expected(case, [4])
    expected_pending = [] if case.number_based else [3]
    assert _keys(case, [item.id for item in status.pending.pending]) == _expected(case, expected_pending)


@pytest.mark.parametrize("case", WITH_CHECKSUMS)
def test_file_changed_after_it_was_applied_is_a_checksum_mismatch(tmp_path: Path, case: Case) -> None:
    conn, folder = _build(tmp_path, case, applied=[1, 2], on_disk=[1, 2, 3], changed=2)
    status = _status(conn, case, folder)
    assert status.pending is not None
    mismatches = status.pending.checksum_mismatches
    assert _keys(case, [m.id for m in mismatches]) == _expected(case, [2])
    assert all(m.stored != m.computed for m in mismatches)


@pytest.mark.parametrize("case", WITH_FAILURES)
def test_failed_or_dirty_run_is_flagged_and_warned(tmp_path: Path, case: Case) -> None:
    applied = [] if case.number_based else [1]
    conn, folder = _build(tmp_path, case, applied=applied, on_disk=[1, 2, 3], failed=2)
    status = _status(conn, case, folder)
    failed = [row for row in status.history if row.success is False]
    assert [case.key_of(row.id) for row in failed] == [case.key_of(case.ident(MIGS[2]))]
    assert any("2" in warning for warning in status.warnings), status.warnings
