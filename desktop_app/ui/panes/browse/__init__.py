"""The Browse pane and its own widgets."""
