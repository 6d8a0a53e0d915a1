"""Sign-in throttle: failed password sign-ins, shared by every kernel on the database.

Revision ID: 0002_sign_in_throttle
Revises: 0001_contract
Create Date: 2026-11-27

Only the `workbench` schema is touched; `public` stays exactly the contract.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TIMESTAMP

revision = "0002_sign_in_throttle"
down_revision = "0001_contract"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("failed_at", TIMESTAMP(precision=3), nullable=False),
        sa.PrimaryKeyConstraint("id", name="sign_in_failure_pkey"),
        schema="workbench",
    )
    op.create_index(
        "sign_in_failure_email_failed_at_idx",
        "sign_in_failure",
        ["email", "failed_at"],
        schema="workbench",
    )


def downgrade() -> None:
    op.drop_table("sign_in_failure", schema="workbench")
