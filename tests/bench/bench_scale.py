"""Issue 18 figures for databases of any size, headless (`python -m tests.bench --scale`).

Files are generated once into the bench folder (`BENCH_DIR`) and reused: a ~300 MB table, a ~2.1 GB table
of 150,000,000 rows (memory mode: just under memdb's 2 GiB), and a ~3.2 GB one (direct mode). `run(gb)`
adds a file of that many GB (e.g. `--size-of scale=10` for the 10 GB case). Every figure runs the real
command in a process of its own and reads its peak memory from the kernel (`ru_maxrss` of the child);
the baselines run in the same way in the same run:
- `info` against a bare Python process that backs the file up into memory (what `info` must do anyway);
- `query … count(*)` in direct mode against the `sqlite3` shell's `select count(*)`;
- peak resident memory against the file's size (≤ 1.3x in memory mode, ≤ 1 GB in direct mode).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.common import Figure, bench_folder, sqlite_cli

GB = 10**9
ROOT = Path(__file__).resolve().parents[2]
#: A bare backup into memory: the floor of any program that snapshots the file.
BARE_BACKUP = (
    "import sqlite3, sys\n"
    "src = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)\n"
    "dst = sqlite3.connect(':memory:')\n"
    "src.backup(dst, pages=1024)\n"
    "print(dst.execute('SELECT count(*) FROM sqlite_schema').fetchone()[0])\n"
)


def make_rows_file(path: Path, rows: int, payload_bytes: int = 0, n_below: int = 2**31 - 1) -> Path:
    """A table `t(id INTEGER PRIMARY KEY, n INTEGER, p BLOB)` of `rows` rows (reused when present); `n` is
    below `n_below` (its stored size: 3 bytes below 2**23, 4 below 2**31)."""
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(partial)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-200000")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, p BLOB)")
    payload = f"zeroblob({payload_bytes})" if payload_bytes else "NULL"
    conn.execute(
        f"INSERT INTO t (n, p) SELECT (x * 2654435761) % {n_below}, {payload} "
        f"FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT {rows}) SELECT x FROM c)"
    )
    conn.commit()
    conn.close()
    partial.rename(path)
    return path


def timed_child(command: list[str]) -> tuple[float, int, subprocess.CompletedProcess[str]]:
    """Run `command`; its wall time, its own peak resident bytes (wait4's rusage), and its result."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT)
        _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(
            command,
            process.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )
    return elapsed, usage.ru_maxrss * 1024, result


def best_child(command: list[str], repeats: int = 2) -> tuple[float, int, subprocess.CompletedProcess[str]]:
    """Fastest of `repeats` runs (first run also warms the page cache)."""
    runs = [timed_child(command) for _ in range(repeats)]
    return min(runs, key=lambda run: run[0])


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "desktop_app.cli", *args]


def memory_mode_figures(path: Path, label: str, peak_target: float) -> list[Figure]:
    """`info` and `count(*)` on a file that fits memdb: time against a bare backup, peak against size."""
    size = path.stat().st_size
    bare_s, _, _ = best_child([sys.executable, "-c", BARE_BACKUP, str(path)])
    info_s, info_peak, info = best_child(cli("info", str(path), "--json"))
    mode = "memory" if '"mode": "memory snapshot"' in info.stdout else f"not memory (exit {info.returncode})"
    count_s, count_peak, count = best_child(cli("query", str(path), "SELECT count(*) FROM t"), repeats=1)
    return [
        Figure(f"{label}: info ({mode})", info_s, "s", bare_s, "bare backup into memory", "≤ 1.3x",
               info.returncode == 0 and info_s <= bare_s * 1.3),
        Figure(f"{label}: query count(*)", count_s, "s", bare_s, "bare backup into memory", "",
               count.returncode == 0 and None),
        Figure(f"{label}: peak memory of info", info_peak / 2**20, "MB", size / 2**20, "file size",
               f"≤ {peak_target:g}x", info_peak <= size * peak_target),
        Figure(f"{label}: peak memory of count(*)", count_peak / 2**20, "MB", size / 2**20, "file size",
               f"≤ {peak_target:g}x", count_peak <= size * peak_target),
    ]  # fmt: skip


def direct_mode_figures(path: Path, label: str) -> list[Figure]:
    """`count(*)` on a file too large for memory: direct mode, against the sqlite3 shell; peak ≤ 1 GB."""
    folder_before = sorted(os.listdir(path.parent))
    shell = sqlite_cli()
    shell_s = best_child([shell, "-readonly", str(path), "SELECT count(*) FROM t"])[0] if shell else None
    count_s, count_peak, count = best_child(cli("query", str(path), "SELECT count(*) FROM t"))
    info = subprocess.run(cli("info", str(path), "--json"), capture_output=True, text=True, check=False)
    direct = '"mode": "direct' in info.stdout
    untouched = sorted(os.listdir(path.parent)) == folder_before
    return [
        Figure(f"{label}: query count(*) ({'direct' if direct else 'NOT direct'})", count_s, "s", shell_s,
               "sqlite3 shell count(*)", "", count.returncode == 0 and direct and untouched),
        Figure(f"{label}: peak memory of count(*)", count_peak / 2**20, "MB", path.stat().st_size / 2**20,
               "file size", "≤ 1024 MB", count_peak <= 2**30),
    ]  # fmt: skip


def run(extra_gb: int | None = None) -> list[Figure]:
    """The scale figures: ~300 MB, 2.1 GB / 150M rows (memory), 3.2 GB (direct), and `extra_gb` if given."""
    folder = bench_folder()
    figures = memory_mode_figures(make_rows_file(folder / "scale-300mb.db", 20_000_000), "300 MB", 1.3)
    # 150M rows of ~14 bytes: 2.1 GB, just inside memdb's 2 GiB.
    big = make_rows_file(folder / "scale-2gb-150m-rows.db", 150_000_000, n_below=2**23 - 1)
    figures += memory_mode_figures(big, f"{big.stat().st_size / GB:.1f} GB, 150M rows", 1.3)
    huge = make_rows_file(folder / "scale-3gb.db", 150_000_000, payload_bytes=8)
    figures += direct_mode_figures(huge, f"{huge.stat().st_size / GB:.1f} GB")
    if extra_gb:
        rows = extra_gb * GB // 22
        extra = make_rows_file(folder / f"scale-{extra_gb}gb.db", rows, payload_bytes=8)
        figures += direct_mode_figures(extra, f"{extra.stat().st_size / GB:.1f} GB")
    return figures


if __name__ == "__main__":
    for figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(figure)
