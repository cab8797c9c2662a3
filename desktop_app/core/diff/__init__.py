"""Comparing two snapshots: schema changes and row changes, matched by key, computed in SQLite."""
