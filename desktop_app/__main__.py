"""`python -m desktop_app`: start the GUI."""

from desktop_app.app import main

raise SystemExit(main())
