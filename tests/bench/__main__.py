"""`python -m tests.bench [--size-of NAME=N ...] [--only NAME,...] [--json OUT]`: every benchmark, one table.

Each module `tests/bench/bench_<name>.py` has `run(size) -> list[Figure | dict]`; sizes default to what
fits 2 cores in a few minutes. Baselines are measured in the same run, so ratios are comparable.
Each benchmark runs in a process of its own: Qt and memory figures of one never leak into the next.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.common import Figure

BENCHES = (
    "snapshot",
    "browse",
    "sql",
    "search",
    "blobs",
    "guard",
    "structure",
    "profile",
    "profile_ui",
    "diagram",
    "export",
    "diff",
    "packed",
    "chart",
    "recovery",
    "wal",
)
#: Run with --scale: multi-GB files, generated once into the bench folder (minutes the first time).
SCALE_BENCHES = ("scale", "scale_grid")


def as_figure(row: Figure | dict[str, Any]) -> Figure:
    if isinstance(row, Figure):
        return row
    return Figure(
        figure=str(row.get("figure", "?")),
        value=float(row.get("value", 0.0)),
        unit=str(row.get("unit", "")),
        baseline=row.get("baseline"),
        baseline_name=str(row.get("baseline_name", "")),
        target=str(row.get("target", "")),
        ok=row.get("ok"),
    )


_CHILD = """
import json, sys
from tests.bench.bench_{name} import run
from tests.bench.common import Figure
size = {size!r}
rows = run() if size is None else run(size)
print("@@RESULTS@@" + json.dumps([r.as_dict() if isinstance(r, Figure) else r for r in rows]), flush=True)
import os
os._exit(0)  # qasync's executor threads are not daemons: a normal exit would wait for them forever
"""


def run_isolated(name: str, size: int | None) -> list[dict[str, Any]] | None:
    """Run one benchmark module in a child process; its rows, or None when it failed."""
    child = subprocess.run(
        [sys.executable, "-c", _CHILD.format(name=name, size=size)],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in child.stdout.splitlines():
        if line.startswith("@@RESULTS@@"):
            return json.loads(line.removeprefix("@@RESULTS@@"))
    print(f"[{name}] failed (exit {child.returncode}):\n{child.stderr[-3000:]}", file=sys.stderr)
    return None


def format_table(rows: list[tuple[str, Figure]]) -> str:
    header = f"{'bench':<9} {'figure':<44} {'ours':>11} {'baseline':>11} {'ratio':>7}  {'target':<10} ok  baseline is"
    lines = [header, "-" * len(header)]
    for bench, f in rows:
        baseline = f"{f.baseline:,.3f}" if f.baseline is not None else "—"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "—"
        ok = {True: "yes", False: "NO", None: ""}[f.ok]
        lines.append(
            f"{bench:<9} {f.figure[:44]:<44} {f.value:>9,.3f}{f.unit[:2]:>2} {baseline:>11} {ratio:>7}  "
            f"{f.target:<10} {ok:<3} {f.baseline_name}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--only", help="comma-separated benchmark names", default=",".join(BENCHES))
    parser.add_argument("--size-of", action="append", default=[], metavar="NAME=N", help="size for one bench")
    parser.add_argument("--json", default="bench-results.json", help="where to write the table as JSON")
    parser.add_argument("--scale", action="store_true", help="the multi-GB benchmarks instead (issue 18)")
    args = parser.parse_args(argv)
    if args.scale and args.only == ",".join(BENCHES):
        args.only = ",".join(SCALE_BENCHES)
    sizes = dict(item.split("=", 1) for item in args.size_of)
    rows: list[tuple[str, Figure]] = []
    for name in args.only.split(","):
        started = time.perf_counter()
        print(f"[{name}] running…", file=sys.stderr, flush=True)
        results = run_isolated(name, int(sizes[name]) if name in sizes else None)
        if results is None:
            continue
        rows.extend((name, as_figure(r)) for r in results)
        print(f"[{name}] done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(
        f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(format_table(rows))
    Path(args.json).write_text(
        json.dumps(
            {"machine": platform.platform(), "rows": [{"bench": b, **f.as_dict()} for b, f in rows]}, indent=2
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
