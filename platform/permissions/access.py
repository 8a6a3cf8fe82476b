"""One user's access in one tenant: object permissions, field-level security and the record predicates.

The record service asks an ``Access`` (``Actor.access``) before every read and write; ``UNRESTRICTED``
answers "yes" to everything (admins, the platform's own jobs, tenants without roles). Reads add
``read_predicate`` to their SELECT, so lists, search, lookups, reports and exports see the same rows;
writes check ``edit_predicate`` on the record inside the write's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, false, or_, select, true

from trellis.metadata.expressions import ExpressionError
from trellis.metadata.model import ObjectDef

from ..errors import FieldProblem, Forbidden, InvalidInput, NotFound
from ..expressions import Context, to_condition
from ..records.query import Source, Where
from .plan import RolePlan

_VERBS = {"create": "create", "read": "see", "edit": "change", "delete": "delete"}


class Unrestricted:
    """Full access: every object, field, record and move."""

    def resolve(self, runtime: Any) -> Unrestricted | None:
        """This access, for the record service of ``runtime`` (``MemberRoles`` compiles one there)."""
        return self

    def require(self, obj: ObjectDef, permission: str) -> None:
        """Allowed."""

    def allows(self, obj: ObjectDef, permission: str) -> bool:
        return True

    def visible(self, obj: ObjectDef) -> ObjectDef:
        return obj

    def hidden(self, obj: ObjectDef) -> frozenset[str]:
        return frozenset()

    def read_predicate(self, obj: ObjectDef, source: Source) -> ColumnElement[bool]:
        return true()

    def check_where(self, where: Where | None) -> None:
        """Anything that checks may be asked."""

    def check_input(self, obj: ObjectDef, data: Mapping[str, Any], creating: bool) -> None:
        """Every field may be written."""

    def check_edit(self, conn: Connection, obj: ObjectDef, source: Source, current: Mapping[str, Any],
                   values: Mapping[str, Any] | None) -> None:
        """Every record may be changed."""

    def strip(self, obj: ObjectDef, record: dict[str, Any]) -> dict[str, Any]:
        return record

    def layout(self, obj: ObjectDef) -> str | None:
        return None

    def read_only(self, obj: ObjectDef) -> frozenset[str]:
        return frozenset()


UNRESTRICTED = Unrestricted()


@dataclass(frozen=True)
class Access(Unrestricted):
    """A user's access: the compiled plan of their roles and the owners whose records the hierarchy opens."""

    user_id: int
    plan: RolePlan
    #: The user and the holders of the roles below theirs (read), and those whose records they may edit.
    read_owners: frozenset[int]
    edit_owners: frozenset[int]

    def allows(self, obj: ObjectDef, permission: str) -> bool:
        return self.plan.grant(obj.api_name).can(permission)

    def require(self, obj: ObjectDef, permission: str) -> None:
        if not self.allows(obj, permission):
            raise Forbidden(f"Your roles do not allow you to {_VERBS[permission]} {obj.plural_title('en')}; "
                            "ask an administrator for a role that does.")

    def visible(self, obj: ObjectDef) -> ObjectDef:
        """The object as the user sees it: no hidden fields (no fields at all when they cannot read it)."""
        return self.plan.visible.get(obj.api_name) or replace(obj, fields=())

    def hidden(self, obj: ObjectDef) -> frozenset[str]:
        levels = self.plan.grant(obj.api_name).levels
        return frozenset(name for name, level in levels.items() if level == "hidden")

    def read_only(self, obj: ObjectDef) -> frozenset[str]:
        levels = self.plan.grant(obj.api_name).levels
        return frozenset(levels) | frozenset(f.api_name for f in obj.fields if f.kind.computed)

    def layout(self, obj: ObjectDef) -> str | None:
        return self.plan.grant(obj.api_name).layout

    def read_predicate(self, obj: ObjectDef, source: Source) -> ColumnElement[bool]:
        grant = self.plan.grant(obj.api_name)
        if not grant.can("read"):
            return false()
        if grant.can("view_all") or self.plan.defaults.get(obj.api_name) != "private":
            return true()
        return self._shared(obj, source, self.read_owners, ("read", "edit"))

    def edit_predicate(self, obj: ObjectDef, source: Source) -> ColumnElement[bool]:
        grant = self.plan.grant(obj.api_name)
        if not grant.can("edit"):
            return false()
        if grant.can("modify_all") or self.plan.defaults.get(obj.api_name) == "public_read_write":
            return true()
        return self._shared(obj, source, self.edit_owners, ("edit",))

    def _shared(self, obj: ObjectDef, source: Source, owners: frozenset[int],
                accesses: tuple[str, ...]) -> ColumnElement[bool]:
        """Records owned by these users or matching a sharing rule that grants one of ``accesses``."""
        table = getattr(source.table, "element", source.table)  # a lookup path reads an alias of the table
        tables = {t.name: t for t in table.metadata.tables.values()}
        context = Context(user_id=self.user_id)
        conditions = [source.table.c.owner.in_(sorted(owners))]
        for rule in self.plan.rules.get(obj.api_name, ()):
            if rule.access in accesses:
                try:
                    conditions.append(to_condition(rule.checked, source, context, tables))  # type: ignore[arg-type]
                except ExpressionError:  # too complex once compiled: the rule shares nothing
                    continue
        return or_(*conditions)

    def check_where(self, where: Where | None) -> None:
        """A ``where=`` may only read fields the user sees (checked on the compiled paths, whatever the door)."""
        if where is None:
            return
        for steps in where.checked.paths.values():
            for step in steps:
                visible = self.plan.visible.get(step.object)
                if visible is None or not (visible.has_field(step.field) or step.field in _SYSTEM):
                    raise InvalidInput("The where expression cannot be used.", [FieldProblem(
                        "where", f"'{step.field}' is not a field of {step.object}; check the spelling.")])

    def check_input(self, obj: ObjectDef, data: Mapping[str, Any], creating: bool) -> None:
        """Hidden fields read as unknown, read-only ones are refused by name; ``owner`` needs modify_all."""
        self.require(obj, "create" if creating else "edit")
        if not isinstance(data, Mapping):
            return
        grant = self.plan.grant(obj.api_name)
        problems = []
        for name in data:
            level = grant.levels.get(name)
            if level == "hidden":
                problems.append(FieldProblem(name, f"'{name}' is not a field of {obj.title('en')}; check the "
                                             "spelling or add the field first."))
            elif level == "read_only":
                problems.append(FieldProblem(name, f"{obj.field(name).title('en')} is read-only for your roles; "
                                             "remove it from the change."))
        if creating and data.get("owner", self.user_id) != self.user_id and not grant.can("modify_all"):
            problems.append(_owner_problem(obj))
        if problems:
            raise InvalidInput("Your roles do not allow these changes.", problems)

    def check_edit(self, conn: Connection, obj: ObjectDef, source: Source, current: Mapping[str, Any],
                   values: Mapping[str, Any] | None) -> None:
        """Inside the write: the record must be one the user may edit (unreadable ones are not found at all),
        and each stage move must be one the user's roles allow; ``values`` is None for a delete."""
        if values is None:
            self.require(obj, "delete")
        record_id = current["id"]
        by_id = source.table.c.id == record_id
        if conn.execute(select(source.table.c.id).where(by_id, self.edit_predicate(obj, source))).first() is None:
            if conn.execute(select(source.table.c.id).where(by_id, self.read_predicate(obj, source))).first() is None:
                raise NotFound(f"There is no {obj.title('en')} with id {record_id}.")
            raise Forbidden(f"You may see this {obj.title('en')} but not change it; its owner or a manager can.")
        if values is not None:
            self._check_change(obj, current, values)

    def _check_change(self, obj: ObjectDef, current: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """Stage moves against the roles' allowed transitions; a new owner only with modify_all."""
        problems = []
        if values.get("owner", current["owner"]) != current["owner"] and not self.plan.grant(obj.api_name).can(
                "modify_all"):
            problems.append(_owner_problem(obj))
        for name, moves in self.plan.grant(obj.api_name).stage_moves.items():
            old, new = current.get(name), values.get(name, current.get(name))
            if new != old and new not in moves.get(old, frozenset()):
                allowed = ", ".join(sorted(moves.get(old, ()))) or "none"
                problems.append(FieldProblem(name, f"Your roles may not move {obj.field(name).title('en')} from "
                                             f"{old!r} to {new!r}; moves allowed from {old!r}: {allowed}."))
        if problems:
            raise InvalidInput("Your roles do not allow this change.", problems)

    def strip(self, obj: ObjectDef, record: dict[str, Any]) -> dict[str, Any]:
        hidden = self.hidden(obj)
        return {key: value for key, value in record.items() if key not in hidden} if hidden else record


_SYSTEM = frozenset(("id", "owner", "created_at", "created_by", "updated_at", "updated_by", "version"))


def owners_under(plan: RolePlan, user_id: int, members: Iterable[tuple[int, Iterable[str]]]) -> tuple[
        frozenset[int], frozenset[int]]:
    """(users whose records the hierarchy lets this user read, … edit), always including the user."""
    read, edit = {user_id}, {user_id}
    for member, roles in members:
        held = set(roles or ())
        if held & plan.below_read:
            read.add(member)
        if held & plan.below_edit:
            edit.add(member)
    return frozenset(read), frozenset(edit)


def _owner_problem(obj: ObjectDef) -> FieldProblem:
    return FieldProblem("owner", f"Only users who may modify all {obj.plural_title('en')} can give a record to "
                        "someone else.")
