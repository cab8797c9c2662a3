"""Linux desktop integration (menu entry, MIME types, icons, default handler) and file-manager arguments.

No Qt here: `snapshot-browser --install-desktop-entry` runs this before any window exists.
"""

from __future__ import annotations

import configparser
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from desktop_app.core.errors import UserError
from desktop_app.core.resources import resource_root

log = logging.getLogger(__name__)

APP_NAME = "snapshot-browser"
DESKTOP_FILE = f"{APP_NAME}.desktop"
#: Installed as ~/.local/share/mime/packages/<this>.
MIME_PACKAGE_FILE = f"{APP_NAME}.xml"
#: The types we open; the first one is what `xdg-mime query default` is asked about in the tests.
MIME_TYPES = (
    "application/vnd.sqlite3",
    "application/x-sqlite3",
    "application/geopackage+sqlite3",
    "application/x-mbtiles",
)
ICON_SIZES = (16, 32, 48, 64, 128, 256)
#: Seconds a helper tool (update-mime-database, xdg-mime, ...) may take before we give up on it.
TOOL_TIMEOUT_S = 60

# Characters that force quoting of an Exec argument (Desktop Entry Specification, "The Exec key").
_EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")


# --- arguments from a file manager -------------------------------------------------------------------


def path_from_argument(arg: str) -> Path:
    """Return the local path named by a command-line argument: a plain path or a `file://` URI."""
    if arg[:5].lower() == "file:":
        return _path_from_file_uri(arg)
    if _URI_SCHEME.match(arg) and not os.path.exists(arg):
        scheme = arg.split(":", 1)[0]
        raise UserError(
            f"Only local files can be opened, not “{scheme}:” addresses. "
            "Copy the database to this computer first.",
            details=arg,
        )
    return Path(arg).absolute()


def _path_from_file_uri(uri: str) -> Path:
    parts = urlsplit(uri)
    host = parts.netloc
    if sys.platform == "win32":
        from urllib.request import url2pathname

        # file://server/share/x.db is a UNC path; file:///C:/x.db a drive path.
        return Path(url2pathname(f"//{host}{parts.path}" if host and host != "localhost" else parts.path))
    if host not in ("", "localhost", socket.gethostname()):
        raise UserError(
            f"“{unquote(parts.path)}” is on another computer ({host}); only local files can be opened.",
            details=uri,
        )
    # File names on Linux are bytes: percent-decode to bytes, then to str the way the OS does.
    return Path(os.fsdecode(unquote_to_bytes(parts.path)))


# --- where things are --------------------------------------------------------------------------------


def resources_directory() -> Path:
    """Return the resources folder holding `icons/` and `linux/`, or raise if this install lacks it."""
    root = resource_root()
    if not (root / "linux" / DESKTOP_FILE).is_file():
        raise UserError("The desktop entry files were not found in this installation.", details=str(root))
    return root


