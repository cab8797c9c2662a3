"""The folder side of the common families: files named like migrations, compared with the history."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from desktop_app.core.migrations.checksums import Checksum
from desktop_app.core.migrations.model import AppliedMigration, DiskMigration, PendingReport, ToolStatus
from desktop_app.core.migrations.pending import (
    dirs_matching,
    files_matching,
    locate,
    nothing_found,
    read_bytes,
    set_difference,
    versions_above,
)
from desktop_app.core.migrations.spec import Comparer, Files, FolderOptions, Naming, ToolSpec
from desktop_app.core.migrations.tables import integer

#: A migration found: the path its name was read from, the match, the migration.
Found = tuple[Path, re.Match[str], DiskMigration]
#: Compares an applied row with its file: None when there is nothing to compare, else (matches, computed).
StoredMatches = Callable[[AppliedMigration, DiskMigration], tuple[bool, str] | None]


def find(files: Files, folder: Path) -> tuple[Path, list[Found]]:
    """The folder the tool's files are in, and every migration found there, in natural order."""
    where = locate(folder, *files.places)
    assert files.pattern is not None
    if files.inside is not None:
        named = [
            (path, match, path / files.inside)
            for path, match in dirs_matching(where, files.pattern)
            if (path / files.inside).is_file()
        ]
    else:
        named = [
            (path, match, path)
            for path, match in files_matching(where, files.pattern, recursive=files.recursive)
            if files.skip is None or not match[files.skip]
        ]
    found = [
        (path, match, DiskMigration(id=_named(files.id, path, match) or "", name=name, path=str(file)))
        for path, match, file in named
        for name in [_named(files.name, path, match)]
    ]
    return where, found


def _named(naming: Naming | None, path: Path, match: re.Match[str]) -> str | None:
    if naming is None:
        return None
    return match[naming] if isinstance(naming, int) else naming(path, match)


def checksum_check(checksum: Checksum | None) -> StoredMatches | None:
    """The `stored_matches` callback comparing a file with the checksum stored for it, or None."""
    if checksum is None:
        return None

    def matches(row: AppliedMigration, file: DiskMigration) -> tuple[bool, str] | None:
        content = read_bytes(Path(file.path))
        if content is None or row.checksum is None:
            return None
        outcome = checksum.matches(content, row.checksum)
        return None if outcome is None else (outcome, checksum.compute(content))

    return matches


def compare_found(
    spec: ToolSpec, folder: Path, compare: Callable[[Path, list[Found]], PendingReport]
) -> PendingReport:
    """`compare(where, found)` with the tool's migrations in `folder`, or the report that there are none."""
    assert spec.files is not None, spec.key
    where, found = find(spec.files, folder)
    return compare(where, found) if found else none_found(spec, where)


def none_found(spec: ToolSpec, where: Path) -> PendingReport:
    """The report for a folder that holds no migration of this tool (nothing is called missing)."""
    assert spec.files is not None, spec.key
    return nothing_found(where, spec.files.label, spec.files.looked_for)


def compare_files(spec: ToolSpec, status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    """Pending = files never applied, missing = applied rows without a file, and changed checksums."""
    assert spec.files is not None, spec.key
    key, check = spec.files.key, checksum_check(spec.files.checksum)
    applied = spec.in_force(status.history)
    return compare_found(
        spec,
        folder,
        lambda where, found: set_difference(where, applied, migrations(found), key=key, stored_matches=check),
    )


def migrations(found: list[Found]) -> list[DiskMigration]:
    """The migrations of `find`'s result."""
    return [migration for _path, _match, migration in found]


def numbers(found: list[Found]) -> list[tuple[int, DiskMigration]]:
    """The migrations of `find`'s result with the number their name starts with."""
    return [(int(match[1]), migration) for _path, match, migration in found]


def compare_by_number(*, each_row: bool) -> Comparer:
    """For tools keeping a version number: pending = files numbered above it.

    `each_row`: every stored row is a version that should have a file (golang-migrate, the
    hand-rolled table); otherwise only the current version (sqlalchemy-migrate, user_version).
    """

    def compare(spec: ToolSpec, status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
        return compare_found(
            spec, folder, lambda where, found: numbered(where, status, numbers(found), each_row)
        )

    return compare


def numbered(
    where: Path, status: ToolStatus, disk: list[tuple[int, DiskMigration]], each_row: bool
) -> PendingReport:
    """`versions_above` with the stored versions taken from `status` (see `compare_by_number`)."""
    current = integer(status.current_version)
    if each_row:
        stored = [(number, row) for row in status.history if (number := integer(row.id)) is not None]
    else:
        stored = [(current, row) for row in status.history[-1:] if current]
    return versions_above(where, current, disk, stored)
