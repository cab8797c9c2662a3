"""Hostile input to the headless commands ends in one clear line, never a traceback or a wrong reason."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.core.errors import Cancelled, DatabaseOpenError
from desktop_app.core.functions.registry import FunctionRegistry, evaluate_expression
from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.core.sqlite.connection import configure_connection
from tests.conftest import folder_state
from tests.core.test_migrations_alembic import Project, _alembic
from tests.core.test_migrations_alembic import _database as _alembic_database

REPO = Path(__file__).resolve().parents[2]
#: A table and a column whose names try to move the cursor, colour the terminal and reverse the text.
HOSTILE_TABLE = "a\nb\x1b[31mred\u202etxt.exe"
HOSTILE_COLUMN = "c\x1b[2J"


def _run(*args: str | bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop_app.cli", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _hostile_database(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.db"
    conn = sqlite3.connect(path)
    conn.execute(f'CREATE TABLE "{HOSTILE_TABLE}" ("{HOSTILE_COLUMN}" TEXT)')
    conn.execute(f'INSERT INTO "{HOSTILE_TABLE}" VALUES (?)', ("needle\x1b[1m\u202eline\nbreak",))
    conn.commit()
    conn.close()
    return path


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    return result.stderr


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["query", "{db}", b"SELECT \xff"], "The SQL argument"),
        (["blobs", "{db}", "--query", b'SELECT 1 AS "\xff"', "--column", "x", "--out", "{out}"], "--query"),
        (["blobs", "{db}", "--query", "SELECT 1 AS x", "--column", b"\xfe", "--out", "{out}"], "--column"),
        (["search", "{db}", b"caf\xe9"], "The TEXT argument"),
    ],
    ids=["sql", "blobs-query", "blobs-column", "search-text"],
)
def test_arguments_that_are_not_utf8_are_one_line_and_exit_1(
    tmp_path: Path, args: list[str | bytes], what: str
) -> None:
    db = _hostile_database(tmp_path)
    out = tmp_path / "out"
    filled = [a.format(db=db, out=out) if isinstance(a, str) else a for a in args]
    line = _one_error_line(_run(*filled))
    assert what in line and "not valid UTF-8" in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("raise_line", "shown"),
    [
        ("raise SystemExit(3)", "SystemExit: 3"),
        ("raise KeyboardInterrupt", "KeyboardInterrupt"),
        ("class Stop(BaseException):\n    pass\nraise Stop('boom')", "Stop: boom"),
    ],
    ids=["SystemExit", "KeyboardInterrupt", "own-BaseException"],
)
def test_functions_file_raising_a_base_exception_when_loaded_is_one_line(
    tmp_path: Path, raise_line: str, shown: str
) -> None:
    functions = tmp_path / "functions.py"
    functions.write_text(raise_line + "\n", encoding="utf-8")
    line = _one_error_line(
        _run("query", str(_hostile_database(tmp_path)), "SELECT 1", "--functions", str(functions))
    )
    assert f"{shown} (while loading the file)" in line


FUNCTIONS = """\
from desktop_app.functions_api import aggregate, collation, scalar


class Stop(BaseException):
    pass


@scalar
def exits(x):
    raise SystemExit(3)


@scalar
def stops(x):
    raise Stop("boom")


@scalar
def interrupts(x):
    raise KeyboardInterrupt


@aggregate
class Quits:
    def step(self, x):
        raise SystemExit(4)

    def finalize(self):
        return 0


@collation
def halting(a, b):
    raise KeyboardInterrupt
