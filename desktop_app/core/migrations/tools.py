"""Every migration tool we recognise, as data: adding a tool is adding an entry here.

Each entry gives the columns that identify the tool's tracking table (tools let users rename it, so
detection never relies on the name), the family reader of that table (`readers`), what each column
means (`Roles`), and where the project keeps the tool's migration files (`Files`). Facts from each
tool's own source; look-alikes are told apart by their columns, then by `accepts`. For a table
matching several entries, the first wins.

Applied-at times are read by `parse_time`, whatever the tool stores: ISO text (Django, Ecto, goose,
Diesel...), Unix seconds or milliseconds (Prisma, Knex).
"""

from __future__ import annotations

import re

from desktop_app.core.migrations import quirks as q
from desktop_app.core.migrations.alembic_support import compare_alembic
from desktop_app.core.migrations.checksums import FLYWAY, PRISMA, SHA256, SQLX
from desktop_app.core.migrations.common import numeric_key
from desktop_app.core.migrations.folders import compare_by_number
from desktop_app.core.migrations.liquibase_changelog import CHANGELOG_FILE
from desktop_app.core.migrations.readers import read_heads, read_history, read_numbers, read_user_version
from desktop_app.core.migrations.spec import Files, Lock, Roles, ToolSpec, as_int, as_str, as_text, as_time
from desktop_app.core.migrations.spec import columns as cols

_ANY_ROW_LOCK = "{lock} holds a lock: a migration is running or crashed."

# Python -----------------------------------------------------------------------------------------------------

ALEMBIC = ToolSpec(
    # alembic_version, or any table whose only column is version_num; it holds the heads only
    "alembic", "Alembic", read_heads, cols("version_num"), cols("version_num"),
    roles=Roles(id="version_num"),
    compare=compare_alembic,
)  # fmt: skip
DJANGO = ToolSpec(
    # django_migrations
    "django", "Django", read_history, cols("app", "name", "applied"), cols("id", "app", "name", "applied"),
    roles=Roles(
        id="{app}.{name}", name=as_str("name"), applied_at="applied",
        extra={"app": as_str("app"), "row_id": "id"}, order_by=("id",),
    ),
    latest_per="app",
    files=Files(re.compile(r"[^_~][\w]*\.py"), "Django", "<app>/migrations/NNNN_name.py", recursive=True),
    compare=q.compare_django,
)  # fmt: skip
YOYO = ToolSpec(
    # _yoyo_migration (+ _yoyo_log, _yoyo_version, yoyo_lock)
    "yoyo", "yoyo-migrations", read_history, cols("migration_hash", "migration_id", "applied_at_utc"),
    roles=Roles(
        id="migration_id", applied_at="applied_at_utc",
        extra={"migration_hash": as_text("migration_hash")}, order_by=("applied_at_utc",),
    ),
    inspect=q.yoyo_log,
    related=("_yoyo_log", "_yoyo_version", "yoyo_lock"),
    lock=Lock("yoyo_lock", "yoyo_lock is held: a migration is running or crashed."),
    files=Files(
        re.compile(r"(?!post-apply)(?!__)(.+?)(\.rollback)?\.(py|sql)"), "yoyo", "*.py or *.sql",
        name=1, skip=2,
    ),
)  # fmt: skip
PEEWEE = ToolSpec(
    # migratehistory
    "peewee-migrate", "peewee-migrate", read_history, cols("id", "name", "migrated_at"),
    cols("id", "name", "migrated_at"),
    roles=Roles(id="name", applied_at="migrated_at", extra={"row_id": "id"}, order_by=("id",)),
    files=Files(re.compile(r"(\d{3}_[^.]+)\.py"), "peewee-migrate", "NNN_name.py", ("migrations",), name=1),
)  # fmt: skip
AERICH = ToolSpec(
    # aerich
    "aerich", "aerich (Tortoise ORM)", read_history, cols("id", "version", "app", "content"),
    cols("id", "version", "app", "content"),
    # `content` (the models as JSON, large) is never read.
    roles=Roles(id="{app}/{version}", name="version", extra={"app": as_str("app")}, order_by=("id",)),
    latest_per="app",
    files=Files(
        re.compile(r"(\d+)_.+\.(py|sql|json)"), "aerich", "<app>/<n>_<timestamp>_<name>.py", ("migrations",),
    ),
    compare=q.compare_aerich,
)  # fmt: skip
SQLALCHEMY_MIGRATE = ToolSpec(
    # migrate_version: one row per repository
    "sqlalchemy-migrate", "sqlalchemy-migrate", read_history,
    cols("repository_id", "repository_path", "version"), cols("repository_id", "repository_path", "version"),
    roles=Roles(id="version", name="repository_id", extra={"repository_path": as_text("repository_path")}),
    current=q.highest_id,
    many_rows="{n} repositories share this table; versions are per repository.",
    files=Files(
        re.compile(r"(\d+)_.*\.(py|sql)"), "sqlalchemy-migrate", "versions/NNN_name.py", ("versions",),
        id=q.number(1), name=q.stem,
    ),
    compare=compare_by_number(each_row=False),
)  # fmt: skip

