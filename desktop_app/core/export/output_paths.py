"""Where an export may write: never over the database being read, its sidecars, or a link to them.

`ensure_not_source(output, source)` is the one check for a path the user chose (CSV file, saved value).
`SourceFiles` is what that check compares with, built once per export: the database and its `-wal`,
`-shm` and `-journal` files, for the path as given, every hop of its symlink chain and its resolved
target, by normalised path, by (folder, name) and by (st_dev, st_ino), so hard links, symlinks and
a symlinked folder are all caught, also for files that do not exist yet (a `-journal` written beside
the database would be taken for a hot journal by the next program that opens it).

`OutputFolder` is a folder opened once: files are created (exclusively, never through a symlink),
checked and renamed relative to that open folder (a directory descriptor), so swapping the folder, or
a folder above it, for a symlink after the check cannot redirect a write. Where the system has no
directory descriptors, paths are used and the folder's identity is checked again before each step.
"""

from __future__ import annotations

import errno
import os
import stat
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import ExportError, OutputIsSourceError

#: The files SQLite keeps beside a database (see `source.sidecar`).
SIDECAR_SUFFIXES = ("-wal", "-shm", "-journal")
#: Symlink hops followed when listing the source's names (the system's own limit is about 40).
_MAX_LINK_HOPS = 40

Identity = tuple[int, int]

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
#: Directory descriptors for every step of a write; otherwise paths (Windows).
_USE_DIR_FD = bool(_O_DIRECTORY) and {os.open, os.stat, os.unlink, os.rename, os.link} <= os.supports_dir_fd
_LINK_NOFOLLOW = os.link in os.supports_follow_symlinks


class FolderReplacedError(ExportError):
    """The export's folder was swapped for another (only noticed where folders are used by path)."""


def _identity(st: os.stat_result) -> Identity:
    return (st.st_dev, st.st_ino)


def _norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _link_chain(path: str) -> list[str]:
    """`path`, each symlink hop from it, and its resolved target."""
    chain = [path]
    current = path
    for _ in range(_MAX_LINK_HOPS):
        try:
            target = os.readlink(current)
        except (OSError, ValueError):
            break
        current = os.path.normpath(os.path.join(os.path.dirname(current), target))
        chain.append(current)
    chain.append(os.path.realpath(path))
    return list(dict.fromkeys(chain))


def _folder_ignores_case(folder: str, name: str, name_identity: Identity | None) -> bool:
    """True when `folder` finds `name` under other case too (or when that cannot be told: stay safe)."""
    swapped = name.swapcase()
    if swapped == name or name_identity is None:
        return True
    try:
        return _identity(os.stat(os.path.join(folder, swapped))) == name_identity
    except OSError:
        return False


