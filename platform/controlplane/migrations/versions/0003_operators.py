"""Operators and tenant moves: users.is_operator, operator_tokens, tenants.moving_to.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("is_operator", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("tenants", sa.Column("moving_to", sa.String(100), nullable=True))
    op.create_table(
        "operator_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_operator_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_operator_tokens_token_hash")),
    )
    op.create_index(op.f("ix_operator_tokens_user_id"), "operator_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_table("operator_tokens")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("moving_to")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_operator")
