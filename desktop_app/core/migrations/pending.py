"""Comparing a project's migrations folder with what a tool recorded as applied."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.migrations.model import AppliedMigration, ChecksumMismatch, DiskMigration, PendingReport

#: Folders never worth walking into when looking for migration files.
_SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", "site-packages"}
)
_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders embedded numbers by value ('2_a' before '10_a')."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(text) if part)


def check_folder(folder: Path) -> Path:
    """Return `folder` resolved, or raise a UserError when it is not a readable folder."""
    if not folder.exists():
        raise UserError(f"Migrations folder not found: {folder}")
    if not folder.is_dir():
        raise UserError(f"Not a folder: {folder}")
    return folder.absolute()


def locate(folder: Path, *candidates: str) -> Path:
    """The first of `folder/candidate` that is a folder (the tool's usual place), else `folder` itself."""
    for candidate in candidates:
        path = folder / candidate
        if path.is_dir():
            return path
    return folder


def files_matching(
    folder: Path, pattern: re.Pattern[str], *, recursive: bool = False
) -> list[tuple[Path, re.Match[str]]]:
    """Files in `folder` whose name fully matches `pattern`, sorted by natural order of name."""
    found = [(path, match) for path in _files(folder, recursive) if (match := pattern.fullmatch(path.name))]
    return sorted(found, key=lambda item: (natural_key(item[0].name), str(item[0])))


def dirs_matching(folder: Path, pattern: re.Pattern[str]) -> list[tuple[Path, re.Match[str]]]:
    """Direct sub-folders of `folder` whose name fully matches `pattern`, in natural order."""
    try:
        entries = [p for p in folder.iterdir() if p.is_dir()]
    except OSError:
        return []
    found = [(path, match) for path in entries if (match := pattern.fullmatch(path.name))]
    return sorted(found, key=lambda item: natural_key(item[0].name))


def _files(folder: Path, recursive: bool) -> Iterator[Path]:
    if not recursive:
        try:
            yield from (p for p in folder.iterdir() if p.is_file())
        except OSError:
            return
        return
    seen = 0
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in names:
            seen += 1
            if seen > LIMITS.migration_files_walked:
                return
            yield Path(root, name)


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, None when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def nothing_found(folder: Path, label: str, looked_for: str) -> PendingReport:
    """The report for a folder that holds no migration of this tool (nothing is called missing)."""
    return PendingReport(
        folder=str(folder),
        compared=False,
        notes=[f"No {label} migrations ({looked_for}) in {folder}."],
    )


def set_difference(
    folder: Path,
    applied: Iterable[AppliedMigration],
    disk: Iterable[DiskMigration],
    *,
    key: Callable[[str], str] = lambda ident: ident,
    stored_matches: Callable[[AppliedMigration, DiskMigration], tuple[bool, str] | None] | None = None,
) -> PendingReport:
    """Pending = on disk but not applied; missing = applied but not on disk; optional checksum check.

    `stored_matches(row, file)` returns None when there is nothing to compare, else
    (matches, checksum computed from the file).
    """
    report = PendingReport(folder=str(folder))
    on_disk: dict[str, DiskMigration] = {}
    for item in disk:
        on_disk.setdefault(key(item.id), item)
    applied_keys: set[str] = set()
    for row in applied:
        row_key = key(row.id)
        if row_key in applied_keys:
            continue
        applied_keys.add(row_key)
        file = on_disk.get(row_key)
        if file is None:
            report.missing.append(row)
            continue
        if stored_matches is not None and row.checksum is not None:
            outcome = stored_matches(row, file)
            if outcome is not None and not outcome[0]:
                report.checksum_mismatches.append(
                    ChecksumMismatch(id=row.id, path=file.path, stored=row.checksum, computed=outcome[1])
                )
    report.pending = [item for k, item in on_disk.items() if k not in applied_keys]
    return report


def versions_above(
    folder: Path,
    current: int | None,
    disk: Iterable[tuple[int, DiskMigration]],
    stored: Iterable[tuple[int, AppliedMigration]],
) -> PendingReport:
    """For tools keeping a number: pending = files numbered above it; missing = stored numbers, no file."""
    report = PendingReport(folder=str(folder))
    numbers: dict[int, DiskMigration] = {}
    for number, item in disk:
        numbers.setdefault(number, item)
    report.pending = [item for number, item in sorted(numbers.items()) if current is None or number > current]
    report.missing = [row for number, row in stored if number not in numbers]
    return report
