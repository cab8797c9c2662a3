"""The scanning process's allocator setting: applied where the C library is glibc, refused elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.core.recovery import allocator

REPO = Path(__file__).resolve().parents[2]


def test_glibc_takes_the_thresholds_in_a_process_of_its_own() -> None:
    if not (hasattr(os, "confstr") and "CS_GNU_LIBC_VERSION" in os.confstr_names):
        pytest.skip("not glibc")
    # In a process of its own: the setting lasts for the life of the process that makes it.
    code = "from desktop_app.core.recovery.allocator import keep_large_blocks_in_heap as k; print(k())"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, env=env
    )
    assert done.stdout.strip() == "True"


def test_another_c_library_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_name(name: str) -> str:
        raise ValueError(f"unrecognized configuration name {name}")

    monkeypatch.setattr(allocator.os, "confstr", no_such_name)
    assert allocator.keep_large_blocks_in_heap() is False
    monkeypatch.setattr(allocator.os, "confstr", lambda name: None)
    assert allocator.keep_large_blocks_in_heap() is False
