"""Write an export file atomically: a hidden temporary file beside the target, renamed when complete.

Rows go to `.NAME.<random>.part` in the target's folder (same folder, so the final rename is atomic)
and it is renamed over the target only when the last row is written. On cancel or any error (the
query fails mid-stream, the disk fills up) the temporary file is removed and a file already at the
target is left as it was: a partial export cannot be told from a complete one by looking at it, so
we never leave one behind, not even under another name. The target may not be the database being
read or one of its sidecars (see `output_paths`): checked before the first row and again right
before the rename, both through the folder opened once.
"""

from __future__ import annotations

import errno
import io
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from desktop_app.core.errors import ExportError
from desktop_app.core.export.output_paths import OutputFolder, SourceFiles

_BUFFER = 1 << 20


def os_error(exc: OSError, target: Path) -> ExportError:
    """The user's words for an OSError met while writing `target`."""
    folder = target.parent
    messages = {
        errno.ENOSPC: f"The disk is full: {target.name} was not saved.",
        getattr(errno, "EDQUOT", errno.ENOSPC): f"The disk quota is used up: {target.name} was not saved.",
        errno.EACCES: f"No permission to write {target.name} in {folder} (is it open in another program?).",
        errno.EPERM: f"No permission to write {target.name} in {folder}.",
        errno.EROFS: f"{folder} is on a read-only disk.",
        errno.ENOENT: f"The folder {folder} does not exist.",
        errno.ENOTDIR: f"{folder} is not a folder.",
        errno.EISDIR: f"{target} is a folder, not a file.",
        errno.ENAMETOOLONG: f"The file name {target.name} is too long.",
    }
    reason = exc.strerror or str(exc)
    message = messages.get(exc.errno or 0, f"Could not write {target}: {reason}.")
    return ExportError(message, details=str(exc))


class AtomicOutput:
    """A temporary file in the target's folder (`binary`, or `text()` over it), renamed by `commit`."""

    def __init__(self, target: Path, folder: OutputFolder, binary: BinaryIO, temp: str) -> None:
        self.target = target
        self.folder = folder
        self.binary = binary
        self.temp = temp
        self.committed = False
        self._text: io.TextIOWrapper | None = None

    def text(self, *, bom: bool = False) -> io.TextIOWrapper:
        """The file as UTF-8 text (a lone surrogate from a user function becomes `?`, never an error)."""
        if self._text is None:
            encoding = "utf-8-sig" if bom else "utf-8"
            self._text = io.TextIOWrapper(self.binary, encoding=encoding, errors="replace", newline="")
        return self._text

    def commit(self) -> int:
        """Finish the file, move it to the target and return its size in bytes."""
        if self._text is not None:
            self._text.flush()
        self.binary.flush()
        size = os.fstat(self.binary.fileno()).st_size
        self.close()
        # Checked again right before the rename: what is at the name may have changed since the start.
        self.folder.check_name(self.target.name)
        self.folder.replace(self.temp, self.target.name)
        self.committed = True
        return size

    def close(self) -> None:
        """Close the file (not the folder); a second call does nothing."""
        if self._text is not None:
            self._text.close()
        else:
            self.binary.close()


@contextmanager
def atomic_output(
    path: str | os.PathLike[str], source_path: str | os.PathLike[str] | None
) -> Iterator[AtomicOutput]:
    """Open the temporary file; remove it on leaving unless committed. OSError becomes ExportError."""
    target = Path(path).absolute()
    if target.is_dir():
        raise ExportError(f"{target} is a folder, not a file.")
    source_files = SourceFiles.of(source_path) if source_path is not None else None
    if source_files is not None:
        source_files.check_path(path)
    # Hidden, clearly unfinished, unique; the name is cut so a long target name still fits (255 bytes).
    short_name = target.name.encode()[:64].decode(errors="ignore")
    temp = f".{short_name}.{uuid.uuid4().hex[:12]}.part"
    try:
        # The folder is opened once and every step below goes through it (see OutputFolder).
        folder = OutputFolder(os.path.realpath(target.parent), source_files)
    except OSError as exc:
        raise os_error(exc, target) from exc
    try:
        folder.check_name(target.name)
        # Mode 0o666 lets the umask decide permissions, as for any new file the user saves.
        fd = folder.create(temp, 0o666)
    except OSError as exc:
        folder.close()
        raise os_error(exc, target) from exc
    except BaseException:
        folder.close()
        raise
    binary = open(fd, "wb", buffering=_BUFFER)  # noqa: SIM115
    output = AtomicOutput(target, folder, binary, temp)
    try:
        yield output
    except OSError as exc:
        raise os_error(exc, target) from exc
    finally:
        if not output.committed:
            try:
                output.close()
            except OSError:
                pass  # e.g. ENOSPC again while flushing: the file is removed anyway
            folder.remove_quietly(temp)
        folder.close()
