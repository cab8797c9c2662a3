"""Health checks: SQLite's `quick_check`, `integrity_check` and `foreign_key_check`, stoppable, as data.

Each runs on a snapshot connection (never the user's file) inside `cancellable`, so a `CancelToken`
stops it mid-statement. SQLite's messages are kept verbatim and also parsed: the table or index, page and row
a message names, so a problem can be linked to what it is about.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.schema.catalog import Catalog
from desktop_app.core.sqlite.interrupt import cancellable

#: SQLite's result codes for a damaged file: the check itself cannot go on, which is its finding.
_DAMAGE_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB

#: Messages that name a table or an index (SQLite's wording in sqlite3.c, pragma.c and btree.c).
_NAMED = (
    re.compile(r"^row (?P<row>-?\d+) missing from index (?P<object>.+)$"),
    re.compile(r"^rowid (?P<row>-?\d+) missing from index (?P<object>.+)$"),
    re.compile(r"^wrong # of entries in index (?P<object>.+)$"),
    re.compile(r"^non-unique entry in index (?P<object>.+)$"),
    re.compile(r"^NULL value in (?P<object>.+)\.(?P<column>[^.]+)$"),
    re.compile(r"^NaN value in (?P<object>.+)\.(?P<column>[^.]+)$"),
    re.compile(r"^non-\w+ value in (?P<object>.+)\.(?P<column>[^.]+)$"),
    re.compile(r"^CHECK constraint failed in (?P<object>.+)$"),
)
#: B-tree messages name a page: "On tree page 7 cell 3: …" (before 3.43), "Tree 2 page 7 cell 3: …"
#: (the tree's root page 2), "Page 9 is never used", "2nd reference to page 9", "… of page 9".
_PAGE = re.compile(r"\b[Pp]age (?P<page>\d+)")
_DATABASE_HEADING = re.compile(r"^\*\*\* in database (?P<database>.+) \*\*\*$")


@dataclass(frozen=True)
class IntegrityProblem:
    """One line of SQLite's answer, with what it names where it names something."""

    message: str
    database: str = "main"
    object: str | None = None  #: the table or index the message is about
    table: str | None = None  #: the table itself (the index's table for an index)
    page: int | None = None
    row: int | None = None  #: the rowid named, for "row N missing from index"
    column: str | None = None


@dataclass
class IntegrityResult:
    """The answer of `integrity_check` or `quick_check`."""

    check: str  #: "integrity_check" or "quick_check"
    messages: list[str]  #: SQLite's rows verbatim; empty when it answered "ok"
    problems: list[IntegrityProblem] = field(default_factory=list)  #: one per line, parsed

    @property
    def ok(self) -> bool:
        """True when SQLite found nothing wrong."""
        return not self.messages

    def summary(self) -> str:
        """One sentence for the user."""
        what = "integrity check" if self.check == "integrity_check" else "quick check"
        if self.ok:
            return f"No problems found: SQLite's {what} passed."
        count = len(self.problems)
        found = f"{count} problem{'s' if count != 1 else ''}"
        if count >= LIMITS.integrity_check_max_errors:
            found = f"{count} problems (it stops there; there may be more)"
        return f"SQLite's {what} found {found}: the database is damaged."


@dataclass(frozen=True)
class ForeignKeyViolation:
    """A row of `table` whose foreign key `fkid` points at no row of `parent` (rowid None without rowid)."""

    table: str
    rowid: int | None
    parent: str
    fkid: int

    def as_dict(self) -> dict[str, Any]:
        """Plain data, in the CLI's JSON shape."""
        return asdict(self)


@dataclass
class HealthReport:
    """An integrity (or quick) check and a foreign-key check of one database."""

    integrity: IntegrityResult
    foreign_keys: list[ForeignKeyViolation]
    #: False when the file was too damaged for SQLite to check its foreign keys
    foreign_keys_checked: bool = True

    @property
    def ok(self) -> bool:
        """True when neither check found anything."""
        return self.integrity.ok and not self.foreign_keys

    def summary(self) -> str:
        """Two sentences for the user: the integrity check's and the foreign keys'."""
        count = len(self.foreign_keys)
        if not self.foreign_keys_checked:
            return f"{self.integrity.summary()} Its foreign keys could not be checked."
        keys = (
            "Every foreign key points at an existing row."
            if not count
            else f"{count} row{'s' if count != 1 else ''} point{'s' if count == 1 else ''} at a missing "
            "parent row (foreign-key violations)."
        )
        return f"{self.integrity.summary()} {keys}"


