"""The application factory: one Flask app for the API, with tenants' screens mounted beside it."""

from __future__ import annotations

import gc
from pathlib import Path

from flask import Flask, render_template_string

from trellis.platform.config import Settings
from trellis.platform.core import Platform
from trellis.tenants.registry import list_tenants

_INDEX = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Trellis</title></head>
<body><h1>Trellis</h1><ul>{% for t in tenants %}
<li><a href="/t/{{ t.slug }}/">{{ t.name }}</a></li>{% else %}<li>No tenants yet: run <code>trellis demo</code>.</li>
{% endfor %}</ul></body></html>"""


def settle_heap() -> None:
    """Call once when a server process has loaded its app, before it serves.

    Moves everything allocated so far (imports, the app, the control plane's
    state) out of reach of CPython's cyclic garbage collector (``gc.freeze``).
    Building a tenant's screens allocates enough to trigger full collections,
    which would otherwise rescan that whole long-lived heap each time: about half
    of the first screen's wait after a configuration change (``bench tenants``).
    """
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> Flask:
    """Build the WSGI app: ``/t/<tenant>/api/v1/`` is the REST API, ``/t/<tenant>/`` the screens."""
    platform = platform or Platform(settings)
    platform.migrate()
    # ``trellis`` is a namespace package (the layers have no __init__.py): Flask cannot find its folders itself.
    app = Flask("trellis", root_path=str(Path(__file__).resolve().parent),
                instance_path=str(Path(platform.settings.data_dir).resolve()))
    app.config.update(SECRET_KEY=platform.settings.secret_key, JSON_SORT_KEYS=False)
    app.extensions["trellis"] = platform

    from .api import api_blueprint
    from .api.extensions import routes_blueprint as extension_routes
    from .api.operator import operator_blueprint
    from .gateway import mount_gateway
    from .screens import mount_screens

    app.register_blueprint(api_blueprint(), url_prefix="/t/<tenant>/api/v1")
    app.register_blueprint(extension_routes(), url_prefix="/t/<tenant>/api/v1/x")
    app.register_blueprint(operator_blueprint(), url_prefix="/api/v1/tenants")
    app.wsgi_app = mount_screens(app.wsgi_app, platform)
    app.wsgi_app = mount_gateway(app.wsgi_app, platform)  # subdomains and tenant status, outermost

    @app.get("/")
    def index() -> str:
        return render_template_string(_INDEX, tenants=[t for t in list_tenants(platform) if t.status == "active"])

    return app
