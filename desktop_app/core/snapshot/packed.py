"""Databases shipped packed: `.gz`, `.bz2`, `.xz`, `.zst`, `.zip`, `.tar*` and Anki `.apkg`/`.colpkg`.

The format is told by the file's first bytes, not its name. A member is decompressed straight into memory
(a `bytearray`, then the snapshot's memdb): nothing is extracted to disk, not even to a temporary folder.
Every read is bounded by `LIMITS.packed_max_bytes`, so an archive bomb is refused part way with a clear
message instead of filling the memory.
"""

from __future__ import annotations

import bz2
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from desktop_app.core.errors import DatabaseOpenError, SeveralDatabases
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback
from desktop_app.core.snapshot.encrypted import (
    ENTROPY_SAMPLE_BYTES,
    looks_encrypted,
    looks_encrypted_behind_plain_header,
)
from desktop_app.core.snapshot.source_file import SQLITE_MAGIC

CHUNK_BYTES = 1 << 20
GZIP_IN_BYTES = 256 << 10
GZIP_WBITS = 31  # zlib's "gzip header and trailer"
TAR_MAGIC_OFFSET = 257
#: Leading bytes of each compressed stream format we read.
STREAM_MAGICS = {
    "gzip": b"\x1f\x8b",
    "bzip2": b"BZh",
    "xz": b"\xfd7zXZ\x00",
    "zstd": b"\x28\xb5\x2f\xfd",
}
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
#: The databases of an Anki package, the newest format first (a new package also holds an old stub).
ANKI_COLLECTIONS = ("collection.anki21b", "collection.anki21", "collection.anki2")
#: Words for each format in messages.
FORMAT_NAMES = {
    "gzip": "gzip",
    "bzip2": "bzip2",
    "xz": "xz",
    "zstd": "Zstandard",
    "zip": "zip",
    "tar": "tar",
}


@dataclass(frozen=True)
class PackedMember:
    """One file inside a packed file: its name, its unpacked size when the archive says, and whether it
    starts like a SQLite database (or is packed once more in a format we read, or looks encrypted)."""

    name: str
    size: int | None
    is_database: bool


@dataclass(frozen=True)
class PackedContents:
    """What a packed file holds: its format ("gzip", "zip", "tar+gzip"...) and its files."""

    format: str
    members: tuple[PackedMember, ...]

    @property
    def databases(self) -> list[str]:
        """Names of the members that are databases, in archive order."""
        return [m.name for m in self.members if m.is_database]


def packed_format(head: bytes) -> str | None:
    """The packed format `head` (a file's first 512+ bytes) starts with, or None."""
    if head.startswith(ZIP_MAGICS):
        return "zip"
    for name, magic in STREAM_MAGICS.items():
        if head.startswith(magic):
            return name
    if _is_tar_header(head):
        return "tar"
    return None


def _is_tar_header(head: bytes) -> bool:
    return head[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 5] == b"ustar"


def packed_contents(path: Path, cancel: CancelToken | None = None) -> PackedContents | None:
    """What the file at `path` holds when it is packed (told by its first bytes), else None: the
    caller lists `databases` and opens one with `open_snapshot(path, member=name)`."""
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        raise DatabaseOpenError(f"“{path.name}” cannot be read: {exc.strerror}.", details=str(path)) from None
    fmt = packed_format(head)
    return list_contents(path, fmt, cancel) if fmt is not None else None


def list_contents(path: Path, fmt: str, cancel: CancelToken | None = None) -> PackedContents:
    """Name the files inside the packed file at `path` (format `fmt` from `packed_format`)."""
    cancel = cancel or CancelToken()
    with _damage_said(path, fmt):
        if fmt == "zip":
            with zipfile.ZipFile(path) as archive:
                members = []
                for info in archive.infolist():
                    cancel.raise_if_cancelled()
                    if info.is_dir():
                        continue
                    with archive.open(info) as member:
                        head = member.read(ENTROPY_SAMPLE_BYTES)
                    is_database = _is_database_head(head, info.file_size)
                    members.append(PackedMember(info.filename, info.file_size, is_database))
            return PackedContents("zip", tuple(members))
        head = _stream_head(path, fmt)
        with _open_stream(path, fmt) as (stream, _raw):
            if _is_tar_header(head):
                return PackedContents(f"tar+{fmt}" if fmt != "tar" else "tar", tuple(_tar_members(stream)))
            name = _single_member_name(path, fmt)
            return PackedContents(fmt, (PackedMember(name, None, _is_database_head(head, None)),))


