"""SQLite plumbing shared by every capability: the guard on statements (more moves here with #19)."""
