"""Checksums computed the way each tool computes them, to spot files edited after they were applied."""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from desktop_app.core.migrations.tables import integer

_JAVA_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BOM = "\ufeff"


def flyway_checksum(content: bytes, encoding: str = "utf-8") -> int:
    """Flyway's checksum: CRC32 over the UTF-8 of each line without its line ending, as a signed int."""
    text = content.decode(encoding, "replace")
    # Java's BufferedReader.readLine splits on \n, \r and \r\n only (not the other Unicode breaks).
    lines = _JAVA_LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    crc = 0
    for index, line in enumerate(lines):
        if index == 0 and line.startswith(_BOM):  # Flyway filters a BOM from the first line only
            line = line[1:]
        crc = zlib.crc32(line.encode("utf-8"), crc)
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def prisma_checksum(content: bytes) -> str:
    """Prisma's checksum: SHA-256 hex of migration.sql."""
    return hashlib.sha256(content).hexdigest()


def prisma_checksum_matches(content: bytes, stored: str) -> bool:
    """True when `stored` is Prisma's checksum of `content`, as Prisma itself decides it."""
    stored = stored.strip().lower()
    # Prisma forgives line-ending changes (git autocrlf) and old rows whose hex was not zero-padded.
    variants = (
        content,
        content.replace(b"\r\n", b"\n"),
        content.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
    )
    for variant in variants:
        digest = hashlib.sha256(variant).digest()
        if digest.hex() == stored or "".join(f"{b:x}" for b in digest) == stored:
            return True
    return False


def sqlx_checksum(content: bytes) -> str:
    """sqlx's checksum: SHA-384 of the migration's SQL, as hex."""
    return hashlib.sha384(content).hexdigest()


def sha256_hex(content: bytes) -> str:
    """SHA-256 hex (Drizzle's hash of a migration's .sql)."""
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class Checksum:
    """A tool's checksum of a migration file, to compare with the one it stored when it ran it."""

    name: str
    compute: Callable[[bytes], str]
    #: True or False when `stored` can be compared with the file's content; None when it cannot.
    matches: Callable[[bytes, str], bool | None]


def _same_hex(compute: Callable[[bytes], str]) -> Callable[[bytes, str], bool]:
    return lambda content, stored: compute(content) == stored.lower()


def _flyway_matches(content: bytes, stored: str) -> bool | None:
    number = integer(stored)
    return None if number is None else number == flyway_checksum(content)


PRISMA = Checksum("SHA-256, line endings forgiven", prisma_checksum, prisma_checksum_matches)
SQLX = Checksum("SHA-384", sqlx_checksum, _same_hex(sqlx_checksum))
SHA256 = Checksum("SHA-256", sha256_hex, _same_hex(sha256_hex))
FLYWAY = Checksum("CRC32 of the lines", lambda content: str(flyway_checksum(content)), _flyway_matches)
