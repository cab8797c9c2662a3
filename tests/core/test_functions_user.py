"""User functions files: every kind works, broken files and failing functions give clear messages."""

from __future__ import annotations

import sqlite3
import textwrap
import threading
import time
from pathlib import Path

import pytest

from desktop_app.core.errors import Cancelled, QueryError, UserError
from desktop_app.core.functions import registry as functions_module
from desktop_app.core.functions.registry import FunctionRegistry, evaluate_expression, function_query_error
from desktop_app.core.progress import CancelToken
from desktop_app.core.sqlite.connection import configure_connection

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "example_functions.py"

EVERY_KIND = """\
from desktop_app.functions_api import aggregate, collation, scalar, window


@scalar(deterministic=True)
def double(x):
    \"\"\"Twice X.\"\"\"
    return None if x is None else x * 2


@scalar("join_all")
def join_all(*parts):
    return "-".join(str(p) for p in parts)


@scalar
def fail_on_zero(x):
    return 10 / x


@aggregate("product")
class Product:
    def __init__(self):
        self.result = 1

    def step(self, value):
        if value == "boom":
            raise ValueError("cannot multiply boom")
        self.result *= value

    def finalize(self):
        return self.result


@window
class running_total:
    def __init__(self):
        self.total = 0

    def step(self, value):
        self.total += value

    def inverse(self, value):
        if value == 99:
            raise RuntimeError("inverse refused 99")
        self.total -= value

    def value(self):
        return self.total

    def finalize(self):
        return self.total


@collation("BACKWARDS")
def backwards(left, right):
    if "explode" in (left, right):
        raise LookupError("cannot order explode")
    return (left < right) - (left > right)
"""


def write(path: Path, source: str) -> Path:
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def connect(registry: FunctionRegistry) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    configure_connection(conn, [registry.hook])
    return conn


def values(*items: object) -> str:
    return "(VALUES " + ", ".join("(NULL)" if item is None else f"({item!r})" for item in items) + ")"


@pytest.fixture
def every_kind(tmp_path: Path) -> tuple[Path, FunctionRegistry, sqlite3.Connection]:
    path = write(tmp_path / "my_functions.py", EVERY_KIND)
    registry = FunctionRegistry(path)
    return path, registry, connect(registry)


# --- every kind works ---------------------------------------------------------------------------


def test_user_file_with_every_kind_works(
    every_kind: tuple[Path, FunctionRegistry, sqlite3.Connection],
) -> None:
    _, registry, conn = every_kind
    assert registry.problems == ()
    assert conn.execute("SELECT double(21), double(NULL), join_all(), join_all(1, 'a', 2.5)").fetchone() == (
        42,
        None,
        "",
        "1-a-2.5",
    )
    assert conn.execute(f"SELECT product(column1) FROM {values(2, 3, 7)}").fetchone() == (42,)
    running = conn.execute(
        f"SELECT running_total(column1) OVER (ORDER BY column1 ROWS 1 PRECEDING) FROM {values(1, 2, 3, 4)}"
    ).fetchall()
    assert running == [(1,), (3,), (5,), (7,)]
    ordered = conn.execute(f"SELECT column1 FROM {values('b', 'c', 'a')} ORDER BY column1 COLLATE BACKWARDS")
    assert ordered.fetchall() == [("c",), ("b",), ("a",)]


def test_describe_lists_user_functions_with_file_as_source(
    every_kind: tuple[Path, FunctionRegistry, sqlite3.Connection],
) -> None:
    path, registry, conn = every_kind
    mine = {(i.name, i.kind, i.narg): i for i in registry.describe(conn) if i.source == str(path)}
    assert set(mine) == {
        ("double", "scalar", 1),
        ("join_all", "scalar", -1),
        ("fail_on_zero", "scalar", 1),
        ("product", "aggregate", 1),
        ("running_total", "window", 1),
        ("BACKWARDS", "collation", 2),
    }
    assert mine[("double", "scalar", 1)].doc == "Twice X."
    assert mine[("double", "scalar", 1)].deterministic is True
    assert mine[("fail_on_zero", "scalar", 1)].deterministic is False


