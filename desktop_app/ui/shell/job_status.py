"""The status bar's view of running jobs: label, determinate progress where known, and Stop."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from desktop_app.core.progress import Progress
from desktop_app.ui.job_center import Job, JobCenter
from desktop_app.ui.widgets.progress_bar import show_fraction


class JobStatus(QWidget):
    """Shows the most recent running job; Stop cancels it. Hidden when nothing runs."""

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
        self.stop.setToolTip("Stop this job (interrupts SQLite)")
        self.stop.clicked.connect(self._cancel_current)
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

    def _add(self, job: Job) -> None:
        self._jobs.append(job)
        job.progressed.connect(lambda _p: self._refresh())
        self._refresh()
        self._ticker.start()

    def _remove(self, job: Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        if not self._jobs:
            self._ticker.stop()
        self._refresh()

    def _cancel_current(self) -> None:
        if self._jobs:
            self._jobs[-1].cancel()

    def _refresh(self) -> None:
        if not self._jobs:
            self.setVisible(False)
            return
        job = self._jobs[-1]
        elapsed = time.monotonic() - job.started
        more = f" (+{len(self._jobs) - 1} more)" if len(self._jobs) > 1 else ""
        progress: Progress | None = job.last_progress
        fraction = progress.fraction if progress else None
        done = f"{fraction:.0%}" if fraction is not None else f"{elapsed:.1f} s"  # "Copying into memory… 42%"
        self.label.setText(f"{job.label}… {done}{more}")
        show_fraction(self.bar, fraction)
        self.setVisible(True)
