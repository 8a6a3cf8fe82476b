"""Generated screens: each tenant's CRM as flask-admin pages built from its metadata.

``mount_screens`` wraps the outer WSGI app so that ``/t/<slug>/`` (but not
``/t/<slug>/api/``) is answered by that tenant's own small Flask app, built
from its current metadata revision and cached per (tenant, revision).
"""

from .dispatch import ScreenDispatcher, mount_screens

__all__ = ["ScreenDispatcher", "mount_screens"]
