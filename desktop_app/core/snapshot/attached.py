"""Other databases beside the main snapshot: each its own read-only snapshot, attached under a schema name.

Each attached file is snapshotted exactly as the main one (same zero-footprint and size rules) and
attached by the program through the guard (`attach_memory_database`) on every connection: this is
the only way an ATTACH happens; the user's SQL can never attach. Then `SELECT … FROM main.t JOIN
other.u` works in the SQL pane, the CLI and search.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import AttachError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, ProgressCallback, ignore_progress
from desktop_app.core.snapshot.encrypted import CipherKey
from desktop_app.core.snapshot.snapshot import Snapshot, SnapshotMode, open_snapshot
from desktop_app.core.sqlite.guard import PRIVATE_SCHEMA_PREFIX, attach_memory_database

#: Names SQLite keeps for itself.
_RESERVED = frozenset({"main", "temp"})
_NAME_CHARS = 64


def check_schema_name(name: str, taken: Iterable[str] = ()) -> str:
    """Return `name` if another database may be attached under it; AttachError saying why not."""
    if not name or not name.strip():
        raise AttachError("Give the attached database a name (used in SQL as NAME.table).")
    if name != name.strip() or any(ord(ch) < 32 for ch in name):
        raise AttachError(f"The name {name!r} has spaces at its ends or control characters: choose another.")
    if len(name) > _NAME_CHARS:
        raise AttachError(f"The name is longer than {_NAME_CHARS} characters: choose a shorter one.")
    if name.lower().startswith(PRIVATE_SCHEMA_PREFIX):
        raise AttachError(
            f"Names starting with {PRIVATE_SCHEMA_PREFIX!r} are the program's own: choose another."
        )
    if name.lower() in _RESERVED:
        raise AttachError(f"{name!r} is SQLite's own name for a database: choose another.")
    if name.lower() in {t.lower() for t in taken}:
        raise AttachError(f"A database is already attached as {name!r}: choose another name.")
    return name


def parse_attach_argument(text: str) -> tuple[str, str]:
    """Split the CLI's `NAME=FILE` into (name, file); AttachError if it is not in that shape."""
    name, sep, path = text.partition("=")
    if not sep or not path:
        raise AttachError(f"--attach takes NAME=FILE, not {text!r}.")
    return check_schema_name(name), path


@dataclass(frozen=True)
class Attached:
    """One attached database: its schema name and its own snapshot."""

    schema: str
    snapshot: Snapshot


class Attachments:
    """The databases attached beside the main snapshot; `hook` attaches them all on a new connection."""

    def __init__(self) -> None:
        self._items: dict[str, Attached] = {}
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[Attached]:
        with self._lock:
            return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    @property
    def names(self) -> list[str]:
        """The schema names, in the order they were attached."""
        with self._lock:
            return list(self._items)

    def add(self, schema: str, snapshot: Snapshot) -> Attached:
        """Keep `snapshot` under `schema` (owned from now on: closed by `remove` or `close`)."""
        with self._lock:
            try:
                check_schema_name(schema, self._items)
                if len(self._items) >= LIMITS.attached_databases_max:
                    raise AttachError(f"At most {LIMITS.attached_databases_max} databases can be attached.")
                if snapshot.mode is not SnapshotMode.MEMORY:
                    raise AttachError(
                        f"{snapshot.path.name} is too large to attach as a snapshot in memory "
                        f"({snapshot.mode_reason or snapshot.mode.value}): open it on its own instead."
                    )
            except AttachError:
                snapshot.close()
                raise
            attached = Attached(schema, snapshot)
            self._items[schema] = attached
            return attached

    def remove(self, schema: str) -> None:
        """Forget the database attached as `schema` and free its snapshot."""
        with self._lock:
            attached = self._items.pop(schema, None)
        if attached is not None:
            attached.snapshot.close()

    def hook(self, conn: sqlite3.Connection) -> None:
        """ATTACH every kept snapshot on `conn` (a connection hook: run on each new connection)."""
        for attached in self:
            attach_memory_database(conn, attached.snapshot.uri, attached.schema)

    def close(self) -> None:
        """Free every attached snapshot."""
        with self._lock:
            items, self._items = list(self._items.values()), {}
        for attached in items:
            attached.snapshot.close()


def attach_file(
    attachments: Attachments,
    schema: str,
    path: str | Path,
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    member: str | None = None,
    key: CipherKey | None = None,
) -> Attached:
    """Snapshot the database at `path`, keep it in `attachments` as `schema` (blocking: off the UI thread).

    A packed or encrypted file opens as with `open_snapshot` (`member`, `key`): into memory only."""
    check_schema_name(schema, attachments.names)
    snapshot = open_snapshot(path, progress=progress, cancel=cancel, member=member, key=key)
    return attachments.add(schema, snapshot)
