"""Long work as jobs: started from the UI, run off the UI thread, progress and cancel in the status bar."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.logs import log_exception
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback

log = logging.getLogger(__name__)
_ids = itertools.count(1)


class Job(QObject):
    """One running piece of work; emits progress on the UI thread and finishes exactly once."""

    progressed = Signal(object)  #: Progress
    finished = Signal(object)  #: the result
    failed = Signal(object)  #: a UserError (Cancelled included) for the user, or any other exception
    ended = Signal()

    def __init__(self, label: str, cancel: CancelToken, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.id = next(_ids)
        self.label = label
        self.cancel_token = cancel
        self.started = time.monotonic()
        self.task: asyncio.Task[Any] | None = None
        self.last_progress: Progress | None = None
        self.done = False
        #: The widget (usually a pane) that started the job: Escape there stops it. None: the window's own.
        self.owner: QObject | None = None
        #: False for a job its pane shows itself; the status bar leaves it out.
        self.shown = True

    def cancel(self) -> None:
        """Ask the job to stop (interrupts SQLite)."""
        self.cancel_token.cancel()

    def progress_callback(self) -> ProgressCallback:
        """A progress callback safe to call from any thread; emits on the UI thread."""
        loop = asyncio.get_running_loop()

        def report(progress: Progress) -> None:
            loop.call_soon_threadsafe(self._report, progress)

        return report

    def _report(self, progress: Progress) -> None:
        if not self.done:
            self.last_progress = progress
            self.progressed.emit(progress)


class JobCenter(QObject):
    """Starts jobs as asyncio tasks on the qasync loop and tells the status bar about them."""

    job_started = Signal(object)  #: Job (every job; `job.shown` says whether the status bar shows it)
    job_ended = Signal(object)  #: Job
    unexpected_error = Signal(str, str)  #: message, log path

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs: dict[int, Job] = {}

    def start(
        self,
        label: str,
        work: Callable[[Job], Awaitable[Any]],
        *,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[UserError], None] | None = None,
        show: bool = True,
        owner: QObject | None = None,
    ) -> Job:
        """Run `work(job)` as a task; `on_done(result)` or `on_error(user_error)` run on the UI thread.

        Unexpected exceptions are logged and reported through `unexpected_error`, never raised. `owner`
        is the widget the job belongs to (Escape in it stops the job); `show=False` keeps it out of the
        status bar (its pane shows its progress itself).
        """
        job = Job(label, CancelToken(), self)
        job.owner, job.shown = owner, show
        self.jobs[job.id] = job

        def report_bug(exc: Exception) -> None:
            path = log_exception(exc, f"job {label!r} failed")
            self.unexpected_error.emit(f"Something went wrong while {label.lower()}.", str(path))

        async def runner() -> None:
            try:
                result = await work(job)
            except asyncio.CancelledError:
                job.cancel_token.cancel()
                self._end(job)
                job.failed.emit(Cancelled())
                return
            except UserError as exc:
                self._end(job)
                job.failed.emit(exc)
                self._call(on_error, exc, report_bug)
                return
            except Exception as exc:
                self._end(job)
                job.failed.emit(exc)
                report_bug(exc)
                return
            if job.cancel_token.cancelled:  # stopped while finishing: its result must not be used
                self._end(job)
                job.failed.emit(Cancelled())
                return
            self._end(job)
            job.finished.emit(result)
            self._call(on_done, result, report_bug)

        job.task = asyncio.ensure_future(runner())
        self.job_started.emit(job)
        return job

    @staticmethod
    def _call(
        callback: Callable[[Any], None] | None, value: Any, report_bug: Callable[[Exception], None]
    ) -> None:
        """Run a completion callback; a bug in it is logged and reported like one in the job."""
        if callback is None:
            return
        try:
            callback(value)
        except Exception as exc:
            report_bug(exc)

    def _end(self, job: Job) -> None:
        job.done = True
        self.jobs.pop(job.id, None)
        job.ended.emit()
        self.job_ended.emit(job)

    def owned_by(self, root: QWidget | None) -> list[Job]:
        """Running jobs started by `root` or a widget inside it (None: the jobs no widget owns)."""

        def belongs(owner: QObject | None) -> bool:
            if root is None or owner is None:
                return root is owner
            if not isValid(owner):
                return False
            return owner is root or (isinstance(owner, QWidget) and root.isAncestorOf(owner))

        return [job for job in self.jobs.values() if belongs(job.owner)]

    def cancel_all(self) -> None:
        """Cancel every running job (used on close)."""
        for job in list(self.jobs.values()):
            job.cancel()

    async def wait_all(self, timeout: float = 5.0) -> None:
        """Cancel every job and wait for the tasks to end, and for the jobs they start as they end (an open
        that finishes starts counting rows): none is left running, unless `timeout` runs out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self.cancel_all()
            tasks = [j.task for j in self.jobs.values() if j.task is not None and not j.task.done()]
            if not tasks:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                log.warning("%d job(s) still running after %.0f s: %s", len(tasks), timeout, self._labels())
                return
            await asyncio.wait(tasks, timeout=remaining)

    def _labels(self) -> str:
        return ", ".join(job.label for job in self.jobs.values())
