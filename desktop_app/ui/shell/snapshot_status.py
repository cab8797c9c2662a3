"""What the window says about the snapshot it shows: its title, the status bar's mode label (with why in
its tooltip) and the message when a file has opened."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from desktop_app.ui.shell.windows import APP_TITLE

if TYPE_CHECKING:
    from desktop_app.core.snapshot.snapshot import Snapshot
    from desktop_app.ui.session import DatabaseSession


def window_title(snapshot: Snapshot | None) -> str:
    """The file (and the member of a packed one), the WAL commit shown, the mode, and the program."""
    if snapshot is None:
        return APP_TITLE
    name = f"{snapshot.member} in {snapshot.path.name}" if snapshot.member else snapshot.path.name
    as_of = f" — as of WAL commit {snapshot.wal_commit}" if snapshot.wal_commit is not None else ""
    return f"{name}{as_of} — {snapshot.mode.value} — {APP_TITLE}"


def opened_message(session: DatabaseSession, snapshot: Snapshot) -> str:
    """The status bar's line once `snapshot` is shown (a quick view says its copy is still under way)."""
    if session.loading:
        return f"Showing {snapshot.path.name} from the file while it is copied into memory"
    as_of = f" as of WAL commit {snapshot.wal_commit}" if snapshot.wal_commit is not None else ""
    return f"Opened {snapshot.path.name}{as_of} in {snapshot.elapsed_s * 1000:,.0f} ms"


def mode_summary(session: DatabaseSession, snapshot: Snapshot) -> tuple[str, str]:
    """Mode · size · when it was taken (and what is still loading), and the tooltip saying why."""
    when = time.strftime("%H:%M", time.localtime(snapshot.taken_at))
    taken = "reloaded" if session.reloaded else "opened"
    if snapshot.wal_commit is not None:  # not the file now: the -wal as read at `when`
        taken = "read"
    parts = [f"as of WAL commit {snapshot.wal_commit}"] if snapshot.wal_commit is not None else []
    parts += [snapshot.mode.value, f"{snapshot.size_bytes / 2**20:,.1f} MB", f"{taken} {when}"]
    tips = [f"{snapshot.mode.value.capitalize()} — {snapshot.mode_reason}."]
    if session.loading:
        parts.append(f"{session.loading.lower()}…")
        tips.append("The view moves to the memory snapshot when the copy is done; your place is kept.")
    elif session.copy_stopped:
        parts.append("copy stopped")
        tips.append(f"Staying direct: {session.copy_stopped}.")
    if snapshot.mode.direct:
        tips.append(
            "Reads go to the file itself (read-only; nothing is written beside it). Scans, counts and "
            "searches are slower than in memory."
        )
    tips.extend(note for note in snapshot.notes if note not in tips)
    return " · ".join(parts), "\n".join(tips)
