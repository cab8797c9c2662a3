"""Private temporary folders: each names its owning process, and those of processes gone are swept away."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

#: Private folders are named so, in `tempfile.gettempdir()`; each holds an `OWNER` file (pid, start time).
PRIVATE_PREFIX = "snapshot-browser-"
OWNER_FILE = "OWNER"
_stale_folders_swept = False


class SharedFolder:
    """A private folder shared by the snapshots that read from it (a quick view and its successor):
    removed when the last of them is closed."""

    def __init__(self, folder: tempfile.TemporaryDirectory[str]) -> None:
        self._folder = folder
        self._users = 0
        self._lock = threading.Lock()

    def acquire(self) -> SharedFolder:
        """Count one more snapshot reading from the folder; return the folder."""
        with self._lock:
            self._users += 1
        return self

    def release(self) -> None:
        """Count one snapshot less; the last one out removes the folder."""
        with self._lock:
            self._users -= 1
            last = self._users <= 0
        if last:
            self._folder.cleanup()


def new_private_folder() -> tempfile.TemporaryDirectory[str]:
    """A new private folder holding an `OWNER` file, so a later start can tell when its process is gone."""
    folder = tempfile.TemporaryDirectory(prefix=PRIVATE_PREFIX)
    try:
        (Path(folder.name) / OWNER_FILE).write_text(f"{os.getpid()} {_process_start_time(os.getpid())}\n")
    except BaseException:
        folder.cleanup()
        raise
    return folder


def _process_start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or "?" where it cannot be told.

    With the pid it names one process: a pid reused by a later process has another start time.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return fields[19]  # field 22 of stat(5); fields[0] is field 3
    except (OSError, IndexError):
        return "?"


def _owner_alive(pid: int, start_time: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive
    except OSError:
        return True
    return start_time == "?" or _process_start_time(pid) in (start_time, "?")


def remove_stale_private_folders(temp_dir: Path | None = None) -> list[Path]:
    """Remove the private folders of snapshot-browser processes that are gone; return what was removed.

    Only folders of ours with an `OWNER` file naming a process that no longer runs (or whose pid now
    belongs to a process started at another time) are removed; a live one, or one without an owner
    (still being created, or of an older version), is left alone.
    """
    root = Path(temp_dir or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith(PRIVATE_PREFIX)]
    except OSError:
        return removed
    for folder in candidates:
        try:
            st = folder.lstat()
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
                continue
            pid_text, start_time = (folder / OWNER_FILE).read_text(encoding="ascii").split()
            pid = int(pid_text)
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        if pid == os.getpid() or _owner_alive(pid, start_time):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def sweep_stale_private_folders_once() -> None:
    """At the first snapshot of a process (GUI or CLI), free what killed processes left behind."""
    global _stale_folders_swept
    if not _stale_folders_swept:
        _stale_folders_swept = True
        remove_stale_private_folders()
