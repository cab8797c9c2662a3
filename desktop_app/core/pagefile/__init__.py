"""SQLite's on-disk page format read from bytes: the database header, b-tree pages, the freelist, and
which b-tree each page belongs to. Works on bytes only (a snapshot's serialized image, WAL frame images)."""
