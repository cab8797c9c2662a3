"""Databases with exactly known deleted rows, one per kind of case, and the recall/precision scorer.

Each builder writes a database under a folder the caller owns (tmp_path, or the benchmark's folder) and
records the truth: every row version the table ever held, and which of them are gone from it. A deleted
row is *recoverable* when its marker text is still somewhere in the file's bytes (secure_delete, a
vacuum or a later row may have wiped it); recall is reported both over recoverable rows and over all.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.recovery.record import LOST
from desktop_app.core.recovery.scan import RecoveryResult

Row = tuple[object, ...]


@dataclass
class Case:
    """One generated database and its truth."""

    kind: str
    path: Path
    encoding: str = "utf-8"
    #: table → every row version it ever held (table column order).
    ever: dict[str, list[Row]] = field(default_factory=dict)
    #: table → rows deleted (or replaced) and not live any more.
    deleted: dict[str, list[Row]] = field(default_factory=dict)
    #: Text that must appear in the result's note (secure_delete on).
    expect_note: str = ""
    #: Position of each table's marker text (its presence in the bytes says a row is recoverable).
    marker: int = 1


@dataclass
class Score:
    """Recall and precision of one recovery run on one case."""

    kind: str
    deleted: int
    recoverable: int
    recovered: int
    complete: int
    reported: int
    real: int

    @property
    def recall(self) -> float:
        """Recovered share of the recoverable deleted rows (1.0 when none was recoverable)."""
        return self.recovered / self.recoverable if self.recoverable else 1.0

    @property
    def recall_all(self) -> float:
        """Recovered share of every deleted row."""
        return self.recovered / self.deleted if self.deleted else 1.0

    @property
    def precision(self) -> float:
        """Share of reported records that really were rows of the table they were given to."""
        return self.real / self.reported if self.reported else 1.0


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b


def matches(values: Sequence[object], row: Row) -> bool:
    """True when every surviving value equals the row's (lost ones marked), and at least one survived."""
    if len(values) != len(row):
        return False
    survived = [(v, r) for v, r in zip(values, row, strict=True) if v is not LOST]
    return bool(survived) and all(_same(v, r) for v, r in survived)


def score(case: Case, result: RecoveryResult) -> Score:
    """Score `result` against the case's truth."""
    image = case.path.read_bytes()
    deleted = [(t, row) for t, rows in case.deleted.items() for row in rows]
    recoverable = [(t, row) for t, row in deleted if _marker_bytes(row[case.marker], case.encoding) in image]
    recovered = complete = 0
    by_marker: dict[tuple[str | None, object], list[Sequence[object]]] = {}
    for record in result.records:
        by_marker.setdefault((record.table, record.values[case.marker]), []).append(record.values)
    for table, row in recoverable:
        found = [v for v in by_marker.get((table, row[case.marker]), []) if matches(v, row)]
        recovered += bool(found)
        complete += any(LOST not in v for v in found)
    ever = {(t, row[case.marker]): row for t, rows in case.ever.items() for row in rows}
    real = 0
    for record in result.records:
        row = ever.get((record.table or "", record.values[case.marker]))
        real += row is not None and matches(record.values, row)
    return Score(case.kind, len(deleted), len(recoverable), recovered, complete, len(result.records), real)


def _marker_bytes(text: object, encoding: str) -> bytes:
    return str(text).encode(encoding)


# ---- builders ----------------------------------------------------------------------------------------

_COLUMNS = "id INTEGER PRIMARY KEY, marker TEXT NOT NULL, n INTEGER, x REAL, note TEXT, data BLOB"


def _rows(prefix: str, count: int, seed: int, *, start: int = 1, big: bool = False) -> list[Row]:
    rng = random.Random(seed)
    rows = []
    for i in range(start, start + count):
        note = None if i % 9 == 0 else "n" * rng.randrange(0, 60 if not big else 9000)
        data = None if i % 5 else bytes(rng.randrange(256) for _ in range(rng.randrange(1, 24)))
        x = rng.choice([i / 7, float(i), -0.5 * i, 1e300])
        n = rng.choice([i, -i * 1000, 0, 1, 2**40 + i, None])
        rows.append((i, f"{prefix}-{i:06d}-{'m' * rng.randrange(0, 30)}", n, x, note, data))
    return rows


def _connect(path: Path, *, secure_delete: bool = False, **pragmas: object) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for name, value in pragmas.items():
        conn.execute(f"PRAGMA {name} = {value}")
    conn.execute(f"PRAGMA secure_delete = {'ON' if secure_delete else 'OFF'}")
    return conn


def _fill(
    conn: sqlite3.Connection, table: str, rows: Sequence[Row], columns: str = _COLUMNS, options: str = ""
) -> None:
    conn.execute(f"CREATE TABLE {table} ({columns}) {options}")
    marks = ", ".join("?" * len(rows[0]))
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    conn.execute("COMMIT")


