"""Deleted-record recovery: read the snapshot's pages as bytes and carve records from free space.

`image` reads the database header and pages from bytes, `btree` parses b-tree pages, `record` decodes
records, `carve` rebuilds records against candidate table shapes, `scan` walks a whole image.
Nothing here reads or writes the user's file: the bytes come from the snapshot (or a WAL frame).
"""
