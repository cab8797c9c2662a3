"""The Structure pane: ER diagram, readable schema, the database's facts, health checks and space."""
