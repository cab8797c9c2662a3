"""Example user functions for SQLite Snapshot Browser: one of each kind.

Load it in the Functions pane ("New from example…" saves a copy to edit and loads it; "Choose file…"
loads a file of yours), then try it in the pane's "Try it" box: initials('ada lovelace').
Or from the command line:

    snapshot-browser-cli functions --file resources/example_functions.py
    snapshot-browser-cli query chinook.db "SELECT initials(Name) FROM Artist" \
        --functions resources/example_functions.py

Rules of thumb:
- Values arrive as None (NULL), int, float, str or bytes; return one of those.
- The argument count comes from the signature (defaults allow fewer arguments, *args any number),
  or give it with narg=.
- deterministic=True promises the same output for the same input (lets SQLite optimise).
- An exception ends the query with your message, the file and the line; the other functions keep working.
- Edit this file and press Reload: no restart needed.
"""

from __future__ import annotations

import math

from desktop_app.functions_api import aggregate, collation, scalar, window


@scalar(deterministic=True)
def initials(name: str | None, separator: str = "") -> str | None:
    """Initials of a name: initials('Antonio Carlos Jobim') gives 'ACJ'."""
    if name is None:
        return None
    return separator.join(word[0].upper() for word in str(name).split())


@scalar("haversine_km", deterministic=True)
def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float | None:
    """Great-circle distance in kilometres between two points given in degrees."""
    if None in (lat1, lon1, lat2, lon2):
        return None
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


@aggregate("geomean")
class GeometricMean:
    """Geometric mean of the positive values (NULL when there are none)."""

    def __init__(self) -> None:
        self.log_sum = 0.0
        self.count = 0

    def step(self, value: float | None) -> None:
        if isinstance(value, int | float) and value > 0:
            self.log_sum += math.log(value)
            self.count += 1

    def finalize(self) -> float | None:
        return math.exp(self.log_sum / self.count) if self.count else None


@window("moving_range")
class MovingRange:
    """Largest minus smallest value in the window frame: moving_range(x) OVER (ROWS 2 PRECEDING)."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def inverse(self, value: float | None) -> None:
        if value is not None:
            self.values.remove(value)  # called for the row leaving the frame

    def value(self) -> float | None:
        return max(self.values) - min(self.values) if self.values else None

    def finalize(self) -> float | None:
        return self.value()


@collation("LENGTH_FIRST")
def length_first(left: str, right: str) -> int:
    """Shorter text first, then alphabetical: ORDER BY name COLLATE LENGTH_FIRST."""
    return (len(left) - len(right)) or (left > right) - (left < right)
