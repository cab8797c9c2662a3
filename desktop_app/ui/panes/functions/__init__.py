"""The Functions pane and its own widgets (function list, Try it box)."""
