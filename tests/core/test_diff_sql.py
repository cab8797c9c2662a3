"""`diff --sql`: the statements turn a copy of A into a database equal to B, on every awkward case."""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.core.diff_helpers import apply_to_copy, diff_files, make_db, round_trip_is_equal, sql_between

AWKWARD_A = """
CREATE TABLE t(id INTEGER PRIMARY KEY, v);
INSERT INTO t VALUES (1, NULL), (2, ''), (3, 0), (4, 1), (5, 1.0), (6, '1'), (7, x'00ff'),
  (8, CAST(x'61ff' AS TEXT)), (9, 'keep'), (10, 0.1), (11, 1e300), (12, -0.0),
  (13, 9223372036854775807), (14, 'it''s');
CREATE TABLE ""("" INTEGER PRIMARY KEY, "q""t" TEXT);
INSERT INTO "" VALUES (1, 'a');
CREATE TABLE k(a TEXT, b INTEGER, v, PRIMARY KEY (a, b)) WITHOUT ROWID;
INSERT INTO k VALUES ('x', 1, 'one'), ('x', 2, 'two');
CREATE TABLE gone(x); INSERT INTO gone VALUES (1);
CREATE TABLE reorder(id INTEGER PRIMARY KEY, x, y); INSERT INTO reorder VALUES (1, 'x', 'y');
CREATE TABLE seq(id INTEGER PRIMARY KEY AUTOINCREMENT, v); INSERT INTO seq(v) VALUES ('a'), ('b');
CREATE TABLE odd(rowid, _rowid_, oid); INSERT INTO odd VALUES (1, 1, 1), (1, 1, 1);
CREATE VIRTUAL TABLE doc USING fts5(title, body); INSERT INTO doc VALUES ('a', 'alpha'), ('b', 'beta');
CREATE INDEX tv ON t(v);
CREATE VIEW w AS SELECT count(*) AS n FROM t;
CREATE TRIGGER t_log AFTER UPDATE ON t BEGIN INSERT INTO gone VALUES (NEW.id); END;
CREATE TABLE g(a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL); INSERT INTO g(a) VALUES (1), (2);
"""

AWKWARD_B = """
CREATE TABLE t(id INTEGER PRIMARY KEY, v);
INSERT INTO t VALUES (1, ''), (2, 0), (3, NULL), (4, 1.0), (5, '1'), (6, 1), (7, x'00fe'),
  (8, CAST(x'61fe' AS TEXT)), (9, 'keep'), (10, 0.30000000000000004), (11, -1e-300), (12, 0.0),
  (13, -9223372036854775808), (15, 'new'),
  (16, 'a' || char(0) || 'b');
CREATE TABLE ""("" INTEGER PRIMARY KEY, "q""t" TEXT);
INSERT INTO "" VALUES (1, 'b'), (2, NULL);
CREATE TABLE k(a TEXT, b INTEGER, v, PRIMARY KEY (a, b)) WITHOUT ROWID;
INSERT INTO k VALUES ('x', 1, 'ONE'), ('y', 2, 'four');
CREATE TABLE fresh("select" TEXT, "😀"); INSERT INTO fresh VALUES ('a', x'01');
CREATE TABLE reorder(id INTEGER PRIMARY KEY, y, x); INSERT INTO reorder VALUES (1, 'y', 'x');
CREATE TABLE seq(id INTEGER PRIMARY KEY AUTOINCREMENT, v); INSERT INTO seq(v) VALUES ('a'), ('b'), ('c');
DELETE FROM seq WHERE id = 3;
CREATE TABLE odd(rowid, _rowid_, oid); INSERT INTO odd VALUES (1, 1, 1), (2, 2, 2);
CREATE VIRTUAL TABLE doc USING fts5(title, body);
INSERT INTO doc VALUES ('a', 'alpha'), ('b', 'BETA'), ('c', 'gamma');
CREATE INDEX tv ON t(v DESC);
CREATE VIEW w AS SELECT count(*) AS rows FROM t;
CREATE TRIGGER t_log AFTER UPDATE ON t BEGIN INSERT INTO gone VALUES (NEW.id); END;
CREATE TABLE g(a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL); INSERT INTO g(a) VALUES (1), (3);
ANALYZE;
"""


