"""The architecture rules the machine checks: the core and the CLI never load Qt."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_core_and_cli_import_without_qt() -> None:
    code = (
        "import sys, pkgutil, importlib, desktop_app.core, desktop_app.cli\n"
        "for pkg in (desktop_app.core, desktop_app.cli):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if not m.name.endswith('__main__'):\n"
        "            importlib.import_module(m.name)\n"
        "desktop_app.cli.build_parser()\n"
        "loaded = [n for n in sys.modules if n.startswith(('PySide6', 'qasync', 'desktop_app.ui'))]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)


def test_import_contracts_hold(tmp_path: Path) -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.skip("import-linter is not installed")
    result = subprocess.run(
        # Its cache would otherwise go to .import_linter_cache/ in the checkout.
        [lint_imports, "--cache-dir", str(tmp_path / "import-linter-cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_command_imports_only_what_it_uses(corpus: Path) -> None:
    # Start-up time is import time: `info` needs neither the other commands nor SQLAlchemy.
    code = (
        "import sys, contextlib, io\n"
        "from desktop_app.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['info', {str(corpus / 'chinook' / 'Chinook_Sqlite.sqlite')!r}]) == 0\n"
        "unwanted = ('sqlalchemy', 'aiosqlite', 'desktop_app.cli.query', 'desktop_app.cli.search',\n"
        "            'desktop_app.core.search', 'desktop_app.core.migrations',\n"
        "            'desktop_app.core.blobs.export')\n"
        "loaded = sorted(n for n in sys.modules if n.startswith(unwanted))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)


def test_only_core_sqlite_interrupt_makes_sqlite_stoppable() -> None:
    """One home for stopping SQLite: no other module installs a progress handler or wires up interrupt()."""
    home = ROOT / "desktop_app" / "core" / "sqlite" / "interrupt.py"
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "desktop_app").rglob("*.py"))
        if path != home
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "set_progress_handler(" in line or ".on_cancel(conn.interrupt" in line
    ]
    assert offenders == []
