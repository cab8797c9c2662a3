"""SQLCipher-encrypted databases, decrypted in memory only with the optional `sqlcipher3` package.

Measured design (tests/bench/bench_packed.py): SQLCipher's own library (bundled in `sqlcipher3`) opens the
file read-only and immutable, `sqlcipher_export` copies it into a plaintext *memory* database inside that
library, and `sqlite3_serialize` hands its image over as bytes; the snapshot then `deserialize`s that image
into our own SQLite's memdb (a memory database of one library is invisible to another). The plaintext
never reaches a file: SQLCipher's temporary storage is set to memory, and nothing is logged. The
passphrase is handed to `sqlite3_key_v2` as bytes, never composed into SQL, and not kept here.

`sqlcipher3`'s Python API has no `serialize`, so its library is called through ctypes.
"""

from __future__ import annotations

import ctypes
import functools
import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.errors import Cancelled, DatabaseOpenError, EncryptedDatabase
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback

SQLITE_OK = 0
SQLITE_ROW = 100
SQLITE_INTERRUPT = 9
SQLITE_NOTADB = 26
SQLITE_CORRUPT = 11
SQLITE_OPEN_READWRITE = 0x02
SQLITE_OPEN_URI = 0x40
#: SQLite VM steps between two checks for Stop while SQLCipher copies the plaintext out.
CANCEL_CHECK_OPS = 10_000
#: How often the caller's thread looks at Stop while SQLCipher works (seconds).
CANCEL_POLL_S = 0.05
#: Shannon entropy (bits per byte) of a file's first KiB above which it reads as ciphertext: random bytes
#: give ~7.8 over 1024 bytes; text and SQLite pages stay far below.
ENCRYPTED_MIN_ENTROPY = 7.2
ENTROPY_SAMPLE_BYTES = 1024
INSTALL_HINT = 'pip install "sqlite-snapshot-browser[sqlcipher]"'

#: Sizes a SQLCipher plaintext header may have (bytes left unencrypted at the file's start: a multiple of
#: 16, at most the 100-byte SQLite header). iOS apps keep 32 so the system sees a SQLite file.
PLAINTEXT_HEADER_SIZES = (16, 32, 48, 64, 80, 96)
#: The plaintext header size offered when a file looks like one (SQLite's magic, then ciphertext).
USUAL_PLAINTEXT_HEADER = 32
SALT_HEX_DIGITS = 32
#: Bytes 72..91 of a SQLite header are reserved and always zero: ciphertext there means the rest of the
#: file is encrypted behind a plaintext header.
RESERVED_HEADER_ZONE = slice(72, 92)

HMAC_ALGORITHMS = ("HMAC_SHA1", "HMAC_SHA256", "HMAC_SHA512")
KDF_ALGORITHMS = ("PBKDF2_HMAC_SHA1", "PBKDF2_HMAC_SHA256", "PBKDF2_HMAC_SHA512")
PAGE_SIZES = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536)