def test_example_file_in_resources_loads_and_runs() -> None:
    registry = FunctionRegistry(EXAMPLE)
    assert registry.problems == ()
    conn = connect(registry)
    assert conn.execute("SELECT initials('Antonio Carlos Jobim'), initials('a b', '.')").fetchone() == (
        "ACJ",
        "A.B",
    )
    assert conn.execute("SELECT round(haversine_km(48.8566, 2.3522, 51.5074, -0.1278))").fetchone() == (
        344.0,
    )
    assert conn.execute(f"SELECT geomean(column1) FROM {values(2, 8, None, -1)}").fetchone() == (
        pytest.approx(4.0),
    )
    frames = conn.execute(
        f"SELECT moving_range(column1) OVER (ORDER BY column1 ROWS 2 PRECEDING) FROM {values(1, 5, 6, 20)}"
    ).fetchall()
    assert frames == [(0,), (4,), (5,), (15,)]
    ordered = conn.execute(
        f"SELECT column1 FROM {values('ccc', 'b', 'aa', 'a')} ORDER BY column1 COLLATE LENGTH_FIRST"
    )
    assert [row[0] for row in ordered] == ["a", "b", "aa", "ccc"]


def test_optional_parameters_register_each_argument_count(tmp_path: Path) -> None:
    path = write(
        tmp_path / "f.py",
        """
        from desktop_app.functions_api import scalar

        @scalar
        def greet(name, greeting="Hello"):
            return f"{greeting}, {name}"
        """,
    )
    conn = connect(FunctionRegistry(path))
    assert conn.execute("SELECT greet('Ann'), greet('Bob', 'Hi')").fetchone() == ("Hello, Ann", "Hi, Bob")
    with pytest.raises(sqlite3.OperationalError, match="wrong number of arguments"):
        conn.execute("SELECT greet('a', 'b', 'c')")


def test_user_function_replaces_builtin_of_same_name(tmp_path: Path) -> None:
    path = write(
        tmp_path / "f.py",
        """
        from desktop_app.functions_api import aggregate

        @aggregate("median")
        class AlwaysSeven:
            def step(self, value):
                pass

            def finalize(self):
                return 7
        """,
    )
    registry = FunctionRegistry(path)
    conn = connect(registry)
    assert conn.execute(f"SELECT median(column1) FROM {values(1, 2, 3)}").fetchone() == (7,)
    listed = [(i.kind, i.source) for i in registry.describe(conn) if i.name == "median"]
    assert listed == [("aggregate", str(path))]


# --- broken files -------------------------------------------------------------------------------


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "broken.py", "from desktop_app.functions_api import scalar\n\n\n@scalar\ndef f(x:\n"
    )
    with pytest.raises(UserError) as error:
        FunctionRegistry(path)
    assert error.value.message.startswith(f"{path.resolve()}, line 5: syntax error: ")


def test_exception_while_importing_names_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "raises.py",
        """
        from desktop_app.functions_api import scalar

        @scalar
        def fine(x):
            return x

        settings = {"a": 1}
        threshold = settings["missing"]
        """,
    )
    registry = FunctionRegistry()
    with pytest.raises(UserError) as error:
        registry.load(path)
    assert error.value.message == f"{path.resolve()}, line 9: KeyError: 'missing' (while loading the file)"
    assert 'threshold = settings["missing"]' in error.value.details
    assert registry.last_error is error.value
    assert registry.user_file == path.resolve()  # remembered, so Reload can retry once fixed


def test_unreadable_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="Cannot read the functions file"):
        FunctionRegistry(tmp_path / "missing.py")


