"""`python -m desktop_app.cli`."""

import os
import signal
import sys


def _interrupted_while_starting(_signum: int, _frame: object) -> None:
    # Nothing has run yet: no file to clean up, and no traceback from half an import.
    sys.stderr.write("interrupted\n")
    os._exit(130)


signal.signal(signal.SIGINT, _interrupted_while_starting)

from desktop_app.cli import main  # noqa: E402 (after the handler: importing takes a moment)

raise SystemExit(main())
