"""Assistants that act (issue 20): scenario extensions and stored tool calls.

Revision ID: 0009_tools
Revises: 0008_reviews
Create Date: 2026-12-07

`workbench.scenario_extension` keeps what a scenario holds beyond the web app's contract, one
JSON document per (scenario, kind, version) written with each version the workbench saves:
kind `tools` holds the scenario's tools, their mocks and its tool checks (attached to an EXPECT
turn by its `ScenarioTurn.id` and position, so an edit made by the web app is noticed, never
misattached). Documents are validated in Python (workbench/services/scenarios/extensions.py);
other kinds (simulated users) reuse the table. The rows go with their scenario (ON DELETE
CASCADE) and carry `user_id`, so `workbench db secure` gives them the per-user policy.

`workbench.tool_call` stores every call a run's assistant made (bounded arguments and results),
and `run_scenario.tools` the tools document a run played with.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

revision = "0009_tools"
down_revision = "0008_reviews"
branch_labels = None
depends_on = None

S = "workbench"


def upgrade() -> None:
    op.create_table(
        "scenario_extension",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("scenario_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", JSONB(), nullable=False),
        sa.Column("created_at", TIMESTAMP(precision=3), nullable=False),
        sa.PrimaryKeyConstraint(
            "scenario_id", "kind", "version", name="scenario_extension_pkey"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="scenario_extension_user_id_fkey",
            ondelete="CASCADE", onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"], ["Scenario.id"], name="scenario_extension_scenario_id_fkey",
            ondelete="CASCADE", onupdate="CASCADE",
        ),
        schema=S,
    )  # fmt: skip
    op.create_index(
        "scenario_extension_user_id_scenario_id_idx",
        "scenario_extension",
        ["user_id", "scenario_id"],
        schema=S,
    )
    op.add_column("run_scenario", sa.Column("tools", JSONB(), nullable=True), schema=S)
    op.create_table(
        "tool_call",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("attempt_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("turn_index", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("call_index", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_s", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="tool_call_pkey"),
        sa.UniqueConstraint(
            "attempt_id", "turn_index", "round", "call_index",
            name="tool_call_attempt_id_turn_index_round_call_index_key",
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"], [f"{S}.run_attempt.id"], name="tool_call_attempt_id_fkey",
            ondelete="CASCADE",
        ),
        schema=S,
    )  # fmt: skip
    op.create_index("tool_call_user_id_run_id_idx", "tool_call", ["user_id", "run_id"], schema=S)


def downgrade() -> None:
    op.drop_table("tool_call", schema=S)
    op.drop_column("run_scenario", "tools", schema=S)
    op.drop_table("scenario_extension", schema=S)
