"""What only one tool does, beyond what its entry in `tools` says as data.

Look-alike tables told apart, companion tables read, rows a tool ignores or takes back, and the
folder layouts that are not "one file per migration" (Django's squashes, Flyway's repeatables,
Liquibase's changelogs, Drizzle's journal, Room's exported schemas).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.core.migrations.checksums import flyway_checksum
from desktop_app.core.migrations.common import highest, numeric_key, sample
from desktop_app.core.migrations.folders import (
    checksum_check,
    compare_found,
    find,
    migrations,
    none_found,
    numbered,
    numbers,
)
from desktop_app.core.migrations.liquibase_changelog import read_changesets
from desktop_app.core.migrations.model import (
    AppliedMigration,
    ChecksumMismatch,
    DiskMigration,
    PendingReport,
    ToolStatus,
)
from desktop_app.core.migrations.pending import (
    dirs_matching,
    files_matching,
    locate,
    read_bytes,
    set_difference,
)
from desktop_app.core.migrations.reversible import read_reversible
from desktop_app.core.migrations.spec import Acceptor, FolderOptions, ReadContext, Row, ToolSpec
from desktop_app.core.migrations.tables import TableShape, flag, integer, stream_rows, text
from desktop_app.core.migrations.times import parse_time
from desktop_app.core.schema.catalog import index_names

History = list[AppliedMigration]

# --- telling look-alike tables apart ------------------------------------------------------------------------

_OLD_RAILS_INDEX = "unique_schema_migrations"


def values_look_like(column: str, test: Callable[[Any], bool], unless: Acceptor | None = None) -> Acceptor:
    """Accept a table whose first values of `column` all pass `test`; an empty one only under the
    tool's `empty_as` name; never one `unless` accepts (it belongs to a look-alike)."""

    def accepts(spec: ToolSpec, ctx: ReadContext, shape: TableShape) -> bool:
        if unless is not None and unless(spec, ctx, shape):
            return False
        values = sample(ctx, shape, column)
        if not values:
            return shape.name.lower() == (spec.empty_as or "").lower()
        return all(test(value) for value in values)

    return accepts


def is_rails(_spec: ToolSpec, ctx: ReadContext, shape: TableShape) -> bool:
    """Rails 5+ keeps ar_internal_metadata beside the table; older Rails left only its unique index."""
    return "ar_internal_metadata" in ctx.shapes or _OLD_RAILS_INDEX in _index_names(ctx, shape)


def _index_names(ctx: ReadContext, shape: TableShape) -> set[str]:
    return {name.lower() for name in index_names(ctx.conn, shape.name)}


def not_dbmate(spec: ToolSpec, ctx: ReadContext, shape: TableShape) -> bool:
    """A one-column `version` table that is Rails' or the hand-rolled pattern's, not dbmate's."""
    return is_rails(spec, ctx, shape) or "INT" in shape.declared_type("version") or _is_schema_version(shape)


def not_hand_rolled(_spec: ToolSpec, ctx: ReadContext, shape: TableShape) -> bool:
    """A one-column `version` table that is Rails' or holds text versions under another name."""
    if "ar_internal_metadata" in ctx.shapes:
        return True
    return "INT" not in shape.declared_type("version") and not _is_schema_version(shape)


def _is_schema_version(shape: TableShape) -> bool:
    return shape.name.lower() == "schema_version"


def fullmatch_text(pattern: re.Pattern[str], *, strip: bool = False) -> Callable[[Any], bool]:
    """A value test: text matching `pattern` in full (`strip`: once stripped of spaces)."""
    return lambda value: isinstance(value, str) and bool(pattern.fullmatch(value.strip() if strip else value))


def whole_number(value: Any) -> bool:
    """A value test: a whole number, stored as a number or as text."""
    return integer(value) is not None


def digits(value: Any) -> bool:
    """A value test: a whole number or a string of digits."""
    return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())


# --- rows, current versions and facts only one tool has -----------------------------------------------------


def version_order(row: AppliedMigration) -> tuple[int, str]:
    """Numeric versions stored as text, in numeric order (Rails, dbmate)."""
    return len(numeric_key(row.id)), numeric_key(row.id)


