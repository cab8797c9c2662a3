"""Reading rows a page at a time: row addressing (rowid, key or position), keyset paging, filters and sort."""
