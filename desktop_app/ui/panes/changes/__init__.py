"""The Changes pane: what changed between two snapshots, and a watch timeline."""
