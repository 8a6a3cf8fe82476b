"""Semantic versions and the ranges a manifest states (``requires_trellis``, ``builds_on``).

A range is comparisons joined by commas (``">=1.0, <2.0"``) or a caret/tilde
shorthand (``^1.2`` = ``>=1.2.0, <2.0.0``; ``~1.2`` = ``>=1.2.0, <1.3.0``), which is
all a template needs and keeps the package free of a dependency for it.
"""

from __future__ import annotations

import re

_PART = re.compile(r"\s*(>=|<=|>|<|==|=|\^|~)?\s*(\d+(?:\.\d+){0,2})\s*")


def parse(version: str) -> tuple[int, int, int]:
    """``"1.2.3-beta"`` → (1, 2, 3); pre-release tags do not take part in comparisons."""
    numbers = [int(part) for part in version.split("-", 1)[0].split(".")]
    return (*numbers, 0, 0, 0)[:3]  # type: ignore[return-value]


def satisfies(version: str, spec: str) -> bool:
    """Whether ``version`` lies in the range ``spec`` (an empty range allows any version)."""
    have = parse(version)
    for part in (p for p in spec.split(",") if p.strip()):
        match = _PART.fullmatch(part)
        if match is None:
            raise ValueError(f"{spec!r} is not a version range")
        op, bound = match.group(1) or "==", parse(match.group(2))
        if not _holds(have, op, bound, match.group(2).count(".") + 1):
            return False
    return True


def _holds(have: tuple[int, int, int], op: str, bound: tuple[int, int, int], given: int) -> bool:
    if op == "^":
        upper = (bound[0] + 1, 0, 0) if bound[0] else (0, bound[1] + 1, 0)
        return bound <= have < upper
    if op == "~":
        upper = (bound[0], bound[1] + 1, 0) if given > 1 else (bound[0] + 1, 0, 0)
        return bound <= have < upper
    return {">=": have >= bound, "<=": have <= bound, ">": have > bound, "<": have < bound,
            "==": have == bound, "=": have == bound}[op]
