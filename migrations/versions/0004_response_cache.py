"""Response cache (issue 12).

Revision ID: 0004_response_cache
Revises: 0003_runs
Create Date: 2026-12-01

`workbench.response_cache` keeps replies a user paid for, keyed by `user_id` first (the RLS
helper applies its `user_id` policy to it like every other table; another user's entries are
never read, even for the same request). Studying runs needs no index beyond 0003's: every
statement filters each table by `(user_id, run_id)`, which 0003's indexes start with
(bench/bench_analysis.py checks the plans at 480,000 results).
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


def downgrade() -> None:
    op.drop_table("response_cache", schema=S)
