"""Issue 3 figures: browsing a table of millions of rows in the Browse pane, against naive OFFSET paging.

`python -m tests.bench.bench_browse [ROWS]` (default 10,000,000 rows). Two generated tables: `dense`
(rowids 1..N, positions map straight to rowids) and `sparse` (every other rowid, found through the
position index). Baselines are the same reads done the naive way (COUNT then LIMIT/OFFSET) on the same
snapshot. Ratios are ours / baseline: below 1 is faster than the baseline.

The sparse table's first random jumps start as soon as the count is known, while its position index
(~0.2 s) is still being built: those walk from the nearest known row, as OFFSET paging would. The
indexed figure jumps to other rows once the index is there.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from desktop_app.app import finish_start_up
from desktop_app.core.browse.paging import TablePager
from desktop_app.core.schema.catalog import Catalog
from tests.bench.common import (
    Figure,
    bench_folder,
    current_rss_bytes,
    idle_timer_gap,
    largest_timer_gap,
    run_on_qasync,
    stall_figure,
)

DEFAULT_ROWS = 10_000_000
RANDOM_JUMPS = 60
#: Stops on the way from the first to the last row when measuring memory (every page for small tables).
SCROLL_STEPS = 1000
MB = 2**20


def make_tables(path: Path, rows: int) -> Path:
    """Generate (or reuse) a database with tables `dense` and `sparse` of `rows` rows each."""
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(partial)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    for name, rowid in (("dense", "i"), ("sparse", "i * 2")):
        conn.execute(f"CREATE TABLE {name}(id INTEGER PRIMARY KEY, label TEXT, amount REAL, note TEXT)")
        conn.execute(
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {int(rows)}) "
            f"INSERT INTO {name} SELECT {rowid}, 'row ' || i, i * 0.25, "
            "CASE WHEN i % 7 = 0 THEN NULL ELSE 'note ' || hex(randomblob(6)) END FROM s"
        )
        conn.commit()
    conn.close()
    partial.rename(path)
    return path


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def naive_baselines(
    conn: sqlite3.Connection, table: str, rows: int, positions: list[int]
) -> dict[str, float]:
    """The same reads done the naive way: COUNT(*) then LIMIT/OFFSET (what DB Browser for SQLite does)."""
    page = 256

    def first() -> None:
        conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        conn.execute(f"SELECT * FROM {table} LIMIT {page}").fetchall()

    jumps = [
        timed(lambda p=p: conn.execute(f"SELECT * FROM {table} LIMIT {page} OFFSET {p}").fetchall())
        for p in positions[:20]
    ]
    return {
        "first": timed(first),
        "last": timed(
            lambda: conn.execute(f"SELECT * FROM {table} LIMIT {page} OFFSET {rows - page}").fetchall()
        ),
        "p95": _p95(jumps),
    }


def index_sparse_table(conn: sqlite3.Connection, catalog: Catalog) -> None:
    """Count the sparse table and build its position index, as the grid does in the background."""
    table = catalog.table("sparse")
    assert table is not None
    pager = TablePager(table)
    pager.count(conn)
    pager.build_index(conn)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


async def until(condition: Callable[[], bool], timeout: float = 120.0) -> float:
    """Spin the loop until `condition()` holds; return how long it took."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the grid did not show the rows in time")
        await asyncio.sleep(0.001)
    return time.perf_counter() - started


