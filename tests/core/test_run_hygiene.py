"""The test run itself: its homes are temporary, and its end-of-run check sees any write in the checkout."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis.configuration import storage_directory

from tests.conftest import REPO, changed_paths, checkout_paths


def test_settings_caches_logs_and_hypothesis_live_outside_the_checkout_and_home() -> None:
    temp = Path(tempfile.gettempdir()).resolve()
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        assert Path(os.environ[name]).resolve().is_relative_to(temp), name
    # A storage folder of the tester's own is respected, but never one inside the checkout.
    assert not storage_directory(intent_to_write=False).path.resolve().is_relative_to(REPO)


def test_checkout_check_names_new_and_gone_files_but_not_caches_or_edits(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    for folder in ("pkg", ".git", "pkg/__pycache__", ".venv", "build", "x.egg-info"):
        (root / folder).mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    for name in ("pkg/kept.py", "pkg/changed.py", "pkg/gone.py"):
        (root / name).write_text("x = 1\n")
    before = checkout_paths(root)

    (root / "pkg" / "changed.py").write_text("x = 22\n")
    (root / "pkg" / "gone.py").unlink()
    (root / "pkg" / "new.txt").write_text("")
    (root / ".hypothesis").mkdir()
    # What may change: an edit, bytecode, git, the venv, linters' caches, what installing writes.
    (root / "pkg" / "__pycache__" / "kept.cpython-311.pyc").write_bytes(b"")
    (root / ".git" / "index").write_bytes(b"")
    (root / ".venv" / "lib.py").write_text("")
    (root / "build" / "lib").mkdir()
    (root / "x.egg-info" / "PKG-INFO").write_text("")
    (root / ".ruff_cache").mkdir()

    assert changed_paths(before, checkout_paths(root)) == [
        "+ .hypothesis",
        "+ pkg/new.txt",
        "- pkg/gone.py",
    ]
