"""The templates API: list shipped and installed templates, install/upgrade/uninstall (``?dry_run=true``), export.

Admin-only except the list. A shipped template is named in the path; a partner's
own package can be sent as the body with ``Content-Type: application/zip`` to
``/templates/package/install`` or ``…/upgrade``. Conflicts of an upgrade come back as a
409 problem listing each conflict's key; send ``{"resolutions": {key: "template" |
"tenant"}}`` (or, with a zip body, ``?resolve=<key>=<choice>`` per conflict) to decide
them. Export answers a deterministic zip.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, Response, request

from trellis.metadata.validation import schema_problems
from trellis.platform.errors import FieldProblem, Forbidden, InvalidInput
from trellis.tenants.packages import catalog, state
from trellis.tenants.packages.export import export_package
from trellis.tenants.packages.install import install
from trellis.tenants.packages.package import Package, package_files, read_package, zip_bytes
from trellis.tenants.packages.uninstall import uninstall
from trellis.tenants.packages.upgrade import upgrade

from .auth import caller
from .payload import flag, json_object, json_response


def list_templates() -> Response:
    who = caller()
    available = [{"name": p.name, "version": p.version, "title": p.manifest.get("title"),
                  "description": p.manifest.get("description", ""), "publisher": p.manifest.get("publisher", "")}
                 for p in catalog.available()]
    installed = [{"name": name, "version": row["version"], "status": row["status"], "revision": row["revision"],
                  "installed_at": row["installed_at"], "updated_at": row["updated_at"]}
                 for name, row in state.installed(who.runtime().store).items()]
    return json_response({"data": {"available": available, "installed": installed}})


def install_template(name: str) -> Response:
    who = _admin()
    body = _body()
    outcome = install(who.platform, who.tenant.slug, _package(name), who.actor, dry_run=_dry_run(),
                      with_data=flag("with_data", str(body.get("with_data", True)).lower()))
    return json_response({"data": outcome.as_dict()}, 200 if outcome.dry_run else 201)


def upgrade_template(name: str) -> Response:
    who = _admin()
    resolutions = _body().get("resolutions") or {}
    resolutions = resolutions if isinstance(resolutions, dict) else {}
    resolutions |= dict(item.rsplit("=", 1) for item in request.args.getlist("resolve") if "=" in item)
    outcome = upgrade(who.platform, who.tenant.slug, _package(name), who.actor, dry_run=_dry_run(),
                      resolutions=resolutions)
    return json_response({"data": outcome.as_dict()})


def uninstall_template(name: str) -> Response:
    who = _admin()
    outcome = uninstall(who.platform, who.tenant.slug, name, who.actor, dry_run=_dry_run())
    return json_response({"data": outcome.as_dict()})


def export_template() -> Response:
    who = _admin()
    body = json_object()
    manifest = _manifest(body)
    package = export_package(who.platform, who.tenant.slug, who.actor, **manifest,
                             objects=_names(body, "objects"), definitions=_names(body, "definitions"),
                             with_data=bool(body.get("data", False)))
    content = zip_bytes(package_files(package))
    return Response(content, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{package.name}-{package.version}.zip"'})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/templates", view_func=list_templates, methods=["GET"])
    bp.add_url_rule("/templates/export", view_func=export_template, methods=["POST"])
    bp.add_url_rule("/templates/<name>/install", view_func=install_template, methods=["POST"])
    bp.add_url_rule("/templates/<name>/upgrade", view_func=upgrade_template, methods=["POST"])
    bp.add_url_rule("/templates/<name>/uninstall", view_func=uninstall_template, methods=["POST"])


def _admin():
    who = caller()
    if who.role != "admin":
        raise Forbidden("Only an admin of this CRM can install, upgrade, uninstall or export templates.")
    return who


def _manifest(body: dict) -> dict[str, str]:
    """The exported package's name, version and title, checked as a manifest is (the name ends up in a header)."""
    manifest = {"name": body.get("name", "export"), "version": body.get("version", "1.0.0")}
    manifest["title"] = body.get("title") or manifest["name"]
    problems = schema_problems(manifest, "template_manifest")[0]
    if problems:
        raise InvalidInput("The package's name, version or title cannot be used.",
                           [FieldProblem(p.path.removeprefix("$."), p.message) for p in problems])
    return manifest


def _names(body: dict, key: str) -> list[str] | None:
    """``body[key]`` as a list of names (None when absent); anything else is refused, naming the key."""
    value = body.get(key)
    if value is not None and not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        raise InvalidInput(f"Bad {key}.", [FieldProblem(key, f'Send "{key}" as a list of names, or leave it out.')])
    return value


def _dry_run() -> bool:
    return flag("dry_run", request.args.get("dry_run", "false"))


def _body() -> dict:
    return json_object() if request.content_length and request.is_json else {}


def _package(name: str) -> Package:
    """The uploaded zip (for the name ``package``) or the shipped template called ``name``."""
    if name == "package" and request.mimetype == "application/zip":
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "package.zip"
            path.write_bytes(request.get_data())
            return read_package(path)
    return read_package(catalog.locate_shipped(name))
