"""WAL databases built commit by commit, with what the database held after each commit (the truth).

The writing connection stays open (with `wal_autocheckpoint=0`) while the files are copied aside, so its
close never checkpoints the copy: the copy's `-wal` holds every commit.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

Truth = dict[str, list[tuple[object, ...]]]


def database_rows(conn: sqlite3.Connection) -> Truth:
    """Every table's rows (sorted), by table name."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")]
    return {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}


@dataclass
class WalBuilder:
    """A WAL database being written; `commit(...)` runs one transaction and records the truth after it."""

    path: Path
    page_size: int = 4096
    truths: list[Truth] = field(default_factory=list)
    #: The truth of the commits since the log last restarted (what the current commits must show).
    since_restart: list[Truth] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute(f"PRAGMA page_size={self.page_size}")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA wal_autocheckpoint=0")

    def commit(self, *statements: str | tuple[str, list[tuple[object, ...]]]) -> None:
        """Run `statements` as one transaction (each a SQL string or (SQL, rows for executemany))."""
        self.conn.execute("BEGIN")
        for statement in statements:
            if isinstance(statement, tuple):
                self.conn.executemany(*statement)
            else:
                self.conn.execute(statement)
        self.conn.execute("COMMIT")
        truth = database_rows(self.conn)
        self.truths.append(truth)
        self.since_restart.append(truth)

    def checkpoint(self) -> None:
        """Copy every frame into the database file; the next commit restarts the log with new salts."""
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.since_restart = []

    def copy_to(self, folder: Path) -> Path:
        """Copy the database and its `-wal` into `folder` (the writer stays open: nothing is checkpointed)."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / self.path.name
        shutil.copyfile(self.path, target)
        shutil.copyfile(f"{self.path}-wal", f"{target}-wal")
        return target

    def close(self) -> None:
        """Close the writer (its close checkpoints the original, never the copies)."""
        self.conn.close()


def build_history(
    folder: Path, page_size: int = 4096, *, rows: int = 300, checkpoint_after: int | None = None
) -> tuple[Path, WalBuilder]:
    """A copy (in `folder`/evidence) of a WAL database after inserts, updates, deletes and schema changes;
    `checkpoint_after` commits a checkpoint restarts the log (frames before it become stale)."""
    (folder / "work").mkdir(parents=True)
    builder = WalBuilder(folder / "work" / "history.db", page_size)
    steps: list[Callable[[], None]] = [
        lambda: builder.commit("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, note TEXT)"),
        lambda: builder.commit(
            (
                "INSERT INTO people (name, note) VALUES (?, ?)",
                [(f"person {i}", "x" * (i % 50)) for i in range(rows)],
            )
        ),
        lambda: builder.commit(
            "CREATE TABLE items (sku TEXT, qty INTEGER)", "CREATE INDEX items_sku ON items (sku)"
        ),
        lambda: builder.commit(
            ("INSERT INTO items VALUES (?, ?)", [(f"sku-{i:05}", i) for i in range(rows)])
        ),
        lambda: builder.commit("UPDATE people SET note = 'changed' WHERE id % 3 = 0"),
        lambda: builder.commit(f"DELETE FROM people WHERE id > {rows // 2}"),
        lambda: builder.commit(
            "ALTER TABLE items ADD COLUMN price REAL", "UPDATE items SET price = qty * 1.5"
        ),
        lambda: builder.commit("DROP INDEX items_sku", "DELETE FROM items WHERE qty % 2 = 0"),
        lambda: builder.commit("INSERT INTO people (name, note) VALUES ('last', 'one')"),
    ]
    for number, step in enumerate(steps, start=1):
        step()
        if checkpoint_after == number:
            builder.checkpoint()
    copy = builder.copy_to(folder / "evidence")
    return copy, builder
