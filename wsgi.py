"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

from trellis.renderers.app import create_app, settle_heap

app = create_app()
settle_heap()
