"""Reviews (issue 26): people's labels on run results, and every change to them.

Revision ID: 0008_reviews
Revises: 0007_matrix
Create Date: 2026-12-07

`review_label` holds one current label per user and expectation result (pass, fail or unsure,
with a bounded comment); the judge's verdict stays in `expectation_result`, untouched. The
label row also keeps a copy of what it was given against (the result's type and status, the
judge's prompt version, threshold and score: a result never changes once written), so
agreement over 100,000 labels reads one table through one index, with no join
(bench/bench_review.py).
`review_label_change` keeps every label ever given, with who and when. Both carry `user_id`
(the row-level security policy is the plain `user_id` check) and `run_id`, so agreement over a
run reads them through indexes that start with `(user_id, run_id)`. A result deleted with its
run takes its labels and their history with it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TIMESTAMP

revision = "0008_reviews"
down_revision = "0007_matrix"
branch_labels = None
depends_on = None

S = "workbench"
LABELS = "label IN ('pass', 'fail', 'unsure')"
COMMENT_LIMIT = "comment IS NULL OR char_length(comment) <= 2000"


def columns(table: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("result_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=f"{table}_user_id_fkey",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            [f"{S}.expectation_result.id"],
            name=f"{table}_result_id_fkey",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(LABELS, name=f"{table}_label_check"),
        sa.CheckConstraint(COMMENT_LIMIT, name=f"{table}_comment_check"),
    ]


def upgrade() -> None:
    op.create_table(
        "review_label",
        *columns("review_label"),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("judge_status", sa.Text(), nullable=False),
        sa.Column("judge_prompt_version", sa.Text(), nullable=True),
        sa.Column("threshold", sa.Double(), nullable=True),
        sa.Column("judge_score", sa.Double(), nullable=True),
        sa.Column("labelled_by", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP(precision=3), nullable=False),
        sa.Column("updated_at", TIMESTAMP(precision=3), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "result_id", name="review_label_pkey"),
        schema=S,
    )
    op.create_index(
        "review_label_user_id_run_id_idx", "review_label", ["user_id", "run_id"], schema=S
    )
    op.create_table(
        "review_label_change",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        *columns("review_label_change"),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("changed_at", TIMESTAMP(precision=3), nullable=False),
        sa.PrimaryKeyConstraint("id", name="review_label_change_pkey"),
        schema=S,
    )
    op.create_index(
        "review_label_change_user_id_result_id_idx",
        "review_label_change",
        ["user_id", "result_id", "id"],
        schema=S,
    )
    op.create_index(
        "review_label_change_user_id_run_id_idx",
        "review_label_change",
        ["user_id", "run_id"],
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("review_label_change", schema=S)
    op.drop_table("review_label", schema=S)
