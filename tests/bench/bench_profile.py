"""Issue 22 figures: profiling every column of a 10M-row, 8-column table, against count(DISTINCT) passes.

`python -m tests.bench.bench_profile [ROWS]` (default 10,000,000 rows, generated once into the bench
folder). Measured on one snapshot in the same run: the baseline of one `SELECT count(DISTINCT c)` per
column, then the profile as the window runs it (statements in a thread of lower priority): the time to
the first figures (the row count and every column over the first rows), to every column's cheap
figures, and to the complete profile. `BENCH_PROFILE_TWO_CONNECTIONS=1` also profiles on two
connections, two statements at a time.
Ratios only; nothing here asserts a time.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

from desktop_app.core.profile.model import Stage
from desktop_app.core.profile.run import profile_columns
from desktop_app.core.schema.catalog import Table, read_table
from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.core.sqlite.quoting import quote_identifier
from tests.bench.common import Figure, bench_folder

DEFAULT_ROWS = 10_000_000


def make_table(path: Path, rows: int) -> Path:
    """Generate (or reuse) `wide8`: ids, a category, amounts, labels, notes with NULLs, a flag, times, blobs."""
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(partial)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute(
        "CREATE TABLE wide8 (id INTEGER PRIMARY KEY, category INTEGER, amount REAL, label TEXT, "
        "note TEXT, flag INTEGER, created_at INTEGER, data BLOB)"
    )
    conn.execute(
        f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {int(rows)}) "
        "INSERT INTO wide8 SELECT i, abs(random()) % 100, (abs(random()) % 1000000) / 100.0, "
        "'label ' || (abs(random()) % 1000000), CASE WHEN i % 7 = 0 THEN NULL ELSE 'note ' || (i % 5000) END, "
        "i % 2, 1600000000 + abs(random()) % 100000000, randomblob(8) FROM s"
    )
    conn.commit()
    conn.close()
    partial.rename(path)
    return path


def _profile(
    conn: sqlite3.Connection, table: Table, connect: Callable[[], sqlite3.Connection] | None
) -> tuple[float, float, float]:
    """(seconds to the first figures, to every column's cheap figures, to the complete profile)."""
    started = time.perf_counter()
    first = cheap_done = None
    for profile in profile_columns(conn, table, connect=connect, low_priority=True):
        now = time.perf_counter() - started
        first = now if first is None else first
        if profile.stage is Stage.COMPLETE and cheap_done is None:
            cheap_done = now
    return first or 0.0, cheap_done or 0.0, time.perf_counter() - started


def run(rows: int = DEFAULT_ROWS) -> list[Figure]:
    """Measure the count(DISTINCT) baseline, then profile the table once, on the same snapshot."""
    path = make_table(bench_folder() / f"profile-{rows}.db", rows)
    snapshot = open_snapshot(path)
    conn = snapshot.connect()
    try:
        table = read_table(conn, "wide8")
        assert table is not None
        baseline_started = time.perf_counter()
        for column in table.columns:
            name = quote_identifier(column.name)
            conn.execute(f"SELECT count(DISTINCT {name}) FROM wide8").fetchone()
        baseline = time.perf_counter() - baseline_started
        first, cheap_done, total = _profile(conn, table, None)
        two = None
        if os.environ.get("BENCH_PROFILE_TWO_CONNECTIONS"):
            two = _profile(conn, table, snapshot.connect)[2]
    finally:
        conn.close()
        snapshot.close()
    label = f"{rows / 1e6:g}M rows × 8 columns"
    figures = [
        Figure(f"profile first figures, {label}", first, target="≤ 1 s", ok=first <= 1.0),
        Figure(f"profile cheap figures of all columns, {label}", cheap_done),
        Figure(
            f"profile complete, {label}",
            total,
            baseline=baseline,
            baseline_name="count(DISTINCT c) per column, same run",
            target="≤ 3x",
            ok=total <= 3 * baseline,
        ),
    ]
    if two is not None:
        figures.append(
            Figure(
                f"profile complete on two connections, {label}",
                two,
                baseline=baseline,
                baseline_name="count(DISTINCT c) per column, same run",
                target="info",
            )
        )
    return figures


if __name__ == "__main__":
    for figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS):
        ratio = f"  ratio {figure.ratio:.2f}x" if figure.ratio is not None else ""
        baseline = f"  baseline {figure.baseline:.3f} {figure.unit}" if figure.baseline is not None else ""
        print(
            f"{figure.figure}: {figure.value:.3f} {figure.unit}{baseline}{ratio}"
            f"  (target {figure.target or '—'})"
        )
