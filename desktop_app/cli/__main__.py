"""`python -m desktop_app.cli`."""

from desktop_app.cli import main

raise SystemExit(main())
