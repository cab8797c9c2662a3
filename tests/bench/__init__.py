"""Benchmarks, run on demand with `python -m tests.bench` (never part of the default test run)."""