def by_batch(tie: Callable[[AppliedMigration], Any]) -> Callable[[AppliedMigration], Any]:
    """The order of tools that run migrations in batches: batch, then `tie`."""
    return lambda row: (row.batch or 0, tie(row))


def highest_id(rows: History) -> str | None:
    """The largest id in natural order."""
    return highest(row.id for row in rows)


def not_failed(rows: History) -> History:
    """Rows not marked failed or dirty."""
    return [row for row in rows if row.success is not False]


def latest_by(extra: str) -> Callable[[History], str | None]:
    """The id of the row whose extra value `extra` is the largest (TypeORM's timestamp)."""
    return lambda rows: max(rows, key=lambda row: row.extra[extra] or 0).id if rows else None


def yoyo_log(ctx: ReadContext, _shape: TableShape, status: ToolStatus) -> None:
    """yoyo logs rollbacks in `_yoyo_log`."""
    log = ctx.shapes.get("_yoyo_log")
    if log is not None and {"operation", "migration_id"} <= log.column_set:
        rows = stream_rows(ctx.conn, log, ["operation", "migration_id"], cancel=ctx.cancel)
        rolled_back = [text(r["migration_id"]) or "?" for r in rows if text(r["operation"]) == "rollback"]
        if rolled_back:
            status.warnings.append(f"Rolled back (per _yoyo_log): {', '.join(rolled_back)}")


def rails_metadata(ctx: ReadContext, _shape: TableShape, status: ToolStatus) -> None:
    """Rails 5+ records its environment (and more) in `ar_internal_metadata`."""
    meta = ctx.shapes.get("ar_internal_metadata")
    if meta is None:
        status.details["rails"] = "before 5.0 (no ar_internal_metadata)"
        return
    for row in stream_rows(ctx.conn, meta, ["key", "value"], limit=50, cancel=ctx.cancel):
        if row["key"] is not None:
            status.details[str(row["key"])] = text(row["value"]) or ""


def not_dirty(row: Row) -> bool | None:
    """golang-migrate's `dirty` flag as a success flag."""
    dirty = flag(row["dirty"])
    return None if dirty is None else not dirty


def golang_dirty(_ctx: ReadContext, _shape: TableShape, status: ToolStatus) -> None:
    """golang-migrate's dirty flag, with what to do about it."""
    for row in status.history:
        if row.success is False:
            status.warnings.append(
                f"Dirty: migration {row.id} failed part-way. Fix the database, then run `migrate force` with "
                "the last version that is really applied."
            )


def prisma_success(row: Row) -> bool:
    """Prisma: neither finished nor rolled back = failed."""
    return parse_time(row["finished_at"]) is not None or prisma_rolled_back(row)


def prisma_rolled_back(row: Row) -> bool:
    """Prisma marks a rolled-back migration with `rolled_back_at`."""
    return row["rolled_back_at"] is not None


def prisma_applied_at(row: Row) -> Any:
    """When it finished, else when it started."""
    return parse_time(row["finished_at"]) or parse_time(row["started_at"])


def prisma_applied(rows: History) -> History:
    """Finished and not rolled back."""
    return [row for row in rows if row.success and not row.rolled_back]


def prisma_rolled_back_warning(_ctx: ReadContext, _shape: TableShape, status: ToolStatus) -> None:
    """Rows Prisma marked rolled back."""
    rolled_back = [row.id for row in status.history if row.rolled_back]
    if rolled_back:
        status.warnings.append(f"Rolled back: {', '.join(rolled_back)}")


def goose_applied(rows: History) -> History:
    """The newest row of each version decides whether it is applied."""
    newest: dict[str, AppliedMigration] = {}
    for row in rows:
        newest[numeric_key(row.id)] = row
    return [row for row in newest.values() if not row.rolled_back]


def goose_current(applied: History) -> str | None:
    """The highest applied version, "0" when none (goose's own starting point)."""
    return highest_id(applied) or "0"


def goose_rolled_back(_ctx: ReadContext, _shape: TableShape, status: ToolStatus) -> None:
    """Versions whose newest row says `goose down` took them back."""
    applied = {row.id for row in goose_applied(status.history)}
    rolled_back = sorted({row.id for row in status.history if row.rolled_back} - applied)
    if rolled_back:
        status.warnings.append(f"Rolled back (goose down): {', '.join(rolled_back)}")


