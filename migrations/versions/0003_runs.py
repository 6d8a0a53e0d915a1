"""Runs: the run ledger (attempts claimed with a lease) and its results.

Revision ID: 0003_runs
Revises: 0002_sign_in_throttle
Create Date: 2026-12-01

Only the `workbench` schema is touched. Every table carries `user_id` and every index starts
with it (row-level security policies and the per-user queries of issue 12 rely on both).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

revision = "0003_runs"
down_revision = "0002_sign_in_throttle"
branch_labels = None
depends_on = None

S = "workbench"


def ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, TIMESTAMP(precision=3), nullable=nullable)


def text(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def integer(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=name)


def upgrade() -> None:
    create_run()
    create_run_scenario()
    create_run_attempt()
    create_turn_result()
    create_expectation_result()


def create_run() -> None:
    op.create_table(
        "run",
        text("id"),
        text("user_id"),
        text("suite_id"),
        text("suite_name"),
        text("prompt_id"),
        text("prompt_name"),
        ts("prompt_updated_at", nullable=False),
        text("system_text"),
        text("system_sha256"),
        sa.Column("target", JSONB(), nullable=False),
        sa.Column("judge", JSONB(), nullable=True),
        text("judge_prompt_version", nullable=True),
        integer("repeats"),
        sa.Column("options", JSONB(), nullable=False),
        text("status"),
        ts("created_at", nullable=False),
        ts("started_at"),
        ts("finished_at"),
        sa.Column("totals", JSONB(), nullable=True),
        text("owner", nullable=True),
        ts("heartbeat_at"),
        sa.PrimaryKeyConstraint("id", name="run_pkey"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="run_user_id_fkey",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        one_of("status", ("running", "finished", "cancelled", "interrupted"), "run_status_check"),
        schema=S,
    )
    op.create_index("run_user_id_created_at_idx", "run", ["user_id", "created_at"], schema=S)
    op.create_index(
        "run_user_id_suite_id_created_at_idx",
        "run",
        ["user_id", "suite_id", "created_at"],
        schema=S,
    )


def create_run_scenario() -> None:
    op.create_table(
        "run_scenario",
        text("run_id"),
        integer("position"),
        text("user_id"),
        text("scenario_id"),
        text("scenario_name"),
        integer("scenario_version"),
        sa.Column("turns", JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "position", name="run_scenario_pkey"),
        sa.ForeignKeyConstraint(
            ["run_id"], [f"{S}.run.id"], name="run_scenario_run_id_fkey", ondelete="CASCADE"
        ),
        schema=S,
    )
    op.create_index(
        "run_scenario_user_id_run_id_idx", "run_scenario", ["user_id", "run_id"], schema=S
    )


def create_run_attempt() -> None:
    op.create_table(
        "run_attempt",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        text("run_id"),
        text("user_id"),
        integer("position"),
        text("scenario_id"),
        integer("repeat"),
        text("status"),
        text("lease_owner", nullable=True),
        ts("lease_expires_at"),
        integer("tries"),
        text("error", nullable=True),
        ts("started_at"),
        ts("finished_at"),
        sa.Column("latency_s", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="run_attempt_pkey"),
        sa.ForeignKeyConstraint(
            ["run_id"], [f"{S}.run.id"], name="run_attempt_run_id_fkey", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("run_id", "position", "repeat", name="run_attempt_run_id_position_key"),
        one_of(
            "status",
            ("pending", "claimed", "passed", "failed", "error", "cancelled"),
            "run_attempt_status_check",
        ),
        schema=S,
    )
    op.create_index(
        "run_attempt_user_id_run_id_status_idx",
        "run_attempt",
        ["user_id", "run_id", "status"],
        schema=S,
    )


def result_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("attempt_id", sa.BigInteger(), nullable=False),
        text("run_id"),
        text("user_id"),
        integer("turn_index"),
    ]


def create_turn_result() -> None:
    op.create_table(
        "turn_result",
        *result_columns(),
        integer("message_count"),
        text("model", nullable=True),
        text("reply", nullable=True),
        sa.Column("latency_s", sa.Double(), nullable=True),
        integer("prompt_tokens", nullable=True),
        integer("completion_tokens", nullable=True),
        sa.Column("cost_usd", sa.Double(), nullable=True),
        sa.Column("cached", sa.Boolean(), nullable=False),
        text("error", nullable=True),
        sa.PrimaryKeyConstraint("id", name="turn_result_pkey"),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            [f"{S}.run_attempt.id"],
            name="turn_result_attempt_id_fkey",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "attempt_id", "turn_index", name="turn_result_attempt_id_turn_index_key"
        ),
        schema=S,
    )
    op.create_index(
        "turn_result_user_id_run_id_idx", "turn_result", ["user_id", "run_id"], schema=S
    )


def create_expectation_result() -> None:
    op.create_table(
        "expectation_result",
        *result_columns(),
        integer("expectation_index"),
        text("type"),
        text("status"),
        sa.Column("detail", JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="expectation_result_pkey"),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            [f"{S}.run_attempt.id"],
            name="expectation_result_attempt_id_fkey",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "attempt_id",
            "turn_index",
            "expectation_index",
            name="expectation_result_attempt_id_turn_index_expectation_index_key",
        ),
        one_of("status", ("PASSED", "FAILED", "ERROR"), "expectation_result_status_check"),
        schema=S,
    )
    op.create_index(
        "expectation_result_user_id_run_id_idx",
        "expectation_result",
        ["user_id", "run_id"],
        schema=S,
    )


def downgrade() -> None:
    for table in ("expectation_result", "turn_result", "run_attempt", "run_scenario", "run"):
        op.drop_table(table, schema=S)
