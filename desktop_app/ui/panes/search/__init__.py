"""The Search pane and its own widgets (scope, results, index panel, streaming)."""
