"""Set up every SQLite connection to a snapshot: read-only, safe, tolerant of bad text."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from desktop_app.core.sqlite.guard import install_guard, unguarded
from desktop_app.core.sqlite.values import exact_text

#: Something that registers functions/collations on a connection (see `functions.py`).
ConnectionHook = Callable[[sqlite3.Connection], None]


def decode_text(raw: bytes) -> str:
    """Decode TEXT from SQLite; invalid UTF-8 becomes U+FFFD instead of raising, kept byte for byte in a
    `RawText` (so a grid can show the bad bytes escaped)."""
    return exact_text(raw)


def untrusted_schema_function(conn: sqlite3.Connection) -> str | None:
    """Name the function that stops `conn`'s schema from loading with `trusted_schema=OFF`, or None.

    SQLite before 3.45 does not mark its JSON functions innocuous, so a generated column or an expression
    index using `json_extract()` makes the whole schema "malformed" on a distrusting connection.
    Leaves `trusted_schema` OFF on `conn`.
    """
    conn.execute("PRAGMA trusted_schema=OFF")
    try:
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.DatabaseError as exc:
        found = re.search(r"unsafe use of (.+?\(\))", str(exc))
        if found:
            return found.group(1)
        raise
    return None


def schema_is_trusted(conn: sqlite3.Connection) -> bool:
    """True if `conn` lets its schema call any function (see `configure_connection(trust_schema=...)`)."""
    return bool(conn.execute("PRAGMA trusted_schema").fetchone()[0])


def configure_connection(
    conn: sqlite3.Connection, hooks: Iterable[ConnectionHook] = (), *, trust_schema: bool = False
) -> None:
    """Make `conn` query-only, distrust schema code, guard every statement, decode any text, and run the
    registration hooks (functions they register must be allowed through `guard.allow_functions`).

    `trust_schema` is only for a database whose schema cannot load otherwise (see
    `untrusted_schema_function`); the function registry then registers no user functions on `conn`,
    so views and generated columns can reach only SQLite's and our side-effect-free functions.
    """
    conn.text_factory = decode_text
    conn.execute("PRAGMA query_only=ON")
    conn.execute(f"PRAGMA trusted_schema={'ON' if trust_schema else 'OFF'}")
    try:
        conn.enable_load_extension(False)
    except AttributeError:  # Python built without extension support: already off.
        pass
    install_guard(conn)
    for hook in hooks:
        hook(conn)


@contextmanager
def scratch_writes(conn: sqlite3.Connection) -> Iterator[None]:
    """Let our own code write into an attached memdb scratch database (e.g. the search index), briefly.

    Only for statements the program itself wrote; never run user SQL inside this block.
    """
    with unguarded(conn):
        conn.execute("PRAGMA query_only=OFF")
        try:
            yield
        finally:
            conn.execute("PRAGMA query_only=ON")
