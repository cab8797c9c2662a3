"""PyInstaller entry point of the windowed `snapshot-browser` executable."""

import sys

from desktop_app.app import main

if __name__ == "__main__":
    sys.exit(main())
