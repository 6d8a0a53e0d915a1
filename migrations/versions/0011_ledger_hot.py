"""The ledger's status updates stay HOT (issue 24).

Revision ID: 0011_ledger_hot
Revises: 0010_simulated_users
Create Date: 2026-12-07

An attempt's row is updated twice as it is played (claimed, then finished) and again by each
heartbeat while it is held. `run_attempt_user_id_run_id_status_idx` indexed `status`, so every
one of those updates wrote a new entry into each of the table's three indexes (a non-HOT
update). It is replaced by `run_attempt_user_id_run_id_id_idx` on (user_id, run_id, id): a claim
walks it in ledger order and stops at its batch (no sort), and no column an update changes is
indexed. `fillfactor = 30` leaves room on each page for the new versions, which PostgreSQL
then keeps on the same page (heap-only tuples), with no index write at all: an attempt's row
lives as up to three versions at once (pending, claimed, finished) while any open snapshot in
the database keeps the page from being pruned; at 70 and 50, a third to a half of the updates
still left the page (bench/bench_ledger.py). The table is narrow: about 15 MB per 20,000
attempts instead of 5.
"""

from __future__ import annotations

from alembic import op

revision = "0011_ledger_hot"
down_revision = "0010_simulated_users"
branch_labels = None
depends_on = None

S = "workbench"


def upgrade() -> None:
    op.drop_index("run_attempt_user_id_run_id_status_idx", "run_attempt", schema=S)
    op.create_index(
        "run_attempt_user_id_run_id_id_idx", "run_attempt", ["user_id", "run_id", "id"], schema=S
    )
    # Only pages written from now on keep the room; existing ones fill up as before.
    op.execute(f"ALTER TABLE {S}.run_attempt SET (fillfactor = 30)")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {S}.run_attempt RESET (fillfactor)")
    op.drop_index("run_attempt_user_id_run_id_id_idx", "run_attempt", schema=S)
    op.create_index(
        "run_attempt_user_id_run_id_status_idx",
        "run_attempt",
        ["user_id", "run_id", "status"],
        schema=S,
    )
