"""The status bar's view of running jobs: the longest-running one's label and progress, and Stop.

A job appears once it has run for `SHOW_AFTER_S` (quicker ones would only flicker); the program never
sets a busy cursor, so this Stop (or Escape) is always the way out of a long wait.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QProgressBar, QToolButton, QWidget

from desktop_app.core.progress import Progress
from desktop_app.ui.job_center import Job, JobCenter
from desktop_app.ui.widgets.progress_bar import show_fraction

#: Seconds a job runs before the status bar shows it.
SHOW_AFTER_S = 1.0


class JobStatus(QWidget):
    """Shows the longest-running job (of those running past a second); Stop cancels it, and its menu
    stops any other or all of them. Hidden when none runs that long."""

    def __init__(self, jobs: JobCenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(180)
        self.bar.setMaximumHeight(16)
        self.bar.setTextVisible(True)
        self.stop = QToolButton()
        self.stop.setText("Stop")
        self.stop.setToolTip("Stop this job (interrupts SQLite) — Esc in its pane")
        self.stop.clicked.connect(self._cancel_current)
        self.stop_menu = QMenu(self.stop)
        self.stop_menu.aboutToShow.connect(self._fill_menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.stop)
        self._ticker = QTimer(self)
        self._ticker.setInterval(200)
        self._ticker.timeout.connect(self._refresh)
        jobs.job_started.connect(self._add)
        jobs.job_ended.connect(self._remove)
        self.setVisible(False)

    def shown_jobs(self) -> list[Job]:
        """The jobs on show, longest-running first."""
        now = time.monotonic()
        return sorted((j for j in self._jobs if now - j.started >= SHOW_AFTER_S), key=lambda j: j.started)

    def current(self) -> Job | None:
        """The job the label, the bar and Stop are about."""
        shown = self.shown_jobs()
        return shown[0] if shown else None

    def _add(self, job: Job) -> None:
        if not job.shown:
            return
        self._jobs.append(job)
        # No refresh per progress event: the 200 ms ticker shows progress. Laying out the status bar again on
        # each event (a search reports hundreds a second) raised the search pane's stall from 22 to 35–40 ms.
        self._refresh()
        self._ticker.start()

    def _remove(self, job: Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        if not self._jobs:
            self._ticker.stop()
        self._refresh()

    def _cancel_current(self) -> None:
        job = self.current()
        if job is not None:
            job.cancel()

    def _fill_menu(self) -> None:
        self.stop_menu.clear()
        shown = self.shown_jobs()
        for job in shown:
            self.stop_menu.addAction(f"Stop {job.label.lower()}").triggered.connect(
                lambda _c=False, j=job: j.cancel()
            )
        self.stop_menu.addSeparator()
        self.stop_menu.addAction("Stop all").triggered.connect(lambda _c=False: [j.cancel() for j in shown])

    def _refresh(self) -> None:
        shown = self.shown_jobs()
        if not shown:
            self.setVisible(False)
            return
        job = shown[0]
        elapsed = time.monotonic() - job.started
        more = f" (+{len(shown) - 1} more)" if len(shown) > 1 else ""
        progress: Progress | None = job.last_progress
        fraction = progress.fraction if progress else None
        done = f"{fraction:.0%}" if fraction is not None else f"{elapsed:.1f} s"  # "Copying into memory… 42%"
        self.label.setText(f"{job.label}… {done}{more}")
        self.label.setToolTip("\n".join(f"{j.label} — {time.monotonic() - j.started:.0f} s" for j in shown))
        show_fraction(self.bar, fraction)
        # With several, Stop still stops the one shown; its arrow offers the others and all of them.
        several = len(shown) > 1
        self.stop.setMenu(self.stop_menu if several else None)
        mode = QToolButton.ToolButtonPopupMode
        self.stop.setPopupMode(mode.MenuButtonPopup if several else mode.DelayedPopup)
        self.setVisible(True)
