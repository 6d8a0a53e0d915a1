"""Runs: the ledger of attempts and their results, in the `workbench` schema.

Every table carries `user_id` even where a parent row already names the user: row-level
security policies are plain `user_id = <current user>` checks, and the queries that study runs
(issue 12) filter by user first, so every index starts with `user_id`.

The ledger (`run_attempt`) is what executors claim with a lease; results are unique per
(attempt, turn) and (attempt, turn, expectation), so whoever writes a result first wins and a
second writer's insert is a no-op. Statuses are text with CHECK constraints rather than enum
types: they are ours, not the contract's, and adding a state must not need `ALTER TYPE`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from workbench.db.base import WORKBENCH_SCHEMA, Base, UTCDateTime

RUN_STATUSES = ("running", "finished", "cancelled", "interrupted")
ATTEMPT_STATUSES = ("pending", "claimed", "passed", "failed", "error", "cancelled")
RESULT_STATUSES = ("PASSED", "FAILED", "ERROR", "INCONCLUSIVE")


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


def _user_fk() -> ForeignKey:
    # delete_account removes the user row; the runs go with it.
    return ForeignKey("user.id", name="run_user_id_fkey", ondelete="CASCADE", onupdate="CASCADE")


def _run_fk(table: str) -> ForeignKey:
    return ForeignKey(f"{WORKBENCH_SCHEMA}.run.id", name=f"{table}_run_id_fkey", ondelete="CASCADE")


def _attempt_fk(table: str) -> ForeignKey:
    return ForeignKey(
        f"{WORKBENCH_SCHEMA}.run_attempt.id", name=f"{table}_attempt_id_fkey", ondelete="CASCADE"
    )


class Run(Base):
    """One play of a suite: prompt x target x scenarios x repeats. Never holds a key."""

    __tablename__ = "run"
    __table_args__ = (
        _one_of("status", RUN_STATUSES, "run_status_check"),
        Index("run_user_id_created_at_idx", "user_id", "created_at"),
        Index("run_user_id_suite_id_created_at_idx", "user_id", "suite_id", "created_at"),
        {"schema": WORKBENCH_SCHEMA},
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text, _user_fk())
    # No foreign keys to the suite or prompt: a run outlives their deletion, by design.
    suite_id: Mapped[str] = mapped_column(Text)
    suite_name: Mapped[str] = mapped_column(Text)
    prompt_id: Mapped[str] = mapped_column(Text)
    prompt_name: Mapped[str] = mapped_column(Text)
    prompt_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    system_text: Mapped[str] = mapped_column(Text)
    system_sha256: Mapped[str] = mapped_column(Text)
    target: Mapped[dict[str, Any]] = mapped_column(JSONB)
    judge: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    judge_prompt_version: Mapped[str | None] = mapped_column(Text)
    repeats: Mapped[int] = mapped_column(Integer)
    options: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totals: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    owner: Mapped[str | None] = mapped_column(Text)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RunScenario(Base):
    """A scenario as it was played: its exact version and a snapshot of its turns."""

    __tablename__ = "run_scenario"
    __table_args__ = (
        Index("run_scenario_user_id_run_id_idx", "user_id", "run_id"),
        {"schema": WORKBENCH_SCHEMA},
    )

    run_id: Mapped[str] = mapped_column(Text, _run_fk("run_scenario"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text)
    scenario_id: Mapped[str] = mapped_column(Text)
    scenario_name: Mapped[str] = mapped_column(Text)
    scenario_version: Mapped[int] = mapped_column(Integer)
    turns: Mapped[list[Any]] = mapped_column(JSONB)
    tools: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """The scenario's tools document as played (issue 20), or None for a scenario without."""


class RunAttempt(Base):
    """The ledger: one scenario x repeat, claimed by an executor with a lease."""

    __tablename__ = "run_attempt"
    __table_args__ = (
        _one_of("status", ATTEMPT_STATUSES, "run_attempt_status_check"),
        UniqueConstraint("run_id", "position", "repeat", name="run_attempt_run_id_position_key"),
        # No index holds a column that claims, heartbeats or results change (status, leases):
        # those updates stay HOT (migration 0011, which also sets fillfactor = 30).
        Index("run_attempt_user_id_run_id_id_idx", "user_id", "run_id", "id"),
        {"schema": WORKBENCH_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(Text, _run_fk("run_attempt"))
    user_id: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    scenario_id: Mapped[str] = mapped_column(Text)
    repeat: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(Text)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tries: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latency_s: Mapped[float | None] = mapped_column(Double)


class TurnResult(Base):
    """One EXPECT turn of one attempt: the reply and what it cost.

    The messages sent are not copied: `message_count` messages of the conversation rebuilt from
    the run's system text, the scenario snapshot and the attempt's earlier replies reproduce them.
    """

    __tablename__ = "turn_result"
    __table_args__ = (
        UniqueConstraint("attempt_id", "turn_index", name="turn_result_attempt_id_turn_index_key"),
        Index("turn_result_user_id_run_id_idx", "user_id", "run_id"),
        {"schema": WORKBENCH_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    attempt_id: Mapped[int] = mapped_column(BigInteger, _attempt_fk("turn_result"))
    run_id: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(Text)
    turn_index: Mapped[int] = mapped_column(Integer)
    message_count: Mapped[int] = mapped_column(Integer)
    model: Mapped[str | None] = mapped_column(Text)
    reply: Mapped[str | None] = mapped_column(Text)
    latency_s: Mapped[float | None] = mapped_column(Double)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Double)
    cached: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    # The reply was longer than the target's max_reply_bytes: `reply` is its head.
    reply_cut: Mapped[bool] = mapped_column(Boolean, server_default=false())


class ExpectationResult(Base):
    """One expectation checked against one reply: PASSED, FAILED or ERROR, with its detail."""

    __tablename__ = "expectation_result"
    __table_args__ = (
        _one_of("status", RESULT_STATUSES, "expectation_result_status_check"),
        UniqueConstraint(
            "attempt_id",
            "turn_index",
            "expectation_index",
            name="expectation_result_attempt_id_turn_index_expectation_index_key",
        ),
        Index("expectation_result_user_id_run_id_idx", "user_id", "run_id"),
        {"schema": WORKBENCH_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    attempt_id: Mapped[int] = mapped_column(BigInteger, _attempt_fk("expectation_result"))
    run_id: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(Text)
    turn_index: Mapped[int] = mapped_column(Integer)
    expectation_index: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
