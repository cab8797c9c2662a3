"""PyInstaller entry point of the windowed `snapshot-browser` executable."""

import multiprocessing
import sys

if __name__ == "__main__":
    # The Recovered pane scans in a child process (`spawn`): in a frozen build the child is this
    # executable again, and freeze_support runs the child's work and exits before any window starts.
    multiprocessing.freeze_support()
    from desktop_app.app import main

    sys.exit(main())