def goose_not_applied(row: Row) -> bool:
    """goose writes is_applied = false for a `down`."""
    return flag(row["is_applied"]) is False


def ef_name(row: Row) -> str | None:
    """EF Core's MigrationId is <timestamp>_<Name>."""
    return (text(row["migrationid"]) or "").partition("_")[2] or None


# --- Flyway -------------------------------------------------------------------------------------------------

FLYWAY_REPEATABLE = re.compile(r"R__(.+)\.sql")
_FLYWAY_UNDO_TYPES = frozenset({"UNDO_SQL", "UNDO_JDBC", "UNDO_SCRIPT"})
#: Rows Flyway writes that stand for no migration file.
_FLYWAY_MARKER_TYPES = frozenset({"SCHEMA", "BASELINE", "DELETE"})


def flyway_version_key(version: str) -> tuple[int, ...]:
    """Flyway's version order: parts split on '.' or '_' compared as numbers ('1.10' after '1.9')."""
    return tuple(int(part) for part in re.split(r"[._]", version) if part.isdigit())


def flyway_id(row: Row) -> str:
    """The version; a repeatable migration has none and goes by its description."""
    version = text(row["version"])
    return version if version is not None else text(row["description"]) or ""


def flyway_in_force(rows: History) -> History:
    """Successful versioned rows still in force (a later undo row takes its version back out)."""
    in_force: dict[tuple[int, ...], AppliedMigration] = {}
    for row in rows:
        if row.extra["repeatable"] or row.success is False:
            continue
        key = flyway_version_key(row.id)
        if row.extra["type"] in _FLYWAY_UNDO_TYPES:
            in_force.pop(key, None)
        elif row.extra["type"] not in {"SCHEMA", "DELETE"}:
            in_force[key] = row
    return list(in_force.values())


def flyway_current(applied: History) -> str | None:
    """The highest version in force, in Flyway's order."""
    return max(applied, key=lambda row: flyway_version_key(row.id)).id if applied else None


def flyway_facts(_ctx: ReadContext, shape: TableShape, status: ToolStatus) -> None:
    """Flyway 4 and older (`version_rank`), and undone versions."""
    if "version_rank" in shape.columns:
        status.label = "Flyway (4 or older)"
    undone = [row.id for row in status.history if row.extra["type"] in _FLYWAY_UNDO_TYPES]
    if undone:
        status.warnings.append(f"Undone: {', '.join(undone)}")


def compare_flyway(
    spec: ToolSpec, status: ToolStatus, folder: Path, _options: FolderOptions
) -> PendingReport:
    """Versioned files above the current version, below it (outOfOrder), and changed repeatables."""
    assert spec.files is not None
    where, versioned = find(spec.files, folder)
    repeatable = files_matching(where, FLYWAY_REPEATABLE, recursive=True)
    if not versioned and not repeatable:
        return none_found(spec, where)
    applied = [
        row for row in flyway_in_force(status.history) if row.extra["type"] not in _FLYWAY_MARKER_TYPES
    ]
    check = checksum_check(spec.files.checksum)

    def sql_only(row: AppliedMigration, file: DiskMigration) -> tuple[bool, str] | None:
        return check(row, file) if check is not None and file.path.endswith(".sql") else None

    report = set_difference(
        where, applied, migrations(versioned), key=spec.files.key, stored_matches=sql_only
    )
    if applied:
        top = max(flyway_version_key(row.id) for row in applied)
        late = [item.id for item in report.pending if flyway_version_key(item.id) < top]
        if late:
            report.notes.append(
                "Below the current version, so Flyway ignores them unless outOfOrder is on: "
                + ", ".join(late)
            )
    _compare_repeatables(status, repeatable, report)
    return report


def flyway_version_id(raw: str) -> str:
    """A version as Flyway compares it ('1_1' = '1.1' = '01.1')."""
    return ".".join(str(part) for part in flyway_version_key(raw))