# JVM --------------------------------------------------------------------------------------------------------

FLYWAY_TOOL = ToolSpec(
    # Flyway ≥5 `flyway_schema_history`, ≤4 `schema_version` (with version_rank).
    "flyway", "Flyway", read_history, cols("installed_rank", "version", "script", "checksum", "success"),
    roles=Roles(
        id=q.flyway_id, name="description", applied_at="installed_on", checksum="checksum",
        success="success", reads=("version", "description"),
        extra={
            "installed_rank": "installed_rank", "type": as_text("type"), "script": as_text("script"),
            "installed_by": as_text("installed_by"), "execution_time_ms": "execution_time",
            "repeatable": lambda row: row["version"] is None,
        },
        order_by=("installed_rank",),
    ),
    in_force=q.flyway_in_force, current=q.flyway_current,
    failed="failed (run `flyway repair` once fixed)",
    inspect=q.flyway_facts,
    files=Files(
        re.compile(r"V(\d[\d._]*)__(.+)\.(sql|java|kt)"), "Flyway", "V<version>__<desc>.sql, R__<desc>.sql",
        ("src/main/resources/db/migration", "db/migration"),
        id=q.flyway_file_version, name=q.spaced(2), recursive=True, key=q.flyway_version_id, checksum=FLYWAY,
    ),
    compare=q.compare_flyway,
)  # fmt: skip
LIQUIBASE = ToolSpec(
    # DATABASECHANGELOG (+ DATABASECHANGELOGLOCK)
    "liquibase", "Liquibase", read_history, cols("id", "author", "filename", "dateexecuted", "orderexecuted"),
    roles=Roles(
        id="{filename}::{id}::{author}", name="description", applied_at="dateexecuted", checksum="md5sum",
        success=lambda row: q.liquibase_exectype(row) != "FAILED", reads=("exectype",),
        extra={
            "changeset_id": as_text("id"), "author": as_text("author"), "filename": as_text("filename"),
            "exectype": q.liquibase_exectype, "order": "orderexecuted", "tag": as_text("tag"),
            "deployment_id": as_text("deployment_id"), "comments": as_text("comments"),
        },
        order_by=("orderexecuted", "dateexecuted"),
    ),
    failed="failed",
    inspect=q.liquibase_last_tag,
    related=("DATABASECHANGELOGLOCK",),
    lock=Lock("DATABASECHANGELOGLOCK", "DATABASECHANGELOGLOCK is held by {holders}.", "locked", "lockedby"),
    files=Files(
        CHANGELOG_FILE, "Liquibase", "changelog files with changesets",
        ("src/main/resources/db/changelog", "db/changelog", "changelog"),
    ),
    compare=q.compare_liquibase,
)  # fmt: skip

# JavaScript / TypeScript ------------------------------------------------------------------------------------

