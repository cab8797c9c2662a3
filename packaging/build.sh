#!/usr/bin/env bash
# Build the standalone one-folder app with PyInstaller, in a fresh virtual environment.
#
#   packaging/build.sh [DIST_DIR]
#
# DIST_DIR defaults to ./dist; the app lands in DIST_DIR/snapshot-browser/ (on macOS also
# "DIST_DIR/SQLite Snapshot Browser.app"). Environment:
#   PYTHON          interpreter that creates the build venv (default: python3)
#   BUILD_WORK_DIR  scratch folder for the venv and PyInstaller's work files (default: a new temp folder)
#   BUILD_VENV      reuse this venv instead of creating one under BUILD_WORK_DIR
# PyInstaller builds for the platform it runs on: build on Windows for Windows, on macOS for macOS.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
dist="$(mkdir -p "${1:-$root/dist}" && cd "${1:-$root/dist}" && pwd)"
work="${BUILD_WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/snapshot-browser-build.XXXXXX")}"
mkdir -p "$work"
venv="${BUILD_VENV:-$work/venv}"
python="${PYTHON:-python3}"
started=$(date +%s)

if [ ! -d "$venv" ]; then
    echo "==> creating build venv in $venv"
    "$python" -m venv "$venv"
fi
if [ -x "$venv/bin/python" ]; then
    vpy="$venv/bin/python"
else
    vpy="$venv/Scripts/python.exe"  # Windows (Git Bash / MSYS)
fi

echo "==> installing the project and PyInstaller"
"$vpy" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$vpy" -m pip install --quiet --disable-pip-version-check "$root[packaging]"

echo "==> running PyInstaller"
"$vpy" -m PyInstaller --noconfirm --clean \
    --distpath "$dist" --workpath "$work/pyinstaller" \
    "$here/snapshot-browser.spec"

app="$dist/snapshot-browser"
echo
echo "Built in $(( $(date +%s) - started )) s:"
echo "  GUI: $app/snapshot-browser"
echo "  CLI: $app/snapshot-browser-cli"
if [ -d "$dist/SQLite Snapshot Browser.app" ]; then
    echo "  macOS app bundle: $dist/SQLite Snapshot Browser.app"
fi
echo "Try: \"$app/snapshot-browser-cli\" --version"
