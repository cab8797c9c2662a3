"""PyInstaller entry point of the console `snapshot-browser-cli` executable."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a child process started by core code runs its work, then exits
    from desktop_app.cli import main

    sys.exit(main())
