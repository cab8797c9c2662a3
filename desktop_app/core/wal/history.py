"""The history a `-wal` still holds: every commit, and the database image as of any of them.

The database file and its `-wal` are each read once into memory as bytes (regular files only, never
through a link, never with SQLite): nothing is opened in place, so no `-shm` or `-wal` is ever created
beside the file. An image as of commit N is the database file's pages with the frames up to that commit
laid over them (the last version of each page wins), cut or grown to the commit's database size.
"""

from __future__ import annotations

import bisect
import os
import sqlite3
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from desktop_app.core.errors import DatabaseOpenError
from desktop_app.core.limits import LIMITS
from desktop_app.core.pagefile.owners import FREELIST, PageOwners, PageReader
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.schema.catalog import root_pages
from desktop_app.core.snapshot.source_file import (
    HEADER_BYTES,
    SQLITE_MAGIC,
    Fingerprint,
    shm_in_use,
    sidecar,
)
from desktop_app.core.wal.frames import WalFrames, parse_frames, parse_header

#: What a commit that changed the schema (tables or indexes created, altered, dropped) lists.
SCHEMA_TABLE = "(schema)"


@dataclass(frozen=True)
class WalCommit:
    """One commit in the `-wal`: its frames (1-based, inclusive), salts, pages and what it touched."""

    number: int
    first_frame: int
    last_frame: int
    salt: str
    #: Distinct pages the commit wrote.
    pages: int
    #: The database's size in pages after the commit.
    db_pages: int
    #: Tables whose pages (their own or their indexes') the commit wrote, by name, sorted.
    tables: tuple[str, ...]
    #: Left from before the log last restarted (other salts): listed, but SQLite no longer reads it.
    stale: bool = False
    #: False when the database as of this commit cannot be rebuilt: a stale commit, or one a checkpoint
    #: went past while later commits changed pages it did not write (the file holds their later versions).
    openable: bool = True

    def as_json(self) -> dict[str, object]:
        """The commit as the `wal` command prints it."""
        return {
            "number": self.number,
            "frames": [self.first_frame, self.last_frame],
            "salt": self.salt,
            "pages": self.pages,
            "db_pages": self.db_pages,
            "tables": list(self.tables),
            "stale": self.stale,
            "openable": self.openable,
        }


@dataclass
class WalHistory:
    """What the `-wal` beside a database holds, with the bytes to rebuild any current commit."""

    path: Path
    page_size: int
    checkpoint_sequence: int
    salt: str  #: the -wal header's two salts in hex, "1a2b3c4d-5e6f7a8b" (current frames carry them)
    commits: list[WalCommit]
    notes: list[str] = field(default_factory=list)
    wal_bytes: int = 0
    _database: bytes = b""
    _wal: bytes = b""
    _frames: WalFrames | None = None

    @property
    def current(self) -> list[WalCommit]:
        """The commits SQLite reads (not stale), oldest first."""
        return [c for c in self.commits if not c.stale]

    def commit(self, number: int) -> WalCommit:
        """Commit `number`; `DatabaseOpenError` saying which exist when there is none, or it is stale."""
        found = next((c for c in self.commits if c.number == number), None)
        name = self.path.name
        if found is None:
            current = self.current
            have = f"commits 1–{current[-1].number}" if current else "no commit"
            raise DatabaseOpenError(
                f"The -wal of “{name}” has no commit {number}: it holds {have}.", details=str(self.path)
            )
        if found.stale:
            raise DatabaseOpenError(
                f"Commit {number} in the -wal of “{name}” is stale (from before the last checkpoint): the "
                "database file already holds later versions of its pages and the frames before it were "
                "overwritten, so the database as of that commit cannot be rebuilt.",
                details=str(self.path),
            )
        if found.db_pages * self.page_size > LIMITS.wal_history_max_bytes:
            raise DatabaseOpenError(
                f"Commit {number} in the -wal of “{name}” gives a database size ({found.db_pages:,} pages) "
                "larger than the WAL history may rebuild in memory.",
                details=f"{self.path}: limit wal_history_max_bytes = {LIMITS.wal_history_max_bytes:,} bytes",
            )
        if not found.openable:
            raise DatabaseOpenError(
                f"Commit {number} in the -wal of “{name}” cannot be rebuilt: a checkpoint already copied "
                "pages that later commits wrote into the database file, over the versions this commit "
                "saw, which are nowhere else.",
                details=str(self.path),
            )
        return found

    def image_as_of(self, number: int) -> bytearray:
        """The database image as of current commit `number` (a fresh buffer the caller owns)."""
        commit = self.commit(number)
        frames = self._frames
        assert frames is not None
        return _image(self._database, self._wal, frames, commit.last_frame, commit.db_pages, self.page_size)


