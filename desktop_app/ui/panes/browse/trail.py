"""Back and Forward in Browse: the places (table, filters, sort, position) left by following links."""

from __future__ import annotations

from typing import Any

#: Places kept each way (older ones are forgotten).
_KEPT = 50


class Trail:
    """Two stacks of Browse states (`BrowsePane.save_state` dicts)."""

    def __init__(self) -> None:
        self.back: list[dict[str, Any]] = []
        self.forward: list[dict[str, Any]] = []

    def leave(self, place: dict[str, Any]) -> None:
        """`place` is being left for a new one: it goes on the Back stack, Forward is forgotten."""
        if place:
            self.back = [*self.back, place][-_KEPT:]
        self.forward = []

    def go_back(self, current: dict[str, Any]) -> dict[str, Any] | None:
        """The place to go back to (None at the start); `current` goes on the Forward stack."""
        if not self.back:
            return None
        self.forward.append(current)
        return self.back.pop()

    def go_forward(self, current: dict[str, Any]) -> dict[str, Any] | None:
        """The place to go forward to (None at the end); `current` goes on the Back stack."""
        if not self.forward:
            return None
        self.back.append(current)
        return self.forward.pop()