def _compare_repeatables(
    status: ToolStatus, found: list[tuple[Path, re.Match[str]]], report: PendingReport
) -> None:
    """A repeatable migration is pending when never applied or changed since its last run."""
    last_run: dict[str, AppliedMigration] = {}
    for row in status.history:
        if row.extra["repeatable"] and row.success is not False:
            last_run[(row.name or "").lower()] = row
    seen: set[str] = set()
    for path, match in found:
        description = match[1].replace("_", " ")
        seen.add(description.lower())
        row = last_run.get(description.lower())
        content = read_bytes(path)
        if row is None:
            report.pending.append(DiskMigration(id=f"R__{match[1]}", name=description, path=str(path)))
        elif content is not None and integer(row.checksum) != flyway_checksum(content):
            report.pending.append(DiskMigration(id=f"R__{match[1]}", name=description, path=str(path)))
            report.notes.append(
                f"Repeatable {path.name} changed since its last run; Flyway will run it again."
            )
    report.missing += [row for key, row in last_run.items() if key not in seen]


# --- Liquibase ----------------------------------------------------------------------------------------------


def liquibase_exectype(row: Row) -> str:
    """EXECTYPE upper-cased (EXECUTED, FAILED, SKIPPED, RERAN, MARK_RAN)."""
    return (text(row["exectype"]) or "").upper()


def liquibase_last_tag(_ctx: ReadContext, _shape: TableShape, status: ToolStatus) -> None:
    """The last tag set with `liquibase tag`."""
    tags = [row.extra["tag"] for row in status.history if row.extra["tag"]]
    if tags:
        status.details["last_tag"] = tags[-1]


def _liquibase_key(ident: str) -> str:
    # The stored FILENAME is the path as the changelog referenced it; match on (id, author) only.
    return ident.split("::", 1)[1] if "::" in ident else ident


def compare_liquibase(
    spec: ToolSpec, status: ToolStatus, folder: Path, _options: FolderOptions
) -> PendingReport:
    """Changesets of the changelog files (any format) not yet run."""
    assert spec.files is not None
    where = locate(folder, *spec.files.places)
    assert spec.files.pattern is not None
    changesets = read_changesets(where, spec.files.pattern)
    if not changesets:
        return none_found(spec, where)
    disk = [
        DiskMigration(id=f"{cs.path.name}::{cs.id}::{cs.author}", name=cs.id, path=str(cs.path))
        for cs in changesets
    ]
    applied = [row for row in status.history if row.success]
    report = set_difference(where, applied, disk, key=_liquibase_key)
    report.notes.append("MD5SUM is shown but not verified: Liquibase's checksum depends on its version.")
    return report


# --- Django -------------------------------------------------------------------------------------------------


def compare_django(
    spec: ToolSpec, status: ToolStatus, folder: Path, _options: FolderOptions
) -> PendingReport:
    """`<app>/migrations/NNNN_name.py` of the apps in the folder, with squashed migrations' rules."""
    assert spec.files is not None
    found = [
        (path, app)
        for path, _m in files_matching(folder, spec.files.pattern, recursive=True)
        if path.parent.name == "migrations"
        and (path.parent / "__init__.py").is_file()
        and (app := path.parent.parent.name)
    ]
    if not found:
        return none_found(spec, folder)
    apps = {app for _path, app in found}
    disk = [DiskMigration(id=f"{app}.{path.stem}", name=path.stem, path=str(path)) for path, app in found]
    disk_ids = {item.id for item in disk}
    # Built-in apps (auth, admin...) live in site-packages: compare only the apps found in this folder.
    applied = [row for row in status.history if row.extra["app"] in apps]
    applied_ids = {row.id for row in applied}
    squashes = {
        item.id: [f"{r_app}.{r_name}" for r_app, r_name in _django_replaces(path)]
        for item, (path, _a) in zip(disk, found, strict=True)
    }
    squashes = {squashed: replaced for squashed, replaced in squashes.items() if replaced}
    replaced_by = {r: squashed for squashed, replaced in squashes.items() for r in replaced}
    report = PendingReport(folder=str(folder))
    for item in disk:
        if item.id not in applied_ids and not _django_covered(
            item.id, squashes, replaced_by, applied_ids, disk_ids
        ):
            report.pending.append(item)
    # A replaced migration whose file was deleted after squashing is not missing.
    report.missing = [row for row in applied if row.id not in disk_ids and row.id not in replaced_by]
    return report