def read_wal_history(
    path: str | Path, progress: ProgressCallback = ignore_progress, cancel: CancelToken | None = None
) -> WalHistory:
    """Read the database at `path` and its `-wal` (each once, into memory) and list the commits.

    Raises `DatabaseOpenError` when the file is not a plain SQLite database, has no `-wal` beside it,
    or is larger than `LIMITS.wal_history_max_bytes`; `Cancelled` when `cancel` fires.
    """
    cancel = cancel or CancelToken()
    given = Path(path).absolute()
    source = Path(os.path.realpath(given))
    for _attempt in range(LIMITS.snapshot_restarts_max + 1):
        before = Fingerprint.of(source)
        database, wal = _read_pair(source, given.name, progress, cancel)
        # Another program checkpointing while we read could pair an old file with a new log: read again.
        if not shm_in_use(source) or Fingerprint.of(source) == before:
            break
        cancel.raise_if_cancelled()
    return _history(given, database, wal, progress, cancel)


def _read_pair(
    source: Path, name: str, progress: ProgressCallback, cancel: CancelToken
) -> tuple[bytes, bytes]:
    wal_path = sidecar(source, "-wal")
    if not os.path.lexists(wal_path):
        raise DatabaseOpenError(
            f"“{name}” has no -wal file beside it, so there is no WAL history to read (every change is in "
            "the database file itself).",
            details=str(wal_path),
        )
    database = read_regular_file(source, progress, cancel, "Reading the database")
    if not database.startswith(SQLITE_MAGIC) or len(database) < HEADER_BYTES:
        raise DatabaseOpenError(
            f"“{name}” is not a plain SQLite database, so its -wal cannot be read.", details=str(source)
        )
    wal = read_regular_file(wal_path, progress, cancel, "Reading the -wal")
    return database, wal


