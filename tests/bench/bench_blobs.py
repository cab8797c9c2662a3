"""Blob figures: bulk export throughput vs a bare blobopen loop, and the UI stall while exporting."""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from desktop_app.app import finish_start_up
from desktop_app.core.blobs.export import export_column
from desktop_app.core.snapshot.snapshot import open_snapshot
from tests.bench.common import (
    Figure,
    bench_folder,
    idle_timer_gap,
    largest_timer_gap,
    run_on_qasync,
    stall_figure,
)

#: Alternating rounds of the bare loop and our export.
ROUNDS = 5


def make_blob_database(path: Path, count: int) -> Path:
    if path.exists():
        return path
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT, data BLOB)")
    conn.execute(
        "INSERT INTO files (name, data) SELECT 'file ' || x, "
        "X'89504E470D0A1A0A' || randomblob(20000 + abs(random()) % 40000) "
        f"FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT {count}) SELECT x FROM c)"
    )
    conn.commit()
    conn.close()
    return path


def bare_loop(conn: sqlite3.Connection, folder: Path) -> int:
    """The baseline: a plain Python loop writing each blob with blobopen."""
    written = 0
    for (rowid,) in conn.execute("SELECT id FROM files").fetchall():
        with (
            conn.blobopen("files", "data", rowid, readonly=True) as blob,
            open(folder / f"{rowid}.png", "wb") as out,
        ):
            out.write(blob.read())
        written += 1
    return written


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


async def export_under_ui(path: Path, folder: Path) -> tuple[float, float]:
    from desktop_app.core.database import Database

    snapshot = open_snapshot(path)
    db = Database(snapshot)
    finish_start_up()  # as the app does once its window is up
    try:
        started = time.perf_counter()
        gap, _ = await largest_timer_gap(db.run_sync(export_column, "files", "data", fresh(folder)))
        idle = await idle_timer_gap(time.perf_counter() - started)
    finally:
        await db.close()
        snapshot.close()
    return gap, idle


def run(size: int = 3000) -> list[Figure]:
    """`size` is the number of blobs (20–60 KB each)."""
    root = bench_folder()
    path = make_blob_database(root / f"blobs-{size}.db", size)
    snapshot = open_snapshot(path)
    conn = snapshot.connect()
    out = root / "blob-export"
    bare_times, our_times = [], []
    # Creating 3,000 files costs anywhere from 0.2 to 2.3 s here, whoever writes them: alternate the two
    # and compare medians, which one lucky (or unlucky) round cannot move as it moves the minimum.
    for _ in range(ROUNDS):
        started = time.perf_counter()
        bare_loop(conn, fresh(out))
        bare_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = export_column(conn, "files", "data", fresh(out))
        our_times.append(time.perf_counter() - started)
        assert result.written == size
    conn.close()
    snapshot.close()
    bare, ours = statistics.median(bare_times), statistics.median(our_times)
    throughput = bare / ours  # ours as a share of the bare loop's throughput
    stall, idle = run_on_qasync(lambda: export_under_ui(path, out))
    shutil.rmtree(out, ignore_errors=True)
    return [
        Figure(
            f"bulk export of {size} blobs",
            ours,
            "s",
            bare,
            "bare blobopen loop",
            "≥ 70% throughput",
            throughput >= 0.7,
        ),
        stall_figure("UI stall while exporting blobs", stall, idle),
    ]


if __name__ == "__main__":
    for figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else 3000):
        print(figure.as_dict())
