"""The GIL switch interval is short while a worker computes, and given back after the last user."""

from __future__ import annotations

import sys

import pytest

from desktop_app.ui.gil_handover import BUSY_SWITCH_INTERVAL_S, quick_gil_handover


def test_the_switch_interval_is_short_inside_nested_blocks_and_restored_after_the_last() -> None:
    before = sys.getswitchinterval()
    with quick_gil_handover():
        assert sys.getswitchinterval() == pytest.approx(min(before, BUSY_SWITCH_INTERVAL_S))
        with quick_gil_handover():
            assert sys.getswitchinterval() == pytest.approx(BUSY_SWITCH_INTERVAL_S)
        assert sys.getswitchinterval() == pytest.approx(BUSY_SWITCH_INTERVAL_S)  # the outer one runs
    assert sys.getswitchinterval() == before


def test_the_switch_interval_is_restored_when_the_work_fails() -> None:
    before = sys.getswitchinterval()
    with pytest.raises(RuntimeError), quick_gil_handover():
        raise RuntimeError("the scan failed")
    assert sys.getswitchinterval() == before
