"""WAL history: the commits a -wal still holds, and the database as of any of them."""
