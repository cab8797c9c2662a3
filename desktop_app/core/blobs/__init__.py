"""Binary values: locating, reading, recognising, showing and exporting blobs."""