PRISMA_TOOL = ToolSpec(
    # _prisma_migrations; times as Unix milliseconds
    "prisma", "Prisma", read_history, cols("id", "checksum", "finished_at", "migration_name", "started_at"),
    roles=Roles(
        id="migration_name", applied_at=q.prisma_applied_at, checksum="checksum", success=q.prisma_success,
        rolled_back=q.prisma_rolled_back, reads=("finished_at", "rolled_back_at", "started_at"),
        extra={
            "row_id": as_text("id"), "started_at": as_time("started_at"),
            "applied_steps_count": "applied_steps_count", "logs": as_text("logs"),
        },
        order_by=("started_at",),
    ),
    in_force=q.prisma_applied,
    failed="failed (run `prisma migrate resolve` once fixed)",
    inspect=q.prisma_rolled_back_warning,
    files=Files(
        re.compile(r".+"), "Prisma", "<timestamp>_<name>/migration.sql", ("prisma/migrations", "migrations"),
        id=0, name=q.after_underscore, inside="migration.sql", checksum=PRISMA,
    ),
)  # fmt: skip
KNEX = ToolSpec(
    # knex_migrations (+ knex_migrations_lock)
    "knex", "Knex", read_history, cols("id", "name", "batch", "migration_time"),
    cols("id", "name", "batch", "migration_time"),
    roles=Roles(
        id="name", applied_at="migration_time", batch="batch", extra={"row_id": "id"}, order_by=("id",),
    ),
    sort=q.by_batch(lambda row: row.extra["row_id"] or 0),
    last_detail="batch",
    related=("knex_migrations_lock",),
    lock=Lock("{table}_lock", "{lock} is locked: a migration is running or crashed.", "is_locked"),
    files=Files(
        re.compile(r"(?!.*\.d\.ts\Z).+\.(js|ts|cjs|mjs|coffee)"), "Knex", "migration scripts",
        ("migrations",), id=q.file_name, name=q.stem,
    ),
)  # fmt: skip
SEQUELIZE = ToolSpec(
    # SequelizeMeta: the file names
    "sequelize", "Sequelize (umzug)", read_history, cols("name"), cols("name"),
    accepts=q.values_look_like(
        "name", q.fullmatch_text(re.compile(r".+\.(js|cjs|mjs|ts)", re.IGNORECASE), strip=True),
    ),
    empty_as="SequelizeMeta",
    roles=Roles(id="name"),
    current=q.highest_id,
    files=Files(
        re.compile(r"(?!.*\.d\.ts\Z).+\.(js|cjs|mjs|ts)"), "Sequelize", "migration scripts", ("migrations",),
        id=q.file_name, name=q.stem,
    ),
)  # fmt: skip
TYPEORM = ToolSpec(
    # migrations (look-alike of Laravel's): class names
    "typeorm", "TypeORM", read_history, cols("id", "timestamp", "name"), cols("id", "timestamp", "name"),
    roles=Roles(id="name", extra={"row_id": "id", "timestamp": as_int("timestamp")}, order_by=("id",)),
    current=q.latest_by("timestamp"),
    files=Files(
        re.compile(r"(\d+)-(\w+)\.(ts|js)"), "TypeORM", "<timestamp>-Name.ts",
        ("src/migrations", "src/migration", "migrations", "migration"), id=q.typeorm_class,
    ),
)  # fmt: skip
DRIZZLE = ToolSpec(
    # __drizzle_migrations
    "drizzle", "Drizzle", read_history, cols("id", "hash", "created_at"), cols("id", "hash", "created_at"),
    accepts=q.values_look_like("hash", q.fullmatch_text(re.compile(r"[0-9a-fA-F]{64}"))),
    empty_as="__drizzle_migrations",
    # created_at is the journal's `when` (when the migration was generated), not when it ran.
    roles=Roles(
        id="created_at", checksum="hash", extra={"row_id": "id", "generated_at": as_time("created_at")},
        order_by=("created_at", "id"),
    ),
    current=q.highest_id,
    files=Files(
        None, "Drizzle", "meta/_journal.json", ("drizzle", "migrations"),
        key=numeric_key, checksum=SHA256,
    ),
    compare=q.compare_drizzle,
)  # fmt: skip

# PHP --------------------------------------------------------------------------------------------------------