@dataclass(frozen=True)
class SourceFiles:
    """The files no output may be: the source database and its sidecars, each way they can be named."""

    source: Path
    #: Normalised absolute paths, as given and resolved.
    paths: frozenset[str]
    #: (folder identity, name) of each.
    entries: frozenset[tuple[Identity, str]]
    #: The same with the name casefolded, for folders that ignore case.
    folded_entries: frozenset[tuple[Identity, str]]
    #: (st_dev, st_ino) of those that exist.
    identities: frozenset[Identity]

    @classmethod
    def of(cls, source: str | os.PathLike[str]) -> SourceFiles:
        """The files of the database at `source` (existing or not; nothing is opened)."""
        given = os.path.abspath(os.path.expanduser(os.fspath(source)))
        paths: set[str] = set()
        entries: set[tuple[Identity, str]] = set()
        folded_entries: set[tuple[Identity, str]] = set()
        identities: set[Identity] = set()
        for base in _link_chain(given):
            for candidate in (base, *(base + suffix for suffix in SIDECAR_SUFFIXES)):
                resolved = os.path.realpath(candidate)
                paths.update((_norm(candidate), _norm(resolved)))
                identity = _stat_identity(candidate)
                if identity is not None:
                    identities.add(identity)
                for path, folder, folder_identity, name in _folder_entries(candidate, resolved):
                    entries.add((folder_identity, name))
                    # Probe the folder's case rule with a file known to be in it: this one, else the base.
                    probe = path if os.path.lexists(path) or os.path.dirname(base) != folder else base
                    if _folder_ignores_case(folder, os.path.basename(probe), _stat_identity(probe)):
                        folded_entries.add((folder_identity, name.casefold()))
        return cls(
            Path(given),
            frozenset(paths),
            frozenset(entries),
            frozenset(folded_entries),
            frozenset(identities),
        )

    def refusal(self, shown: str, hint: str = "choose another file") -> OutputIsSourceError:
        """The error for an output that is one of these files."""
        return OutputIsSourceError(
            f"{shown} is the database being read (or one of its -wal/-shm/-journal files); {hint}.",
            details=f"source: {self.source}",
        )

    def is_entry(self, folder: Identity, name: str) -> bool:
        """True when `name` in the folder with identity `folder` names one of these files."""
        return (folder, name) in self.entries or (folder, name.casefold()) in self.folded_entries

    def is_file(self, stats: Iterable[os.stat_result]) -> bool:
        """True when any of `stats` (of an existing output) is one of these files."""
        return any(_identity(st) in self.identities for st in stats)

    def check_path(self, output: str | os.PathLike[str], hint: str = "choose another file") -> None:
        """Raise `OutputIsSourceError` when writing `output` would write one of these files."""
        given = os.path.abspath(os.path.expanduser(os.fspath(output)))
        if "\0" in given:
            raise ExportError(f"{output!r} is not a usable file name: it holds a NUL character.")
        resolved = os.path.realpath(given)
        if _norm(given) in self.paths or _norm(resolved) in self.paths:
            raise self.refusal(str(output), hint)
        if self.is_file(_link_and_target_stats(lambda follow: os.stat(given, follow_symlinks=follow))):
            raise self.refusal(str(output), hint)
        for _path, _folder, folder_identity, name in _folder_entries(given, resolved):
            if self.is_entry(folder_identity, name):
                raise self.refusal(str(output), hint)


def _stat_identity(path: str) -> Identity | None:
    try:
        return _identity(os.stat(path))
    except (OSError, ValueError):
        return None


def _link_and_target_stats(stat: Callable[[bool], os.stat_result]) -> list[os.stat_result]:
    """`stat(follow)` of a path itself and of what it links to, leaving out those that fail."""
    stats = []
    for follow in (False, True):
        try:
            stats.append(stat(follow))
        except (OSError, ValueError):
            pass
    return stats


def _folder_entries(*paths: str) -> Iterator[tuple[str, str, Identity, str]]:
    """(path, its folder, the folder's identity, its name) for each distinct path whose folder exists."""
    for path in dict.fromkeys(paths):
        folder, name = os.path.split(path)
        folder_identity = _stat_identity(folder)
        if folder_identity is not None:
            yield path, folder, folder_identity, name


def ensure_not_source(output: str | os.PathLike[str], source: str | os.PathLike[str] | None) -> None:
    """Raise `OutputIsSourceError` when `output` is the database at `source` or one of its sidecars.

    Compared by resolved path and by (device, inode), so hard and symbolic links to them, and a
    symlinked folder holding them, are refused too. `source` None (nothing open) allows anything.
    """
    if source is not None:
        SourceFiles.of(source).check_path(output)


