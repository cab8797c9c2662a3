"""The Functions pane: every function listed, the user's file loaded and reloaded, and the Try-it box."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QPushButton

from desktop_app.core.database import Database
from desktop_app.core.functions.registry import FunctionRegistry
from desktop_app.core.resources import resource_root
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.ui.context import AppContext
from desktop_app.ui.panes.functions.function_list import USER_SOURCE, arguments_text
from desktop_app.ui.panes.functions.pane import USER_FILE_KEY, FunctionsPane
from desktop_app.ui.panes.functions.try_box import EXAMPLE_EXPRESSION, clean_expression, describe_value
from tests.ui.helpers import close_window, make_window, open_in, wait_for

USER_FUNCTIONS = '''\
from desktop_app.functions_api import aggregate, collation, scalar, window


@scalar(deterministic=True)
def initials(name):
    """Initials of a name: initials('ada lovelace') gives 'AL'."""
    return None if name is None else "".join(word[0].upper() for word in name.split())


@aggregate
class longest:
    """The longest text of the group."""

    def __init__(self):
        self.best = None

    def step(self, value):
        if isinstance(value, str) and (self.best is None or len(value) > len(self.best)):
            self.best = value

    def finalize(self):
        return self.best


@window
class frame_sum:
    """Sum over the window frame."""

    def __init__(self):
        self.total = 0

    def step(self, value):
        self.total += value

    def inverse(self, value):
        self.total -= value

    def value(self):
        return self.total

    def finalize(self):
        return self.total


@collation("BACKWARDS")
def backwards(left, right):
    """Reverse alphabetical order."""
    return (left < right) - (left > right)


@scalar
def explode(value):
    """Always fails."""
    raise ValueError(f"cannot explode {value}")
'''
EXPLODE_LINE = USER_FUNCTIONS.splitlines().index('    raise ValueError(f"cannot explode {value}")') + 1


def make_database(path: Path) -> Path:
    """A small database: people's names and numbers."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (name TEXT, n INTEGER)")
        conn.executemany(
            "INSERT INTO people VALUES (?, ?)",
            [("ada lovelace", 1), ("alan turing", 2), ("grace hopper", 3), (None, 4)],
        )
    conn.close()
    return path


def make_settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@asynccontextmanager
async def functions_pane(
    qtbot: Any,
    tmp_path: Path,
    *,
    with_database: bool = True,
    settings: QSettings | None = None,
    build: Callable[[Path], Path] = make_database,
) -> AsyncIterator[FunctionsPane]:
    """A shown Functions pane whose context has the database of `make_database` (or none)."""
    context = AppContext(settings or make_settings(tmp_path))
    pane = FunctionsPane(context)
    qtbot.addWidget(pane)
    pane.resize(1100, 700)
    pane.show()
    registry = context.functions
    assert isinstance(registry, FunctionRegistry)
    snapshot = database = None
    if with_database:
        snapshot = await asyncio.to_thread(open_snapshot, build(tmp_path / "people.db"))
        database = Database(snapshot, hooks=[registry.hook])
        context.set_database(database, await database.run_sync(read_catalog))
    try:
        await settled(pane)
        yield pane
    finally:
        await context.jobs.wait_all()
        pane.close()
        if database is not None:
            await database.close()
        if snapshot is not None:
            snapshot.close()


async def settled(pane: FunctionsPane) -> None:
    """Wait until no load, listing or evaluation of the pane is running."""
    await wait_for(
        lambda: not pane.context.jobs.jobs and pane.browser.model.rows,
        message="the Functions pane to settle",
    )


def listed(pane: FunctionsPane) -> dict[tuple[str, str], Any]:
    """The listed functions by (name, kind)."""
    return {(row.name, row.kind): row for row in pane.browser.model.rows}


async def evaluate(pane: FunctionsPane, expression: str) -> tuple[str, str] | str:
    """Run `expression` in the Try-it box: the (value, type) shown, or the error message shown."""
    job = pane.run_expression(expression)
    assert job is not None
    await wait_for(lambda: job.done, message=f"evaluating {expression}")
    if pane.try_box.last_result is not None:
        return pane.try_box.last_result
    assert pane.try_box.error_label.isVisible()
    return pane.try_box.error_label.text()


