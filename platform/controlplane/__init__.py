"""The control plane: tenants, users, memberships and API tokens.

These are ordinary SQLAlchemy models migrated by Alembic; they live in one
database (``Settings.control_plane_url``) apart from the tenants' own data.
"""
