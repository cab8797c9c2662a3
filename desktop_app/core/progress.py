"""Cancellation and progress, shared by every long job (snapshot, search, export, ...)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from desktop_app.core.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    """How far a job is: `done` of `total` units (total None when unknown), and a short label."""

    done: int
    total: int | None = None
    label: str = ""

    @property
    def fraction(self) -> float | None:
        """Done as a fraction of total, or None when the total is unknown."""
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressCallback = Callable[[Progress], None]


def ignore_progress(_progress: Progress) -> None:
    """A progress callback that does nothing."""


class CancelToken:
    """A thread-safe flag a job polls; `on_cancel` callbacks (e.g. `Connection.interrupt`) run at once."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        """True once `cancel()` has been called."""
        return self._event.is_set()

    def cancel(self) -> None:
        """Ask the job to stop and run the registered callbacks."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` on cancel (at once if already cancelled); returns a function that unregisters it."""
        with self._lock:
            already = self._event.is_set()
            if not already:
                self._callbacks.append(callback)
        if already:
            callback()

        def unregister() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return unregister

    def raise_if_cancelled(self) -> None:
        """Raise `Cancelled` if the job was cancelled."""
        if self._event.is_set():
            raise Cancelled()