class OutputFolder:
    """A folder opened once; files in it are created, checked and renamed relative to it.

    `path` must be resolved (no symlinks): the folder is opened without following a symlink, so a
    folder swapped for one after it was resolved is refused rather than followed. Every later step
    goes through the open folder, so renaming the folder or its parents away changes nothing.
    """

    def __init__(self, path: str | os.PathLike[str], source: SourceFiles | None = None) -> None:
        self.path = os.fspath(path)
        self.source = source
        self.fd: int | None = None
        if _USE_DIR_FD:
            fd = os.open(self.path, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC)
            self.fd = fd
            self._closer = weakref.finalize(self, os.close, fd)
            self.identity = _identity(os.fstat(fd))
        else:  # answer as os.open with O_NOFOLLOW | O_DIRECTORY would
            st = os.stat(self.path, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), self.path)
            if not stat.S_ISDIR(st.st_mode):
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), self.path)
            self.identity = _identity(st)

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Let go of the folder (its descriptor)."""
        if self.fd is not None:
            self._closer()
            self.fd = None

    def _path_identity(self) -> Identity:
        st = os.stat(self.path, follow_symlinks=False)
        if not stat.S_ISDIR(st.st_mode):
            raise FolderReplacedError(
                f"{self.path} is no longer a folder: it was replaced during the export."
            )
        return _identity(st)

    def _at(self, name: str) -> str:
        """The name to pass to os functions: `name` with the descriptor, else the full path, re-checked."""
        if self.fd is not None:
            return name
        if self._path_identity() != self.identity:
            raise FolderReplacedError(f"The folder {self.path} was replaced during the export.")
        return os.path.join(self.path, name)

    def full_path(self, name: str) -> str:
        """Where `name` is, for messages."""
        return os.path.join(self.path, name)

    def check_name(self, name: str, *, existing: bool = True, hint: str = "choose another file") -> None:
        """Raise `OutputIsSourceError` when `name` in this folder is the source or one of its sidecars.

        With `existing`, a file already at `name` is compared by (device, inode) as well (a hard link
        or a symlink to the source).
        """
        source = self.source
        if source is None:
            return
        if source.is_entry(self.identity, name) or _norm(self.full_path(name)) in source.paths:
            raise source.refusal(self.full_path(name), hint)
        if existing and source.is_file(self._stats(name)):
            raise source.refusal(self.full_path(name), hint)

    def _stats(self, name: str) -> list[os.stat_result]:
        return _link_and_target_stats(lambda follow: self.stat(name, follow_symlinks=follow))

    def stat(self, name: str, *, follow_symlinks: bool = False) -> os.stat_result:
        """The stat of `name` in this folder (of a symlink itself unless `follow_symlinks`)."""
        return os.stat(self._at(name), dir_fd=self.fd, follow_symlinks=follow_symlinks)

    def create(self, name: str, mode: int = 0o666) -> int:
        """Create `name` (never an existing file, never through a symlink); return its descriptor."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY
        return os.open(self._at(name), flags, mode, dir_fd=self.fd)

    def unlink(self, name: str) -> None:
        """Remove `name` from this folder."""
        os.unlink(self._at(name), dir_fd=self.fd)

    def remove_quietly(self, name: str) -> None:
        """Remove `name` if it is there, ignoring errors (cleanup of a temporary file)."""
        try:
            self.unlink(name)
        except (OSError, FolderReplacedError):
            pass

    def replace(self, temp: str, name: str) -> None:
        """Rename `temp` to `name`, replacing a file (or the symlink itself) already there."""
        if self.fd is not None:
            os.replace(temp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        else:
            os.replace(self._at(temp), self._at(name))

    def rename(self, temp: str, name: str) -> None:
        """Rename `temp` to `name` (on Windows this refuses an existing `name`)."""
        if self.fd is not None:
            os.rename(temp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        else:
            os.rename(self._at(temp), self._at(name))

    def link(self, temp: str, name: str) -> None:
        """Give `temp` the second name `name`; FileExistsError when `name` exists."""
        if self.fd is not None:
            if _LINK_NOFOLLOW:
                os.link(temp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd, follow_symlinks=False)
            else:
                os.link(temp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        else:
            os.link(self._at(temp), self._at(name))

    def exists(self, name: str) -> bool:
        """True when anything (a symlink included) is at `name`."""
        try:
            self.stat(name)
        except (OSError, ValueError):
            return False
        return True


def write_file(
    path: str | os.PathLike[str], data: bytes, *, source_path: str | os.PathLike[str] | None = None
) -> None:
    """Write `data` to `path` whole, replacing a file there only once the new one is complete.

    Written under a hidden temporary name in the same folder, then renamed; `path` may not be the
    database at `source_path` or one of its sidecars (checked before and again right before the
    rename). OSError is left to the caller to word.
    """
    source = SourceFiles.of(source_path) if source_path is not None else None
    if source is not None:
        source.check_path(path)
    target = os.path.abspath(os.path.expanduser(os.fspath(path)))
    folder_path, name = os.path.split(target)
    temp = f".{name.encode()[:64].decode(errors='ignore')}.{os.urandom(6).hex()}.part"  # fits 255 bytes
    with OutputFolder(os.path.realpath(folder_path), source) as folder:
        folder.check_name(name)
        fd = folder.create(temp)
        try:
            with open(fd, "wb") as out:
                out.write(data)
            folder.check_name(name)
            folder.replace(temp, name)
        except BaseException:
            folder.remove_quietly(temp)
            raise
