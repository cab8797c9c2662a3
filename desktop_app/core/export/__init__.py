"""Writing results out: CSV files, and where an export may write (never over the source)."""
