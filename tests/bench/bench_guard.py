"""Issue 17 figure: what the guard on SQL costs on typical queries (target ≤ 2% over no authorizer at all).

`python -m tests.bench.bench_guard [ROWS]` (default 200,000 rows). The same workload runs through the
database service (`Database.execute`, no result cache) on guarded connections and on connections whose
authorizer was removed, in alternating rounds; the figure is the median round of each. The workload is
what the SQL pane and the grid send: keyset pages (one statement, prepared once), many different small
statements (each prepared anew, so the authorizer runs for every one), and aggregates over the table.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from desktop_app.core.database import Database
from desktop_app.core.snapshot.snapshot import open_snapshot
from tests.bench.bench_sql import make_table
from tests.bench.common import Figure, bench_folder

DEFAULT_ROWS = 200_000
ROUNDS = 7
PAGES = 300
SMALL_STATEMENTS = 300
AGGREGATES = 3


def _unguarded(conn: sqlite3.Connection) -> None:
    conn.set_authorizer(None)


async def _workload(database: Database, rows: int) -> None:
    page = "SELECT id, n, amount, label, note FROM t WHERE id > ? ORDER BY id LIMIT 256"
    for i in range(PAGES):
        await database.execute(page, ((i * 997) % rows,), use_cache=False)
    for i in range(SMALL_STATEMENTS):
        await database.execute(
            f"SELECT id, upper(label), round(amount, 1), length(note) FROM t WHERE id = {i * 31 % rows + 1}",
            use_cache=False,
        )
    for _ in range(AGGREGATES):
        await database.execute(
            "SELECT label, count(*), avg(amount), max(n) FROM t GROUP BY label ORDER BY 2 DESC LIMIT 10",
            use_cache=False,
        )


async def _measure(path: Path, rows: int) -> tuple[list[float], list[float]]:
    snapshot = open_snapshot(path)
    guarded = Database(snapshot)
    bare = Database(snapshot, hooks=[_unguarded])
    times: dict[bool, list[float]] = {True: [], False: []}
    try:
        for database in (guarded, bare):  # warm both pools and caches once
            await _workload(database, rows)
        for round_ in range(ROUNDS):
            for is_guarded in (True, False) if round_ % 2 == 0 else (False, True):
                started = time.perf_counter()
                await _workload(guarded if is_guarded else bare, rows)
                times[is_guarded].append(time.perf_counter() - started)
    finally:
        await guarded.close()
        await bare.close()
        snapshot.close()
    return times[True], times[False]


def run(rows: int = DEFAULT_ROWS) -> list[Figure]:
    """The guard's cost on the query workload, against the same workload without an authorizer."""
    path = make_table(bench_folder() / f"guard-{rows}.db", rows)
    guarded, bare = asyncio.run(_measure(path, rows))
    value, baseline = statistics.median(guarded), statistics.median(bare)
    statements = PAGES + SMALL_STATEMENTS + AGGREGATES
    return [
        Figure(
            f"{statements} typical queries, guarded (median of {ROUNDS})",
            value,
            "s",
            baseline,
            "same queries, no authorizer",
            "≤ 1.02x",
            value <= baseline * 1.02,
        )
    ]


if __name__ == "__main__":
    for figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS):
        print(figure)
