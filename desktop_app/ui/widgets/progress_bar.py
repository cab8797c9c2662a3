"""A progress bar showing how far a job is: a share done, or busy when the total is unknown."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar

#: Steps of a bar: fine enough for a smooth bar over any total.
STEPS = 1000


def show_fraction(bar: QProgressBar, fraction: float | None) -> None:
    """Show `fraction` (0–1) done on `bar`; None makes it a busy indicator."""
    if fraction is None:
        bar.setRange(0, 0)
    else:
        bar.setRange(0, STEPS)
        bar.setValue(int(fraction * STEPS))