async def browse(path: Path, rows: int) -> list[Figure]:
    from PySide6.QtCore import QSettings

    from desktop_app.core.database import Database
    from desktop_app.core.schema.catalog import read_catalog
    from desktop_app.core.snapshot.snapshot import open_snapshot
    from desktop_app.ui.context import AppContext
    from desktop_app.ui.panes.browse.pane import BrowsePane

    snapshot = await asyncio.to_thread(open_snapshot, path)
    database = Database(snapshot)
    catalog = await database.run_sync(read_catalog)
    context = AppContext(QSettings(str(bench_folder() / "bench-settings.ini"), QSettings.Format.IniFormat))
    context.set_database(database, catalog)
    pane = BrowsePane(context)
    pane.resize(1000, 700)
    pane.show()
    model = pane.model
    # A window that is already up, with a warm connection pool (the schema tree has been counting rows).
    await asyncio.gather(
        *(database.run_sync(lambda conn: conn.execute("SELECT 1").fetchone()) for _ in range(4))
    )
    await asyncio.sleep(0.3)
    finish_start_up()  # as the app does once its window is up
    rng = random.Random(3)
    positions = [rng.randrange(rows) for _ in range(RANDOM_JUMPS)]
    # Other rows once indexed: the first positions' pages may still be cached, which is no jump at all.
    indexed_positions = [rng.randrange(rows) for _ in range(RANDOM_JUMPS)]
    found: dict[str, float] = {}

    async def visit(table: str) -> None:
        started = time.perf_counter()
        pane.show_table(table)
        await until(lambda: model.is_loaded(0))
        found[f"{table} first"] = time.perf_counter() - started
        await until(lambda: model.exact)
        started = time.perf_counter()
        pane.scroll_to_row(rows - 1, select=False)  # as Ctrl+End: the real last row, past the grid's window
        await until(lambda: model.is_loaded(rows - 1))
        found[f"{table} last"] = time.perf_counter() - started
        jumps = []
        for position in positions:
            started = time.perf_counter()
            pane.scroll_to_row(position, select=False)
            await until(lambda p=position: model.is_loaded(p))
            jumps.append(time.perf_counter() - started)
        found[f"{table} p95"] = _p95(jumps)

    async def work() -> None:
        await visit("dense")
        await visit("sparse")
        source = pane.source
        assert source is not None
        await until(lambda: source.pager.indexed, timeout=600)
        jumps = []
        for position in indexed_positions:
            started = time.perf_counter()
            pane.scroll_to_row(position, select=False)
            await until(lambda p=position: model.is_loaded(p))
            jumps.append(time.perf_counter() - started)
        found["sparse indexed p95"] = _p95(jumps)

    started = time.perf_counter()
    gap, _ = await largest_timer_gap(work())
    idle_gap = await idle_timer_gap(time.perf_counter() - started)

    pane.show_table("dense")
    await until(lambda: model.exact and model.is_loaded(0))
    before = current_rss_bytes()
    started = time.perf_counter()
    stride = max(model.page_rows, rows // SCROLL_STEPS)
    stops = len(range(0, rows, stride))
    for position in range(0, rows, stride):
        pane.scroll_to_row(position, select=False)
        await until(lambda p=position: model.is_loaded(p))
    scroll_s = time.perf_counter() - started
    growth = current_rss_bytes() - before

    conn = snapshot.connect()
    baselines = {t: naive_baselines(conn, t, rows, positions) for t in ("dense", "sparse")}
    found["index"] = timed(lambda: index_sparse_table(conn, catalog))
    conn.close()
    model.close()
    await model.wait_idle()
    pane.close()
    await database.close()
    snapshot.close()

    def ms(name: str, seconds: float, target_ms: float, baseline: float | None, baseline_name: str) -> Figure:
        value = seconds * 1000
        return Figure(
            name,
            value,
            "ms",
            baseline * 1000 if baseline is not None else None,
            baseline_name,
            f"≤ {target_ms:g} ms",
            value <= target_ms,
        )

    n = f"{rows:,}"
    dense, sparse = baselines["dense"], baselines["sparse"]
    return [
        ms(f"first rows visible ({n} rows)", found["dense first"], 100, dense["first"], "COUNT + LIMIT"),
        ms("jump to the last row", found["dense last"], 100, dense["last"], "LIMIT/OFFSET"),
        ms("random jumps p95", found["dense p95"], 50, dense["p95"], "LIMIT/OFFSET p95"),
        ms("sparse rowids: first rows visible", found["sparse first"], 100, sparse["first"], "COUNT + LIMIT"),
        ms("sparse rowids: jump to the last row", found["sparse last"], 100, sparse["last"], "LIMIT/OFFSET"),
        ms(
            "sparse rowids: random jumps p95, index still building",
            found["sparse p95"],
            50,
            sparse["p95"],
            "LIMIT/OFFSET p95",
        ),
        Figure("sparse rowids: count + position index (background)", found["index"], "s"),
        ms(
            "sparse rowids: random jumps p95, indexed",
            found["sparse indexed p95"],
            50,
            sparse["p95"],
            "OFFSET p95",
        ),
        stall_figure("largest gap of a 10 ms timer while browsing", gap, idle_gap),
        Figure(
            f"memory growth scrolling top to bottom ({n} rows)",
            growth / MB,
            "MB",
            None,
            "",
            "≤ 100 MB",
            growth / MB <= 100,
        ),
        Figure(f"scrolling top to bottom, {stops:,} stops", scroll_s, "s"),
    ]


def run(size: int = DEFAULT_ROWS) -> list[Figure]:
    """Generate the tables (reused between runs) and browse them; returns the figures."""
    path = make_tables(bench_folder() / f"browse-{size}.db", size)
    return run_on_qasync(lambda: browse(path, size))


if __name__ == "__main__":
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS
    for figure in run(rows):
        baseline = f"{figure.baseline:,.2f}" if figure.baseline is not None else "—"
        ratio = f"{figure.ratio:.3f}x" if figure.ratio is not None else "—"
        ok = {True: "ok", False: "MISSED", None: ""}[figure.ok]
        print(
            f"{figure.figure:<48} {figure.value:>10,.2f} {figure.unit:<3} baseline {baseline:>10} "
            f"ratio {ratio:>8}  {figure.target:<10} {ok}"
        )