@dataclass(frozen=True)
class CipherSettings:
    """How the file was encrypted: SQLCipher 4's or 3's defaults (`compatibility`), each overridable."""

    compatibility: int = 4
    page_size: int | None = None
    kdf_iter: int | None = None
    hmac_algorithm: str | None = None
    kdf_algorithm: str | None = None
    use_hmac: bool | None = None
    #: Bytes at the file's start SQLCipher left unencrypted (`cipher_plaintext_header_size`), or None.
    plaintext_header_size: int | None = None
    #: The salt in hex (32 digits), for a file whose plaintext header holds no salt (`cipher_salt`).
    salt: str | None = None

    def pragmas(self) -> list[str]:
        """The SQLCipher pragmas that apply these settings (every value checked, so the SQL is safe)."""
        if self.compatibility not in (1, 2, 3, 4):
            raise DatabaseOpenError(f"SQLCipher compatibility must be 1 to 4, not {self.compatibility}.")
        statements = [f"PRAGMA cipher_compatibility = {int(self.compatibility)}"]
        if self.page_size is not None:
            if self.page_size not in PAGE_SIZES:
                raise DatabaseOpenError(
                    f"The page size must be a power of two from 512 to 65536, not {self.page_size}."
                )
            statements.append(f"PRAGMA cipher_page_size = {int(self.page_size)}")
        if self.kdf_iter is not None:
            if self.kdf_iter < 1:
                raise DatabaseOpenError("The KDF iterations must be 1 or more.")
            statements.append(f"PRAGMA kdf_iter = {int(self.kdf_iter)}")
        if self.use_hmac is not None:
            statements.append(f"PRAGMA cipher_use_hmac = {'ON' if self.use_hmac else 'OFF'}")
        if self.hmac_algorithm is not None:
            if self.hmac_algorithm not in HMAC_ALGORITHMS:
                raise DatabaseOpenError(f"The HMAC algorithm must be one of {', '.join(HMAC_ALGORITHMS)}.")
            statements.append(f"PRAGMA cipher_hmac_algorithm = {self.hmac_algorithm}")
        if self.kdf_algorithm is not None:
            if self.kdf_algorithm not in KDF_ALGORITHMS:
                raise DatabaseOpenError(f"The KDF algorithm must be one of {', '.join(KDF_ALGORITHMS)}.")
            statements.append(f"PRAGMA cipher_kdf_algorithm = {self.kdf_algorithm}")
        if self.plaintext_header_size:
            if self.plaintext_header_size not in PLAINTEXT_HEADER_SIZES:
                raise DatabaseOpenError(
                    "The plaintext header size must be a multiple of 16 from 16 to 96 bytes, not "
                    f"{self.plaintext_header_size}."
                )
            statements.append(f"PRAGMA cipher_plaintext_header_size = {int(self.plaintext_header_size)}")
        if self.salt:
            statements.append(f"PRAGMA cipher_salt = \"x'{salt_hex(self.salt)}'\"")
        return statements

    def describe(self) -> str:
        """The settings in a few words, for messages."""
        words = [f"SQLCipher {self.compatibility} defaults"]
        for label, value in (
            ("page size", self.page_size),
            ("KDF iterations", self.kdf_iter),
            ("HMAC", self.hmac_algorithm),
            ("KDF", self.kdf_algorithm),
        ):
            if value is not None:
                words.append(f"{label} {value}")
        if self.use_hmac is False:
            words.append("no HMAC")
        if self.plaintext_header_size:
            words.append(f"{self.plaintext_header_size}-byte plaintext header")
        if self.salt:
            words.append("salt given")
        return ", ".join(words)


def salt_hex(text: str) -> str:
    """The salt written in hex (32 digits, optionally as x'…'), checked; DatabaseOpenError if it is not."""
    digits = text.strip()
    if digits[:2].lower() == "x'" and digits.endswith("'"):
        digits = digits[2:-1]
    if len(digits) != SALT_HEX_DIGITS or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise DatabaseOpenError(f"The salt is written as {SALT_HEX_DIGITS} hexadecimal digits (16 bytes).")
    return digits.lower()


@dataclass(frozen=True)
class CipherKey:
    """A passphrase, or a raw key written `x'…'` in hex (64 hex digits, or 96 with its salt)."""

    secret: str = field(repr=False)
    settings: CipherSettings = field(default_factory=CipherSettings)

    @property
    def is_raw(self) -> bool:
        """True for a raw key (`x'…'`): SQLCipher then derives nothing."""
        text = self.secret.strip()
        return text[:2].lower() == "x'" and text.endswith("'")

    @property
    def carries_salt(self) -> bool:
        """True for a raw key written with its salt (96 hex digits)."""
        return self.is_raw and len(self.secret.strip()) == 2 + 96 + 1

    def key_bytes(self) -> bytes:
        """The bytes handed to `sqlite3_key_v2` (a raw key is checked to be hex first)."""
        if self.is_raw:
            digits = self.secret.strip()[2:-1]
            if len(digits) not in (64, 96) or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise EncryptedDatabase(
                    "A raw key is written x'…' with 64 hexadecimal digits (or 96 with the salt).",
                    wrong_key=True,
                )
            return f"x'{digits}'".encode("ascii")
        return self.secret.encode("utf-8")


