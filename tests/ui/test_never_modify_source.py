"""Never modify the source: the whole user flow in the real window over every corpus file (read in
place) and every hostile database leaves each file's bytes and its folder's listing exactly as they
were — no `-wal`/`-shm`/`-journal` appears, changes or disappears.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from tests.conftest import CORPUS, folder_state
from tests.hostile import HOSTILE, build_hostile
from tests.ui.helpers import close_window, make_window
from tests.ui.test_hostile_ui import exercise_window, refuse_in_window


def corpus_files() -> list[str]:
    """Every database file the corpus manifest lists (sidecars travel with their database)."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    with manifest.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [row["file"] for row in rows if not row["file"].endswith(("-wal", "-shm", "-journal"))]


#: Corpus files that are meant to be refused (a truncated MBTiles).
REFUSED_CORPUS = {"mbtiles/corrupt.mbtiles"}


def folder_snapshot(folder: Path) -> tuple[list[str], dict[str, str]]:
    """The folder's full listing and the sha256 of every file in it."""
    return sorted(os.listdir(folder)), folder_state(folder)


@pytest.mark.parametrize("relative", corpus_files())
async def test_full_flow_leaves_the_corpus_file_and_its_folder_untouched(
    qtbot: object, tmp_path: Path, relative: str
) -> None:
    path = CORPUS / relative
    before = folder_snapshot(path.parent)
    window = make_window(tmp_path)
    if relative in REFUSED_CORPUS:
        await refuse_in_window(window, path)
        await close_window(window)
    else:
        await exercise_window(window, path)
    assert folder_snapshot(path.parent) == before


@pytest.mark.parametrize("name", [name for name, spec in HOSTILE.items() if not spec.slow])
async def test_full_flow_leaves_the_hostile_database_and_its_folder_untouched(
    qtbot: object, tmp_path: Path, name: str
) -> None:
    path = build_hostile(tmp_path / "db", name)
    before = folder_snapshot(path.parent)
    window = make_window(tmp_path)
    if HOSTILE[name].opens:
        await exercise_window(window, path)
    else:
        await refuse_in_window(window, path)
        await close_window(window)
    assert folder_snapshot(path.parent) == before
    if name == "wal_pending":
        assert before[0] == [path.name, path.name + "-wal"]  # the -wal stays, and no -shm appears
