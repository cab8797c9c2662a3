"""The SQL pane and its own widgets (editor, highlighter, completer, results, history)."""