def _django_covered(
    ident: str, squashes: dict[str, list[str]], replaced_by: dict[str, str], applied: set[str], disk: set[str]
) -> bool:
    """True when squashing makes an unrecorded migration not pending (Django's own rules)."""
    replaced = squashes.get(ident)
    if replaced:
        done = [r for r in replaced if r in applied]
        # All replaced applied: the squashed one counts as applied. Part applied with the old files still
        # present: Django runs the remaining old ones instead.
        return len(done) == len(replaced) or (bool(done) and any(r in disk for r in replaced))
    squashed = replaced_by.get(ident)
    if squashed is not None and squashed in disk:
        # None of the replaced applied yet: Django runs the squashed migration instead of this one.
        return not any(r in applied for r in squashes[squashed])
    return False


def _django_replaces(path: Path) -> list[tuple[str, str]]:
    """The `replaces` list of a squashed migration, read with ast (nothing is executed)."""
    tree = _parse(path)
    if tree is None:
        return []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            for statement in node.body:
                value = _assigned_value(statement, "replaces")
                if value is not None:
                    try:
                        pairs = ast.literal_eval(value)
                    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
                        return []
                    if not isinstance(pairs, list | tuple):
                        return []
                    return [
                        (pair[0], pair[1])
                        for pair in pairs
                        if isinstance(pair, tuple | list)
                        and len(pair) == 2
                        and all(isinstance(part, str) for part in pair)
                    ]
    return []


def _assigned_value(statement: ast.stmt, name: str) -> ast.expr | None:
    if isinstance(statement, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in statement.targets
    ):
        return statement.value
    if (
        isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and statement.target.id == name
    ):
        return statement.value
    return None


def _parse(path: Path) -> ast.Module | None:
    content = read_bytes(path)
    if content is None:
        return None
    try:
        return ast.parse(content, filename=str(path))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# --- aerich -------------------------------------------------------------------------------------------------

_ANY_DIR = re.compile(r"[^._].*")


def compare_aerich(
    spec: ToolSpec, status: ToolStatus, folder: Path, _options: FolderOptions
) -> PendingReport:
    """`<app>/<n>_<timestamp>_<name>.py`; pointed at one app's folder, match on the file name alone."""
    assert spec.files is not None
    where = locate(folder, *spec.files.places)
    disk = [
        DiskMigration(id=f"{app_dir.name}/{path.name}", name=path.name, path=str(path))
        for app_dir, _m in dirs_matching(where, _ANY_DIR)
        for path, _f in files_matching(app_dir, spec.files.pattern)
    ]
    if disk:
        return set_difference(where, status.history, disk)
    disk = [
        DiskMigration(id=path.name, name=path.name, path=str(path))
        for path, _m in files_matching(where, spec.files.pattern)
    ]
    if not disk:
        return none_found(spec, where)
    return set_difference(where, status.history, disk, key=lambda ident: ident.rpartition("/")[2])


# --- Drizzle ------------------------------------------------------------------------------------------------


def compare_drizzle(
    spec: ToolSpec, status: ToolStatus, folder: Path, _options: FolderOptions
) -> PendingReport:
    """The entries of `meta/_journal.json`; Drizzle skips those older than the last one applied."""
    assert spec.files is not None
    where = locate(folder, *spec.files.places)
    entries = _journal_entries(where / "meta" / "_journal.json")
    if entries is None:
        return none_found(spec, where)
    disk = [
        DiskMigration(id=str(entry["when"]), name=str(entry["tag"]), path=str(where / f"{entry['tag']}.sql"))
        for entry in entries
    ]
    check = checksum_check(spec.files.checksum)
    report = set_difference(where, status.history, disk, key=spec.files.key, stored_matches=check)
    last_applied = integer(status.current_version)
    skipped = [
        item.name
        for item in report.pending
        if last_applied is not None and (integer(item.id) or 0) <= last_applied
    ]
    if skipped:
        report.notes.append(
            "Drizzle applies only migrations newer than the last one applied; it will skip: "
            + ", ".join(name or "?" for name in skipped)
        )
    return report


def _journal_entries(path: Path) -> list[dict] | None:
    content = read_bytes(path)
    if content is None:
        return None
    try:
        journal = json.loads(content)
    except ValueError:
        return None
    entries = journal.get("entries") if isinstance(journal, dict) else None
    if not isinstance(entries, list):
        return None
    return [e for e in entries if isinstance(e, dict) and "when" in e and "tag" in e]


