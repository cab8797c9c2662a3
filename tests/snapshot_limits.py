"""Lower the snapshot's limits for one test, in every module of `core/snapshot` that reads them."""

from __future__ import annotations

import dataclasses

import pytest

from desktop_app.core.snapshot import (
    encrypted,
    memory_copy,
    open_errors,
    packed,
    private_copy,
    reading,
    snapshot,
)

_READERS = (snapshot, reading, open_errors, private_copy, memory_copy, packed, encrypted)


def lower_snapshot_limits(monkeypatch: pytest.MonkeyPatch, **changes: object) -> None:
    """Replace `LIMITS` with `changes` applied (on top of any earlier lowering in the same test)."""
    lowered = dataclasses.replace(snapshot.LIMITS, **changes)
    for module in _READERS:
        monkeypatch.setattr(module, "LIMITS", lowered)
