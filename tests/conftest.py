"""Shared test set-up: headless Qt, the corpus, and proof that the run leaves nothing behind.

A run writes only in temporary folders: each test's `tmp_path`, and one folder of the session's own that
stands in for the home folder's settings, caches and logs (XDG homes) and for Hypothesis's storage. At
the end it checks that the checkout holds no new file, the corpus is as it was, and no database connection
was left open; any of these fails the run.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
#: The shared corpus beside the checkout (`../shared/corpus`); `SNAPSHOT_BROWSER_CORPUS` overrides.
CORPUS = Path(os.environ.get("SNAPSHOT_BROWSER_CORPUS", REPO.parent / "shared" / "corpus"))

#: Where the program keeps settings, caches and logs (`~/.config`, `~/.cache`, `~/.local/...`).
_XDG_HOMES = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")
_session_home = pytest.StashKey[Path]()
_saved_environment = pytest.StashKey[dict[str, str | None]]()
_checkout_before = pytest.StashKey[set[str]]()


def pytest_configure(config: pytest.Config) -> None:
    """Give the run a private home for settings, caches, logs and Hypothesis, before Qt or the app
    reads any of them, and note the checkout's state."""
    home = Path(tempfile.mkdtemp(prefix="ssb-test-home-"))
    config.stash[_session_home] = home
    names = (*_XDG_HOMES, "HYPOTHESIS_STORAGE_DIRECTORY")
    config.stash[_saved_environment] = {name: os.environ.get(name) for name in names}
    for name in _XDG_HOMES:
        os.environ[name] = str(home / name.lower())
    # Hypothesis keeps examples (and a cache of constants) in `.hypothesis/` of the working folder; a
    # folder named by the person running the tests is respected (e.g. to replay a long fuzz run's finds).
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(home / "hypothesis"))
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(os.environ["HYPOTHESIS_STORAGE_DIRECTORY"])
    config.stash[_checkout_before] = checkout_paths(REPO)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session's home and give the environment back."""
    for name, value in config.stash.get(_saved_environment, {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    home = config.stash.get(_session_home, None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


def checkout_paths(root: Path) -> set[str]:
    """Every file and folder of the checkout (relative paths), skipping what may change while the tests
    run without them writing there: git's own folder, bytecode caches, virtual environments, linters'
    caches, and at the top what installing the checkout writes (`build/`, `*.egg-info`; the packaging
    test's build installs it)."""
    paths: set[str] = set()
    for folder, subfolders, files in os.walk(root):
        here = Path(folder)
        subfolders[:] = [
            name
            for name in subfolders
            if name not in (".git", "__pycache__", ".ruff_cache", ".mypy_cache", ".import_linter_cache")
            and not (here / name / "pyvenv.cfg").exists()
            and not (here == root and (name == "build" or name.endswith(".egg-info")))
        ]
        paths.update(str((here / name).relative_to(root)) for name in [*subfolders, *files])
    return paths


def changed_paths(before: set[str], after: set[str]) -> list[str]:
    """`+ path` (new) and `- path` (gone) between two `checkout_paths`. Edits to existing files are not
    compared: a developer may save one while the run goes on, and a test's writes leave new files."""
    return sorted([f"+ {p}" for p in after - before] + [f"- {p}" for p in before - after])


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--run-slow` runs the tests marked slow (packaging build)."""
    parser.addoption("--run-slow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip slow tests unless asked for."""
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def folder_state(folder: Path) -> dict[str, str]:
    """Name → sha256 of every file in `folder` (not recursive): what 'left exactly as it was' means."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


@pytest.fixture
def private_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder of the test's own, so what the program leaves there can be seen."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus folder (skips the test when it is not beside the checkout)."""
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture(autouse=True, scope="session")
def corpus_never_modified() -> Iterator[None]:
    """Every corpus folder holds exactly the same files with the same bytes after the whole run."""
    if not CORPUS.is_dir():
        yield
        return
    before = {d.name: folder_state(d) for d in CORPUS.iterdir() if d.is_dir()}
    yield
    after = {d.name: folder_state(d) for d in CORPUS.iterdir() if d.is_dir()}
    assert after == before, "the test run changed the corpus folders"


#: Which test opened each database connection, by the address its repr shows (newest wins: an address is
#: reused once freed), to name the test when a connection is left open.
_OPENED_BY: dict[str, str] = {}
#: Database connections the garbage collector found open (aiosqlite's warning): who opened, who saw it.
_DELETED_OPEN: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Note the connections each test (with its fixtures) opens."""
    from desktop_app.core.database import _OPEN_CONNECTIONS

    before = set(map(id, _OPEN_CONNECTIONS))
    yield
    for connection in list(_OPEN_CONNECTIONS):
        if id(connection) not in before:
            _OPENED_BY[hex(id(connection))] = item.nodeid


def pytest_warning_recorded(warning_message: warnings.WarningMessage, when: str, nodeid: str) -> None:
    """Note aiosqlite's "deleted before being closed" (a warning, not an error: see pyproject.toml)."""
    text = str(warning_message.message)
    if issubclass(warning_message.category, ResourceWarning) and "aiosqlite" in text:
        address = re.search(r" at (0x[0-9a-f]+)>", text)
        opener = _OPENED_BY.get(address.group(1), "an unknown test") if address else "an unknown test"
        _DELETED_OPEN.append(
            f"a database connection opened by {opener} was deleted before being closed "
            f"(noticed in {nodeid or when})"
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if it left a database connection open, a warning for the garbage collector (a
    coroutine never awaited), or any change in the checkout."""
    from desktop_app.core.database import _OPEN_CONNECTIONS, stop_leaked_connections

    problems: list[str] = []
    unraisable: list[str] = []
    hook = sys.unraisablehook
    sys.unraisablehook = lambda report: unraisable.append(f"{report.exc_value!r} in {report.object!r}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gc.collect()
    finally:
        sys.unraisablehook = hook
    problems += _DELETED_OPEN
    problems += [f"at the end of the run: {w.category.__name__}: {w.message}" for w in caught]
    problems += [f"at the end of the run: {text}" for text in unraisable]
    # aiosqlite's worker threads are not daemons: one left running would keep the process from exiting
    # (CI would wait for its time limit instead of reporting), so stop them, naming who opened them.
    open_now = [c for c in list(_OPEN_CONNECTIONS) if c._connection is not None]
    problems += [
        f"database connection left open by {_OPENED_BY.get(hex(id(c)), 'an unknown test')}" for c in open_now
    ]
    stop_leaked_connections()
    before = session.config.stash.get(_checkout_before, None)
    if before is not None:
        problems += [
            f"the run changed the checkout: {line}" for line in changed_paths(before, checkout_paths(REPO))
        ]
    if not problems:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")  # after the progress dots, which leave the line open
        for line in problems:
            reporter.write_line(f"error: {line}", red=True)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
