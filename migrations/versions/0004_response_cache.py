"""Response cache, and the indexes that studying runs (issue 12) needs.

Revision ID: 0004_response_cache
Revises: 0003_runs
Create Date: 2026-12-01

`workbench.response_cache` keeps replies a user paid for, keyed by `user_id` first (the RLS
helper applies its `user_id` policy to it like every other table; another user's entries are
never read, even for the same request). The two result indexes let a comparison or a run's frame
read one run's attempts and turns by `(user_id, run_id, ...)` without touching anyone else's.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TIMESTAMP

revision = "0004_response_cache"
down_revision = "0003_runs"
branch_labels = None
depends_on = None

S = "workbench"


def upgrade() -> None:
    op.create_table(
        "response_cache",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("reply_model", sa.Text(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("cost_usd", sa.Double(), nullable=True),
        sa.Column("created_at", TIMESTAMP(precision=3), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key", name="response_cache_pkey"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="response_cache_user_id_fkey",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        schema=S,
    )
    op.create_index(
        "response_cache_user_id_created_at_idx",
        "response_cache",
        ["user_id", "created_at"],
        schema=S,
    )
    op.create_index(
        "run_attempt_user_id_run_id_position_idx",
        "run_attempt",
        ["user_id", "run_id", "position", "repeat"],
        schema=S,
    )
    op.create_index(
        "turn_result_user_id_run_id_attempt_id_idx",
        "turn_result",
        ["user_id", "run_id", "attempt_id", "turn_index"],
        schema=S,
    )


def downgrade() -> None:
    op.drop_index("turn_result_user_id_run_id_attempt_id_idx", "turn_result", schema=S)
    op.drop_index("run_attempt_user_id_run_id_position_idx", "run_attempt", schema=S)
    op.drop_table("response_cache", schema=S)
