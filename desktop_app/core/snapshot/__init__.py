"""The snapshot: open a file without touching it, copy it into memory or read it in place."""
