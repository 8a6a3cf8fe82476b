"""The ``trellis`` command line."""

from .root import main

__all__ = ["main"]