def test_broken_declarations_are_reported_and_the_rest_load(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mixed.py",
        """
        from desktop_app.functions_api import aggregate, scalar, window

        @scalar
        def good(x):
            return x + 1

        @aggregate
        class NoFinalize:
            def step(self, value):
                pass

        @scalar(narg=500)
        def too_many(x):
            return x

        @window
        class NoInverse:
            def step(self, v): pass
            def value(self): return 1
            def finalize(self): return 1

        @scalar(narg="two")
        def bad_narg(x):
            return x

        @aggregate
        def not_a_class(x):
            return x
        """,
    )
    registry = FunctionRegistry(path)
    problems = {p.function: (p.line, p.message) for p in registry.problems}
    assert problems == {
        "NoFinalize": (8, "the class has no method finalize"),
        "too_many": (13, "narg must be between -1 and 127, not 500"),
        "NoInverse": (17, "the class has no method inverse"),
        "bad_narg": (23, "narg must be an integer or a list of integers"),
        "not_a_class": (27, "an aggregate must be a class with methods step, finalize"),
    }
    assert str(registry.problems[0]).startswith(f"{path.resolve()}, line 8: NoFinalize: ")
    assert connect(registry).execute("SELECT good(1)").fetchone() == (2,)


def test_later_declaration_of_same_name_wins_and_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path / "dup.py",
        """
        from desktop_app.functions_api import scalar

        @scalar("f")
        def first(x, y=0):
            return "first"

        @scalar("f")
        def second(x):
            return "second"
        """,
    )
    registry = FunctionRegistry(path)
    assert [(p.function, p.line) for p in registry.problems] == [("f", 4)]
    assert "declared again at line 8" in registry.problems[0].message
    conn = connect(registry)
    assert conn.execute("SELECT f(1), f(1, 2)").fetchone() == ("second", "first")


def test_file_without_declarations_is_reported(tmp_path: Path) -> None:
    registry = FunctionRegistry(write(tmp_path / "empty.py", "x = 1\n"))
    assert [p.message for p in registry.problems] == [
        "no functions found: decorate them with @scalar, @aggregate, @window or @collation "
        "from desktop_app.functions_api"
    ]


# --- failing functions inside queries -----------------------------------------------------------


def test_scalar_error_ends_query_with_its_message_file_and_line(
    every_kind: tuple[Path, FunctionRegistry, sqlite3.Connection],
) -> None:
    path, _, conn = every_kind
    sql = "SELECT fail_on_zero(0)"
    with pytest.raises(sqlite3.OperationalError) as raw:
        conn.execute(sql).fetchall()
    error = function_query_error(conn, raw.value, sql)
    assert error is not None
    assert (
        error.message
        == f"fail_on_zero() failed: ZeroDivisionError: division by zero ({path.resolve()}, line 17)"
    )
    assert error.sql == sql
    assert "return 10 / x" in error.details
    assert function_query_error(conn, raw.value, sql).message.startswith(
        "A function could not be called"
    )  # taken


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            f"(SELECT product(column1) FROM {values(1, 'boom')})",
            "product() failed: ValueError: cannot multiply boom",
        ),
        (
            f"(SELECT max(t) FROM (SELECT running_total(column1) OVER (ROWS 1 PRECEDING) AS t "
            f"FROM {values(99, 1, 2)}))",
            "running_total() failed: RuntimeError: inverse refused 99",
        ),
        (
            f"(SELECT group_concat(column1) FROM (SELECT column1 FROM {values('a', 'explode', 'b')} "
            "ORDER BY column1 COLLATE BACKWARDS))",
            "collation BACKWARDS failed: LookupError: cannot order explode",
        ),
    ],
)
def test_aggregate_window_and_collation_errors_reach_the_user(
    every_kind: tuple[Path, FunctionRegistry, sqlite3.Connection], expression: str, message: str
) -> None:
    path, _, conn = every_kind
    with pytest.raises(QueryError) as error:
        evaluate_expression(conn, expression)
    assert error.value.message.startswith(message)
    assert f"({path.resolve()}, line " in error.value.message


def test_a_failing_function_does_not_poison_the_others(
    every_kind: tuple[Path, FunctionRegistry, sqlite3.Connection],
) -> None:
    _, _, conn = every_kind
    with pytest.raises(QueryError):
        evaluate_expression(conn, "fail_on_zero(0)")
    assert evaluate_expression(conn, "fail_on_zero(5) + double(1)") == 4.0
    assert evaluate_expression(conn, "median(3)") == 3