def read_regular_file(path: Path, progress: ProgressCallback, cancel: CancelToken, what: str) -> bytearray:
    """The whole content of the regular file `path` (never through a link, never blocking), bounded by
    `LIMITS.wal_history_max_bytes`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise DatabaseOpenError(f"“{path.name}” cannot be read: {exc.strerror}.", details=str(path)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DatabaseOpenError(f"“{path.name}” is not a regular file.", details=str(path))
        cap = LIMITS.wal_history_max_bytes
        if st.st_size > cap:
            raise DatabaseOpenError(
                f"“{path.name}” ({st.st_size / 2**20:,.0f} MiB) is larger than the {cap / 2**20:,.0f} MiB "
                "the WAL history may read into memory.",
                details=f"{path}: limit wal_history_max_bytes = {cap:,} bytes",
            )
        data = bytearray(st.st_size)
        view = memoryview(data)
        done = 0
        while done < st.st_size:
            cancel.raise_if_cancelled()
            read = os.preadv(fd, [view[done : done + (64 << 20)]], done)
            if read <= 0:
                break
            done += read
            progress(Progress(done, st.st_size, f"{what}: {done / 2**20:,.0f} MB"))
        del data[done:]  # the file shrank while read
        return data
    finally:
        os.close(fd)


def _history(
    path: Path, database: bytes, wal: bytes, progress: ProgressCallback, cancel: CancelToken
) -> WalHistory:
    header = parse_header(wal)
    if header is None:
        note = (
            "The -wal is empty: every change is in the database file."
            if not wal
            else (f"The -wal holds {len(wal)} bytes, less than its header: SQLite reads nothing from it.")
        )
        return WalHistory(path, 0, 0, "", [], [note], len(wal), database, wal, None)
    progress(Progress(None, None, "Checking the -wal's checksums"))
    frames = parse_frames(wal, header, cancel.raise_if_cancelled)
    salt = _salt_text(header.salts)
    history = WalHistory(
        path,
        header.page_size,
        header.checkpoint_sequence,
        salt,
        [],
        list(frames.notes),
        len(wal),
        database,
        wal,
        frames,
    )
    history.commits = _commits(history, frames, progress, cancel)
    copied, lost = _checkpointed(frames, database, wal, header.page_size)
    if copied:
        history.commits = [replace(c, openable=False) if c.number in lost else c for c in history.commits]
        history.notes.append(
            f"A checkpoint already copied {copied:,} page(s) of the -wal into the database file (the -wal "
            "was not started over since)"
            + (
                f"; {len(lost)} commit(s) cannot be opened: later commits changed pages they did not write, "
                "and the file holds only the later versions."
                if lost
                else "; every commit can still be rebuilt from the frames."
            )
        )
    if frames.stale:
        history.notes.append(
            f"{len(frames.stale)} stale commit(s) from before the last checkpoint are listed, marked: their "
            "tables are named from the database file's b-trees, and they cannot be opened (the database file "
            "already holds later versions of their pages)."
        )
    if not frames.frame_count:
        history.notes.append("The -wal holds no frame: every change is in the database file.")
    return history


def _checkpointed(frames: WalFrames, database: bytes, wal: bytes, page_size: int) -> tuple[int, set[int]]:
    """How many pages a checkpoint already copied from the current frames into the database file, and the
    commits that therefore cannot be rebuilt.

    A checkpoint copies pages into the file and the log starts over only at the next write, so until then
    the file may hold a page's version from a frame (a partial checkpoint, held back by a reader, copies
    only the pages not written again after the reader's commit). A page whose content in the file is one
    of its frames was copied; a commit from before that page's first frame then cannot be rebuilt (its
    version as of that commit was in the file and is overwritten), unless the page did not exist yet.
    A page rewritten with identical content reads as copied too: such a commit is refused, never shown
    wrong.
    """
    first_written: dict[int, int] = {}
    copied: set[int] = set()
    view = memoryview(wal)
    for index, page in enumerate(
        frames.page_numbers[: frames.current[-1][1] + 1 if frames.current else 0].tolist()
    ):
        first_written.setdefault(page, index)
        if page in copied:
            continue
        start, in_file = frames.frame_offset(index) + 24, (page - 1) * page_size
        if (
            in_file + page_size <= len(database)
            and database[in_file : in_file + page_size] == view[start : start + page_size]
        ):
            copied.add(page)
    if not copied:
        return 0, set()
    # The copied pages by first frame, with the smallest page number from each position on.
    ordered = sorted((first_written[page], page) for page in copied)
    firsts = [first for first, _page in ordered]
    smallest_after = [0] * len(ordered)
    low = 1 << 32
    for position in range(len(ordered) - 1, -1, -1):
        low = min(low, ordered[position][1])
        smallest_after[position] = low
    lost = set()
    for number, (_first, last) in enumerate(frames.current, start=1):
        position = bisect.bisect_right(firsts, last)
        if position < len(ordered) and smallest_after[position] <= frames.commit_sizes[last]:
            lost.add(number)
    return len(copied), lost


def _salt_text(salts: bytes) -> str:
    return f"{salts[:4].hex()}-{salts[4:].hex()}"


def _commits(
    history: WalHistory, frames: WalFrames, progress: ProgressCallback, cancel: CancelToken
) -> list[WalCommit]:
    page_size = history.page_size
    database, wal = history._database, history._wal
    overlay: dict[int, int] = {}  # page → frame index of its newest version so far

    def read_page(page: int) -> bytes | memoryview:
        index = overlay.get(page)
        if index is not None:
            start = frames.frame_offset(index) + 24
            return memoryview(wal)[start : start + page_size]
        start = (page - 1) * page_size
        return memoryview(database)[start : start + page_size]

    commits: list[WalCommit] = []
    children: dict[tuple[int, int], list[int]] = {}  # interior page versions parsed so far
    roots: dict[int, str] = {}
    cookie: bytes | None = None
    total = len(frames.current) + len(frames.stale)
    for number, (first, last) in enumerate(frames.current, start=1):
        cancel.raise_if_cancelled()
        progress(Progress(number, total, f"Reading commit {number} of {total}"))
        pages = frames.page_numbers[first : last + 1]
        for index, page in enumerate(pages.tolist(), start=first):
            overlay[page] = index
        db_pages = int(frames.commit_sizes[last])
        touched = set(pages.tolist())
        new_cookie = bytes(read_page(1)[40:44])
        schema_changed = new_cookie != cookie
        too_large = db_pages * page_size > LIMITS.wal_history_max_bytes
        if too_large:  # a damaged or crafted size: never allocated
            history.notes.append(
                f"Commit {number} gives a database size of {db_pages:,} pages, more than the "
                f"{LIMITS.wal_history_max_bytes / 2**20:,.0f} MiB the WAL history may rebuild: it cannot be "
                "opened."
            )
        elif schema_changed:
            roots = _schema_roots(read_page, db_pages, page_size) or _roots(
                _image(database, wal, frames, last + 1, db_pages, page_size)
            )
            cookie = new_cookie
        owners = PageOwners(read_page, db_pages, roots, lambda page: overlay.get(page, -1), children)
        tables = _tables(owners, touched, schema_changed and number > 1)
        salt = _salt_text(frames.salts[last])
        commits.append(
            WalCommit(
                number, first + 1, last + 1, salt, len(touched), db_pages, tables, openable=not too_large
            )
        )
    if frames.stale:
        base_pages = len(database) // page_size if page_size else 0
        overlay.clear()
        base = PageOwners(read_page, base_pages, _roots(bytearray(database)))
        for offset, (first, last) in enumerate(frames.stale, start=len(commits) + 1):
            touched = set(frames.page_numbers[first : last + 1].tolist())
            commits.append(
                WalCommit(
                    offset,
                    first + 1,
                    last + 1,
                    _salt_text(frames.salts[last]),
                    len(touched),
                    int(frames.commit_sizes[last]),
                    _tables(base, touched, False),
                    stale=True,
                    openable=False,
                )
            )
    return commits


def _tables(owners: PageOwners, touched: set[int], schema_changed: bool) -> tuple[str, ...]:
    found = owners.owners_of(touched - {1})
    names = {name for name in found.values() if name != FREELIST}
    if schema_changed:
        names.add(SCHEMA_TABLE)
    return tuple(sorted(names)) + ((FREELIST,) if FREELIST in found.values() else ())


def _schema_roots(read_page: PageReader, db_pages: int, page_size: int) -> dict[int, str]:
    """`_roots` read from an image holding only the schema's own b-tree (the other pages left zero: SQLite
    reads nothing else for it), instead of the whole database; {} when that does not read cleanly (a
    schema record spilling into an overflow page), so the caller reads the whole image."""
    image = bytearray(db_pages * page_size)
    for page in PageOwners(read_page, db_pages, {}).tree_pages(1):
        image[(page - 1) * page_size : page * page_size] = read_page(page)
    roots = _roots(image)
    if any(not name or not 1 <= root <= db_pages for root, name in roots.items()):
        return {}
    return roots


def _roots(image: bytearray) -> dict[int, str]:
    """Root page → the table it holds (an index names its table), read by SQLite from `image`."""
    if len(image) < HEADER_BYTES:
        return {}
    image[18:20] = b"\x01\x01"  # a memory image has no -wal: read it as a rollback database
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.deserialize(image)
        conn.execute("PRAGMA query_only=ON")
        return {root: table for _kind, _name, table, root in root_pages(conn) if root}
    except sqlite3.Error:
        return {}  # a damaged image: its pages stay unattributed
    finally:
        conn.close()


def _image(
    database: bytes, wal: bytes, frames: WalFrames, frame_end: int, db_pages: int, page_size: int
) -> bytearray:
    """The main file's pages with frames [0, frame_end) laid over them, `db_pages` pages long."""
    size = db_pages * page_size
    image = bytearray(size)
    kept = min(len(database), size)
    image[:kept] = database[:kept]
    pages = frames.page_numbers[:frame_end]
    # The newest frame of each page: the first occurrence in the reversed list.
    unique, reversed_index = np.unique(pages[::-1], return_index=True)
    newest = frame_end - 1 - reversed_index
    view = memoryview(wal)
    for page, index in zip(unique.tolist(), newest.tolist(), strict=True):
        if 1 <= page <= db_pages:
            start = frames.frame_offset(index) + 24
            image[(page - 1) * page_size : page * page_size] = view[start : start + page_size]
    return image
