"""Comparing a project's migrations folder with what a tool recorded as applied."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.file_kinds import file_kind
from desktop_app.core.limits import LIMITS
from desktop_app.core.migrations.model import (
    AppliedMigration,
    ChecksumMismatch,
    DiskMigration,
    PendingReport,
    SkippedFile,
)

#: Folders never worth walking into when looking for migration files.
_SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", "site-packages"}
)
_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders embedded numbers by value ('2_a' before '10_a')."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(text) if part)


@dataclass
class FolderWalk:
    """What one comparison's walk of the project folder left out: skipped files and the limits it hit.

    Only regular files are read, and links only when they lead to a regular file inside `root` (the
    folder the user chose): a FIFO blocks the reader for ever, `/dev/zero` never ends, and a link may
    lead anywhere on the machine.
    """

    #: The chosen folder, resolved; None when no folder is known (no containment check).
    root: Path | None
    skipped: dict[str, str] = field(default_factory=dict)
    #: Limits that stopped or trimmed the walk, in the words shown to the user.
    limits_hit: list[str] = field(default_factory=list)

    def skip(self, path: Path, reason: str, limit: str | None = None) -> None:
        """Record `path` as not read because of `reason` (`limit`: a cap, so the result is incomplete)."""
        self.skipped.setdefault(str(path), reason)
        if limit is not None:
            self.hit(limit)

    def hit(self, limit: str) -> None:
        """Record that a limit stopped or trimmed the walk."""
        if limit not in self.limits_hit:
            self.limits_hit.append(limit)

    def apply(self, report: PendingReport) -> PendingReport:
        """Put what was left out into `report`, marking it incomplete when a limit was hit."""
        known = {item.path for item in report.skipped}
        left_out = sorted((p, r) for p, r in self.skipped.items() if p not in known)
        report.skipped += [SkippedFile(path, reason) for path, reason in left_out]
        if self.limits_hit:
            report.incomplete = "; ".join(self.limits_hit)
        return report


_WALK: ContextVar[FolderWalk | None] = ContextVar("migrations_folder_walk", default=None)


@contextmanager
def walking(root: Path) -> Iterator[FolderWalk]:
    """Record, for the comparison run inside, what the walk of `root` skips and which limits it hits."""
    walk = FolderWalk(root.resolve())
    token = _WALK.set(walk)
    try:
        yield walk
    finally:
        _WALK.reset(token)


def _walk() -> FolderWalk:
    return _WALK.get() or FolderWalk(None)


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
    """Regular files in `folder` whose name fully matches `pattern`, sorted by natural order of name.

    A matching name that is not a regular file inside the project folder is left out and recorded as
    skipped; sub-folders are ignored. (A file too large to read is listed: `read_bytes` refuses it.)
    """
    found, _skipped = _sort_out(folder, pattern, recursive)
    return sorted(found, key=lambda item: (natural_key(item[0].name), str(item[0])))


def skipped_files(folder: Path, pattern: re.Pattern[str], *, recursive: bool = False) -> list[Path]:
    """Paths in `folder` named like `pattern` that `read_bytes` would refuse (recorded as skipped)."""
    return _sort_out(folder, pattern, recursive, size=True)[1]


def _sort_out(
    folder: Path, pattern: re.Pattern[str], recursive: bool, *, size: bool = False
) -> tuple[list[tuple[Path, re.Match[str]]], list[Path]]:
    walk = _walk()
    found, skipped = [], []
    for path in _names(folder, recursive, walk):
        match = pattern.fullmatch(path.name)
        if match is None:
            continue
        problem = _problem(path, walk, size=size)
        if problem is None:
            found.append((path, match))
        elif problem != _FOLDER:
            walk.skip(path, *problem)
            skipped.append(path)
    return found, skipped


def dirs_matching(folder: Path, pattern: re.Pattern[str]) -> list[tuple[Path, re.Match[str]]]:
    """Direct sub-folders of `folder` whose name fully matches `pattern`, in natural order.

    A linked folder counts only when it resolves inside the project folder.
    """
    walk = _walk()
    entries = []
    for path in _names(folder, False, walk):
        try:
            if path.is_dir() and _inside(path.resolve(), walk):
                entries.append(path)
        except (OSError, RuntimeError):
            continue
    found = [(path, match) for path in entries if (match := pattern.fullmatch(path.name))]
    return sorted(found, key=lambda item: natural_key(item[0].name))


def _names(folder: Path, recursive: bool, walk: FolderWalk) -> Iterator[Path]:
    """Every name in `folder` (and below when `recursive`), up to LIMITS.migration_files_walked."""
    limit = LIMITS.migration_files_walked
    seen = 0
    if not recursive:
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    seen += 1
                    if seen > limit:
                        walk.hit(_walk_limit(folder))
                        return
                    yield Path(entry.path)
        except OSError:
            return
        return
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in names:
            seen += 1
            if seen > limit:
                walk.hit(_walk_limit(folder))
                return
            yield Path(root, name)


def _walk_limit(folder: Path) -> str:
    return (
        f"the walk of {folder} stopped after {LIMITS.migration_files_walked:,} files (migration_files_walked)"
    )


def incomplete_note(report: PendingReport) -> str | None:
    """The sentence telling the user the comparison may be incomplete, or None when it is complete."""
    if report.incomplete is None:
        return None
    return f"Possibly incomplete: {report.incomplete}. Pending, missing and heads may be incomplete."


#: What `_problem` says of a folder, which the file walk ignores without recording it.
_FOLDER = ("a folder", None)


def _problem(path: Path, walk: FolderWalk, *, size: bool = False) -> tuple[str, str | None] | None:
    """None when `path` may be read, else (why not, the limit it hit or None). Never opens the file.

    `size`: a file larger than LIMITS.migration_file_max_bytes is a problem too (listing it by name is
    not; reading it is).
    """
    try:
        info = os.lstat(path)
    except OSError as exc:
        return (f"cannot be read ({exc.strerror})", None)
    target = path
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.resolve(strict=True)
            info = os.stat(target)
        except (OSError, RuntimeError):
            return ("a broken link", None)
        if not _inside(target, walk):
            return (f"a link to {target}, outside the project folder", None)
        if not stat.S_ISREG(info.st_mode):
            return _FOLDER if stat.S_ISDIR(info.st_mode) else (f"a link to {file_kind(info.st_mode)}", None)
    elif stat.S_ISDIR(info.st_mode):
        return _FOLDER
    elif not stat.S_ISREG(info.st_mode):
        return (f"{file_kind(info.st_mode)}, not a regular file", None)
    elif walk.root is not None and not _inside(path.resolve(), walk):
        return ("outside the project folder (through a linked folder)", None)
    return _too_large(info.st_size) if size else None


def _too_large(size: int) -> tuple[str, str] | None:
    cap = LIMITS.migration_file_max_bytes
    if size <= cap:
        return None
    shown = f"{cap / (1 << 20):g} MB" if cap >= 1 << 20 else f"{cap:,} bytes"
    return (f"larger than {shown}, not read", f"a file was larger than {shown} (migration_file_max_bytes)")


def _inside(target: Path, walk: FolderWalk) -> bool:
    return walk.root is None or target.is_relative_to(walk.root)


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes; None when it is missing, unreadable, not a regular file inside the project, or
    larger than LIMITS.migration_file_max_bytes (those are recorded as skipped)."""
    walk = _walk()
    problem = _problem(path, walk, size=True)
    if problem is not None:
        if not problem[0].startswith("cannot be read"):
            walk.skip(path, *problem)
        return None
    # O_NONBLOCK: should the file have been swapped for a FIFO since the check, opening must not wait
    # for a writer (fstat below then refuses it).
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            walk.skip(path, f"{file_kind(info.st_mode)}, not a regular file")
            return None
        cap = LIMITS.migration_file_max_bytes
        chunks = []
        left = cap + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    too_large = _too_large(cap + 1) if left <= 0 else None  # it grew past the cap since the check
    if too_large is not None:
        walk.skip(path, *too_large)
        return None
    return b"".join(chunks)


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
