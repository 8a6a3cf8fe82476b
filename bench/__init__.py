"""Benchmarks: ``python -m bench [NAME ...] [--rows N]``, one ``name: value`` figure per line."""
