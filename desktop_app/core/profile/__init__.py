"""Column profiles: counts, NULLs, distinct values, range, storage classes, top values and a histogram.

`model` holds the figures, `queries` the SQL that computes them, `run` the streaming, cancellable job
over a snapshot connection, `cache` the profiles kept per snapshot generation.
"""
