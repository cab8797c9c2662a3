"""The PyInstaller one-folder build: both executables start, and the CLI reads a real database.

Slow (a fresh venv, PySide6 and a full PyInstaller run: about 2 minutes).
Run with `pytest --run-slow tests/packaging`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app import __version__

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 1800

pytestmark = [pytest.mark.slow, pytest.mark.timeout(BUILD_TIMEOUT_S + 600)]
RUN_TIMEOUT_S = 120
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""


@pytest.fixture(scope="module")
def app_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run packaging/build.sh once into a temporary folder and return the built app folder."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is needed to run packaging/build.sh")
    work = tmp_path_factory.mktemp("build")
    dist = work / "dist"
    env = {**os.environ, "BUILD_WORK_DIR": str(work / "work"), "PYTHON": sys.executable}
    # Its own process group, so a timeout or interrupt also stops pip and PyInstaller under bash.
    build = subprocess.Popen(
        [bash, str(ROOT / "packaging" / "build.sh"), str(dist)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = build.communicate(timeout=BUILD_TIMEOUT_S)
    except BaseException:
        if hasattr(os, "killpg"):
            os.killpg(build.pid, signal.SIGKILL)
        else:
            build.kill()
        build.wait()
        raise
    assert build.returncode == 0, output[-6000:]
    return dist / "snapshot-browser"


def run(executable: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [str(executable), *args], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )


def test_built_cli_prints_its_version(app_folder: Path) -> None:
    result = run(app_folder / f"snapshot-browser-cli{EXE_SUFFIX}", "--version")
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout


def test_built_cli_describes_a_corpus_database(app_folder: Path, corpus: Path, tmp_path: Path) -> None:
    database = tmp_path / "Chinook copy.sqlite"  # a copy: the corpus is never touched, even by a bug
    shutil.copyfile(corpus / "chinook" / "Chinook_Sqlite.sqlite", database)
    result = run(app_folder / f"snapshot-browser-cli{EXE_SUFFIX}", "info", str(database), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    tables = {table["name"]: table for table in report["tables"]}
    assert tables["Album"]["rows"] == 347


def test_built_cli_reports_a_bad_file_in_one_line(app_folder: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "not a database.db"
    bogus.write_text("hello", encoding="utf-8")
    result = run(app_folder / f"snapshot-browser-cli{EXE_SUFFIX}", "info", str(bogus))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_built_gui_prints_its_version(app_folder: Path) -> None:
    result = run(app_folder / f"snapshot-browser{EXE_SUFFIX}", "--version")
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout


def test_build_bundles_resources_and_qt_platform_plugins(app_folder: Path) -> None:
    internal = app_folder / "_internal"
    assert (internal / "resources" / "icons" / "snapshot-browser.svg").is_file()
    assert (internal / "resources" / "linux" / "snapshot-browser.desktop").is_file()
    plugins = {p.name for p in internal.glob("PySide6/Qt/plugins/platforms/*")}
    expected = {"qoffscreen", "qxcb", "qwayland"} if sys.platform.startswith("linux") else {"qoffscreen"}
    assert {name.removeprefix("lib").split(".")[0] for name in plugins} >= expected
