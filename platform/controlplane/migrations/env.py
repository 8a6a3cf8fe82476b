"""Alembic environment for the control plane, driven from code only.

Trellis runs migrations itself (``trellis.platform.controlplane.db.upgrade``),
passing an open connection in ``config.attributes["connection"]``; the caller's
transaction then covers every migration, so a failed upgrade leaves nothing
half done. There is deliberately no alembic.ini and no offline mode.
"""

from alembic import context

from trellis.platform.controlplane.tables import ControlBase

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "The control-plane migrations need a connection in "
        "config.attributes['connection']; run them with "
        "trellis.platform.controlplane.db.upgrade(engine)."
    )

context.configure(
    connection=connection,
    target_metadata=ControlBase.metadata,
    # SQLite can only alter tables by copying them; batch mode does that.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
