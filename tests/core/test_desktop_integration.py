"""Linux desktop entry install/uninstall in temporary XDG folders, and file-manager arguments to paths."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from desktop_app import desktop_integration as di
from desktop_app.core.errors import UserError

pytestmark = pytest.mark.skipif(os.name == "nt", reason="the desktop entry is a Linux feature")

#: Variables that make xdg-utils talk to a running desktop instead of the XDG files we point it at.
DESKTOP_SESSION_VARS = (
    "XDG_CURRENT_DESKTOP",
    "DESKTOP_SESSION",
    "KDE_FULL_SESSION",
    "GNOME_DESKTOP_SESSION_ID",
)


class Xdg:
    """Temporary XDG data and config homes, also exported to the environment for helper tools."""

    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self.config = root / "config"

    def env(self) -> dict[str, str]:
        return {**os.environ, "XDG_DATA_HOME": str(self.data), "XDG_CONFIG_HOME": str(self.config)}

    @property
    def desktop_file(self) -> Path:
        return self.data / "applications" / di.DESKTOP_FILE


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Xdg:
    homes = Xdg(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(homes.data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(homes.config))
    for name in DESKTOP_SESSION_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    return homes


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {package})")
    return path


def desktop_key(path: Path, key: str) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{key} missing from {path}")


def exec_argv(exec_line: str, file_arg: str) -> list[str]:
    """Split an Exec value as the Desktop Entry Specification says, and substitute %f."""
    value = re.sub(r"\\(.)", lambda m: {"s": " ", "n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), exec_line)
    args: list[str] = []
    for quoted, plain in re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', value):
        if plain:
            args.append(file_arg if plain == "%f" else plain.replace("%%", "%"))
        else:
            args.append(re.sub(r'\\([`$"\\])', r"\1", quoted).replace("%%", "%"))
    return args


def test_installed_entry_passes_desktop_file_validate(xdg: Xdg) -> None:
    validate = require_tool("desktop-file-validate", "desktop-file-utils")
    di.install_desktop_entry()
    result = subprocess.run([validate, str(xdg.desktop_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout


def test_installed_entry_is_the_default_for_sqlite_files(xdg: Xdg) -> None:
    xdg_mime = require_tool("xdg-mime", "xdg-utils")
    di.install_desktop_entry()
    for mime_type in ("application/vnd.sqlite3", "application/geopackage+sqlite3", "application/x-mbtiles"):
        result = subprocess.run(
            [xdg_mime, "query", "default", mime_type], env=xdg.env(), capture_output=True, text=True
        )
        assert result.stdout.strip() == di.DESKTOP_FILE, (mime_type, result.stderr)


def test_installed_exec_line_runs_the_launcher_with_the_file(xdg: Xdg) -> None:
    di.install_desktop_entry()
    exec_line = desktop_key(xdg.desktop_file, "Exec")
    assert exec_line == di.exec_value(di.launcher_argv()) + " %f"
    argv = exec_argv(exec_line, "/data/My Files/café.db")
    assert argv[-1] == "/data/My Files/café.db"
    assert os.access(argv[0], os.X_OK)
    assert desktop_key(xdg.desktop_file, "TryExec") == di.exec_value(di.launcher_argv()[:1])


def test_exec_path_with_spaces_and_quotes_survives_the_desktop_file(xdg: Xdg) -> None:
    validate = require_tool("desktop-file-validate", "desktop-file-utils")
    program = '/opt/My Apps/it\'s "snap" $HOME\\100%/snapshot-browser'
    di.install_desktop_entry(exec_command=di.exec_value([program, "--flag"]))
    exec_line = desktop_key(xdg.desktop_file, "Exec")
    assert exec_argv(exec_line, "/x y.db") == [program, "--flag", "/x y.db"]
    result = subprocess.run([validate, str(xdg.desktop_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    assert "TryExec=" not in xdg.desktop_file.read_text(encoding="utf-8")


def test_install_puts_mime_types_and_icons_in_the_data_home(xdg: Xdg) -> None:
    installed = di.install_desktop_entry()
    assert all(path.is_relative_to(xdg.data) and path.is_file() for path in installed)
    names = {path.relative_to(xdg.data).as_posix() for path in installed}
    assert "mime/packages/snapshot-browser.xml" in names
    assert "icons/hicolor/48x48/apps/snapshot-browser.png" in names
    assert "icons/hicolor/scalable/apps/snapshot-browser.svg" in names
    if shutil.which("update-mime-database"):
        globs = (xdg.data / "mime" / "globs2").read_text(encoding="utf-8")
        assert "application/geopackage+sqlite3:*.gpkg" in globs
        assert "application/x-mbtiles:*.mbtiles" in globs


def test_uninstall_removes_every_installed_file_and_association(xdg: Xdg) -> None:
    installed = di.install_desktop_entry()
    removed = di.uninstall_desktop_entry()
    assert sorted(removed) == sorted(installed)
    assert not any(path.exists() for path in installed)
    mimeapps = xdg.config / "mimeapps.list"
    assert di.DESKTOP_FILE not in (mimeapps.read_text(encoding="utf-8") if mimeapps.exists() else "")
    cache = xdg.data / "applications" / "mimeinfo.cache"
    assert di.DESKTOP_FILE not in (cache.read_text(encoding="utf-8") if cache.exists() else "")
    assert not (xdg.data / "mime" / "application" / "x-mbtiles.xml").exists()


def test_without_xdg_mime_the_default_is_written_to_mimeapps_list(
    xdg: Xdg, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run_tool = di._run_tool
    monkeypatch.setattr(di, "_run_tool", lambda argv, env: argv[0] != "xdg-mime" and real_run_tool(argv, env))
    mimeapps = xdg.config / "mimeapps.list"
    mimeapps.parent.mkdir(parents=True)
    mimeapps.write_text(
        "[Default Applications]\ntext/plain=gedit.desktop\napplication/vnd.sqlite3=sqlitebrowser.desktop\n"
        "\n[Added Associations]\napplication/vnd.sqlite3=sqlitebrowser.desktop;\n",
        encoding="utf-8",
    )
    di.install_desktop_entry()
    parser = di._read_mimeapps(mimeapps)
    assert parser.get("Default Applications", "application/vnd.sqlite3") == di.DESKTOP_FILE
    assert parser.get("Default Applications", "application/x-mbtiles") == di.DESKTOP_FILE
    assert parser.get("Added Associations", "application/vnd.sqlite3") == (
        f"{di.DESKTOP_FILE};sqlitebrowser.desktop;"
    )
    if shutil.which("xdg-mime"):
        result = subprocess.run(
            ["xdg-mime", "query", "default", "application/vnd.sqlite3"],
            env=xdg.env(),
            capture_output=True,
            text=True,
        )
        assert result.stdout.strip() == di.DESKTOP_FILE
    di.uninstall_desktop_entry()
    parser = di._read_mimeapps(mimeapps)
    assert parser.get("Default Applications", "text/plain") == "gedit.desktop"
    assert not parser.has_option("Default Applications", "application/vnd.sqlite3")
    assert parser.get("Added Associations", "application/vnd.sqlite3") == "sqlitebrowser.desktop;"


@pytest.mark.parametrize(("platform", "hint"), [("win32", "snapshot-browser.iss"), ("darwin", "Get Info")])
def test_install_elsewhere_than_linux_says_what_to_do(
    platform: str, hint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.platform", platform)
    with pytest.raises(UserError, match=hint):
        di.install_desktop_entry()
    with pytest.raises(UserError, match="Linux"):
        di.uninstall_desktop_entry()


def test_exec_quote_leaves_plain_words_and_quotes_the_rest() -> None:
    assert di.exec_quote("/usr/bin/snapshot-browser") == "/usr/bin/snapshot-browser"
    assert di.exec_quote("/a b") == '"/a b"'
    assert di.exec_quote('say "$x"') == '"say \\"\\$x\\""'
    assert di.exec_quote("100%") == "100%%"


# --- path_from_argument -----------------------------------------------------------------------------


def test_plain_path_with_spaces_and_non_ascii_is_kept() -> None:
    assert di.path_from_argument("/home/me/My Data/café 日本.db") == Path("/home/me/My Data/café 日本.db")


def test_relative_path_becomes_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert di.path_from_argument("sub dir/x.db") == tmp_path / "sub dir" / "x.db"


def test_percent_in_a_plain_path_is_not_decoded() -> None:
    assert di.path_from_argument("/tmp/100%20done.db") == Path("/tmp/100%20done.db")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("file:///home/me/My%20Data/caf%C3%A9%20%E6%97%A5%E6%9C%AC.db", "/home/me/My Data/café 日本.db"),
        ("file://localhost/tmp/x.db", "/tmp/x.db"),
        ("FILE:///tmp/100%25.db", "/tmp/100%.db"),
        ("file:///tmp/a%23b%3Fc.db", "/tmp/a#b?c.db"),
    ],
)
def test_file_uri_becomes_a_local_path(uri: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    assert di.path_from_argument(uri) == Path(expected)


def test_file_uri_round_trips_path_as_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    path = tmp_path / "Mes données" / "ü #1 100%.sqlite"
    assert di.path_from_argument(path.as_uri()) == path


def test_file_uri_with_bytes_that_are_not_utf8_keeps_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    assert os.fsencode(di.path_from_argument("file:///tmp/M%FCller.db")) == b"/tmp/M\xfcller.db"


@pytest.mark.parametrize(
    "arg", ["file://fileserver.example/share/x.db", "sftp://host/x.db", "https://e.com/x.db"]
)
def test_remote_addresses_are_refused_with_a_clear_message(arg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    with pytest.raises(UserError, match="local files"):
        di.path_from_argument(arg)