def read_member(
    path: Path,
    fmt: str,
    member: str | None,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> tuple[str, bytearray]:
    """Unpack one database from the packed file at `path` into memory; return its name and bytes.

    `member` names it; None picks the only database (or an Anki package's newest collection) and raises
    `SeveralDatabases` when there is a choice to make. Refuses (`DatabaseOpenError`) a member over
    `LIMITS.packed_max_bytes`, a member that is not a database, and a damaged archive.
    """
    contents = list_contents(path, fmt, cancel)
    name = member if member is not None else choose_member(path, contents)
    found = next((m for m in contents.members if m.name == name), None)
    if found is None:
        raise DatabaseOpenError(
            f"“{path.name}” holds no file named “{name}”. It holds: {_listing(contents)}.",
            details=str(path),
        )
    if not found.is_database:
        raise DatabaseOpenError(
            f"“{name}” in “{path.name}” is not a SQLite database, so it cannot be opened.",
            details=str(path),
        )
    with _damage_said(path, fmt):
        if fmt == "zip":
            with zipfile.ZipFile(path) as archive, archive.open(name) as stream:
                raw = archive.fp
                data = _read_bounded(stream, path, name, progress, cancel, lambda: _tell(raw))
        else:
            is_tar = _is_tar_header(_stream_head(path, fmt))
            with _open_stream(path, fmt) as (stream, raw):
                if is_tar:
                    data = _read_tar_member(stream, raw, path, name, progress, cancel)
                else:
                    data = _read_bounded(stream, path, name, progress, cancel, lambda: _tell(raw))
        return name, _unpack_nested(data, path, name, progress, cancel)


def choose_member(path: Path, contents: PackedContents) -> str:
    """The database to open when none was named; `SeveralDatabases` when the user must choose."""
    databases = contents.databases
    for collection in ANKI_COLLECTIONS:  # an Anki package: its newest collection is the one to read
        if collection in databases:
            return collection
    if len(databases) == 1:
        return databases[0]
    if not databases:
        raise DatabaseOpenError(
            f"“{path.name}” is a {FORMAT_NAMES.get(contents.format, contents.format)} archive that holds "
            f"no SQLite database. It holds: {_listing(contents)}.",
            details=str(path),
        )
    raise SeveralDatabases(
        f"“{path.name}” holds {len(databases)} databases: {', '.join(databases)}.",
        members=databases,
    )


def _listing(contents: PackedContents, most: int = 10) -> str:
    names = [m.name for m in contents.members[:most]]
    more = len(contents.members) - len(names)
    if not names:
        return "nothing"
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _is_database_head(head: bytes, size: int | None) -> bool:
    """True for a SQLite database, one packed once more, or one that looks encrypted (`size`: None when
    the archive does not say)."""
    if head.startswith(SQLITE_MAGIC) or any(head.startswith(m) for m in STREAM_MAGICS.values()):
        return True
    return looks_encrypted(head, size) or looks_encrypted_behind_plain_header(head, size)


def _single_member_name(path: Path, fmt: str) -> str:
    """The file a single compressed stream holds: the archive's name without its compression suffix."""
    stem = path.name
    for suffix in (".gz", ".gzip", ".bz2", ".xz", ".zst", ".zstd"):
        if stem.lower().endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


@contextmanager
def _open_stream(path: Path, fmt: str) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """The decompressed stream of `path` and the raw file under it (its position is the progress)."""
    with path.open("rb") as raw:
        stream = raw if fmt == "tar" else _decompressor(path, fmt, raw)
        try:
            yield stream, raw
        finally:
            stream.close()


def _decompressor(path: Path, fmt: str, packed: IO[bytes]) -> IO[bytes]:
    """A reader of `packed` (a stream in format `fmt`) that gives the unpacked bytes."""
    if fmt == "gzip":
        return _GzipReader(packed)  # type: ignore[return-value]
    if fmt == "bzip2":
        return bz2.BZ2File(packed, mode="rb")
    if fmt == "xz":
        return lzma.LZMAFile(packed, mode="rb")
    if fmt == "zstd":
        return _zstd_reader(path, packed)
    raise ValueError(fmt)


class _GzipReader:
    """Unpacks gzip with zlib directly: ~15% faster than `gzip.GzipFile` on a large database (measured),
    each call bounded to `size` bytes out (an archive bomb never expands more than that at once)."""

    def __init__(self, packed: IO[bytes]) -> None:
        self._packed = packed
        self._inflate = zlib.decompressobj(GZIP_WBITS)

    def read(self, size: int = CHUNK_BYTES) -> bytes:
        """Up to `size` unpacked bytes; b"" at the end of the last gzip member."""
        size = size if size > 0 else CHUNK_BYTES
        while True:
            inflate = self._inflate
            if inflate.unconsumed_tail:
                data = inflate.decompress(inflate.unconsumed_tail, size)
            elif inflate.eof:  # a file of several gzip members (concatenated) goes on with the next
                rest = inflate.unused_data or self._packed.read(GZIP_IN_BYTES)
                if not rest.startswith(STREAM_MAGICS["gzip"]):
                    return b""
                self._inflate = zlib.decompressobj(GZIP_WBITS)
                data = self._inflate.decompress(rest, size)
            else:
                chunk = self._packed.read(GZIP_IN_BYTES)
                if not chunk:
                    raise EOFError("the gzip stream ended before its end marker")
                data = inflate.decompress(chunk, size)
            if data:
                return data

    def close(self) -> None:
        """Nothing to free (the packed file is closed by its owner)."""

    def __enter__(self) -> _GzipReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _zstd_reader(path: Path, raw: IO[bytes]) -> IO[bytes]:
    try:
        import zstandard
    except ImportError:
        raise DatabaseOpenError(
            f"“{path.name}” is packed with Zstandard, which needs the optional “zstandard” package: "
            'pip install "sqlite-snapshot-browser[zstd]".',
            details=str(path),
        ) from None
    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)  # type: ignore[return-value]


