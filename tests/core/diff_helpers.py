"""Building pairs of databases and comparing them, for the diff tests."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from desktop_app.core.diff.compare import diff_snapshots
from desktop_app.core.diff.model import DatabaseDiff, RowChange
from desktop_app.core.diff.pairing import open_pair
from desktop_app.core.diff.script import write_sql
from desktop_app.core.snapshot.snapshot import open_snapshot


def make_db(path: Path, script: str, *, pragmas: str = "") -> Path:
    """A database at `path` built by `script` (`pragmas` run first, e.g. the encoding)."""
    conn = sqlite3.connect(path)
    if pragmas:
        conn.executescript(pragmas)
    conn.executescript(script)
    conn.commit()
    conn.close()
    return path


def diff_files(a: Path, b: Path, **kwargs: object) -> tuple[DatabaseDiff, dict[str, list[RowChange]]]:
    """Compare two files; return the diff and every changed row by table."""
    rows: dict[str, list[RowChange]] = {}
    snap_a, snap_b = open_snapshot(a, **kwargs), open_snapshot(b, **kwargs)  # type: ignore[arg-type]
    try:
        diff = diff_snapshots(
            snap_a, snap_b, on_rows=lambda t, page: rows.setdefault(t.name, []).extend(page)
        )
    finally:
        snap_a.close()
        snap_b.close()
    return diff, rows


def sql_between(a: Path, b: Path) -> str:
    """What `diff --sql` prints for A → B."""
    parts: list[str] = []
    snap_a, snap_b = open_snapshot(a), open_snapshot(b)
    try:
        pair = open_pair(snap_a, snap_b)
        try:
            write_sql(pair, parts.append)
        finally:
            pair.close()
    finally:
        snap_a.close()
        snap_b.close()
    return "".join(parts)


def apply_to_copy(a: Path, script: str, copy: Path) -> Path:
    """Copy A to `copy` and run `script` on the copy (never on A)."""
    shutil.copyfile(a, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    conn.executescript(script)
    conn.close()
    return copy


def round_trip_is_equal(a: Path, b: Path, tmp: Path) -> tuple[bool, str]:
    """Apply the A → B script to a copy of A; True when our own diff then finds the copy equal to B."""
    script = sql_between(a, b)
    copy = apply_to_copy(a, script, tmp / f"copy-of-{a.name}")
    diff, _rows = diff_files(copy, b)
    return diff.identical, diff.summary()