def entropy(sample: bytes) -> float:
    """Shannon entropy of `sample` in bits per byte."""
    if not sample:
        return 0.0
    total = len(sample)
    return -sum(n / total * math.log2(n / total) for n in Counter(sample).values())


#: Leading bytes of compressed formats that read as random too but are not databases (images, media,
#: documents, archives we do not unpack, programs): never taken for ciphertext.
OTHER_FORMAT_MAGICS = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"%PDF",
    b"RIFF",
    b"OggS",
    b"fLaC",
    b"ID3",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\x7fELF",
    b"MZ",
    b"\xca\xfe\xba\xbe",
    b"wOFF",
    b"wOF2",
    b"\x1aE\xdf\xa3",  # Matroska / WebM
)


def looks_encrypted(head: bytes, file_size: int | None) -> bool:
    """True when a file that is not plain SQLite reads as ciphertext: random-looking bytes from the start,
    no known format's magic number, and a size of whole pages (SQLCipher encrypts the header too; it
    leaves no magic number). `file_size` is None when unknown (a member of a compressed stream)."""
    if head.startswith(OTHER_FORMAT_MAGICS) or head[4:8] == b"ftyp":  # ftyp: MP4, MOV, HEIC
        return False
    return (
        (file_size is None or (file_size >= ENTROPY_SAMPLE_BYTES and file_size % 512 == 0))
        and len(head) >= ENTROPY_SAMPLE_BYTES
        and entropy(head[:ENTROPY_SAMPLE_BYTES]) >= ENCRYPTED_MIN_ENTROPY
    )


def looks_encrypted_behind_plain_header(head: bytes, file_size: int | None) -> bool:
    """True for a SQLCipher file that kept a plaintext header: it starts as SQLite ("SQLite format 3"),
    its page size (kept in plaintext) is valid and the file is whole pages of it, but the header's
    reserved zone (always zero) and the bytes after it read as ciphertext."""
    sample = head[USUAL_PLAINTEXT_HEADER:ENTROPY_SAMPLE_BYTES]
    page_size = int.from_bytes(head[16:18], "big") if len(head) >= 18 else 0
    page_size = 65536 if page_size == 1 else page_size
    return (
        head.startswith(b"SQLite format 3\x00")
        and page_size in PAGE_SIZES
        and (file_size is None or (file_size >= ENTROPY_SAMPLE_BYTES and file_size % page_size == 0))
        and len(head) >= ENTROPY_SAMPLE_BYTES
        and any(head[RESERVED_HEADER_ZONE])
        and entropy(sample) >= ENCRYPTED_MIN_ENTROPY
    )


def sqlcipher_available() -> bool:
    """True when the optional `sqlcipher3` package (SQLCipher's library) can be loaded."""
    return _library() is not None


@functools.cache
def _library() -> ctypes.CDLL | None:
    try:
        from sqlcipher3 import _sqlite3  # type: ignore[import-not-found]

        lib = ctypes.CDLL(_sqlite3.__file__)
    except (ImportError, OSError):
        return None
    voidp = ctypes.c_void_p
    lib.sqlite3_open_v2.argtypes = [ctypes.c_char_p, ctypes.POINTER(voidp), ctypes.c_int, ctypes.c_char_p]
    lib.sqlite3_key_v2.argtypes = [voidp, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    lib.sqlite3_exec.argtypes = [voidp, ctypes.c_char_p, voidp, voidp, voidp]
    lib.sqlite3_errmsg.argtypes = [voidp]
    lib.sqlite3_errmsg.restype = ctypes.c_char_p
    lib.sqlite3_serialize.argtypes = [voidp, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int64), ctypes.c_uint]
    lib.sqlite3_serialize.restype = voidp
    int64 = ctypes.c_int64
    lib.sqlite3_deserialize.argtypes = [voidp, ctypes.c_char_p, voidp, int64, int64, ctypes.c_uint]
    lib.sqlite3_malloc64.argtypes = [ctypes.c_uint64]
    lib.sqlite3_malloc64.restype = voidp
    lib.sqlite3_free.argtypes = [voidp]
    lib.sqlite3_close_v2.argtypes = [voidp]
    lib.sqlite3_progress_handler.argtypes = [voidp, ctypes.c_int, voidp, voidp]
    return lib


