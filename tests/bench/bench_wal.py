"""Issue 26 figures: the WAL history of a ~`size` MB `-wal` against `cat` of the database and its `-wal`.

* listing every commit (read both files once, verify every frame's checksum chain, group the commits, name
  the tables each touched);
* opening the database as of a commit in the middle (image rebuilt, deserialized, copied into the memdb).

The WAL database is generated once (cached in the bench folder): a 40 MB table, then commits of ~1 MB
each (inserts and updates to old rows) with the writer's connection held open so nothing is checkpointed.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

from desktop_app.core.wal.as_of import open_as_of_commit
from desktop_app.core.wal.history import read_wal_history
from tests.bench.common import Figure, bench_folder

ROW_BYTES = 900
SERIES_INSERT = (
    "WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < ?2) "
    "INSERT INTO events (kind, body) SELECT value % 97, hex(randomblob(?1)) FROM s"
)


def make_wal_database(folder: Path, wal_megabytes: int) -> Path:
    """`history.db` + `history.db-wal` in `folder` with a `-wal` of about `wal_megabytes` MB (reused)."""
    target = folder / "history.db"
    wal = folder / "history.db-wal"
    if target.exists() and wal.exists() and wal.stat().st_size >= wal_megabytes * 2**20 * 0.9:
        return target
    shutil.rmtree(folder, ignore_errors=True)
    work = folder / "work"
    work.mkdir(parents=True)
    conn = sqlite3.connect(work / "history.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, kind INTEGER, body TEXT)")
    conn.execute("CREATE INDEX events_kind ON events (kind)")
    conn.execute("CREATE TABLE tally (kind INTEGER PRIMARY KEY, n INTEGER)")
    conn.execute("BEGIN")
    conn.execute(
        SERIES_INSERT,
        (ROW_BYTES // 2, 40 * 2**20 // ROW_BYTES),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    per_commit = 2**20 // ROW_BYTES
    while (work / "history.db-wal").stat().st_size < wal_megabytes * 2**20:
        conn.execute("BEGIN")
        conn.execute(
            SERIES_INSERT,
            (ROW_BYTES // 2, per_commit),
        )
        conn.execute(
            "UPDATE events SET body = hex(randomblob(?)) WHERE id % 5000 = abs(random()) % 5000", (400,)
        )
        conn.execute(
            "INSERT OR REPLACE INTO tally SELECT kind, count(*) FROM events WHERE id % 1000 = 0 GROUP BY kind"
        )
        conn.execute("COMMIT")
    shutil.copyfile(work / "history.db", target)
    shutil.copyfile(work / "history.db-wal", wal)
    conn.close()
    shutil.rmtree(work)
    return target


def cat_seconds(*paths: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["cat", *map(str, paths)], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def run(size: int = 200) -> list[Figure]:
    """`size` is the `-wal`'s size in MB."""
    path = make_wal_database(bench_folder() / f"wal-history-{size}mb", size)
    wal = Path(f"{path}-wal")
    cat = listing = opening = float("inf")
    commits = 0
    for _ in range(3):  # interleaved, best of each: a busy machine slows both sides alike
        cat = min(cat, cat_seconds(path, wal))
        started = time.perf_counter()
        history = read_wal_history(path)
        listing = min(listing, time.perf_counter() - started)
        commits = len(history.commits)
        middle = max(1, commits // 2)
        started = time.perf_counter()
        open_as_of_commit(path, middle, history=history).close()
        opening = min(opening, time.perf_counter() - started)
        del history
    total_mb = (path.stat().st_size + wal.stat().st_size) / 2**20
    return [
        Figure(f"list {commits} commits of a {size} MB -wal", listing, "s", cat, f"cat of both files ({total_mb:,.0f} MB)",
               "info"),
        Figure("open as of the middle commit", opening, "s", cat, "cat of both files", "info"),
    ]  # fmt: skip


if __name__ == "__main__":
    for figure in run():
        print(figure.as_dict())