LARAVEL = ToolSpec(
    # migrations (look-alike of TypeORM's)
    "laravel", "Laravel", read_history, cols("id", "migration", "batch"), cols("id", "migration", "batch"),
    roles=Roles(id="migration", batch="batch", extra={"row_id": "id"}),
    sort=q.by_batch(lambda row: row.id),  # Laravel's own order: batch, then migration
    last_detail="batch",
    files=Files(
        re.compile(r"(\d{4}_\d{2}_\d{2}_\d{6}_(\w+))\.php"), "Laravel", "YYYY_MM_DD_HHMMSS_name.php",
        ("database/migrations",),
    ),
)  # fmt: skip

# Go, Rust, .NET ---------------------------------------------------------------------------------------------

GOOSE = ToolSpec(
    # goose_db_version: one row per up or down
    "goose", "goose", read_history, cols("version_id", "is_applied"),
    roles=Roles(
        id="version_id", applied_at="tstamp", rolled_back=q.goose_not_applied, reads=("is_applied",),
        extra={"row_id": "id"}, order_by=("id",),
    ),
    # goose writes a version-0 row when it creates the table; it is not a migration.
    keep=lambda row: numeric_key(row.id) != "0",
    in_force=q.goose_applied, current=q.goose_current,
    inspect=q.goose_rolled_back,
    files=Files(
        re.compile(r"(\d+)_(.+)\.(sql|go)"), "goose", "N_desc.sql or .go", ("migrations", "db/migrations"),
        key=numeric_key,
    ),
)  # fmt: skip
DIESEL = ToolSpec(
    # __diesel_schema_migrations
    "diesel", "Diesel", read_history, cols("version", "run_on"), cols("version", "run_on"),
    roles=Roles(id="version", applied_at="run_on", order_by=("version",)),
    current=q.highest_id,
    files=Files(
        re.compile(r"([^_]+)_(.*)"), "Diesel", "VERSION_name/up.sql", ("migrations",),
        id=q.diesel_version, inside="up.sql",
    ),
)  # fmt: skip
_SQLX_COLUMNS = cols("version", "description", "installed_on", "success", "checksum", "execution_time")
SQLX_TOOL = ToolSpec(
    # _sqlx_migrations
    "sqlx", "sqlx", read_history, _SQLX_COLUMNS, _SQLX_COLUMNS,
    roles=Roles(
        id="version", name="description", applied_at="installed_on", checksum="checksum", success="success",
        extra={"execution_time_ns": "execution_time"}, order_by=("version",),
    ),
    in_force=q.not_failed, current=q.highest_id,
    failed="dirty (partly applied; sqlx refuses to go on)",
    files=Files(
        re.compile(r"(\d+)_(.*?)(?:\.up|(\.down))?\.sql"), "sqlx", "VERSION_desc.sql", ("migrations",),
        name=q.spaced(2), skip=3, key=numeric_key, checksum=SQLX,
    ),
)  # fmt: skip
EF_CORE = ToolSpec(
    # __EFMigrationsHistory (+ __EFMigrationsLock since EF 9)
    "efcore", "Entity Framework Core", read_history, cols("MigrationId", "ProductVersion"),
    roles=Roles(
        id="migrationid", name=q.ef_name, extra={"product_version": as_text("productversion")},
        order_by=("migrationid",),
    ),
    sort=lambda row: row.id,  # EF Core orders by ordinal comparison of MigrationId
    last_detail="product_version",
    related=("__EFMigrationsLock",),
    lock=Lock("__EFMigrationsLock", _ANY_ROW_LOCK),
    files=Files(
        re.compile(r"(\d{14}_(\w+))\.cs"), "EF Core", "YYYYMMDDHHMMSS_Name.cs",
        ("Migrations", "Data/Migrations"), recursive=True,
    ),
)  # fmt: skip

# The schema_migrations look-alikes: Rails, golang-migrate, Ecto, dbmate -------------------------------------

