"""Alembic's side of the folder: the revision graph read with `ast` (default) or with alembic's own API."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.migrations.model import AppliedMigration, DiskMigration, PendingReport, ToolStatus
from desktop_app.core.migrations.pending import files_matching, nothing_found, read_bytes, skipped_files
from desktop_app.core.migrations.spec import FolderOptions, ToolSpec

_PYTHON_FILE = re.compile(r"(?!__).+\.py")
_FIELDS = ("revision", "down_revision", "depends_on", "branch_labels")


@dataclass(frozen=True)
class Revision:
    """One revision file: its id, what it revises and depends on, and its message."""

    revision: str
    down_revisions: tuple[str, ...]  # several for a merge revision, none for a base
    depends_on: tuple[str, ...]  # revisions it needs besides its parents (another branch's)
    branch_labels: tuple[str, ...]
    path: Path
    message: str | None  # the docstring's first line, as `alembic history` shows it


def versions_folder(folder: Path) -> Path:
    """Where the revision files are: `versions/` under an Alembic or Flask-Migrate folder, else `folder`."""
    for candidate in ("versions", "alembic/versions", "migrations/versions"):
        if (folder / candidate).is_dir():
            return folder / candidate
    return folder


def read_revisions(folder: Path) -> list[Revision]:
    """Every revision file under `folder`, read with ast: nothing is imported or executed."""
    found = []
    for path, _match in files_matching(folder, _PYTHON_FILE, recursive=True):
        revision = _read_revision(path)
        if revision is not None:
            found.append(revision)
    return found


def _read_revision(path: Path) -> Revision | None:
    content = read_bytes(path)
    if content is None:
        return None
    try:
        tree = ast.parse(content, filename=str(path))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    values: dict[str, object] = {}
    for statement in tree.body:
        target, value = _assignment(statement)
        if target in _FIELDS and value is not None:
            try:
                values[target] = ast.literal_eval(value)
            except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
                continue
    revision = values.get("revision")
    if not isinstance(revision, str) or "down_revision" not in values:
        return None
    docstring = ast.get_docstring(tree)
    return Revision(
        revision=revision,
        down_revisions=_as_tuple(values.get("down_revision")),
        depends_on=_as_tuple(values.get("depends_on")),
        branch_labels=_as_tuple(values.get("branch_labels")),
        path=path,
        message=docstring.strip().splitlines()[0] if docstring and docstring.strip() else None,
    )


def _assignment(statement: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return statement.targets[0].id, statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id, statement.value
    return None, None


def _as_tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(str(v) for v in value if v is not None)
    return ()


class RevisionGraph:
    """The revisions on disk with their links, for heads, ancestors and an order base → head."""

    def __init__(self, revisions: list[Revision]) -> None:
        self.by_id: dict[str, Revision] = {}
        self.duplicates: list[str] = []
        for revision in revisions:
            if revision.revision in self.by_id:
                self.duplicates.append(revision.revision)
            self.by_id.setdefault(revision.revision, revision)
        self.labels = {label: rev.revision for rev in self.by_id.values() for label in rev.branch_labels}

    def heads(self) -> list[str]:
        """Revisions no other revision revises (alembic's heads, depends_on aside)."""
        revised = {down for rev in self.by_id.values() for down in rev.down_revisions}
        return sorted(rid for rid in self.by_id if rid not in revised)

    def resolve(self, reference: str) -> str | None:
        """A full id for a revision id, a branch label or a unique id prefix, as alembic accepts them."""
        if reference in self.by_id:
            return reference
        if reference in self.labels:
            return self.labels[reference]
        matches = [rid for rid in self.by_id if rid.startswith(reference)]
        return matches[0] if len(matches) == 1 else None

    def ancestors(self, starts: list[str]) -> set[str]:
        """`starts` and everything they revise or depend on."""
        seen: set[str] = set()
        stack = [rid for ref in starts if (rid := self.resolve(ref))]
        while stack:
            rid = stack.pop()
            if rid in seen:
                continue
            seen.add(rid)
            rev = self.by_id[rid]
            stack += [
                r for ref in rev.down_revisions + rev.depends_on if (r := self.resolve(ref)) and r not in seen
            ]
        return seen

    def ordered(self) -> list[Revision]:
        """All revisions, each after the ones it revises or depends on."""
        order: list[Revision] = []
        placed: set[str] = set()
        for rid in sorted(self.by_id):
            stack = [(rid, False)]
            while stack:
                current, expanded = stack.pop()
                if current in placed:
                    continue
                if expanded:
                    placed.add(current)
                    order.append(self.by_id[current])
                    continue
                stack.append((current, True))
                rev = self.by_id[current]
                for ref in reversed(rev.down_revisions + rev.depends_on):
                    parent = self.resolve(ref)
                    if parent is not None and parent not in placed:
                        stack.append((parent, False))
        return order


def compare_alembic(
    _spec: ToolSpec, status: ToolStatus, folder: Path, options: FolderOptions
) -> PendingReport:
    """Pending revisions, stored revisions missing from the folder, and the heads on disk."""
    where = versions_folder(folder)
    if options.allow_import and _unsafe_to_import(where):
        report = _compare_with_ast(status, where)
        report.notes.insert(
            0,
            "Not imported: the folder holds revision files that cannot be read safely (listed as skipped); "
            "read them with ast instead.",
        )
        return report
    if options.allow_import:
        try:
            return _compare_with_alembic(status, where, options)
        except BaseException as exc:  # user code ran inside alembic: any error is theirs, fall back to ast
            if isinstance(exc, KeyboardInterrupt):
                raise
            report = _compare_with_ast(status, where, executed=True)
            report.notes.insert(
                0,
                f"Alembic could not load the revision files ({type(exc).__name__}: {exc}); "
                "read them with ast instead.",
            )
            return report
    return _compare_with_ast(status, where)


def _unsafe_to_import(where: Path) -> bool:
    """True when a `.py` file alembic would load is not a regular file inside the project, or is too large:
    alembic opens them itself (a FIFO would block it for ever)."""
    return bool(skipped_files(where, _PYTHON_FILE, recursive=True))


def _compare_with_ast(status: ToolStatus, where: Path, *, executed: bool = False) -> PendingReport:
    """Compare by reading the files with ast; `executed` when alembic already ran some of them."""
    graph = RevisionGraph(read_revisions(where))
    if not graph.by_id:
        return nothing_found(where, "Alembic", "revision files")
    stored = [row.id for row in status.history]
    report = PendingReport(folder=str(where), heads=graph.heads())
    report.missing = [row for row in status.history if graph.resolve(row.id) is None]
    applied = graph.ancestors(stored)
    report.pending = [_disk(rev) for rev in graph.ordered() if rev.revision not in applied]
    _common_notes(report, graph.duplicates)
    report.notes.append(
        "Read with ast; alembic may already have run some revision files before it failed."
        if executed
        else "Read with ast; no revision file was executed."
    )
    return report


def _compare_with_alembic(status: ToolStatus, where: Path, options: FolderOptions) -> PendingReport:
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    script = ScriptDirectory(str(where.parent), version_locations=[str(where)])
    current = _current_heads(status, options)
    report = PendingReport(folder=str(where), heads=sorted(script.get_heads()))
    known = []
    for rid in current:
        try:
            if script.get_revision(rid) is None:
                raise CommandError(rid)
            known.append(rid)
        except (RevisionError, CommandError):
            report.missing.append(AppliedMigration(id=rid))
    applied = {rev.revision for rev in script.iterate_revisions(tuple(known), "base")} if known else set()
    ordered = list(reversed(list(script.walk_revisions())))
    report.pending = [
        DiskMigration(id=rev.revision, name=(rev.doc or None), path=rev.path)
        for rev in ordered
        if rev.revision not in applied
    ]
    _common_notes(report, [])
    report.notes.append("Read with alembic's ScriptDirectory (the revision files were imported).")
    return report


def _current_heads(status: ToolStatus, options: FolderOptions) -> list[str]:
    """The stored heads through alembic's MigrationContext when a connection factory is given."""
    if options.connect is None or status.table is None:
        return [row.id for row in status.history]
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine("sqlite://", creator=options.connect, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": status.table})
            return list(context.get_current_heads())
    finally:
        engine.dispose()


def _common_notes(report: PendingReport, duplicates: list[str]) -> None:
    if len(report.heads) > 1:
        report.notes.append(
            f"{len(report.heads)} heads in the folder ({', '.join(report.heads)}): unmerged branches."
        )
    if duplicates:
        report.notes.append(f"Revision id used by more than one file: {', '.join(sorted(set(duplicates)))}")
    if report.missing:
        ids = ", ".join(row.id for row in report.missing)
        report.notes.append(f"Stored revision not in the folder (alembic says 'unknown revision'): {ids}")


def _disk(revision: Revision) -> DiskMigration:
    return DiskMigration(id=revision.revision, name=revision.message, path=str(revision.path))
