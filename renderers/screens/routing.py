"""URL rules whose URL builders are compiled the first time a URL is built from them.

Werkzeug compiles two small Python functions per rule (to build its URL with and
without extra arguments) as soon as the rule is added. A tenant's screens app has
about ten rules per object and is rebuilt after every configuration change, and a
page builds URLs from only a few dozen of its ~200 rules, so compiling them all up
front was the largest part of the first screen's wait after a change
(``python -m bench tenants``: ``first_screen_after_revision_ms``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule


class LazyBuildRule(Rule):
    """A ``Rule`` that defers ``_compile_builder`` (a Werkzeug internal) until the builder is first called."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compile_now = super()._compile_builder
        attribute = "_build_unknown" if append_unknown else "_build"

        def build(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            real = compile_now(append_unknown).__get__(rule, None)
            setattr(rule, attribute, real)  # later calls go straight to the compiled builder
            return real(*args, **kwargs)

        return build
