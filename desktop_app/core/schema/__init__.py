"""The one catalog: tables, views, columns, keys and hidden tables, read from the schema in one place."""
