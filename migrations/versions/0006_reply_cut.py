"""Cut replies (issue 18): `turn_result.reply_cut`.

Revision ID: 0006_reply_cut
Revises: 0005_admin_lock
Create Date: 2026-12-07

A reply longer than its target's `max_reply_bytes` (1 MB by default) is stored cut to that
length; `reply_cut` says so (false for every reply stored before). The checks ran on what was
kept, and `run.frame()` shows the column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_reply_cut"
down_revision = "0005_admin_lock"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "turn_result",
        sa.Column("reply_cut", sa.Boolean(), server_default=sa.false(), nullable=False),
        schema="workbench",
    )


def downgrade() -> None:
    op.drop_column("turn_result", "reply_cut", schema="workbench")
