"""Handlers by kind: ``@job_handler("kind")`` registers a function when its module is imported.

A worker process must import a module to know its handlers, so the modules are
named: the built-in ones below, and any listed in ``TRELLIS_JOB_MODULES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import FieldProblem, InvalidInput

if TYPE_CHECKING:
    from .context import JobContext

Handler = Callable[["JobContext"], Any]

#: Modules of Trellis itself that register handlers.
BUILTIN_MODULES = ("trellis.platform.jobs.diagnostics", "trellis.platform.conversion_job",
                   "trellis.platform.imports.run", "trellis.platform.automation.actions",
                   "trellis.platform.automation.webhooks", "trellis.platform.exports.job",
                   "trellis.platform.extensions.jobs", "trellis.platform.mail")

_handlers: dict[str, Handler] = {}


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of jobs of ``kind`` (one handler per kind)."""

    def register(function: Handler) -> Handler:
        existing = _handlers.get(kind)
        if existing is not None and existing is not function:
            name = f"{existing.__module__}.{existing.__qualname__}"
            raise ValueError(f"Job kind {kind!r} already has a handler: {name}.")
        _handlers[kind] = function
        return function

    return register


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


def known_kinds() -> list[str]:
    return sorted(_handlers)


def load_modules(extra: Iterable[str] = ()) -> None:
    """Import the built-in handler modules and ``extra`` ones, so their handlers are registered."""
    for module in (*BUILTIN_MODULES, *extra):
        importlib.import_module(module)


def check_kind(kind: str) -> None:
    """Refuse to enqueue a kind nobody registered: it would only fail later, far from the mistake."""
    if kind not in _handlers:
        known = ", ".join(known_kinds()) or "none"
        raise InvalidInput(f"There is no job handler for {kind!r}.", [FieldProblem(
            "kind", f"Use a registered kind ({known}), or import the module that registers it "
                    "(TRELLIS_JOB_MODULES for workers).")])
