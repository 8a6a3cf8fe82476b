"""Hello: the example extension of docs/extensions.md.

It adds a ``hello.mood`` field type (happy, calm or grumpy), a ``before_create`` hook
that refuses records whose name says "spam", and a "greet" action that answers with
a greeting and stamps the record's mood.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trellis.extensions.api import Extension, HookRefused, RecordContext, fields, validate

extension = Extension("hello", "1.0.0", "Hello", description="The example extension: a mood, a spam guard, a greeting.")

MOODS = ("happy", "calm", "grumpy")


def _mood(options: Mapping[str, Any]) -> fields.Field:
    return fields.String(validate=validate.OneOf(MOODS, error="Pick a mood: happy, calm or grumpy."))


extension.field_type("mood", storage="string", widget="text", make_field=_mood, label="Mood")


@extension.hook("before_create")
def no_spam(ctx: RecordContext) -> None:
    """Refuse a record whose name (or any text) says spam, before anything is written."""
    if any(isinstance(value, str) and "spam" in value.lower() for value in ctx.changes.values()):
        raise HookRefused("Hello does not accept spam.", field="name")


@extension.action("greet", "Say hello")
def greet(ctx: RecordContext) -> dict[str, Any]:
    """Greet the record, and cheer it up if it has a mood field."""
    assert ctx.record is not None
    name = ctx.record.get("name") or f"#{ctx.record['id']}"
    greeting = ctx.settings.get("greeting", "Hello")
    if "mood" in ctx.record:
        ctx.records.update(ctx.object, ctx.record["id"], {"mood": "happy"})
    return {"message": f"{greeting}, {name}!"}
