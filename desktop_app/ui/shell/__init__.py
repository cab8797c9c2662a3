"""The window's own parts that no pane uses: schema tree, start page, banner, job status."""