def xdg_data_home() -> Path:
    """Return $XDG_DATA_HOME or ~/.local/share."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def xdg_config_home() -> Path:
    """Return $XDG_CONFIG_HOME or ~/.config."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def launcher_argv() -> list[str]:
    """Return the command that starts the GUI: the frozen app, the installed launcher, or `python -m`."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    bin_dir = Path(sys.executable).parent
    for name in (APP_NAME, f"{APP_NAME}.exe"):
        script = bin_dir / name
        if script.is_file() and os.access(script, os.X_OK):
            return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "desktop_app"]


def exec_quote(arg: str) -> str:
    """Quote one argument for a desktop file's Exec key (before the key's own backslash escaping)."""
    arg = arg.replace("%", "%%")
    if not any(ch in _EXEC_RESERVED for ch in arg):
        return arg
    return '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg) + '"'


def exec_value(argv: Sequence[str]) -> str:
    """Return the Exec value (without field codes) that runs `argv`, escaped for a desktop file."""
    # A desktop file value escapes backslashes once more on top of the Exec quoting rules.
    return " ".join(exec_quote(arg) for arg in argv).replace("\\", "\\\\")


# --- install / uninstall -----------------------------------------------------------------------------


def _require_freedesktop() -> None:
    if sys.platform == "win32":
        raise UserError(
            "--install-desktop-entry is for Linux desktops. On Windows, install the app with the installer "
            "built from packaging/windows/snapshot-browser.iss (it registers .db, .sqlite, .gpkg and "
            ".mbtiles), or right-click a database file → Open with → Choose another app → Always."
        )
    if sys.platform == "darwin":
        raise UserError(
            "--install-desktop-entry is for Linux desktops. On macOS, use the app bundle built by "
            "packaging/build.sh: drag it to Applications, then in Finder select a .db file → Get Info → "
            "Open with → SQLite Snapshot Browser → Change All."
        )


def _installed_files(data_home: Path) -> dict[Path, Path]:
    """Map each file we install to its source in the resources folder."""
    resources = resources_directory()
    icons = resources / "icons"
    files = {
        data_home / "applications" / DESKTOP_FILE: resources / "linux" / DESKTOP_FILE,
        data_home / "mime" / "packages" / MIME_PACKAGE_FILE: resources / "linux" / f"{APP_NAME}-mime.xml",
        data_home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_NAME}.svg": icons / f"{APP_NAME}.svg",
    }
    for size in ICON_SIZES:
        target = data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_NAME}.png"
        files[target] = icons / f"{APP_NAME}-{size}.png"
    return files


def desktop_entry_text(template: str, exec_command: str, try_exec: str | None) -> str:
    """Return the desktop file `template` with its Exec (and TryExec) pointing at `exec_command`."""
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_command} %f"
        elif line.startswith("TryExec="):
            if try_exec is None:
                continue
            line = f"TryExec={try_exec}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def install_desktop_entry(
    data_home: Path | None = None,
    exec_command: str | None = None,
    *,
    config_home: Path | None = None,
) -> list[Path]:
    """Install the menu entry, MIME types and icons for this user, make us the default; return the files."""
    _require_freedesktop()
    data_home = data_home or xdg_data_home()
    config_home = config_home or xdg_config_home()
    try_exec: str | None = None
    if exec_command is None:
        argv = launcher_argv()
        exec_command = exec_value(argv)
        try_exec = exec_value(argv[:1])
    installed = []
    try:
        for target, source in _installed_files(data_home).items():
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.name == DESKTOP_FILE:
                text = desktop_entry_text(source.read_text(encoding="utf-8"), exec_command, try_exec)
                target.write_text(text, encoding="utf-8")
            else:
                shutil.copyfile(source, target)
            installed.append(target)
    except OSError as exc:
        raise UserError(f"The desktop entry could not be installed: {exc}.", details=str(exc)) from None
    _refresh_caches(data_home, config_home)
    _set_default_handler(data_home, config_home)
    return installed


def uninstall_desktop_entry(data_home: Path | None = None, *, config_home: Path | None = None) -> list[Path]:
    """Remove the installed files and our default-handler entries; return the removed files."""
    _require_freedesktop()
    data_home = data_home or xdg_data_home()
    config_home = config_home or xdg_config_home()
    removed = []
    for target in _installed_files(data_home):
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise UserError(f"{target} could not be removed: {exc.strerror}.", details=str(exc)) from None
        removed.append(target)
    for mimeapps in (config_home / "mimeapps.list", data_home / "applications" / "mimeapps.list"):
        _forget_handler(mimeapps)
    _refresh_caches(data_home, config_home)
    return removed


def _tool_env(data_home: Path, config_home: Path) -> dict[str, str]:
    return {**os.environ, "XDG_DATA_HOME": str(data_home), "XDG_CONFIG_HOME": str(config_home)}


def _run_tool(argv: list[str], env: dict[str, str]) -> bool:
    """Run a desktop helper if it is installed; True when it ran and succeeded."""
    if shutil.which(argv[0]) is None:
        log.info("%s is not installed; skipped", argv[0])
        return False
    try:
        result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("%s failed: %s", argv[0], exc)
        return False
    if result.returncode != 0:
        log.warning("%s exited with %s: %s", argv[0], result.returncode, result.stderr.strip())
    return result.returncode == 0


def _refresh_caches(data_home: Path, config_home: Path) -> None:
    env = _tool_env(data_home, config_home)
    mime_dir = data_home / "mime"
    if (mime_dir / "packages").is_dir():
        _run_tool(["update-mime-database", str(mime_dir)], env)
    if (data_home / "applications").is_dir():
        _run_tool(["update-desktop-database", str(data_home / "applications")], env)
    hicolor = data_home / "icons" / "hicolor"
    if hicolor.is_dir():
        os.utime(hicolor)  # icon caches are considered stale when the theme folder is newer


def _set_default_handler(data_home: Path, config_home: Path) -> None:
    env = _tool_env(data_home, config_home)
    if not _run_tool(["xdg-mime", "default", DESKTOP_FILE, *MIME_TYPES], env):
        _write_default_handler(config_home / "mimeapps.list")


def _read_mimeapps(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # MIME types are case-sensitive keys
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise UserError(f"{path} could not be read: {exc}.", details=str(exc)) from None
    return parser


def _write_mimeapps(path: Path, parser: configparser.ConfigParser) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        parser.write(handle, space_around_delimiters=False)


def _write_default_handler(path: Path) -> None:
    """Make us the default for our MIME types in `path` (what `xdg-mime default` does)."""
    parser = _read_mimeapps(path)
    for section in ("Default Applications", "Added Associations"):
        if not parser.has_section(section):
            parser.add_section(section)
    for mime_type in MIME_TYPES:
        parser.set("Default Applications", mime_type, DESKTOP_FILE)
        others = [app for app in parser.get("Added Associations", mime_type, fallback="").split(";") if app]
        added = [DESKTOP_FILE, *(app for app in others if app != DESKTOP_FILE)]
        parser.set("Added Associations", mime_type, ";".join(added) + ";")
    _write_mimeapps(path, parser)


def _forget_handler(path: Path) -> None:
    """Remove our desktop file from every association in `path`, leaving other programs' entries alone."""
    if not path.is_file():
        return
    parser = _read_mimeapps(path)
    changed = False
    for section in parser.sections():
        for key, value in list(parser.items(section)):
            apps = [app for app in value.split(";") if app]
            if DESKTOP_FILE not in apps:
                continue
            changed = True
            kept = [app for app in apps if app != DESKTOP_FILE]
            if kept:
                parser.set(section, key, ";".join(kept) + ";")
            else:
                parser.remove_option(section, key)
    if changed:
        _write_mimeapps(path, parser)