# --- the hand-rolled schema_version and Android Room --------------------------------------------------------


def compare_hand_rolled(
    spec: ToolSpec, status: ToolStatus, folder: Path, _options: FolderOptions
) -> PendingReport:
    """Files named with a leading number above MAX(version), and the (up, down) pairs, shown only."""
    assert spec.files is not None
    where = locate(folder, *spec.files.places)
    current = integer(status.current_version)
    applied_numbers = {integer(row.id) for row in status.history}

    def is_applied(version: int) -> bool:
        return version in applied_numbers or (current is not None and version <= current)

    reversible = read_reversible(where, is_applied)
    _where, found = find(spec.files, folder)
    if not found and not reversible:
        return none_found(spec, where)
    disk = [(m.version, DiskMigration(id=str(m.version), name=m.name, path=m.source)) for m in reversible]
    disk += numbers(found)
    report = numbered(where, status, disk, each_row=True)
    report.reversible = reversible
    return report


def compare_room(spec: ToolSpec, status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    """Room's exported schemas above user_version, and the current one's identity hash."""
    return compare_found(spec, folder, lambda where, found: _room_schemas(status, where, numbers(found)))


def _room_schemas(status: ToolStatus, where: Path, disk: list[tuple[int, DiskMigration]]) -> PendingReport:
    report = numbered(where, status, disk, each_row=False)
    current = integer(status.current_version) or 0
    stored_hash = status.details.get("identity_hash")
    for number, item in disk:
        if number != current or not stored_hash:
            continue
        exported = _room_identity_hash(Path(item.path))
        if exported and exported != stored_hash:
            report.checksum_mismatches.append(
                ChecksumMismatch(id=item.id, path=item.path, stored=stored_hash, computed=exported)
            )
    return report


def _room_identity_hash(path: Path) -> str | None:
    try:
        data = json.loads(read_bytes(path) or b"null")
    except ValueError:
        return None
    database = data.get("database") if isinstance(data, dict) else None
    value = database.get("identityHash") if isinstance(database, dict) else None
    return value if isinstance(value, str) else None


def never(_spec: ToolSpec, _ctx: ReadContext, _shape: TableShape) -> bool:
    """For a tool found by other means than a table (user_version)."""
    return False


# --- naming files -------------------------------------------------------------------------------------------

_TYPEORM_CLASS = re.compile(r"class\s+(\w+)\s+implements\s+MigrationInterface")


def file_name(path: Path, _match: re.Match[str]) -> str:
    """The file's name with its extension (Knex and Sequelize store that)."""
    return path.name


def stem(path: Path, _match: re.Match[str]) -> str:
    """The file's name without its extension."""
    return path.stem


def parent_name(path: Path, _match: re.Match[str]) -> str:
    """The folder holding the file (Room's exported schemas sit in one per database class)."""
    return path.parent.name


def number(group: int) -> Callable[[Path, re.Match[str]], str]:
    """A number without leading zeros."""
    return lambda _path, match: str(int(match[group]))


def group_or_none(group: int) -> Callable[[Path, re.Match[str]], str | None]:
    """A group that may be empty; empty = no name."""
    return lambda _path, match: match[group] or None


def spaced(group: int) -> Callable[[Path, re.Match[str]], str]:
    """A group with its underscores as spaces."""
    return lambda _path, match: match[group].replace("_", " ")


def after_underscore(path: Path, _match: re.Match[str]) -> str | None:
    """What follows the first '_' of the name (Prisma's <timestamp>_<name> folders)."""
    return path.name.partition("_")[2] or None


def diesel_version(_path: Path, match: re.Match[str]) -> str:
    """Diesel's version is the folder name before the first '_', with its dashes removed."""
    return match[1].replace("-", "")


def flyway_file_version(_path: Path, match: re.Match[str]) -> str:
    """The version of `V<version>__<desc>.sql` as Flyway compares it."""
    return flyway_version_id(match[1])


def typeorm_class(path: Path, match: re.Match[str]) -> str:
    """TypeORM records the migration's class name, declared inside the file."""
    content = (read_bytes(path) or b"").decode("utf-8", "replace")
    declared = _TYPEORM_CLASS.search(content)
    return declared[1] if declared else f"{match[2]}{match[1]}"
