"""The case-file report: the file's hashes, size and times, header facts, what was recovered from where,
and the hashes measured again at the end, proving the file was not changed."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.errors import ExportError
from desktop_app.core.export.atomic import atomic_output
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.recovery.model import RecoveryResult
from desktop_app.core.recovery.output import LOST_TEXT, record_as_dict
from desktop_app.core.recovery.record import LOST
from desktop_app.core.recovery.scan import recover

_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileFacts:
    """A file's identity at one moment: size, times and hashes of its bytes.

    Times are seconds since the epoch: `modified` and `changed` are the file's mtime and ctime as it
    was opened, `measured_at` when its bytes had all been hashed.
    """

    path: str
    size: int
    modified: float
    changed: float
    sha256: str
    md5: str
    measured_at: float

    def as_dict(self) -> dict[str, Any]:
        """The facts by name, times as ISO 8601 (UTC)."""
        return {
            "path": self.path,
            "size": self.size,
            "modified": _iso(self.modified),
            "changed": _iso(self.changed),
            "sha256": self.sha256,
            "md5": self.md5,
            "measured_at": _iso(self.measured_at),
        }


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def file_facts(path: str | os.PathLike[str], cancel: CancelToken | None = None) -> FileFacts:
    """Hash the file at `path` (read-only, in chunks) and note its size and times."""
    target = Path(path)
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    try:
        before = target.stat()
        with target.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                sha.update(chunk)
                md5.update(chunk)
    except OSError as exc:
        raise ExportError(f"Cannot read {target} to hash it: {exc.strerror or exc}.") from None
    return FileFacts(
        str(target.absolute()),
        before.st_size,
        before.st_mtime,
        before.st_ctime,
        sha.hexdigest(),
        md5.hexdigest(),
        time.time(),
    )


def report_data(
    before: FileFacts, after: FileFacts, result: RecoveryResult, *, snapshot_taken: float | None = None
) -> dict[str, Any]:
    """The report as plain data (the JSON report; the text report is laid out from it)."""
    unchanged = (before.sha256, before.md5, before.size) == (after.sha256, after.md5, after.size)
    tables = Counter(r.table if r.table is not None else "(unknown table)" for r in result.records)
    return {
        "file": before.as_dict(),
        "snapshot_taken": _iso(snapshot_taken) if snapshot_taken is not None else None,
        "header": result.header.as_dict(),
        "recovery": {
            "records": len(result.records),
            "by_source": result.by_source(),
            "by_table": dict(sorted(tables.items())),
            "dropped_tables": result.dropped_tables,
            "free_pages": result.free_pages,
            "freeblock_bytes": result.freeblock_bytes,
            "unallocated_bytes": result.unallocated_bytes,
            "live_copies_set_aside": result.live_copies,
            "note": result.note,
        },
        "records": [record_as_dict(r) for r in result.records],
        "file_at_end": after.as_dict(),
        "file_unchanged": unchanged,
    }


def write_report(
    path: str | os.PathLike[str],
    data: dict[str, Any],
    *,
    source_path: str | os.PathLike[str] | None = None,
) -> Path:
    """Write the report to `path`: JSON when it ends in .json, else text; never over the database."""
    as_json = str(path).lower().endswith(".json")
    text = json.dumps(_plain(data), ensure_ascii=False, indent=2) + "\n" if as_json else report_text(data)
    with atomic_output(path, source_path) as output:
        output.text().write(text)
        output.commit()
    return Path(path)


def export_report(
    conn: sqlite3.Connection,
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    snapshot_taken: float | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> tuple[Path, dict[str, Any], RecoveryResult]:
    """Hash the source file, recover from the snapshot behind `conn`, hash the file again, write the report.

    Returns the report's path, its data ("file_unchanged" says whether both hashes agree) and the result.
    """
    progress(Progress(0, None, "Hashing the file"))
    before = file_facts(source, cancel)
    result = recover(conn, progress=progress, cancel=cancel)
    progress(Progress(0, None, "Hashing the file again"))
    after = file_facts(source, cancel)
    data = report_data(before, after, result, snapshot_taken=snapshot_taken)
    return write_report(out, data, source_path=source), data, result


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def report_text(data: dict[str, Any]) -> str:
    """The report laid out as text for a case file."""
    lines = ["Deleted-record recovery report", "=" * 30, ""]
    file = data["file"]
    lines += [
        f"File:            {file['path']}",
        f"Size:            {file['size']:,} bytes",
        f"Modified:        {file['modified']}",
        f"Status changed:  {file['changed']}",
        f"SHA-256:         {file['sha256']}",
        f"MD5:             {file['md5']}",
        f"Hashed at:       {file['measured_at']}",
    ]
    if data.get("snapshot_taken"):
        lines.append(f"Snapshot taken:  {data['snapshot_taken']}")
    lines += ["", "Header", "------"]
    lines += [f"{key.replace('_', ' '):<18} {value}" for key, value in data["header"].items()]
    recovery = data["recovery"]
    lines += ["", "Recovered", "---------", f"records            {recovery['records']}"]
    lines += [f"from {source:<13} {count}" for source, count in sorted(recovery["by_source"].items())]
    lines += [f"table {table:<12} {count}" for table, count in recovery["by_table"].items()]
    for key in ("free_pages", "freeblock_bytes", "unallocated_bytes", "live_copies_set_aside"):
        lines.append(f"{key.replace('_', ' '):<18} {recovery[key]}")
    if recovery["dropped_tables"]:
        lines.append("dropped tables     " + ", ".join(recovery["dropped_tables"]))
    if recovery["note"]:
        lines.append(recovery["note"])
    # ‹default›: the record predates the column (ALTER TABLE ADD COLUMN since): not stored, its default.
    lines += ["", "Records (table | source | page | offset | confidence | values)", "-" * 62]
    for record in data["records"]:
        lost, defaulted = set(record["lost"]), set(record["defaulted"])
        values = ", ".join(
            LOST_TEXT if i in lost else _text(v) + (" ‹default›" if i in defaulted else "")
            for i, v in enumerate(record["values"])
        )
        lines.append(
            f"{record['table'] or '(unknown table)'} | {record['source']} | {record['page']} | "
            f"{record['offset']} | {record['confidence']:.2f} | {values}"
        )
    after = data["file_at_end"]
    lines += [
        "",
        "File at the end",
        "---------------",
        f"SHA-256:         {after['sha256']}",
        f"MD5:             {after['md5']}",
        f"Size:            {after['size']:,} bytes",
        f"Hashed at:       {after['measured_at']}",
        "Unchanged:       " + ("yes — the hashes and size are the same" if data["file_unchanged"] else "NO"),
        "",
    ]
    return "\n".join(lines)


def _text(value: object) -> str:
    if value is None or value is LOST:
        return "NULL"
    if isinstance(value, bytes):
        return "x'" + value.hex() + "'"
    return repr(value) if isinstance(value, str) else str(value)