def _delete(conn: sqlite3.Connection, table: str, rows: list[Row], keep: Callable[[Row], bool]) -> list[Row]:
    gone = [r for r in rows if not keep(r)]
    conn.execute("BEGIN")
    conn.executemany(f"DELETE FROM {table} WHERE id = ?", [(r[0],) for r in gone])
    conn.execute("COMMIT")
    return gone


def scattered(folder: Path, kind: str = "leaf-deleted", *, rows: int = 1500, **pragmas: object) -> Case:
    """Every seventh row deleted: the cells become freeblocks (or join the gap) in live leaf pages."""
    secure = bool(pragmas.pop("secure_delete", False))
    path = folder / f"{kind}.db"
    encoding = {"'UTF-16le'": "utf-16-le", "'UTF-16be'": "utf-16-be"}.get(
        str(pragmas.get("encoding")), "utf-8"
    )
    data = _rows(kind, rows, seed=len(kind))
    with closing(_connect(path, secure_delete=secure, **pragmas)) as conn:
        _fill(conn, "t", data)
        gone = _delete(conn, "t", data, lambda r: int(r[0]) % 7 != 3)  # type: ignore[call-overload]
    note = "secure_delete" if secure else ""
    return Case(kind, path, encoding, {"t": data}, {"t": gone}, expect_note=note)


def pages_freed(folder: Path, kind: str = "pages-freed", **pragmas: object) -> Case:
    """A run of rows deleted: whole leaf pages go to the freelist; every key comes back (intact cells)."""
    path = folder / f"{kind}.db"
    data = _rows(kind, 2000, seed=2)
    with closing(_connect(path, **pragmas)) as conn:
        _fill(conn, "t", data)
        gone = _delete(conn, "t", data, lambda r: not 400 <= int(r[0]) < 1400)  # type: ignore[call-overload]
    return Case(kind, path, "utf-8", {"t": data}, {"t": gone})


def dropped_table(folder: Path) -> Case:
    """A table dropped whole: its pages go to the freelist and its CREATE statement leaves page 1."""
    path = folder / "dropped-table.db"
    keep = _rows("keep", 50, seed=3)
    # Not the same columns as `keep`: a record that fits two tables equally goes to one of them, a guess.
    data = [(*row, i % 3) for i, row in enumerate(_rows("dropped", 800, seed=4))]
    with closing(_connect(path)) as conn:
        _fill(conn, "keep", keep)
        _fill(conn, "doomed", data, f"{_COLUMNS}, kind INTEGER")
        conn.execute("DROP TABLE doomed")
    return Case("dropped-table", path, "utf-8", {"keep": keep, "doomed": data}, {"doomed": data})


def overwritten(folder: Path, *, longer: bool) -> Case:
    """Rows deleted, then new rows inserted into their space: shorter ones leave the old rows' heads,
    longer ones go elsewhere (or split pages)."""
    kind = "overwritten-longer" if longer else "overwritten-shorter"
    path = folder / f"{kind}.db"
    data = _rows(kind, 1200, seed=5)
    with closing(_connect(path)) as conn:
        _fill(conn, "t", data)
        gone = _delete(conn, "t", data, lambda r: int(r[0]) % 5 != 2)  # type: ignore[call-overload]
        rng = random.Random(6)
        new = []
        for i in range(len(gone)):
            size = rng.randrange(80, 160) if longer else rng.randrange(0, 6)
            new.append((100_000 + i, f"new-{i:06d}", i, 0.5, "z" * size, None))
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", new)
        conn.execute("COMMIT")
    return Case(kind, path, "utf-8", {"t": data + new}, {"t": gone})


def overflow_freed(folder: Path, page_size: int = 1024) -> Case:
    """Rows too big for a page deleted: their overflow pages go to the freelist."""
    path = folder / "overflow-freed.db"
    data = _rows("overflow", 120, seed=7, big=True)
    with closing(_connect(path, page_size=page_size)) as conn:
        _fill(conn, "t", data)
        gone = _delete(conn, "t", data, lambda r: int(r[0]) % 3 != 1)  # type: ignore[call-overload]
    return Case("overflow-freed", path, "utf-8", {"t": data}, {"t": gone})


def without_rowid(folder: Path) -> Case:
    """A WITHOUT ROWID table (an index b-tree, keys first in the record) with rows deleted."""
    path = folder / "without-rowid.db"
    base = _rows("wr", 1500, seed=8)
    data = [(r[1], r[0], r[2], r[4]) for r in base]
    with closing(_connect(path)) as conn:
        _fill(conn, "t", data, "k TEXT PRIMARY KEY, id INTEGER, n INTEGER, note TEXT", "WITHOUT ROWID")
        gone = [r for r in data if int(r[1]) % 7 == 3]  # type: ignore[call-overload]
        conn.execute("BEGIN")
        conn.executemany("DELETE FROM t WHERE k = ?", [(r[0],) for r in gone])
        conn.execute("COMMIT")
    return Case("without-rowid", path, "utf-8", {"t": data}, {"t": gone}, marker=0)


