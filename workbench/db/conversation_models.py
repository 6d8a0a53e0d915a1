"""Workbench-only table of issue 21: the conversations played with a simulated user.

In the `workbench` schema with `user_id`, so `workbench db secure` gives it the per-user policy.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from workbench.db.base import WORKBENCH_SCHEMA, Base

ENDINGS = ("goal_reached", "gave_up", "max_turns", "error")


class ConversationResult(Base):
    """One simulated block of one attempt: turns played, ending, reason and transcript."""

    __tablename__ = "conversation_result"
    __table_args__ = (
        UniqueConstraint(
            "attempt_id", "turn_index", name="conversation_result_attempt_id_turn_index_key"
        ),
        CheckConstraint(
            "ending IN ('goal_reached', 'gave_up', 'max_turns', 'error')",
            name="conversation_result_ending_check",
        ),
        Index("conversation_result_user_id_run_id_idx", "user_id", "run_id"),
        {"schema": WORKBENCH_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    attempt_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey(
            f"{WORKBENCH_SCHEMA}.run_attempt.id",
            name="conversation_result_attempt_id_fkey",
            ondelete="CASCADE",
        ),
    )
    run_id: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(Text)
    turn_index: Mapped[int] = mapped_column(Integer)
    turns_played: Mapped[int] = mapped_column(Integer)
    ending: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    transcript: Mapped[list[Any]] = mapped_column(JSONB)
    simulator_model: Mapped[str | None] = mapped_column(Text)
    simulator_prompt_version: Mapped[str] = mapped_column(Text)
    simulator_calls: Mapped[int] = mapped_column(Integer)
    simulator_prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    simulator_completion_tokens: Mapped[int | None] = mapped_column(Integer)
    simulator_cost_usd: Mapped[float | None] = mapped_column(Double)