def needs_key(name: str, plaintext_header: int = 0) -> EncryptedDatabase:
    """The file looks encrypted: it needs its key, or first SQLCipher support (then the message says how).
    `plaintext_header` > 0: it seems to keep that many bytes of plaintext header (said in the message)."""
    if not sqlcipher_available():
        return EncryptedDatabase(
            f"“{name}” looks encrypted (for example with SQLCipher). Opening encrypted databases needs the "
            f"optional SQLCipher support: {INSTALL_HINT}",
            available=False,
            plaintext_header=plaintext_header,
        )
    behind = (
        " It starts with a plaintext SQLite header (as iOS apps write them): give the plaintext header "
        "size and the salt too."
        if plaintext_header
        else ""
    )
    return EncryptedDatabase(
        f"“{name}” looks encrypted (for example with SQLCipher): it opens with its passphrase or key."
        + behind,
        plaintext_header=plaintext_header,
    )


_ProgressHandler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


def decrypt_into_memory(
    source: Path | bytearray, key: CipherKey, progress: ProgressCallback, cancel: CancelToken, name: str = ""
) -> bytearray:
    """Decrypt the SQLCipher database at `source` (a file, or its ciphertext already in memory, e.g. just
    unpacked from an archive) with `key` into a plaintext image held in memory.

    Raises `EncryptedDatabase` (with `wrong_key`) when the key or settings do not open it, and when
    SQLCipher support is not installed; `Cancelled` when `cancel` fires — at once, even in the middle of
    the key derivation, which SQLCipher cannot interrupt: that runs out on a helper thread of its own and
    its result is dropped.
    """
    name = name or (source.name if isinstance(source, Path) else "database")
    lib = _library()
    if lib is None:
        raise needs_key(name)
    key.settings.pragmas()  # settings that cannot apply are refused before any work starts
    outcome: list[bytearray | BaseException] = []

    def work() -> None:
        try:
            outcome.append(_decrypt(lib, source, name, key, progress, cancel))
        except BaseException as exc:
            outcome.append(exc)

    helper = threading.Thread(target=work, name="sqlcipher-decrypt", daemon=True)
    helper.start()
    while helper.is_alive():
        helper.join(CANCEL_POLL_S)
        cancel.raise_if_cancelled()
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _decrypt(
    lib: ctypes.CDLL,
    source: Path | bytearray,
    name: str,
    key: CipherKey,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> bytearray:
    pragmas = key.settings.pragmas()
    secret = key.key_bytes()
    handle = ctypes.c_void_p()
    # immutable: SQLCipher reads the file and never writes, locks or creates anything beside it.
    uri = source.absolute().as_uri() + "?mode=ro&immutable=1" if isinstance(source, Path) else ":memory:"
    stopped = _ProgressHandler(lambda _arg: 1 if cancel.cancelled else 0)
    try:
        # Read-write for the plaintext memory database attached below; the file itself is `mode=ro`.
        flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI
        if lib.sqlite3_open_v2(uri.encode(), ctypes.byref(handle), flags, None):
            raise DatabaseOpenError(f"“{name}” could not be opened: {_errmsg(lib, handle)}.")
        if not isinstance(source, Path):
            _deserialize(lib, handle, source, name)
        lib.sqlite3_progress_handler(handle, CANCEL_CHECK_OPS, ctypes.cast(stopped, ctypes.c_void_p), None)
        _exec(lib, handle, "PRAGMA cipher_log_level = NONE", name, key)  # no lines on stderr
        if lib.sqlite3_key_v2(handle, b"main", secret, len(secret)) != SQLITE_OK:
            raise EncryptedDatabase(f"“{name}”: SQLCipher refused the key.", wrong_key=True)
        _exec(lib, handle, "PRAGMA temp_store = MEMORY", name, key)
        for pragma in pragmas:
            _exec(lib, handle, pragma, name, key)
        progress(Progress(0, None, "Deriving the key (slow by design)"))
        _exec(lib, handle, "SELECT count(*) FROM sqlite_schema", name, key)
        cancel.raise_if_cancelled()
        progress(Progress(0, None, "Decrypting into memory"))
        _exec(lib, handle, "ATTACH DATABASE ':memory:' AS plain KEY ''", name, key)
        _exec(lib, handle, "SELECT sqlcipher_export('plain')", name, key)
        cancel.raise_if_cancelled()
        return _serialize(lib, handle, name)
    finally:
        lib.sqlite3_close_v2(handle)


def _exec(lib: ctypes.CDLL, handle: ctypes.c_void_p, sql: str, name: str, key: CipherKey) -> None:
    rc = lib.sqlite3_exec(handle, sql.encode(), None, None, None)
    if rc == SQLITE_OK:
        return
    if rc == SQLITE_INTERRUPT:
        raise Cancelled()
    said = _errmsg(lib, handle)
    # A plaintext header without its salt decrypts page 1 to garbage: SQLite reads that as corruption.
    if rc == SQLITE_NOTADB or (rc == SQLITE_CORRUPT and key.settings.plaintext_header_size):
        settings = key.settings
        hint = (
            " A file with a plaintext header keeps its salt elsewhere: give the salt, or a raw key with it."
            if settings.plaintext_header_size and not settings.salt and not key.carries_salt
            else ""
        )
        raise EncryptedDatabase(
            f"“{name}” did not open: wrong passphrase or settings ({settings.describe()}).{hint}",
            wrong_key=True,
            details=f"SQLCipher said: {said}",
            plaintext_header=settings.plaintext_header_size or 0,
        )
    raise DatabaseOpenError(f"“{name}” could not be decrypted: {said}.", details=f"SQLCipher said: {said}")


def _deserialize(lib: ctypes.CDLL, handle: ctypes.c_void_p, ciphertext: bytearray, name: str) -> None:
    """Make `ciphertext` (still encrypted) SQLCipher's read-only `main`, in its own memory: no file."""
    size = len(ciphertext)
    pointer = lib.sqlite3_malloc64(max(size, 1))
    if not pointer:
        raise MemoryError(f"SQLCipher could not take “{name}” into memory")
    ctypes.memmove(pointer, (ctypes.c_char * size).from_buffer(ciphertext), size)
    # SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY: SQLite owns and frees the copy.
    if lib.sqlite3_deserialize(handle, b"main", pointer, size, size, 1 | 4) != SQLITE_OK:
        raise DatabaseOpenError(f"“{name}” could not be handed to SQLCipher: {_errmsg(lib, handle)}.")


def _serialize(lib: ctypes.CDLL, handle: ctypes.c_void_p, name: str) -> bytearray:
    size = ctypes.c_int64()
    pointer = lib.sqlite3_serialize(handle, b"plain", ctypes.byref(size), 0)
    if not pointer:
        raise MemoryError(f"SQLCipher could not hand over the decrypted “{name}”")
    try:
        if size.value > LIMITS.packed_max_bytes:
            raise DatabaseOpenError(
                f"“{name}” decrypts to {size.value / 2**30:.1f} GiB, more than a database decrypted into "
                "memory may take.",
            )
        image = bytearray(size.value)
        ctypes.memmove((ctypes.c_char * size.value).from_buffer(image), pointer, size.value)
        return image
    finally:
        lib.sqlite3_free(pointer)


def _errmsg(lib: ctypes.CDLL, handle: ctypes.c_void_p) -> str:
    message = lib.sqlite3_errmsg(handle)
    return message.decode("utf-8", "replace") if message else "unknown error"
