"""Errors a user can cause, each with a message written for that user.

Anything that is not a `UserError` is a bug: it is logged with its traceback and shown as
"something went wrong" with the log's location.
"""

from __future__ import annotations


class UserError(Exception):
    """An error caused by the input (file, SQL, settings), with a message fit to show a user."""

    def __init__(self, message: str, *, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class DatabaseOpenError(UserError):
    """The file cannot be opened as a SQLite database."""


class DatabaseDamaged(DatabaseOpenError):
    """The file is a SQLite database too damaged to read its schema; `said` is SQLite's own words."""

    def __init__(self, message: str, *, said: str, details: str = "") -> None:
        super().__init__(message, details=details)
        self.said = said


class EncryptedDatabase(DatabaseOpenError):
    """The file looks encrypted (SQLCipher): it opens with a key. `wrong_key` is True when a key was given
    and did not open it; `available` is False when SQLCipher support is not installed; `plaintext_header`
    is the size of a plaintext header the file seems to keep (iOS apps keep 32 bytes), else 0."""

    def __init__(
        self,
        message: str,
        *,
        wrong_key: bool = False,
        available: bool = True,
        details: str = "",
        plaintext_header: int = 0,
    ) -> None:
        super().__init__(message, details=details)
        self.wrong_key = wrong_key
        self.available = available
        self.plaintext_header = plaintext_header


class SeveralDatabases(DatabaseOpenError):
    """A packed file holds several databases: the caller chooses one of `members` and opens it by name."""

    def __init__(self, message: str, *, members: list[str]) -> None:
        super().__init__(message)
        self.members = members


class QueryError(UserError):
    """A statement failed; `offset` is the character position SQLite reported, if any."""

    def __init__(self, message: str, *, sql: str = "", offset: int | None = None, details: str = "") -> None:
        super().__init__(message, details=details)
        self.sql = sql
        self.offset = offset


class ReadOnlyError(QueryError):
    """A statement tried to change the snapshot."""


class Cancelled(UserError):
    """The user stopped the job."""

    def __init__(self, message: str = "Stopped.") -> None:
        super().__init__(message)


class TimeLimitExceeded(QueryError):
    """A statement ran past its time limit and was stopped."""


class ExportError(UserError):
    """Writing an export (CSV, blobs) failed."""


class OutputIsSourceError(ExportError):
    """An output path is the database being read, one of its sidecars, or a link to them."""


class SnapshotClosed(UserError):
    """The snapshot was closed while a job still wanted it."""

    def __init__(self, message: str = "The database was closed.") -> None:
        super().__init__(message)


class AttachError(UserError):
    """Another database cannot be attached (a bad schema name, a name taken, a file too large)."""


class RecoveryError(UserError):
    """Deleted-record recovery cannot read the database's pages (not a database image, no memory)."""
