"""The Blobs pane and its own widgets (value viewer, hex view, image view)."""
