"""Administrative locks (issue 18): a row lock no per-user role can take.

Revision ID: 0005_admin_lock
Revises: 0004_response_cache
Create Date: 2026-12-02

`workbench db upgrade`, `workbench db secure` and the sign-in of hub and local users used to
wait on advisory locks, which any role may take (`pg_advisory_lock` is executable by PUBLIC),
so one user's role could stop every upgrade and every other user's server from starting. They
lock a row of `workbench.admin_lock` instead (workbench/db/security/locks.py): `db secure`
gives per-user roles no privilege on it, so they can neither read, lock nor write it. Rows are
made on first use (`schema`, `link:<provider>:<name>`); the table holds nothing else.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_admin_lock"
down_revision = "0004_response_cache"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_lock",
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="admin_lock_pkey"),
        schema="workbench",
    )


def downgrade() -> None:
    op.drop_table("admin_lock", schema="workbench")