def reserved_bytes(folder: Path, reserved: int = 32) -> Case:
    """Pages with bytes reserved at their end (as encryption extensions leave them)."""
    path = folder / "reserved-bytes.db"
    with closing(_connect(path, page_size=4096)) as conn:
        conn.execute("PRAGMA user_version = 1")  # writes page 1
    image = bytearray(path.read_bytes())
    image[20] = reserved
    image[105:107] = (4096 - reserved).to_bytes(2, "big")  # page 1's empty content area ends earlier
    path.write_bytes(bytes(image))
    data = _rows("reserved", 1500, seed=9)
    with closing(_connect(path)) as conn:
        _fill(conn, "t", data)
        gone = _delete(conn, "t", data, lambda r: int(r[0]) % 7 != 3)  # type: ignore[call-overload]
    return Case("reserved-bytes", path, "utf-8", {"t": data}, {"t": gone})


def altered(folder: Path) -> Case:
    """Rows written before ALTER TABLE ADD COLUMN (their records are shorter: SQLite reads the missing
    columns as their defaults), then deleted: scattered ones become freeblocks, a run frees whole pages."""
    path = folder / "alter-add-column.db"
    base = _rows("altered", 1600, seed=10)
    first = [r[:4] for r in base[:800]]
    second = [r[:5] for r in base[800:1200]]
    third = [(*r, i % 11) for i, r in enumerate(base[1200:])]
    with closing(_connect(path)) as conn:
        _fill(conn, "t", first, "id INTEGER PRIMARY KEY, marker TEXT NOT NULL, n INTEGER, x REAL")
        conn.execute("ALTER TABLE t ADD COLUMN note TEXT DEFAULT 'none'")
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", second)
        conn.execute("ALTER TABLE t ADD COLUMN data BLOB")
        conn.execute("ALTER TABLE t ADD COLUMN score INTEGER NOT NULL DEFAULT 7")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)", third)
        conn.execute("COMMIT")
        # The truth is what SQLite reads: older rows with the added columns at their defaults.
        data = [tuple(row) for row in conn.execute("SELECT * FROM t ORDER BY id")]
        gone = _delete(conn, "t", data, lambda r: int(r[0]) % 7 != 3 and not 300 <= int(r[0]) < 600)  # type: ignore[call-overload]
    return Case("alter-add-column", path, "utf-8", {"t": data}, {"t": gone})


def updated_without_rowid(path: Path) -> tuple[dict[str, tuple[object, ...]], dict[str, tuple[object, ...]]]:
    """A WITHOUT ROWID table: every fifth row updated (its old version freed), every seventh deleted.
    Returns the old versions of the updated rows and the deleted rows, by key."""
    rows = [(f"key-{i:04d}", i, "note " * (1 + i % 13)) for i in range(600)]
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA secure_delete = OFF")
        conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, note TEXT) WITHOUT ROWID")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        updated = {r[0]: r for r in rows if r[1] % 5 == 0 and r[1] % 7}
        deleted = {r[0]: r for r in rows if r[1] % 7 == 0}
        conn.execute("BEGIN")
        conn.executemany(
            "UPDATE t SET n = -n - 1, note = note || 'longer now' WHERE k = ?", [(k,) for k in updated]
        )
        conn.executemany("DELETE FROM t WHERE k = ?", [(k,) for k in deleted])
        conn.execute("COMMIT")
    return updated, deleted


def all_cases(folder: Path) -> list[Case]:
    """One database of every case kind (about 20 MB in all, a few seconds to build)."""
    cases = [
        scattered(folder),
        scattered(folder, "secure-delete-on", secure_delete=True),
        pages_freed(folder),
        pages_freed(folder, "integer-key-aliasing"),
        dropped_table(folder),
        overwritten(folder, longer=False),
        overwritten(folder, longer=True),
        overflow_freed(folder),
        scattered(folder, "auto-vacuum-full", auto_vacuum="FULL"),
        scattered(folder, "auto-vacuum-incremental", auto_vacuum="INCREMENTAL"),
        pages_freed(folder, "auto-vacuum-incremental-pages", auto_vacuum="INCREMENTAL"),
        scattered(folder, "utf-16le", encoding="'UTF-16le'"),
        scattered(folder, "utf-16be", encoding="'UTF-16be'"),
        without_rowid(folder),
        reserved_bytes(folder),
        altered(folder),
    ]
    for size in (512, 1024, 8192, 65536):
        cases.append(scattered(folder, f"page-size-{size}", rows=600, page_size=size))
    return cases
