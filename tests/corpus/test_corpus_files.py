"""Every file in the shared corpus gives its expected result through the headless commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.cli import main

#: file → (expected table, expected row count) or the start of the expected error.
EXPECTED: dict[str, tuple[str, int] | str] = {
    "chinook/Chinook_Sqlite.sqlite": ("Track", 3503),
    "northwind/northwind.db": ("Order Details", 2155),
    "world/world.db": ("tags", 122),
    "duckdb-sqlite/fts.db": ("email", 1),
    "duckdb-sqlite/norowid.db": ("wordcount", 2),
    "duckdb-sqlite/borked.db": ("a", 1),
    "plaso/places.sqlite": ("moz_places", 92),
    "plaso/History": ("urls", 55),
    "plaso/wal_database.db": ("MyTable", 11),
    "plaso/load_statistics.db": ("load_statistics", 1),
    "mbtiles/plain_1.mbtiles": ("images", 207),
    "mbtiles/corrupt.mbtiles": "error: “corrupt.mbtiles” is damaged",
    "geopackage/gdal_sample.gpkg": ("point3d", 2),
    "sqlite-test/dbfuzz2-seed1.db": ("t2", 8),
    "plaso/wal_database.db-wal": "error: “wal_database.db-wal” is not a SQLite database",
}


def test_every_corpus_file_has_an_expectation(corpus: Path) -> None:
    files = {str(p.relative_to(corpus)) for p in corpus.glob("*/*") if p.is_file()}
    assert files == set(EXPECTED), "a corpus file was added or removed: give it an expected outcome"


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_info_and_csv_export(
    corpus: Path, tmp_path: Path, relative: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(corpus / relative)
    expected = EXPECTED[relative]
    status = main(["info", path, "--json"])
    captured = capsys.readouterr()
    if isinstance(expected, str):
        assert status == 1 and captured.err.startswith(expected)
        assert main(["query", path, "SELECT 1", "--csv", str(tmp_path / "x.csv")]) == 1
        assert not (tmp_path / "x.csv").exists()
        return
    table, rows = expected
    assert status == 0
    report = json.loads(captured.out)
    entry = next(t for t in report["tables"] if t["name"] == table)
    assert entry["rows"] == rows
    out = tmp_path / "out.csv"
    quoted = '"' + table.replace('"', '""') + '"'
    assert main(["query", path, f"SELECT * FROM {quoted}", "--csv", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) >= rows + 1
