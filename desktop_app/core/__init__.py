"""The engine: snapshot, database service, catalog and jobs. Never imports Qt."""
