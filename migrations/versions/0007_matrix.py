"""Matrices of runs (issue 23): one run per prompt x target cell, studied together.

Revision ID: 0007_matrix
Revises: 0006_reply_cut
Create Date: 2026-12-07

A matrix is a row of settings (suite, repeats, judge, concurrency) and its cells, one per
(prompt, target), each pointing at the normal run it started. Both tables carry `user_id`, so
`workbench db secure` gives them the per-user policy; every index starts with it. A cell's run
is not deleted with the matrix, and a deleted run leaves its cell pointing at nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

revision = "0007_matrix"
down_revision = "0006_reply_cut"
branch_labels = None
depends_on = None

S = "workbench"


def user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["user.id"], name=f"{table}_user_id_fkey", ondelete="CASCADE",
        onupdate="CASCADE",
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "run_matrix",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("suite_id", sa.Text(), nullable=False),
        sa.Column("suite_name", sa.Text(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("settings", JSONB(), nullable=False),
        sa.Column("created_at", TIMESTAMP(precision=3), nullable=False),
        sa.PrimaryKeyConstraint("id", name="run_matrix_pkey"),
        user_fk("run_matrix"),
        schema=S,
    )
    op.create_index(
        "run_matrix_user_id_created_at_idx", "run_matrix", ["user_id", "created_at"], schema=S
    )
    op.create_table(
        "run_matrix_cell",
        sa.Column("matrix_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("prompt_id", sa.Text(), nullable=False),
        sa.Column("prompt_name", sa.Text(), nullable=False),
        sa.Column("target", JSONB(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("matrix_id", "position", name="run_matrix_cell_pkey"),
        sa.ForeignKeyConstraint(
            ["matrix_id"],
            [f"{S}.run_matrix.id"],
            name="run_matrix_cell_matrix_id_fkey",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], [f"{S}.run.id"], name="run_matrix_cell_run_id_fkey", ondelete="SET NULL"
        ),
        user_fk("run_matrix_cell"),
        schema=S,
    )
    op.create_index(
        "run_matrix_cell_user_id_matrix_id_idx",
        "run_matrix_cell",
        ["user_id", "matrix_id"],
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("run_matrix_cell", schema=S)
    op.drop_table("run_matrix", schema=S)
