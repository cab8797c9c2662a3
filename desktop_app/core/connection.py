"""Set up every SQLite connection to a snapshot: read-only, safe, tolerant of bad text."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable

#: Something that registers functions/collations on a connection (see `functions.py`).
ConnectionHook = Callable[[sqlite3.Connection], None]


def decode_text(raw: bytes) -> str:
    """Decode TEXT from SQLite; invalid UTF-8 becomes U+FFFD instead of raising."""
    return raw.decode("utf-8", "replace")


def configure_connection(conn: sqlite3.Connection, hooks: Iterable[ConnectionHook] = ()) -> None:
    """Make `conn` query-only, distrust schema code, decode any text, and run the registration hooks."""
    conn.text_factory = decode_text
    conn.execute("PRAGMA query_only=ON")
    conn.execute("PRAGMA trusted_schema=OFF")
    try:
        conn.enable_load_extension(False)
    except AttributeError:  # Python built without extension support: already off.
        pass
    for hook in hooks:
        hook(conn)
