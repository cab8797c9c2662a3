"""Custom SQL functions: the built-in library, the user's functions file, and how failures are reported."""
