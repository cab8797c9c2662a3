"""Shared test set-up: headless Qt, the corpus, and proof that source files are never touched."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep settings, caches and logs of the tests out of the developer's home.
_HOME = Path(__file__).resolve().parent / ".test-home"

CORPUS = Path(
    os.environ.get("SNAPSHOT_BROWSER_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus")
)


def pytest_configure(config: pytest.Config) -> None:
    """Point XDG folders at a private place for the whole run."""
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        os.environ[name] = str(_HOME / name.lower())


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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop aiosqlite worker threads a test leaked, saying so: they are not daemons, and one would keep
    the finished run from exiting (CI would wait for its time limit instead of reporting)."""
    from desktop_app.core.database import stop_leaked_connections

    leaked = stop_leaked_connections()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if leaked and reporter is not None:
        reporter.write_line(
            f"warning: {leaked} database connection(s) were still open at the end of the run (a task was "
            "destroyed mid-query); stopped their threads so the run can exit",
            yellow=True,
        )