"""


@pytest.mark.parametrize(
    ("call", "shown"),
    [
        ("exits(1)", "exits() failed: SystemExit: 3"),
        ("stops(1)", "stops() failed: Stop: boom"),
        ("quits(column1) FROM (VALUES (1), (2))", "Quits() failed: SystemExit: 4"),
    ],
)
def test_function_raising_a_base_exception_is_reported_as_its_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], call: str, shown: str
) -> None:
    functions = tmp_path / "functions.py"
    functions.write_text(FUNCTIONS, encoding="utf-8")
    assert (
        main(["query", str(_hostile_database(tmp_path)), f"SELECT {call}", "--functions", str(functions)])
        == 1
    )
    err = capsys.readouterr().err
    assert shown in err and "UTF-8" not in err and err.count("\n") == 1


def test_keyboard_interrupt_inside_a_function_is_an_interrupt_not_invalid_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    functions = tmp_path / "functions.py"
    functions.write_text(FUNCTIONS, encoding="utf-8")
    db = str(_hostile_database(tmp_path))
    assert main(["query", db, "SELECT interrupts(1)", "--functions", str(functions)]) == 130
    assert capsys.readouterr().err == "interrupted\n"
    ordered = "SELECT column1 FROM (VALUES ('b'), ('a')) ORDER BY column1 COLLATE halting"
    assert main(["query", db, ordered, "--functions", str(functions)]) == 130
    assert capsys.readouterr().err == "interrupted\n"
    # The same in the window's "Try it" box: Cancelled, naming the function.
    registry = FunctionRegistry(functions)
    conn = sqlite3.connect(":memory:")
    configure_connection(conn, [registry.hook])
    with pytest.raises(Cancelled, match=r"interrupts\(\) failed: KeyboardInterrupt"):
        evaluate_expression(conn, "interrupts(1)")
    conn.close()


def test_hot_journal_is_explained_and_the_folder_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "hot.db"
    writer = (
        "import os, sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('PRAGMA cache_size=1')\n"  # spill changed pages into the file mid-transaction
        "conn.execute('CREATE TABLE t (x)')\n"
        "conn.executemany('INSERT INTO t VALUES (randomblob(500))', [()] * 500)\n"
        "conn.execute('BEGIN')\n"
        "conn.execute('UPDATE t SET x = randomblob(600)')\n"
        "os._exit(0)\n"  # a writer that died mid-transaction: the -journal is hot
    )
    subprocess.run([sys.executable, "-c", writer, str(db)], check=True, timeout=60)
    assert (folder / "hot.db-journal").exists()
    before = folder_state(folder)
    with pytest.raises(DatabaseOpenError) as raised:
        open_snapshot(db)
    message = raised.value.message
    assert "unfinished transaction" in message and "hot journal" in message and "sqlite3" in message
    assert "readonly" not in message
    line = _one_error_line(_run("info", str(db)))
    assert "unfinished transaction" in line
    assert folder_state(folder) == before


def test_info_and_search_spell_out_control_and_bidi_characters_in_text_output(tmp_path: Path) -> None:
    db = _hostile_database(tmp_path)
    for result in (_run("info", str(db)), _run("search", str(db), "needle")):
        assert result.returncode == 0, result.stderr
        for raw in ("\x1b", "\u202e"):
            assert raw not in result.stdout
        assert "a⟨U+000A⟩b⟨U+001B⟩[31mred⟨U+202E⟩txt.exe" in result.stdout
    hit = _run("search", str(db), "needle").stdout.splitlines()
    assert len(hit) == 1 and "c⟨U+001B⟩[2J" in hit[0] and "⟨U+202E⟩line" in hit[0]


def test_query_table_output_spells_out_names_and_values_json_keeps_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(_hostile_database(tmp_path))
    assert main(["query", db, f'SELECT "{HOSTILE_COLUMN}" FROM "{HOSTILE_TABLE}"']) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "c⟨U+001B⟩[2J" in out
    assert main(["query", db, f'SELECT "{HOSTILE_COLUMN}" FROM "{HOSTILE_TABLE}"', "--json"]) == 0
    assert "\\u001b[2J" in capsys.readouterr().out  # JSON escapes it its own way, the value unchanged


def test_alembic_fallback_after_files_ran_does_not_claim_none_ran(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.revision("a1a1", None)
    (project.versions / "b2b2_exits.py").write_text(
        'raise SystemExit(3)\nrevision = "b2b2"\ndown_revision = "a1a1"\n', encoding="utf-8"
    )
    status = _alembic(_alembic_database(tmp_path, ["a1a1"]), project.root, allow_import=True)
    notes = status.pending.notes
    assert project.executed() == ["a1a1"]  # alembic imported (ran) a1a1 before b2b2 stopped it
    assert any("could not load" in note and "SystemExit" in note for note in notes)
    assert not any("no revision file was executed" in note for note in notes)
    assert any("may already have run" in note for note in notes)


def test_error_lines_spell_out_escapes_sqlite_quotes_back(tmp_path: Path) -> None:
    result = _run("query", str(_hostile_database(tmp_path)), 'SELECT * FROM "gone\x1b[2J\u202e"')
    line = _one_error_line(result)
    assert "\x1b" not in line and "\u202e" not in line
    assert "gone⟨U+001B⟩[2J⟨U+202E⟩" in line
