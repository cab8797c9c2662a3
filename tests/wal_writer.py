"""Another program writing a WAL database without pause, for tests and benchmarks of the snapshot.

`python -m tests.wal_writer DB STOP_FILE [ROWS [JOURNAL]]` creates `DB` (WAL mode; a rollback journal with
JOURNAL "delete"), tables `a` and `b` of `ROWS` rows each, if needed, prints "ready", then commits in a loop
until `STOP_FILE` exists, and closes cleanly (the last connection checkpoints and removes its `-wal` and
`-shm`). Every transaction adds 1 to one row of `a` and one of `b` and appends a row to each, so in every
committed state sum(a.v) = sum(b.v) and
count(a) = count(b): a snapshot holding half a transaction breaks the invariant.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

INVARIANT_SQL = (
    "SELECT (SELECT sum(v) FROM a), (SELECT sum(v) FROM b), "
    "(SELECT count(*) FROM a), (SELECT count(*) FROM b)"
)


def invariant_holds(conn: sqlite3.Connection) -> bool:
    """True when `conn` sees one whole committed state of the writer's database."""
    sum_a, sum_b, count_a, count_b = conn.execute(INVARIANT_SQL).fetchone()
    return sum_a == sum_b and count_a == count_b


def start_writer(
    path: Path, stop_file: Path, rows: int = 5000, journal: str = "wal"
) -> subprocess.Popen[str]:
    """Start the writer in a process of its own; returns once it has committed its first state.
    `journal` is the journal mode it writes in ("wal", or "delete" for a rollback journal)."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.wal_writer", str(path), str(stop_file), str(rows), journal],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=root,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise RuntimeError(f"the writer did not start: {line!r}")
    return process


def stop_writer(process: subprocess.Popen[str], stop_file: Path) -> int:
    """Ask the writer to stop, wait for its clean exit, and return how many transactions it committed."""
    stop_file.touch()
    out, _ = process.communicate(timeout=60)
    return int(out.split()[-1]) if out.split() else 0


def main(path: str, stop_file: str, rows: int, journal: str = "wal") -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute(f"PRAGMA journal_mode={'DELETE' if journal == 'delete' else 'WAL'}")
    conn.execute("PRAGMA synchronous=NORMAL")
    for table in ("a", "b"):
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY, v INTEGER, pad BLOB)")
    if conn.execute("SELECT count(*) FROM a").fetchone()[0] == 0:
        conn.execute("BEGIN")
        for table in ("a", "b"):
            conn.executemany(f"INSERT INTO {table} (v, pad) VALUES (1, randomblob(200))", [()] * rows)
        conn.execute("COMMIT")
    print("ready", flush=True)
    commits = 0
    while not os.path.exists(stop_file):
        conn.execute("BEGIN IMMEDIATE")
        for table in ("a", "b"):
            key = random.randint(1, rows)
            conn.execute(f"UPDATE {table} SET v = v + 1, pad = randomblob(200) WHERE id = ?", (key,))
            conn.execute(f"INSERT INTO {table} (v, pad) VALUES (0, randomblob(200))")
        conn.execute("COMMIT")
        commits += 1
    conn.close()
    print(commits, flush=True)


if __name__ == "__main__":
    main(
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]) if len(sys.argv) > 3 else 5000,
        sys.argv[4] if len(sys.argv) > 4 else "wal",
    )
