"""Workbench-only tables of issue 20: scenario extensions and the tool calls runs made.

Both live in the `workbench` schema (the web app's contract is never touched) and carry
`user_id`, so `workbench db secure` gives them the per-user policy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Double, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from workbench.db.base import WORKBENCH_SCHEMA, Base, UTCDateTime
from workbench.db.columns import cascade_fk


class ScenarioExtension(Base):
    """One JSON document of `kind` ("tools", ...) for one saved version of a scenario."""

    __tablename__ = "scenario_extension"
    __table_args__ = (
        Index("scenario_extension_user_id_scenario_id_idx", "user_id", "scenario_id"),
        {"schema": WORKBENCH_SCHEMA},
    )

    scenario_id: Mapped[str] = mapped_column(
        Text, cascade_fk("Scenario.id", "scenario_extension_scenario_id_fkey"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(
        Text, cascade_fk("user.id", "scenario_extension_user_id_fkey")
    )
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ToolCall(Base):
    """One tool call an assistant made in one round of one EXPECT turn of one attempt."""

    __tablename__ = "tool_call"
    __table_args__ = (
        UniqueConstraint(
            "attempt_id",
            "turn_index",
            "round",
            "call_index",
            name="tool_call_attempt_id_turn_index_round_call_index_key",
        ),
        Index("tool_call_user_id_run_id_idx", "user_id", "run_id"),
        {"schema": WORKBENCH_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    attempt_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey(
            f"{WORKBENCH_SCHEMA}.run_attempt.id",
            name="tool_call_attempt_id_fkey",
            ondelete="CASCADE",
        ),
    )
    run_id: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(Text)
    turn_index: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    call_index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    arguments: Mapped[str] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    latency_s: Mapped[float | None] = mapped_column(Double)
