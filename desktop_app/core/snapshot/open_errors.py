"""The reasons a database cannot be opened, in words for the user."""

from __future__ import annotations

import sqlite3

from desktop_app.core.errors import DatabaseDamaged, DatabaseOpenError
from desktop_app.core.limits import LIMITS


def open_error(exc: sqlite3.Error, name: str) -> DatabaseOpenError:
    """Translate SQLite's error on opening into words for the user."""
    text = str(exc)
    lowered = text.lower()
    if "file is not a database" in lowered or "not a database" in lowered:
        message = (
            f"“{name}” is not a readable SQLite database. It may be encrypted (for example with SQLCipher)."
        )
    elif "malformed" in lowered or "corrupt" in lowered:
        message = f"“{name}” is damaged (the database image is malformed) and cannot be opened."
        return DatabaseDamaged(message, said=text, details=f"SQLite said: {text}")
    elif "locked" in lowered or "busy" in lowered:
        message = _locked_message(name)
    elif getattr(exc, "sqlite_errorname", "") == "SQLITE_READONLY_ROLLBACK":
        # A "-journal" beside the file says a writer stopped mid-transaction: only a rollback gives a
        # consistent database, and rolling back would change the user's file.
        message = (
            f"“{name}” has an unfinished transaction (a hot journal, “{name}-journal”, left by a program "
            "that stopped while writing). Rolling it back would change the file, so it is not opened. "
            "Copy the database and its -journal to another folder and open the copy in sqlite3 "
            "(which rolls it back), then browse the copy."
        )
    elif "unable to open" in lowered:
        message = f"“{name}” could not be opened."
    else:
        message = f"“{name}” could not be read as a database: {text}."
    return DatabaseOpenError(message, details=f"SQLite said: {text}")


def locked_by_writer(name: str) -> DatabaseOpenError:
    """The database stayed locked by a writer for longer than the busy timeout."""
    return DatabaseOpenError(_locked_message(name))


def _locked_message(name: str) -> str:
    return f"“{name}” is locked by another program that is writing to it. Try again when it has finished."


def kept_changing(name: str) -> DatabaseOpenError:
    """Another program changed the database under every one of our fresh starts."""
    return DatabaseOpenError(
        f"“{name}” kept changing while it was read: another program is writing to it without pause. "
        f"Gave up after {LIMITS.snapshot_restarts_max} fresh starts; try again when it is quieter.",
    )
