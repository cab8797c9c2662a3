"""SQLite Snapshot Browser: browse a read-only in-memory snapshot of a SQLite file."""

__version__ = "0.1.0"
