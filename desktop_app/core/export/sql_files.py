"""`.sql` files for the SQL editor: read (UTF-8, with or without BOM, bounded) and saved atomically."""

from __future__ import annotations

import os
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.export.output_paths import write_file
from desktop_app.core.limits import LIMITS


class SqlFileError(UserError):
    """A `.sql` file cannot be read or saved."""


def read_sql_file(path: str | os.PathLike[str]) -> str:
    """The text of the `.sql` file at `path` (line endings kept as `\\n`); SqlFileError saying why not."""
    target = Path(path)
    try:
        size = target.stat().st_size
        if size > LIMITS.sql_file_max_bytes:
            raise SqlFileError(
                f"{target.name} is {size:,} bytes, more than the editor opens "
                f"({LIMITS.sql_file_max_bytes:,}): run it with snapshot-browser-cli instead."
            )
        data = target.read_bytes()
    except OSError as exc:
        raise SqlFileError(f"Cannot read {target}: {exc.strerror or exc}.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SqlFileError(
            f"{target.name} is not UTF-8 text (at byte {exc.start:,}): save it as UTF-8 and open it again."
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def save_sql_file(
    path: str | os.PathLike[str], text: str, *, source_path: str | os.PathLike[str] | None = None
) -> None:
    """Save `text` as UTF-8 at `path`, replacing a file there only when complete; never over the database."""
    try:
        write_file(path, text.encode("utf-8", "surrogatepass"), source_path=source_path)
    except OSError as exc:
        raise SqlFileError(f"Cannot save {Path(path).name}: {exc.strerror or exc}.") from None
