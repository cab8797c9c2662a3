"""Putting exported files in place: the folder, temporary files, no-clobber renames, numbering.

Names are plain strings relative to an open `OutputFolder` in the per-file path here: a bulk export
writes thousands of small files and `pathlib` objects cost more than the write itself.
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from desktop_app.core.blobs.names import check_plain_name, numbered_name
from desktop_app.core.errors import ExportError
from desktop_app.core.export.output_paths import OutputFolder, SourceFiles

# Filesystems without hard links answer os.link with one of these.
_NO_LINK_ERRNOS = frozenset(
    code
    for code in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, getattr(errno, "EOPNOTSUPP", None))
    if code is not None
)

#: Called with the bytes written so far after each chunk.
ChunkCallback = Callable[[int], None]


def prepare_folder(folder: str | os.PathLike[str]) -> Path:
    """Create `folder` if needed and return it resolved; ExportError when it cannot be a folder."""
    path = Path(folder).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise ExportError(f"{path} exists and is not a folder.") from exc
    except OSError as exc:
        raise ExportError(f"Cannot create the folder {path}: {exc.strerror or exc}.") from exc
    if not path.is_dir():
        raise ExportError(f"{path} is not a folder.")
    return path.resolve()


def temp_name() -> str:
    """Return a fresh hidden name for a file being written (`.blob-<random>.partial`)."""
    return f".blob-{uuid.uuid4().hex[:16]}.partial"


def write_new_file(
    folder: OutputFolder, name: str, chunks: Iterable[bytes], on_chunk: ChunkCallback | None = None
) -> None:
    """Create `name` in `folder` (never an existing file) and write `chunks` to it; remove it on failure.

    Raises FileExistsError, touching nothing, when `name` already exists (a symlink included).
    """
    fd = folder.create(name)
    try:
        out = open(fd, "wb", buffering=0)  # noqa: SIM115 (closed below; an existing file must not be removed)
    except BaseException:
        os.close(fd)
        folder.remove_quietly(name)
        raise
    try:
        with out:
            done = 0
            for chunk in chunks:
                written = out.write(chunk)
                while written < len(chunk):  # a raw write may be partial
                    written += out.write(memoryview(chunk)[written:])
                if on_chunk is not None:
                    done += len(chunk)
                    on_chunk(done)
    except BaseException:
        folder.remove_quietly(name)
        raise


def _create_exclusive(folder: OutputFolder, name: str, data: bytes) -> bool:
    """Write `data` to a new file `name`; False (touching nothing) when `name` already exists."""
    try:
        write_new_file(folder, name, (data,))
    except FileExistsError:
        return False
    return True


def move_no_clobber(folder: OutputFolder, temp: str, target: str) -> bool:
    """Rename `temp` to `target` (both in `folder`) unless `target` exists; True when moved."""
    if os.name == "nt":  # Windows rename refuses to replace an existing file
        try:
            folder.rename(temp, target)
        except FileExistsError:
            return False
        return True
    try:
        folder.link(temp, target)  # atomic "create if absent", unlike a check followed by rename
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_LINK_ERRNOS:
            raise
        if folder.exists(target):
            return False
        folder.rename(temp, target)
        return True
    folder.unlink(temp)
    return True


def open_folder(root: Path, source: SourceFiles | None) -> OutputFolder:
    """Open the (resolved) folder `root` for writing into; ExportError when it cannot be opened."""
    try:
        return OutputFolder(root, source)
    except OSError as exc:
        raise ExportError(f"Cannot write to the folder {root}: {exc.strerror or exc}.") from exc


class FolderWriter:
    """Writes files into one folder (`root`, already resolved), each via a temporary name then a rename.

    The folder is opened once (see `OutputFolder`): every file is created and renamed relative to it,
    and no file may be the source database or one of its sidecars (`source`).
    """

    def __init__(self, root: Path, overwrite: bool, source: SourceFiles | None = None) -> None:
        self.root = root
        self.overwrite = overwrite
        self.folder = open_folder(root, source)
        self._root = str(root)
        self._prefix = os.path.join(self._root, "")
        self._temp_prefix = f".blob-{uuid.uuid4().hex[:12]}-"
        self._temp_numbers = itertools.count(1)
        # Names given in this export (casefolded: Windows and macOS compare names that way); a later
        # row with the same name is numbered even with overwrite, so no export overwrites itself.
        self._taken: set[str] = set()
        self._next_number: dict[str, int] = {}

    def close(self) -> None:
        """Let go of the folder."""
        self.folder.close()

    def write(self, name: str, chunks: Iterable[bytes], on_chunk: ChunkCallback | None = None) -> str:
        """Write `chunks` to the file `name` (numbered `name (2).ext` when taken); return the name used."""
        temp = f"{self._temp_prefix}{next(self._temp_numbers)}.partial"
        write_new_file(self.folder, temp, chunks, on_chunk)
        try:
            return self._place(temp, name)
        except BaseException:
            self.folder.remove_quietly(temp)
            raise

    def write_whole(self, name: str, data: bytes) -> str:
        """Write a value held in memory straight to its final name (created exclusively); return the name.

        One exclusive create and one write replace the temporary name, link and unlink of `write`,
        which dominate exports of many small blobs. A failed write removes the file, so nothing
        half-written is left looking complete. Overwrite mode keeps the temp-and-replace path.
        """
        if self.overwrite:
            return self.write(name, (data,))
        return self._claim(name, lambda target: _create_exclusive(self.folder, target, data))

    def _place(self, temp: str, name: str) -> str:
        return self._claim(name, lambda target: self._move(temp, target))

    def _claim(self, name: str, put: Callable[[str], bool]) -> str:
        """Find the first free `name`, `name (2)`, … for which `put(name)` succeeds; return that name."""
        key = name.casefold()
        number = self._next_number.get(key, 1)
        candidate = name if number == 1 else numbered_name(name, number)
        while True:
            if candidate.casefold() not in self._taken:
                check_plain_name(candidate)
                if os.path.dirname(self._prefix + candidate) != self._root:
                    raise ExportError(f"Refused to write {candidate!r}: it would land outside {self._root}.")
                # Without overwrite an existing file is never touched (the name is numbered), so only
                # the name needs checking; with it, what is there is compared too.
                self.folder.check_name(
                    candidate, existing=self.overwrite, hint="choose another name or folder"
                )
                if put(candidate):
                    self._taken.add(candidate.casefold())
                    self._next_number[key] = number + 1
                    return candidate
            number += 1
            candidate = numbered_name(name, number)

    def _move(self, temp: str, target: str) -> bool:
        if self.overwrite:
            try:
                is_folder = stat.S_ISDIR(self.folder.stat(target).st_mode)
            except FileNotFoundError:
                is_folder = False
            if not is_folder:
                self.folder.replace(temp, target)  # replaces a symlink itself, never writes through it
                return True
        return move_no_clobber(self.folder, temp, target)