def integrity_check(
    conn: sqlite3.Connection,
    cancel: CancelToken,
    progress: ProgressCallback = ignore_progress,
    *,
    quick: bool = False,
    catalog: Catalog | None = None,
) -> IntegrityResult:
    """Run SQLite's `integrity_check` (or `quick_check`, which skips index contents) on `conn`.

    Keeps at most `LIMITS.integrity_check_max_errors` messages. When SQLite stops the check on a page it
    cannot read, its error ("database disk image is malformed") is the last message. `progress` hears a
    heartbeat (SQLite cannot say how far its check is). Raises `Cancelled` when `cancel` fires.
    """
    check = "quick_check" if quick else "integrity_check"
    label = "Quick check…" if quick else "Checking integrity…"
    progress(Progress(0, None, label))
    messages: list[str] = []
    try:
        with cancellable(conn, cancel, progress, label):
            for row in conn.execute(f"PRAGMA {check}({int(LIMITS.integrity_check_max_errors)})"):
                messages.append(str(row[0]))
    except sqlite3.DatabaseError as exc:
        # SQLite may give some problems, then stop on a page it cannot read: keep both, as its shell shows.
        if not _is_damage(exc):
            raise
        messages.append(str(exc))
    if messages == ["ok"]:
        messages = []
    problems = parse_messages(messages)
    if problems:
        problems = _linked(conn, problems, catalog, cancel)
    return IntegrityResult(check, messages, problems)


def quick_check(
    conn: sqlite3.Connection, cancel: CancelToken, progress: ProgressCallback = ignore_progress
) -> IntegrityResult:
    """SQLite's `quick_check`: `integrity_check` without comparing indexes with their tables (faster)."""
    return integrity_check(conn, cancel, progress, quick=True)


def foreign_key_check(
    conn: sqlite3.Connection, cancel: CancelToken, progress: ProgressCallback = ignore_progress
) -> list[ForeignKeyViolation]:
    """Every row whose foreign key points at no parent row (SQLite's `foreign_key_check`)."""
    label = "Checking foreign keys…"
    progress(Progress(0, None, label))
    with cancellable(conn, cancel, progress, label):
        rows = conn.execute("PRAGMA foreign_key_check").fetchall()
    return [ForeignKeyViolation(str(t), None if r is None else int(r), str(p), int(k)) for t, r, p, k in rows]


def check_health(
    conn: sqlite3.Connection,
    cancel: CancelToken,
    progress: ProgressCallback = ignore_progress,
    *,
    quick: bool = False,
    catalog: Catalog | None = None,
) -> HealthReport:
    """The integrity (or quick) check, then the foreign-key check (skipped when the file is unreadable)."""
    integrity = integrity_check(conn, cancel, progress, quick=quick, catalog=catalog)
    try:
        foreign_keys = foreign_key_check(conn, cancel, progress)
    except sqlite3.DatabaseError as exc:
        if integrity.ok or not _is_damage(exc):
            raise
        return HealthReport(integrity, [], foreign_keys_checked=False)  # the damage is already reported
    return HealthReport(integrity, foreign_keys)


def parse_messages(messages: Iterable[str]) -> list[IntegrityProblem]:
    """One `IntegrityProblem` per line of SQLite's messages (a row may hold several lines under a
    "*** in database main ***" heading), with the table or index, page and row it names."""
    problems: list[IntegrityProblem] = []
    for message in messages:
        database = "main"
        for line in message.splitlines():
            heading = _DATABASE_HEADING.match(line)
            if heading:
                database = heading["database"]
                continue
            if line.strip():
                problems.append(_parse_line(line, database))
    return problems


def _parse_line(line: str, database: str) -> IntegrityProblem:
    for pattern in _NAMED:
        named = pattern.match(line)
        if named:
            groups = named.groupdict()
            return IntegrityProblem(
                line,
                database,
                object=groups["object"],
                row=int(groups["row"]) if groups.get("row") else None,
                column=groups.get("column"),
            )
    page = _PAGE.search(line)
    return IntegrityProblem(line, database, page=int(page["page"]) if page else None)


def _linked(
    conn: sqlite3.Connection, problems: list[IntegrityProblem], catalog: Catalog | None, cancel: CancelToken
) -> list[IntegrityProblem]:
    """`problems` with the object of each named page (from `dbstat`) and the table of each index."""
    pages = {p.page for p in problems if p.page is not None and p.object is None}
    owners = _page_owners(conn, pages, cancel) if pages else {}
    index_tables = {i.name: i.table for i in catalog.indexes} if catalog is not None else {}
    table_names = {t.name for t in catalog.tables} if catalog is not None else set()
    linked = []
    for problem in problems:
        name = problem.object or (owners.get(problem.page) if problem.page is not None else None)
        table = index_tables.get(name or "") or (name if name in table_names else None)
        linked.append(
            IntegrityProblem(
                problem.message, problem.database, name, table, problem.page, problem.row, problem.column
            )
        )
    return linked


def _page_owners(conn: sqlite3.Connection, pages: set[int], cancel: CancelToken) -> dict[int, str]:
    """Which table or index each of `pages` belongs to, as `dbstat` can tell on a damaged file (best effort:
    a page it cannot reach stays unnamed)."""
    owners: dict[int, str] = {}
    try:
        with cancellable(conn, cancel):
            for name, pageno in conn.execute("SELECT name, pageno FROM dbstat"):
                if pageno in pages:
                    owners[int(pageno)] = str(name)
    except sqlite3.DatabaseError as exc:
        if not _is_damage(exc) and "no such table" not in str(exc):
            raise
    return owners


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    """True for SQLite's "database disk image is malformed" and "file is not a database"."""
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _DAMAGE_CODES
