"""The frames of a `-wal` file, parsed from its bytes: header, frame headers, the checksum chain, commits.

Layout (sqlite.org/fileformat2.html#walformat): a 32-byte header (magic, version, page size, checkpoint
sequence, two salts, a checksum of the first 24 bytes), then frames of a 24-byte header (page number,
"database size after commit" — non-zero on the last frame of a commit —, the two salts, a cumulative
checksum) and one page. Every field is big-endian; the checksum reads the data as 32-bit words in the
byte order the magic names (…82 little-endian, …83 big-endian), two words at a time:
`s0 += w0 + s1; s1 += w1 + s0`, seeded with the previous frame's checksum (the header's for frame 1).

The checksum is verified for every frame at once: one step is linear, `(s0, s1) ← M·(s0, s1) + (w0, w0+w1)`
with `M = [[1, 1], [1, 2]]` modulo 2³², so a frame's checksum is `Mⁿ·seed + W·words` with `W` fixed for
a page size. That is one integer matrix product per chunk of frames (numpy), not a Python loop per word.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from desktop_app.core.snapshot.source_file import WAL_FRAME_HEADER_BYTES, WAL_HEADER_BYTES, WAL_MAGICS

WAL_VERSION = 3007000
_MASK = np.uint64(0xFFFFFFFF)
#: Frames whose checksum is computed in one matrix product (bounds the temporary array to ~64 MB).
_CHUNK_WORDS = 8 << 20


@dataclass(frozen=True)
class WalFileHeader:
    """The 32-byte header of a `-wal` as written (whether it is valid is `problem`)."""

    page_size: int
    checkpoint_sequence: int
    salts: bytes
    big_endian_checksums: bool
    checksum: tuple[int, int]
    #: Why SQLite would read no frame from this file (bad magic, version, page size or checksum), or "".
    problem: str = ""


@dataclass
class WalFrames:
    """Every whole frame of a `-wal`: page numbers, commit sizes, salts, and what the checksums say."""

    header: WalFileHeader
    frame_count: int
    page_numbers: np.ndarray
    commit_sizes: np.ndarray
    salts: list[bytes]
    #: Commits SQLite reads (current salts, checksum chain intact), in order.
    current: list[tuple[int, int]] = field(default_factory=list)
    #: Commits left from before the log restarted (other salts): older versions, not part of the database.
    stale: list[tuple[int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def frame_offset(self, index: int) -> int:
        """Byte offset of frame `index` (0-based) in the file."""
        return WAL_HEADER_BYTES + index * (WAL_FRAME_HEADER_BYTES + self.header.page_size)


def parse_header(wal: bytes) -> WalFileHeader | None:
    """The header of the `-wal` bytes `wal`, or None when the file is shorter than a header."""
    if len(wal) < WAL_HEADER_BYTES:
        return None
    magic = int.from_bytes(wal[0:4], "big")
    page_size = int.from_bytes(wal[8:12], "big")
    header = WalFileHeader(
        page_size=page_size,
        checkpoint_sequence=int.from_bytes(wal[12:16], "big"),
        salts=bytes(wal[16:24]),
        big_endian_checksums=magic == WAL_MAGICS[1],
        checksum=(int.from_bytes(wal[24:28], "big"), int.from_bytes(wal[28:32], "big")),
    )
    problem = ""
    if magic not in WAL_MAGICS:
        problem = "its header does not start with the WAL magic number"
    elif int.from_bytes(wal[4:8], "big") != WAL_VERSION:
        problem = "its header names a WAL format version this program does not know"
    elif page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        problem = f"its header names an impossible page size ({page_size})"
    elif _checksum(wal[:24], header.big_endian_checksums, (0, 0)) != header.checksum:
        problem = "its header's checksum is wrong"
    if problem:
        header = WalFileHeader(**{**header.__dict__, "problem": problem})
    return header


def parse_frames(wal: bytes, header: WalFileHeader, cancel_check: Callable[[], None]) -> WalFrames:
    """Read every whole frame of `wal`; group them into the commits SQLite reads and the stale ones."""
    page_size = header.page_size
    frame_bytes = WAL_FRAME_HEADER_BYTES + page_size
    count = max(0, (len(wal) - WAL_HEADER_BYTES) // frame_bytes)
    frame_words = frame_bytes // 4
    fields = np.frombuffer(wal, dtype=">u4", count=count * frame_words, offset=WAL_HEADER_BYTES)
    fields = fields.reshape(count, frame_words)
    frames = WalFrames(
        header=header,
        frame_count=count,
        page_numbers=fields[:, 0].astype(np.int64),
        commit_sizes=fields[:, 1].astype(np.int64),
        salts=[bytes(wal[o + 8 : o + 16]) for o in _offsets(count, frame_bytes)],
    )
    torn = len(wal) - WAL_HEADER_BYTES - count * frame_bytes
    if torn > 0:
        frames.notes.append(
            f"The last frame is incomplete ({torn:,} of {frame_bytes:,} bytes: a write cut short); it is "
            "ignored, as SQLite ignores it."
        )
    if count == 0:
        return frames
    stored = fields[:, 4:6].astype(np.uint64)
    valid = _chain_valid(wal, header, count, stored, cancel_check)
    _group(frames, valid)
    return frames


def _offsets(count: int, frame_bytes: int) -> range:
    return range(WAL_HEADER_BYTES, WAL_HEADER_BYTES + count * frame_bytes, frame_bytes)


def _chain_valid(
    wal: bytes, header: WalFileHeader, count: int, stored: np.ndarray, cancel_check: Callable[[], None]
) -> np.ndarray:
    """For each frame: its checksum equals the one computed over it from the previous frame's stored one
    (the header's for frame 0). A stale run's first frame follows a frame since overwritten: its check is
    meaningless and the caller ignores it."""
    page_size = header.page_size
    frame_words = (WAL_FRAME_HEADER_BYTES + page_size) // 4
    weights, power = _weights(page_size)
    seeds = np.empty_like(stored)
    seeds[0] = header.checksum
    seeds[1:] = stored[:-1]
    dtype = ">u4" if header.big_endian_checksums else "<u4"
    computed = np.empty_like(stored)
    chunk = max(1, _CHUNK_WORDS // frame_words)
    for start in range(0, count, chunk):
        cancel_check()
        stop = min(count, start + chunk)
        words = np.frombuffer(
            wal,
            dtype=dtype,
            count=(stop - start) * frame_words,
            offset=WAL_HEADER_BYTES + start * frame_bytes(page_size),
        ).reshape(stop - start, frame_words)
        # The checksum covers the frame header's first 8 bytes and the page, not the salts nor itself.
        summed = words[:, 0:2].astype(np.uint64) @ weights[0:2] + words[:, 6:].astype(np.uint64) @ weights[2:]
        computed[start:stop] = summed
    computed = (seeds @ power.T + computed) & _MASK
    return np.all(computed == stored, axis=1)


def frame_bytes(page_size: int) -> int:
    """Bytes of one frame: its header and one page."""
    return WAL_FRAME_HEADER_BYTES + page_size


_WEIGHTS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _weights(page_size: int) -> tuple[np.ndarray, np.ndarray]:
    """`W` (one row of two weights per checksummed word) and `Mⁿ` for a frame of `page_size`."""
    if page_size in _WEIGHTS:
        return _WEIGHTS[page_size]
    pairs = 1 + page_size // 8
    powers = np.empty((pairs, 2, 2), dtype=np.uint64)
    step = np.array([[1, 1], [1, 2]], dtype=np.uint64)
    current = np.eye(2, dtype=np.uint64)
    for k in range(pairs - 1, -1, -1):  # powers[k] = M^(pairs-1-k)
        powers[k] = current
        current = (step @ current) & _MASK
    weights = np.empty((2 * pairs, 2), dtype=np.uint64)
    # word w0 of pair k weighs (P00+P01, P10+P11); w1 weighs (P01, P11)
    weights[0::2, 0] = (powers[:, 0, 0] + powers[:, 0, 1]) & _MASK
    weights[0::2, 1] = (powers[:, 1, 0] + powers[:, 1, 1]) & _MASK
    weights[1::2, 0] = powers[:, 0, 1]
    weights[1::2, 1] = powers[:, 1, 1]
    _WEIGHTS[page_size] = (weights, current)
    return weights, current


def _checksum(data: bytes, big_endian: bool, seed: tuple[int, int]) -> tuple[int, int]:
    """SQLite's WAL checksum of `data` (a multiple of 8 bytes), one word pair at a time."""
    s0, s1 = seed
    order = "big" if big_endian else "little"
    for i in range(0, len(data), 8):
        s0 = (s0 + int.from_bytes(data[i : i + 4], order) + s1) & 0xFFFFFFFF
        s1 = (s1 + int.from_bytes(data[i + 4 : i + 8], order) + s0) & 0xFFFFFFFF
    return s0, s1


def _group(frames: WalFrames, valid: np.ndarray) -> None:
    """Split the frames into the current commits, stale commits and what is ignored (with notes)."""
    header = frames.header
    count = frames.frame_count
    sizes = frames.commit_sizes
    if header.problem:  # SQLite reads no frame of this file: none is listed
        frames.notes.append(f"The -wal is not read by SQLite: {header.problem}.")
        return
    index = start = 0
    while (
        index < count and frames.salts[index] == header.salts and valid[index] and frames.page_numbers[index]
    ):
        if sizes[index]:
            frames.current.append((start, index))
            start = index + 1
        index += 1
    if index > start:
        frames.notes.append(
            f"Frames {start + 1}–{index} follow the last commit (a transaction never committed); "
            "they are ignored, as SQLite ignores them."
        )
    index = frames.current[-1][1] + 1 if frames.current else 0
    broken_at = _first_break(frames, valid, index)
    if broken_at is not None:
        rest = sum(1 for i in range(broken_at, count) if frames.salts[i] == header.salts)
        frames.notes.append(
            f"Frame {broken_at + 1} fails the checksum chain: it and the {rest - 1:,} frames with the "
            f"same salts after it are ignored (SQLite ignores them too); the last valid commit ends at "
            f"frame {index}."
        )
    _stale_commits(frames, valid, index)


def _first_break(frames: WalFrames, valid: np.ndarray, index: int) -> int | None:
    for i in range(index, frames.frame_count):
        if frames.salts[i] == frames.header.salts and not valid[i]:
            return i
        if frames.salts[i] != frames.header.salts:
            return None
    return None


def _stale_commits(frames: WalFrames, valid: np.ndarray, index: int) -> None:
    """Commits of frames with other salts than the header's (from before the log last restarted)."""
    header = frames.header
    start: int | None = None
    dropped = 0
    for i in range(index, frames.frame_count):
        salts = frames.salts[i]
        if salts == header.salts:
            start = None
            continue
        if start is None or salts != frames.salts[i - 1] or (i > start and not valid[i]):
            if start is not None and i > start and salts == frames.salts[i - 1]:
                dropped += i - start
            start = i
        if frames.commit_sizes[i]:
            frames.stale.append((start, i))
            start = None
    if dropped:
        frames.notes.append(f"{dropped:,} stale frames fail their checksum chain and are not listed.")