RAILS = ToolSpec(
    # schema_migrations + ar_internal_metadata (Rails 5+)
    "rails", "Rails (Active Record)", read_history, cols("version"), cols("version"),
    accepts=q.is_rails,
    roles=Roles(id="version"),
    sort=q.version_order, current=q.highest_id,
    inspect=q.rails_metadata,
    related=("ar_internal_metadata",),
    files=Files(re.compile(r"(\d+)_(\w+)\.rb"), "Rails", "NNN_name.rb", ("db/migrate",), key=numeric_key),
)  # fmt: skip
GOLANG_MIGRATE = ToolSpec(
    # schema_migrations(version, dirty): exactly one row
    "golang-migrate", "golang-migrate", read_history, cols("version", "dirty"), cols("version", "dirty"),
    roles=Roles(id="version", success=q.not_dirty, reads=("dirty",)),
    many_rows="golang-migrate keeps exactly one row; this table has {n}.",
    inspect=q.golang_dirty,
    files=Files(
        re.compile(r"(\d+)_(.*)\.up\.(\w+)"), "golang-migrate", "N_title.up.sql",
        ("migrations", "db/migrations"),
    ),
    compare=compare_by_number(each_row=True),
)  # fmt: skip
ECTO = ToolSpec(
    # schema_migrations(version, inserted_at)
    "ecto", "Ecto", read_history, cols("version", "inserted_at"), cols("version", "inserted_at"),
    current=q.highest_id,
    roles=Roles(id="version", applied_at="inserted_at", order_by=("version",)),
    files=Files(
        re.compile(r"(\d+)_(\w+)\.exs"), "Ecto", "NNN_name.exs", ("priv/repo/migrations",), key=numeric_key,
    ),
)  # fmt: skip
DBMATE = ToolSpec(
    # schema_migrations(version) of text versions, no ar_internal_metadata
    "dbmate", "dbmate", read_history, cols("version"), cols("version"),
    accepts=q.values_look_like("version", q.digits, unless=q.not_dbmate),
    empty_as="schema_migrations",
    roles=Roles(id="version"),
    sort=q.version_order, current=q.highest_id,
    files=Files(
        re.compile(r"(\d+)_?(.*)\.sql"), "dbmate", "NNN_name.sql", ("db/migrations",),
        name=q.group_or_none(2), key=numeric_key,
    ),
)  # fmt: skip

# Version numbers --------------------------------------------------------------------------------------------

HAND_ROLLED = ToolSpec(
    # schema_version(version INTEGER): current = MAX(version)
    "schema_version", "Hand-rolled schema_version", read_numbers, cols("version"), cols("version"),
    roles=Roles(id="version"),
    accepts=q.values_look_like("version", q.whole_number, unless=q.not_hand_rolled),
    empty_as="schema_version",
    files=Files(
        re.compile(r"(\d+)(?:[_\-.](.*?))?(\.down)?\.\w+", re.IGNORECASE), "schema_version",
        "files named with a leading number", ("migrations",), id=q.number(1), name=q.group_or_none(2), skip=3,
    ),
    compare=q.compare_hand_rolled,
)  # fmt: skip

#: Every table-based tool, in the order look-alikes are tried.
TABLE_TOOLS: tuple[ToolSpec, ...] = (
    ALEMBIC, DJANGO, YOYO, PEEWEE, AERICH, SQLALCHEMY_MIGRATE,
    FLYWAY_TOOL, LIQUIBASE,
    PRISMA_TOOL, KNEX, SEQUELIZE, TYPEORM, DRIZZLE,
    LARAVEL,
    GOOSE, DIESEL, SQLX_TOOL, EF_CORE,
    RAILS, GOLANG_MIGRATE, ECTO, DBMATE,
    HAND_ROLLED,
)  # fmt: skip

#: Detected from `PRAGMA user_version`, not from a table (SQLiteOpenHelper, Android Room).
USER_VERSION = ToolSpec(
    # no table: PRAGMA user_version (+ room_master_table, android_metadata)
    "user_version", "PRAGMA user_version", read_user_version, frozenset(),
    accepts=q.never,
    related=("room_master_table", "android_metadata"),
    files=Files(
        re.compile(r"(\d+)\.json"), "Room", "exported schemas <N>.json", ("schemas", "app/schemas"),
        name=q.parent_name, recursive=True,
    ),
    compare=q.compare_room,
)  # fmt: skip

ALL_TOOLS: tuple[ToolSpec, ...] = (*TABLE_TOOLS, USER_VERSION)