def write_user_file(tmp_path: Path, text: str = USER_FUNCTIONS, name: str = "my_functions.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


async def load(pane: FunctionsPane, path: Path) -> None:
    pane.load_file(path)
    await wait_for(lambda: pane._loading is None, message=f"loading {path}")
    await settled(pane)


async def test_lists_sqlite_and_builtin_functions_with_kind_args_and_doc(qtbot: Any, tmp_path: Path) -> None:
    async with functions_pane(qtbot, tmp_path) as pane:
        functions = listed(pane)
        for name in ("median", "regexp", "sha256"):
            assert any(n == name and row.source == "built-in" for (n, _k), row in functions.items()), name
        abs_row = functions["abs", "scalar"]
        assert (abs_row.source, abs_row.nargs) == ("sqlite", (1,))
        assert functions["NORMALIZED", "collation"].source == "built-in"
        assert "middle value" in functions["median", "window"].doc
        assert pane.browser.select_function("sha256")
        assert "sha256" in pane.browser.details.toPlainText()
        assert pane.file_label.text().startswith("None chosen")
        assert not pane.reload_button.isEnabled() and not pane.problem_list.isVisible()


async def test_filter_and_source_narrow_the_list(qtbot: Any, tmp_path: Path) -> None:
    async with functions_pane(qtbot, tmp_path) as pane:
        pane.browser.filter_edit.setText("sha256")
        assert pane.browser.shown_names() == ["sha256"]
        assert pane.browser.count_label.text().startswith("1 of ")
        pane.browser.filter_edit.setText("")
        pane.browser.source_combo.setCurrentIndex(pane.browser.source_combo.findData("built-in"))
        shown = pane.browser.shown_names()
        assert "median" in shown and "abs" not in shown


async def test_user_file_functions_appear_and_work_on_the_snapshot(qtbot: Any, tmp_path: Path) -> None:
    async with functions_pane(qtbot, tmp_path) as pane:
        path = write_user_file(tmp_path)
        await load(pane, path)
        functions = listed(pane)
        for key in (
            ("initials", "scalar"),
            ("longest", "aggregate"),
            ("frame_sum", "window"),
            ("BACKWARDS", "collation"),
        ):
            assert functions[key].source == str(path.resolve()), key
        assert "5 functions and collations loaded" in pane.file_status.text()
        assert pane.context.settings.value(USER_FILE_KEY) == str(path)
        pane.browser.source_combo.setCurrentIndex(pane.browser.source_combo.findData(USER_SOURCE))
        assert sorted(pane.browser.shown_names()) == [
            "BACKWARDS",
            "explode",
            "frame_sum",
            "initials",
            "longest",
        ]

        assert await evaluate(pane, "initials('ada lovelace')") == ("AL", "text, 2 characters")
        assert (await evaluate(pane, "SELECT longest(name) FROM people;"))[0] == "ada lovelace"
        window_sql = (
            "(SELECT group_concat(s) FROM "
            "(SELECT frame_sum(n) OVER (ORDER BY n ROWS 1 PRECEDING) AS s FROM people))"
        )
        assert (await evaluate(pane, window_sql))[0] == "1,3,5,7"
        collated = (
            "(SELECT group_concat(name, '|') FROM "
            "(SELECT name FROM people WHERE name IS NOT NULL ORDER BY name COLLATE BACKWARDS))"
        )
        assert (await evaluate(pane, collated))[0] == "grace hopper|alan turing|ada lovelace"


async def test_function_error_in_try_it_shows_message_file_and_line(qtbot: Any, tmp_path: Path) -> None:
    async with functions_pane(qtbot, tmp_path) as pane:
        path = write_user_file(tmp_path)
        await load(pane, path)
        message = await evaluate(pane, "explode(42)")
        assert isinstance(message, str)
        assert "cannot explode 42" in message and f"line {EXPLODE_LINE}" in message and path.name in message
        assert pane.try_box.details_button.isVisible()
        assert "syntax error" in await evaluate(pane, "1 + * 2")  # SQLite's own message
        assert await evaluate(pane, "sha256('abc')") == (
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "text, 64 characters",
        )


async def test_broken_file_shows_file_and_line_and_builtins_keep_working(qtbot: Any, tmp_path: Path) -> None:
    async with functions_pane(qtbot, tmp_path) as pane:
        path = write_user_file(tmp_path, "import math\n\ndef broken(:\n    pass\n")
        await load(pane, path)
        problems = [pane.problem_list.item(i).text() for i in range(pane.problem_list.count())]
        assert pane.problem_list.isVisible()
        assert any(str(path.resolve()) in text and "line 3" in text for text in problems), problems
        assert "could not be loaded" in pane.file_status.text()
        assert pane.reload_button.isEnabled()
        assert ("median", "window") in listed(pane)
        assert await evaluate(pane, "median(3)") == ("3", "integer")


async def test_declaration_problem_is_listed_while_the_rest_loads(qtbot: Any, tmp_path: Path) -> None:
    text = USER_FUNCTIONS + "\n\n@aggregate\nclass no_finalize:\n    def step(self, value):\n        pass\n"
    async with functions_pane(qtbot, tmp_path) as pane:
        await load(pane, write_user_file(tmp_path, text))
        problems = [pane.problem_list.item(i).text() for i in range(pane.problem_list.count())]
        assert len(problems) == 1 and "no_finalize" in problems[0] and "finalize" in problems[0]
        assert "1 skipped" in pane.file_status.text()
        assert await evaluate(pane, "initials('grace hopper')") == ("GH", "text, 2 characters")


async def test_reload_picks_up_the_edited_file(qtbot: Any, tmp_path: Path) -> None:
    async with functions_pane(qtbot, tmp_path) as pane:
        path = write_user_file(tmp_path)
        await load(pane, path)
        assert (await evaluate(pane, "initials('ada lovelace')"))[0] == "AL"
        shout = "\n\n@scalar\ndef shout(text):\n    return text.upper()\n"
        edited = USER_FUNCTIONS.replace('"".join', '".".join') + shout
        path.write_text(edited, encoding="utf-8")
        pane.reload_file()
        await wait_for(lambda: pane._loading is None, message="reloading")
        await settled(pane)
        assert ("shout", "scalar") in listed(pane)
        assert (await evaluate(pane, "initials('ada lovelace')"))[0] == "A.L"
        assert (await evaluate(pane, "shout(name) FROM people WHERE n = 2"))[0] == "ALAN TURING"


async def test_unload_leaves_only_sqlite_and_builtin_functions(qtbot: Any, tmp_path: Path) -> None:
    async with functions_pane(qtbot, tmp_path) as pane:
        await load(pane, write_user_file(tmp_path))
        pane.unload_file()
        await settled(pane)
        await wait_for(lambda: ("initials", "scalar") not in listed(pane), message="initials to go")
        assert pane.context.settings.value(USER_FILE_KEY) is None
        assert "no such function" in await evaluate(pane, "initials('ada lovelace')")
        assert (await evaluate(pane, "median(7)"))[0] == "7"


async def test_remembered_file_is_loaded_when_the_pane_starts(qtbot: Any, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.setValue(USER_FILE_KEY, str(write_user_file(tmp_path)))
    async with functions_pane(qtbot, tmp_path, settings=settings) as pane:
        await wait_for(lambda: ("initials", "scalar") in listed(pane), message="the remembered file")
        assert (await evaluate(pane, "initials(name) FROM people WHERE n = 3"))[0] == "GH"


async def test_remembered_broken_file_does_not_stop_the_pane(qtbot: Any, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.setValue(USER_FILE_KEY, str(tmp_path / "gone.py"))
    async with functions_pane(qtbot, tmp_path, settings=settings) as pane:
        await wait_for(lambda: pane.problem_list.count() > 0, message="the missing file reported")
        assert "gone.py" in pane.problem_list.item(0).text()
        assert (await evaluate(pane, "abs(-2)"))[0] == "2"


async def test_without_database_functions_are_listed_and_evaluated(qtbot: Any, tmp_path: Path) -> None:
    async with functions_pane(qtbot, tmp_path, with_database=False) as pane:
        await load(pane, write_user_file(tmp_path))
        functions = listed(pane)
        assert ("abs", "scalar") in functions and ("median", "window") in functions
        assert ("initials", "scalar") in functions
        assert (await evaluate(pane, "initials('ada lovelace')"))[0] == "AL"
        assert "no database open" in pane.try_box.type_label.text()


async def test_new_from_example_copies_and_loads_it(qtbot: Any, tmp_path: Path) -> None:
    async with functions_pane(qtbot, tmp_path) as pane:
        target = tmp_path / "mine.py"
        pane.create_from_example(target)
        await wait_for(lambda: pane._loading is None, message="loading the example")
        await settled(pane)
        assert target.exists() and ("haversine_km", "scalar") in listed(pane)
        assert (await evaluate(pane, "initials('Antonio Carlos Jobim')"))[0] == "ACJ"


async def test_slow_expression_can_be_stopped(qtbot: Any, tmp_path: Path) -> None:
    async with functions_pane(qtbot, tmp_path) as pane:
        endless = "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c)"
        job = pane.run_expression(endless)
        assert job is not None and pane.try_box.run_button.text() == "Stop"
        await asyncio.sleep(0.1)
        pane.try_box.run_button.click()
        await wait_for(lambda: job.done, timeout=5, message="the evaluation to stop")
        assert pane.try_box.error_label.text() == "Stopped."
        assert pane.try_box.run_button.text() == "Run"


async def test_double_click_puts_a_call_in_the_try_it_box(qtbot: Any, tmp_path: Path) -> None:
    async with functions_pane(qtbot, tmp_path) as pane:
        assert pane.browser.select_function("sha256")
        row = pane.browser.selected_function()
        assert row is not None
        pane.insert_call(row)
        assert pane.try_box.expression.text() == "sha256()"
        assert pane.try_box.expression.cursorPosition() == len("sha256(")


async def test_window_has_a_registry_and_user_functions_reach_the_sql_connections(
    qtbot: Any, tmp_path: Path
) -> None:
    window = make_window(tmp_path)
    try:
        pane = window.panes["functions"]
        assert isinstance(pane, FunctionsPane) and isinstance(window.context.functions, FunctionRegistry)
        await open_in(window, make_database(tmp_path / "people.db"))
        await load(pane, write_user_file(tmp_path))
        database = window.context.database
        assert database is not None
        result = await database.execute("SELECT initials(name) FROM people WHERE n = 1")
        assert result.rows == [("AL",)]
    finally:
        await close_window(window)


@pytest.mark.parametrize(
    ("nargs", "text"),
    [((1,), "1"), ((1, 2), "1 or 2"), ((0, 1, 2, 3), "0–3"), ((-1,), "any"), ((2, 4), "2 or 4")],
)
def test_argument_counts_read_as_words(nargs: tuple[int, ...], text: str) -> None:
    assert arguments_text("scalar", nargs) == text


def test_expression_loses_a_typed_select_and_semicolons() -> None:
    assert clean_expression("  select abs(-1);; ") == "abs(-1)"
    assert clean_expression("selection") == "selection"


def test_values_are_shown_with_their_sqlite_type() -> None:
    assert describe_value(None) == ("NULL", "NULL")
    assert describe_value(2.5) == ("2.5", "real")
    assert describe_value(b"\x00\xff") == ("x'00 ff'", "blob, 2 bytes")
    assert describe_value("x" * 3000)[1] == "text, 3,000 characters"


def make_collated_database(path: Path) -> Path:
    """People's names in a column whose schema names the user's collation BACKWARDS."""
    with sqlite3.connect(path) as conn:
        conn.create_collation("BACKWARDS", lambda a, b: (a < b) - (a > b))
        conn.execute("CREATE TABLE people (name TEXT COLLATE BACKWARDS, n INTEGER)")
        conn.executemany("INSERT INTO people VALUES (?, ?)", [("ada", 1), ("grace", 2)])
    conn.close()
    return path


async def test_a_collation_named_by_the_schema_waits_for_the_users_consent(
    qtbot: Any, tmp_path: Path
) -> None:
    async with functions_pane(qtbot, tmp_path, build=make_collated_database) as pane:
        assert not pane.schema_collations_box.isVisible()
        await load(pane, write_user_file(tmp_path))
        await wait_for(lambda: pane.schema_collations_box.isVisible(), message="the consent box")
        problems = [pane.problem_list.item(i).text() for i in range(pane.problem_list.count())]
        assert any("your collation BACKWARDS" in text for text in problems), problems
        assert not pane.schema_collations_box.isChecked()
        refused = await evaluate(pane, "(SELECT min(name) FROM people)")
        assert refused == "no such collation sequence: BACKWARDS"
        pane.schema_collations_box.setChecked(True)
        await wait_for(lambda: pane._loading is None, message="renewing connections")
        await settled(pane)
        assert await evaluate(pane, "(SELECT min(name) FROM people)") == ("grace", "text, 5 characters")
        problems = [pane.problem_list.item(i).text() for i in range(pane.problem_list.count())]
        assert any("may call your collations (you allowed it)" in text for text in problems), problems


async def test_try_it_suggestion_works_as_given_and_the_example_file_names_real_buttons(
    qtbot: Any, tmp_path: Path
) -> None:
    async with functions_pane(qtbot, tmp_path) as pane:
        assert EXAMPLE_EXPRESSION in pane.try_box.expression.placeholderText()
        assert await evaluate(pane, EXAMPLE_EXPRESSION) == ("ADA LOVELACE", "text, 12 characters")
        buttons = {button.text() for button in pane.findChildren(QPushButton)}
    docstring = (resource_root() / "example_functions.py").read_text(encoding="utf-8").split('"""')[1]
    # Buttons the docstring names: quoted labels ending in "…", and "press Reload".
    named = set(re.findall(r"\"([^\"]+…)\"", docstring)) | set(re.findall(r"press (\w+)", docstring))
    assert named and named <= buttons, (named, buttons)
