"""The demo database: built by code on first use, with every pane's showcase."""
