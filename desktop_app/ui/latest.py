"""Latest request wins: a newer request of one kind stops the older one, whose late answers are ignored.

Typing a search while the last one runs, picking another blob while its windows are read, re-reading the
function list: the older request's job is cancelled, but its answer may already be on its way (a result,
a "Stopped" error, a page). A `Ticket` says whether it still belongs to the latest request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, overload

from PySide6.QtCore import QObject

from desktop_app.ui.job_center import Job, JobCenter

P = ParamSpec("P")


class Ticket:
    """One request of a `LatestRequest`: `current` until a newer request begins (or it is dropped)."""

    __slots__ = ("_owner", "_serial")

    def __init__(self, owner: LatestRequest, serial: int) -> None:
        self._owner = owner
        self._serial = serial

    @property
    def current(self) -> bool:
        """True while no newer request began and the request was not dropped."""
        return self._serial == self._owner._serial

    @overload
    def only(self, callback: None) -> None: ...
    @overload
    def only(self, callback: Callable[P, object]) -> Callable[P, None]: ...

    def only(self, callback: Callable[P, object] | None) -> Callable[P, None] | None:
        """`callback`, called only while this ticket is current (None stays None)."""
        if callback is None:
            return None
        target = callback

        def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
            if self.current:
                target(*args, **kwargs)

        return guarded


class LatestRequest:
    """Requests of one kind where only the latest counts; holds its running job, if any."""

    def __init__(self) -> None:
        self._serial = 0
        #: The job of the latest request while it runs, else None.
        self.job: Job | None = None

    @property
    def running(self) -> bool:
        """True while the latest request's job runs."""
        return self.job is not None

    def begin(self) -> Ticket:
        """A new request: the previous one's job is cancelled and every older ticket goes stale."""
        self.cancel()
        return Ticket(self, self._serial)

    def start(
        self,
        jobs: JobCenter,
        label: str,
        work: Callable[[Job], Awaitable[Any]],
        *,
        on_done: Callable[[Any], object] | None = None,
        on_error: Callable[[Any], object] | None = None,
        on_ended: Callable[[], object] | None = None,
        show: bool = True,
        owner: QObject | None = None,
    ) -> Job:
        """Run `work` as the latest request (see `JobCenter.start`); an older request's callbacks never run.

        `on_ended` runs when the job ends while it is still the latest one.
        """
        ticket = self.begin()
        job = jobs.start(
            label, work, on_done=ticket.only(on_done), on_error=ticket.only(on_error), show=show, owner=owner
        )
        return self.track(job, on_ended)

    def track(self, job: Job, on_ended: Callable[[], object] | None = None) -> Job:
        """Hold `job` as the latest request's job until it ends (then `on_ended`, if still the latest)."""
        self.job = job

        def ended() -> None:
            if self.job is job:
                self.job = None
                if on_ended is not None:
                    on_ended()

        job.ended.connect(ended)
        return job

    def stop(self) -> None:
        """Stop the running job; the latest request still gets its answer (e.g. "Stopped")."""
        if self.job is not None:
            self.job.cancel()

    def cancel(self) -> None:
        """Stop the running job and ignore whatever it still answers."""
        self.drop()
        job, self.job = self.job, None
        if job is not None:
            job.cancel()

    def drop(self) -> None:
        """Make every ticket issued so far stale (answers still on their way are ignored)."""
        self._serial += 1
