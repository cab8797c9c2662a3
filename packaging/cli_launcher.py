"""PyInstaller entry point of the console `snapshot-browser-cli` executable."""

import sys

from desktop_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
