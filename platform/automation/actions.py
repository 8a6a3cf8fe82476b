"""The job of one rule run (kind ``automation.run``): run the rule's actions in order, as its acting user.

Each action goes through the record service (so every check of a person's
edit holds) with ``depth`` one higher than the change that fired the rule, so
the changes it makes carry the chain's length to the rules they fire. The run
row counts the actions done; an attempt after a failure starts at the first
action not done. The last failed attempt leaves the error on the run row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from trellis.metadata.automations import Action, Rule
from trellis.metadata.model import ObjectDef

from ..controlplane.accounts import queue_message
from ..expressions import Context, evaluate
from ..extensions import calls as extension_calls
from ..jobs import JobContext, JobFailed, job_handler
from ..jobs.runner import describe
from ..mail import send_later
from ..records.service import RecordService
from ..runtime import TenantRuntime
from . import runlog, webhooks
from .engine import RUN_KIND

_INTEGERS = ("integer", "lookup")


@job_handler(RUN_KIND)
def run_rule(ctx: JobContext) -> None:
    args = ctx.args
    runtime = ctx.platform.runtime(ctx.tenant)
    run = runlog.get_run(runtime.store, args["run_id"])
    if run is None or run["status"] in runlog.FINISHED:
        return  # finished by an earlier attempt, or the run log was restored without it
    rule = next((r for r in ctx.platform.automation.rules(runtime, args["object"]) if r.name == args["rule"]), None)
    if rule is None:
        _finish(runtime, run["id"], "skipped", "The rule was removed or switched off before it ran.")
        return
    runlog.update_run(runtime.store, run["id"], status="running", attempts=ctx.attempt, started_at=runlog.now())
    service = ctx.platform.records(runtime, ctx.actor, depth=args["depth"] + 1)
    try:
        record = _record(service, runtime, args)
        if record is None:
            _finish(runtime, run["id"], "skipped", "The record was deleted before the rule ran.")
            return
        for index in range(run["actions_done"], len(rule.actions)):
            record = _perform(ctx, service, rule, rule.actions[index], record, run, index)
            runlog.update_run(runtime.store, run["id"], actions_done=index + 1)
    except Exception as error:
        last = ctx.attempt >= args.get("max_attempts", 1)
        runlog.update_run(runtime.store, run["id"], status="failed" if last else "retrying", error=describe(error),
                          finished_at=runlog.now() if last else None)
        raise
    _finish(runtime, run["id"], "succeeded", None)


def _finish(runtime: TenantRuntime, run_id: int, status: str, error: str | None) -> None:
    runlog.update_run(runtime.store, run_id, status=status, error=error, finished_at=runlog.now())


def _record(service: RecordService, runtime: TenantRuntime, args: Mapping[str, Any]) -> dict[str, Any] | None:
    """The record as it is now; a deleted one's values as the deletion left them."""
    if args.get("snapshot") is not None:
        return _revive(runtime.object(args["object"]), args["snapshot"])
    return service.snapshot(args["object"], args["record_id"])


def _perform(ctx: JobContext, service: RecordService, rule: Rule, action: Action, record: dict[str, Any],
             run: Mapping[str, Any], index: int) -> dict[str, Any]:
    """Run one action; returns the record as it is afterwards."""
    context = Context(user_id=ctx.actor.user_id, read=ctx.platform.automation.reader(service.runtime))
    if action.type == "update_fields":
        obj = service.runtime.object(rule.object)
        data = {name: _input(obj, name, evaluate(checked, record, context)) for name, checked in action.values.items()}
        service.update(rule.object, record["id"], data, expected_version=record["version"])
        return service.snapshot(rule.object, record["id"]) or record
    if action.type == "create_record":
        target = service.runtime.object(action.object or "")
        data = {name: _input(target, name, evaluate(checked, record, context))
                for name, checked in action.values.items()}
        service.create(target.api_name, data)
    elif action.type == "send_email":
        texts = {part: evaluate(checked, record, context) or "" for part, checked in action.texts.items()}
        if not texts["to"]:
            raise JobFailed("The email's 'to' expression gave no address.")
        with ctx.platform.control() as session:
            message_id = queue_message(session, texts["to"], texts["subject"], texts["body"]).id
        send_later(ctx.platform, ctx.tenant.slug, message_id)
    elif action.type == "webhook":
        webhooks.send(ctx, service, rule, action, record, run, index)
    elif action.type == "extension_action":
        qualified = f"{action.spec['extension']}.{action.spec['action']}"
        extension_calls.run_action(ctx.platform, service.runtime, ctx.actor, rule.object, record["id"], qualified,
                                   depth=service.depth)
        return service.snapshot(rule.object, record["id"]) or record
    return record


def _input(obj: ObjectDef, name: str, value: Any) -> Any:
    """An evaluated value as the record service takes input (the same shapes a JSON body has)."""
    if isinstance(value, Decimal):
        integral = value == value.to_integral_value()
        return int(value) if obj.field(name).type in _INTEGERS and integral else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _revive(obj: ObjectDef, plain: Mapping[str, Any]) -> dict[str, Any]:
    """A deleted record's values from the job's JSON, typed again as expressions read them."""
    kinds = {f.api_name: f.type for f in obj.fields} | {"created_at": "datetime", "updated_at": "datetime"}
    typed: dict[str, Any] = {}
    for key, value in plain.items():
        kind = kinds.get(key)
        if value is None or not isinstance(value, str) or kind in (None, "text", "long_text", "email", "phone", "url",
                                                                   "picklist", "autonumber"):
            typed[key] = value
        elif kind == "datetime":
            typed[key] = datetime.fromisoformat(value)
        elif kind == "date":
            typed[key] = date.fromisoformat(value)
        else:
            typed[key] = Decimal(value)
    return typed

