"""The Migrations pane and its own views."""