def test_sql_turns_a_copy_of_a_into_b_on_awkward_data(tmp_path: Path) -> None:
    a = make_db(tmp_path / "a.db", AWKWARD_A)
    b = make_db(tmp_path / "b.db", AWKWARD_B)
    before = a.read_bytes()
    equal, summary = round_trip_is_equal(a, b, tmp_path)
    assert equal, summary
    assert a.read_bytes() == before


def test_sql_for_equal_databases_is_empty(tmp_path: Path) -> None:
    a = make_db(tmp_path / "a.db", AWKWARD_A)
    b = make_db(tmp_path / "b.db", AWKWARD_A)
    assert sql_between(a, b) == ""


def test_sql_updates_only_changed_columns_and_keys_rows_exactly(tmp_path: Path) -> None:
    base = "CREATE TABLE t(id INTEGER PRIMARY KEY, x, y);"
    a = make_db(tmp_path / "a.db", base + "INSERT INTO t VALUES (1, 1, 'same'), (2, 2, 2);")
    b = make_db(tmp_path / "b.db", base + "INSERT INTO t VALUES (1, 1.0, 'same'), (3, NULL, x'ab');")
    assert sql_between(a, b) == (
        "PRAGMA foreign_keys=OFF;\nBEGIN;\n"
        "UPDATE t SET x = 1.0 WHERE id = 1;\n"
        "DELETE FROM t WHERE id = 2;\n"
        "INSERT INTO t(id, x, y) VALUES (3, NULL, X'AB');\n"
        "COMMIT;\n"
    )


def test_triggers_do_not_fire_while_the_script_runs(tmp_path: Path) -> None:
    base = (
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v); CREATE TABLE log(x);"
        "CREATE TRIGGER tr AFTER UPDATE ON t BEGIN INSERT INTO log VALUES (NEW.v); END;"
    )
    a = make_db(tmp_path / "a.db", base + "INSERT INTO t VALUES (1, 1);")
    b = make_db(tmp_path / "b.db", base + "INSERT INTO t VALUES (1, 2);")
    copy = apply_to_copy(a, sql_between(a, b), tmp_path / "copy.db")
    conn = sqlite3.connect(copy)
    assert conn.execute("SELECT count(*) FROM log").fetchone() == (0,)
    assert conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall() == [("tr",)]
    conn.close()


def test_generated_pairs_round_trip(tmp_path: Path) -> None:
    rng = random.Random(20)
    values = [None, "", 0, 1, 1.0, "1", b"", b"\x00", "é", 0.1, -7, "x" * 300, 2**62]
    schema = (
        "CREATE TABLE r(id INTEGER PRIMARY KEY, a, b); CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
    )
    for name in ("a", "b"):
        conn = sqlite3.connect(tmp_path / f"{name}.db")
        conn.executescript(schema)
        conn.executemany(
            "INSERT INTO r VALUES (?, ?, ?)",
            [(i, rng.choice(values), rng.choice(values)) for i in range(300) if rng.random() < 0.9],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO w VALUES (?, ?)",
            [(f"k{rng.randrange(200)}", rng.choice(values)) for _ in range(150)],
        )
        conn.commit()
        conn.close()
    diff, _rows = diff_files(tmp_path / "a.db", tmp_path / "b.db")
    assert not diff.identical
    equal, summary = round_trip_is_equal(tmp_path / "a.db", tmp_path / "b.db", tmp_path)
    assert equal, summary


@pytest.mark.skipif(
    shutil.which("sqldiff") is None, reason="sqldiff (Debian package sqlite3-tools) is not installed"
)
def test_sqldiff_finds_the_patched_copy_equal_to_b(tmp_path: Path) -> None:
    # No FTS here: sqldiff compares FTS shadow tables byte for byte, and their segments differ. No `odd`
    # either: sqldiff reports a table whose rowid aliases are all columns as different even from itself.
    a_script = "\n".join(line for line in AWKWARD_A.splitlines() if "odd" not in line and "doc" not in line)
    b_script = "\n".join(line for line in AWKWARD_B.splitlines() if "odd" not in line and "doc" not in line)
    a = make_db(tmp_path / "a.db", a_script)
    b = make_db(tmp_path / "b.db", b_script)
    copy = apply_to_copy(a, sql_between(a, b), tmp_path / "copy.db")
    result = subprocess.run(["sqldiff", str(copy), str(b)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout == "", result.stdout[:2000]