def test_returning_a_value_sqlite_cannot_store_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path / "f.py",
        """
        from desktop_app.functions_api import scalar

        @scalar
        def listy():
            return [1, 2]

        @scalar
        def huge():
            return 2 ** 70
        """,
    )
    conn = connect(FunctionRegistry(path))
    with pytest.raises(QueryError, match=r"listy\(\) failed: TypeError: returned a list; return None, int"):
        evaluate_expression(conn, "listy()")
    with pytest.raises(QueryError, match="does not fit in a 64-bit integer"):
        evaluate_expression(conn, "huge()")


def test_function_query_error_leaves_unrelated_errors_alone(
    every_kind: tuple[Path, FunctionRegistry, sqlite3.Connection],
) -> None:
    _, _, conn = every_kind
    with pytest.raises(sqlite3.OperationalError) as raw:
        conn.execute("SELECT FROM nowhere")
    assert function_query_error(conn, raw.value) is None


def test_invalid_utf8_argument_gets_a_clear_message() -> None:
    conn = connect(FunctionRegistry())
    with pytest.raises(QueryError, match=r"not valid UTF-8\. Pass CAST"):
        evaluate_expression(conn, "normalize(CAST(x'ff41' AS TEXT))")
    assert evaluate_expression(conn, "normalize(CAST(CAST(x'ff41' AS TEXT) AS BLOB))") == "\ufffda"


def test_slow_function_is_stopped_between_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path / "slow.py",
        """
        import time
        from desktop_app.functions_api import scalar

        @scalar
        def slow(x):
            time.sleep(0.002)
            return x
        """,
    )
    conn = connect(FunctionRegistry(path))
    cancel = CancelToken()
    timer = threading.Timer(0.1, cancel.cancel)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(Cancelled):
            evaluate_expression(
                conn,
                "(SELECT sum(slow(x)) FROM (WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                "WHERE x < 100000) SELECT x FROM n))",
                cancel,
            )
    finally:
        timer.cancel()
    # Not a speed check: unstopped, the query sleeps 100,000 × 2 ms = 200 s; stopped, it ends long before.
    assert time.monotonic() - started < 60


# --- reload and safety ---------------------------------------------------------------------------


def test_reload_picks_up_changes_and_drops_removed_functions(tmp_path: Path) -> None:
    path = write(
        tmp_path / "f.py",
        """
        from desktop_app.functions_api import scalar, collation

        @scalar
        def version():
            return 1

        @scalar
        def going_away():
            return "still here"

        @collation("GONE")
        def gone(a, b):
            return 0
        """,
    )
    registry = FunctionRegistry(path)
    conn = connect(registry)
    assert conn.execute("SELECT version(), going_away()").fetchone() == (1, "still here")
    write(
        path,
        """
        from desktop_app.functions_api import scalar

        @scalar
        def version():
            return 2
        """,
    )
    registry.reload()
    assert not registry.is_current(conn)
    registry.hook(conn)
    assert registry.is_current(conn)
    assert conn.execute("SELECT version()").fetchone() == (2,)
    with pytest.raises(sqlite3.OperationalError, match="no such function: going_away"):
        conn.execute("SELECT going_away()")
    with pytest.raises(sqlite3.OperationalError, match="no such collation sequence: GONE"):
        conn.execute("SELECT 'a' < 'b' COLLATE GONE")
    assert connect(registry).execute("SELECT version()").fetchone() == (2,)  # new connections too


def test_failed_reload_keeps_the_working_functions(tmp_path: Path) -> None:
    path = write(
        tmp_path / "f.py",
        "from desktop_app.functions_api import scalar\n\n@scalar\ndef one():\n    return 1\n",
    )
    registry = FunctionRegistry(path)
    generation = registry.generation
    write(path, "from desktop_app.functions_api import scalar\n\n@scalar\ndef one(:\n")
    with pytest.raises(UserError, match="line 4: syntax error"):
        registry.reload()
    assert registry.generation == generation
    assert connect(registry).execute("SELECT one()").fetchone() == (1,)