def _stream_head(path: Path, fmt: str) -> bytes:
    """The first unpacked bytes (a Zstandard reader cannot rewind: the stream is opened afresh)."""
    with _open_stream(path, fmt) as (stream, _raw):
        return stream.read(ENTROPY_SAMPLE_BYTES)


def _tell(raw: IO[bytes] | None) -> int:
    try:
        return raw.tell() if raw is not None else 0
    except (OSError, ValueError):
        return 0


def _tar_members(stream: IO[bytes]) -> Iterator[PackedMember]:
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for info in archive:
            if not info.isfile():
                continue
            handle = archive.extractfile(info)
            head = handle.read(ENTROPY_SAMPLE_BYTES) if handle is not None else b""
            yield PackedMember(info.name, info.size, _is_database_head(head, info.size))


def _read_tar_member(
    stream: IO[bytes], raw: IO[bytes], path: Path, name: str, progress: ProgressCallback, cancel: CancelToken
) -> bytearray:
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for info in archive:
            if info.isfile() and info.name == name:
                if info.size > LIMITS.packed_max_bytes:
                    raise _too_large(path, name)
                handle = archive.extractfile(info)
                assert handle is not None
                return _read_bounded(handle, path, name, progress, cancel, lambda: _tell(raw))
    raise DatabaseOpenError(f"“{path.name}” holds no file named “{name}”.", details=str(path))


def _read_bounded(
    stream: IO[bytes],
    path: Path,
    name: str,
    progress: ProgressCallback,
    cancel: CancelToken,
    read_so_far: Callable[[], int],
) -> bytearray:
    """Read `stream` whole into memory, refusing it once it passes `LIMITS.packed_max_bytes`."""
    total = path.stat().st_size
    data = bytearray()
    cap = LIMITS.packed_max_bytes
    while True:
        cancel.raise_if_cancelled()
        chunk = stream.read(min(CHUNK_BYTES, cap + 1 - len(data)))
        if not chunk:
            break
        data += chunk
        if len(data) > cap:
            raise _too_large(path, name)
        # Bytes of the packed file read so far, of its size: the unpacked size is not known up front.
        progress(Progress(min(read_so_far(), total), total, f"Unpacking {name}: {len(data) / 2**20:,.0f} MB"))
    return data


def _unpack_nested(
    data: bytearray, path: Path, name: str, progress: ProgressCallback, cancel: CancelToken
) -> bytearray:
    """A member packed once more (Anki's `collection.anki21b` is Zstandard): unpack it, one level deep."""
    fmt = next((f for f, magic in STREAM_MAGICS.items() if data.startswith(magic)), None)
    if fmt is None:
        return data
    import io

    with _damage_said(path, fmt), _decompressor(path, fmt, io.BytesIO(data)) as stream:
        unpacked = _read_bounded(stream, path, name, progress, cancel, lambda: 0)
    if not unpacked.startswith(SQLITE_MAGIC):
        raise DatabaseOpenError(
            f"“{name}” in “{path.name}” is not a SQLite database, so it cannot be opened.", details=str(path)
        )
    return unpacked


def _too_large(path: Path, name: str) -> DatabaseOpenError:
    cap = LIMITS.packed_max_bytes
    return DatabaseOpenError(
        f"“{name}” in “{path.name}” unpacks to more than {_size_words(cap)}, the most a packed database "
        "may take in memory: it is refused (it may be an archive bomb). Unpack it yourself to open it.",
        details=f"{path}: limit packed_max_bytes = {cap:,} bytes",
    )


def _size_words(size: int) -> str:
    if size >= 1 << 30:
        return f"{size / 2**30:.1f} GiB"
    if size >= 1 << 20:
        return f"{size / 2**20:.1f} MiB"
    return f"{size:,} bytes"


@contextmanager
def _damage_said(path: Path, fmt: str) -> Iterator[None]:
    """Turn a decompressor's complaint into a message for the user."""
    try:
        yield
    except DatabaseOpenError:
        raise
    except (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise _damaged(path, fmt, exc) from None
    except Exception as exc:
        if type(exc).__name__ == "ZstdError":
            raise _damaged(path, fmt, exc) from None
        raise


def _damaged(path: Path, fmt: str, exc: BaseException) -> DatabaseOpenError:
    kind = FORMAT_NAMES.get(fmt.split("+")[-1], fmt)
    said = str(exc) or type(exc).__name__
    return DatabaseOpenError(
        f"“{path.name}” is a damaged or truncated {kind} file and cannot be unpacked.",
        details=f"{path}: {said}",
    )
