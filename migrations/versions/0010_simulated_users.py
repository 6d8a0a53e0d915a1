"""Users who leave the script (issue 21): conversations played with a simulated user.

Revision ID: 0010_simulated_users
Revises: 0009_tools
Create Date: 2026-12-07

`workbench.conversation_result` keeps one row per simulated block of an attempt: how many turns
the simulated user played, how the block ended (goal_reached, gave_up, max_turns, error), the
simulator's reason, the transcript of the block (every simulated message and reply), and the
simulator's model, prompt version, tokens and cost. The block's target usage is summed into its
`turn_result` row, as tool rounds are. `expectation_result.status` also takes INCONCLUSIVE: a
conversation criterion's own verdict, never counted as failed. Simulated blocks themselves are
scenario extensions (kind "simulated", 0009's table): no table of their own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010_simulated_users"
down_revision = "0009_tools"
branch_labels = None
depends_on = None

S = "workbench"
CHECK = "expectation_result_status_check"


def upgrade() -> None:
    op.drop_constraint(CHECK, "expectation_result", schema=S)
    op.create_check_constraint(
        CHECK, "expectation_result", "status IN ('PASSED', 'FAILED', 'ERROR', 'INCONCLUSIVE')",
        schema=S,
    )  # fmt: skip
    op.create_table(
        "conversation_result",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("attempt_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("turn_index", sa.Integer(), nullable=False),
        sa.Column("turns_played", sa.Integer(), nullable=False),
        sa.Column("ending", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("transcript", JSONB(), nullable=False),
        sa.Column("simulator_model", sa.Text(), nullable=True),
        sa.Column("simulator_prompt_version", sa.Text(), nullable=False),
        sa.Column("simulator_calls", sa.Integer(), nullable=False),
        sa.Column("simulator_prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("simulator_completion_tokens", sa.Integer(), nullable=True),
        sa.Column("simulator_cost_usd", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="conversation_result_pkey"),
        sa.UniqueConstraint(
            "attempt_id", "turn_index", name="conversation_result_attempt_id_turn_index_key"
        ),
        sa.CheckConstraint(
            "ending IN ('goal_reached', 'gave_up', 'max_turns', 'error')",
            name="conversation_result_ending_check",
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"], [f"{S}.run_attempt.id"], name="conversation_result_attempt_id_fkey",
            ondelete="CASCADE",
        ),
        schema=S,
    )  # fmt: skip
    op.create_index(
        "conversation_result_user_id_run_id_idx",
        "conversation_result",
        ["user_id", "run_id"],
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("conversation_result", schema=S)
    op.execute(f"DELETE FROM {S}.expectation_result WHERE status = 'INCONCLUSIVE'")
    op.drop_constraint(CHECK, "expectation_result", schema=S)
    op.create_check_constraint(
        CHECK, "expectation_result", "status IN ('PASSED', 'FAILED', 'ERROR')", schema=S
    )
