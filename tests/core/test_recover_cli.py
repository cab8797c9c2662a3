"""`snapshot-browser-cli recover`: JSON shape, text table, --table, refusals, and the folder untouched."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.core.recovery.model import SECURE_DELETE_NOTE
from tests import recovery_cases as cases
from tests.conftest import folder_state


@pytest.fixture
def dropped(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    return cases.dropped_table(folder).path


def test_json_lists_records_with_provenance_and_base64_blobs(
    dropped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = folder_state(dropped.parent)
    assert main(["recover", str(dropped), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    records = data["records"]
    assert len(records) == 800
    first = records[0]
    assert set(first) >= {"table", "values", "source", "page", "offset", "confidence"}
    assert first["table"] == "doomed" and first["source"] == "dropped-table"
    assert data["dropped_tables"] == ["doomed"]
    blobs = [v for r in records for v in r["values"] if isinstance(v, dict)]
    assert blobs and all(base64.b64decode(b["$base64"]) for b in blobs)
    assert folder_state(dropped.parent) == before


def test_table_option_keeps_that_tables_records(dropped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recover", str(dropped), "--table", "keep", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == []
    assert main(["recover", str(dropped), "--table", "DOOMED", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["records"]) == 800


def test_unknown_table_is_refused_in_one_line(dropped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recover", str(dropped), "--table", "nope"]) == 1
    err = capsys.readouterr().err
    assert err == "error: No table called nope (tables: keep).\n"


def test_text_output_marks_lost_values_and_ends_with_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = cases.scattered(tmp_path, rows=200)
    assert main(["recover", str(case.path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:5] == ["table", "source", "page", "offset", "conf"]
    assert any("‹lost›" in line for line in out)
    assert out[-1].startswith(f"{len(out) - 2} records recovered (freeblock")


def test_secure_delete_prints_why_nothing_came_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = cases.scattered(tmp_path, "secure", rows=200, secure_delete=True)
    assert main(["recover", str(case.path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["0 records recovered.", SECURE_DELETE_NOTE]


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert main(["recover", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_report_proves_the_file_unchanged_with_hashes_before_and_after(
    dropped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import hashlib

    before = folder_state(dropped.parent)
    out = tmp_path / "report.json"
    assert main(["recover", str(dropped), "--report", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    content = dropped.read_bytes()
    assert data["file"]["sha256"] == data["file_at_end"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert data["file"]["md5"] == hashlib.md5(content).hexdigest()
    assert data["file"]["size"] == len(content)
    assert data["file_unchanged"] is True
    assert data["header"]["page_size"] == 4096 and data["header"]["text_encoding"] == "utf-8"
    assert data["recovery"]["by_source"] == {"dropped-table": 800}
    assert data["recovery"]["dropped_tables"] == ["doomed"]
    assert len(data["records"]) == 800
    assert folder_state(dropped.parent) == before
    text_report = tmp_path / "report.txt"
    assert main(["recover", str(dropped), "--report", str(text_report)]) == 0
    text = text_report.read_text(encoding="utf-8")
    assert f"SHA-256:         {data['file']['sha256']}" in text
    assert text.rstrip().endswith("Unchanged:       yes — the hashes and size are the same")


def test_report_is_never_written_over_the_database(dropped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = folder_state(dropped.parent)
    assert main(["recover", str(dropped), "--report", str(dropped)]) == 1
    assert capsys.readouterr().err.startswith("error: ")
    assert folder_state(dropped.parent) == before


def test_compare_live_puts_the_live_row_next_to_each_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    path = folder / "updated.db"
    updated, deleted = cases.updated_without_rowid(path)
    before = folder_state(folder)
    assert main(["recover", str(path), "--json"]) == 0
    assert all("live" not in r for r in json.loads(capsys.readouterr().out)["records"])
    assert main(["recover", str(path), "--json", "--compare-live"]) == 0
    records = json.loads(capsys.readouterr().out)["records"]
    different = [r for r in records if r["live"]["status"] == "different"]
    assert different
    for record in different:
        key = record["values"][0]
        old = updated[key]
        assert record["live"]["key"] == {"k": key}
        assert record["live"]["values"] == [key, -old[1] - 1, f"{old[2]}longer now"]
        assert record["live"]["differs"] == [i for i in (1, 2) if i not in record["lost"]]
    gone = [r for r in records if r["values"][0] in deleted]
    assert gone and all(
        r["live"] == {"status": "no-live-row", "key": {"k": r["values"][0]}, "values": None, "differs": []}
        for r in gone
    )
    assert main(["recover", str(path), "--compare-live"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith("  live: The live row with k = 'key-") and "differs in" in line for line in out
    )
    assert folder_state(folder) == before


def test_report_marks_values_a_record_predates_as_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    case = cases.altered(folder)
    before = folder_state(folder)
    out = tmp_path / "report.txt"
    assert main(["recover", str(case.path), "--report", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert any(line.endswith("'none' ‹default›, NULL ‹default›, 7 ‹default›") for line in lines)
    assert folder_state(folder) == before
