"""Double-click: the installed desktop entry's Exec line, run as a file manager runs it, opens the file."""

from __future__ import annotations

import configparser
import shutil
from pathlib import Path

import pytest

from desktop_app import desktop_integration
from desktop_app.app import build_parser, initial_path
from tests.core.test_desktop_integration import exec_argv
from tests.ui.helpers import close_window, make_window, open_in


@pytest.fixture
def installed_exec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    data, config = tmp_path / "data", tmp_path / "config"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    desktop_integration.install_desktop_entry(data, config_home=config)
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(data / "applications" / "snapshot-browser.desktop", encoding="utf-8")
    return entry["Desktop Entry"]["Exec"]


@pytest.mark.parametrize("as_uri", [False, True])
async def test_exec_line_opens_a_file_with_spaces_and_accents(
    qtbot: object, corpus: Path, tmp_path: Path, installed_exec: str, as_uri: bool
) -> None:
    folder = tmp_path / "my databases"
    folder.mkdir()
    target = folder / "Chinook é 1.sqlite"
    shutil.copyfile(corpus / "chinook" / "Chinook_Sqlite.sqlite", target)
    argv = exec_argv(installed_exec, target.as_uri() if as_uri else str(target))
    assert argv[0].endswith(("snapshot-browser", "python", "python3")) or "desktop_app" in argv
    args = build_parser().parse_args([a for a in argv[1:] if a not in ("-m", "desktop_app")])
    path = initial_path(args)
    assert path == str(target)
    window = make_window(tmp_path)
    await open_in(window, path)
    assert window.windowTitle().startswith("Chinook é 1.sqlite")
    await close_window(window)