def test_loading_a_different_broken_file_drops_the_previous_one(tmp_path: Path) -> None:
    good = write(
        tmp_path / "good.py",
        "from desktop_app.functions_api import scalar\n\n@scalar\ndef one():\n    return 1\n",
    )
    bad = write(tmp_path / "bad.py", "raise RuntimeError('no')\n")
    registry = FunctionRegistry(good)
    with pytest.raises(UserError, match="line 1: RuntimeError: no"):
        registry.load(bad)
    with pytest.raises(sqlite3.OperationalError, match="no such function: one"):
        connect(registry).execute("SELECT one()")


def test_unload_leaves_only_builtins(every_kind: tuple[Path, FunctionRegistry, sqlite3.Connection]) -> None:
    path, registry, conn = every_kind
    registry.unload()
    registry.hook(conn)
    assert registry.user_file is None
    assert all(i.source != str(path) for i in registry.describe(conn))
    with pytest.raises(sqlite3.OperationalError, match="no such function: double"):
        conn.execute("SELECT double(1)")


def test_user_code_runs_only_when_the_file_is_loaded(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    path = write(
        tmp_path / "f.py",
        f"""
        from pathlib import Path
        from desktop_app.functions_api import scalar

        Path({str(marker)!r}).write_text("ran")

        @scalar
        def double(x):
            return x * 2
        """,
    )
    connect(FunctionRegistry())
    assert not marker.exists()
    FunctionRegistry(path)
    assert marker.read_text() == "ran"


def test_database_views_cannot_call_user_functions(tmp_path: Path) -> None:
    """With trusted_schema=OFF a view or trigger in the file cannot run Python code."""
    database = tmp_path / "evil.db"
    with sqlite3.connect(database) as build:
        build.create_function("double", 1, lambda x: x)
        build.execute("CREATE VIEW v AS SELECT double(21) AS answer")
    build.close()
    registry = FunctionRegistry(write(tmp_path / "f.py", EVERY_KIND))
    conn = sqlite3.connect(database)
    configure_connection(conn, [registry.hook])
    with pytest.raises(sqlite3.OperationalError, match="unsafe use of double"):
        conn.execute("SELECT answer FROM v").fetchall()
    assert conn.execute("SELECT double(21)").fetchone() == (42,)


def test_user_window_functions_become_aggregates_without_window_support(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(functions_module, "WINDOW_FUNCTIONS_AVAILABLE", False)
    registry = FunctionRegistry(write(tmp_path / "f.py", EVERY_KIND))
    assert [(p.function, "window functions need SQLite 3.25" in p.message) for p in registry.problems] == [
        ("running_total", True)
    ]
    conn = connect(registry)
    assert conn.execute(f"SELECT running_total(column1) FROM {values(1, 2, 3)}").fetchone() == (6,)


def test_dropping_a_replacement_of_an_sqlite_function_asks_for_a_new_connection(tmp_path: Path) -> None:
    path = write(
        tmp_path / "f.py",
        """
        from desktop_app.functions_api import scalar

        @scalar("upper")
        def shout(x):
            return "mine"

        @scalar
        def kept():
            return 1
        """,
    )
    registry = FunctionRegistry(path)
    conn = connect(registry)
    assert conn.execute("SELECT upper('a')").fetchone() == ("mine",)
    write(path, "from desktop_app.functions_api import scalar\n\n@scalar\ndef kept():\n    return 2\n")
    registry.reload()
    registry.hook(conn)
    assert not registry.is_current(conn)  # SQLite cannot give its upper() back on this connection
    assert conn.execute("SELECT kept()").fetchone() == (2,)
    fresh = connect(registry)
    assert registry.is_current(fresh)
    assert fresh.execute("SELECT upper('a'), kept()").fetchone() == ("A", 2)
