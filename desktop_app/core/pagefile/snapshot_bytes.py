"""A memory snapshot's bytes, read where they lie: the one way the page readers get a snapshot's image."""

from __future__ import annotations

import mmap
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from desktop_app.core.sqlite.library import memdb_image
from desktop_app.core.sqlite.quoting import quote_identifier

#: The file name a snapshot's named memdb reports (`/snap-<hex>`, see core/snapshot/memory_copy.py).
_MEMDB_NAME = re.compile(r"/[A-Za-z0-9_.-]+")

#: What a snapshot's image is: the memdb's own buffer lent read-only, a copy, or `serialize`'s bytes.
ImageBytes = bytes | memoryview | bytearray | mmap.mmap


@contextmanager
def snapshot_bytes(conn: sqlite3.Connection, schema: str = "main") -> Iterator[ImageBytes]:
    """The bytes of `schema` behind `conn` for the `with` block: a named memdb's own buffer where it can
    be lent (no copy; `serialize` copies it while holding the GIL), else a copy. Nothing may keep a view
    of them past the block."""
    with _memdb_bytes(conn, schema) as data:
        yield data if data is not None else conn.serialize(name=schema)


@contextmanager
def _memdb_bytes(
    conn: sqlite3.Connection, schema: str
) -> Iterator[memoryview | bytearray | mmap.mmap | None]:
    """A named memdb's bytes without the copies `serialize` makes (None for other databases)."""
    names = {name: file for _seq, name, file in conn.execute("PRAGMA database_list")}
    file = names.get(schema) or ""
    if not _MEMDB_NAME.fullmatch(file):
        yield None
        return
    quoted = quote_identifier(schema)
    page_size = conn.execute(f"PRAGMA {quoted}.page_size").fetchone()[0]
    page_count = conn.execute(f"PRAGMA {quoted}.page_count").fetchone()[0]
    with memdb_image(f"file:{file}?vfs=memdb", page_size * page_count) as data:
        yield data
