"""The response cache and the study indexes over the run tables (migration 0004).

The cache belongs to the user who paid for the replies: `user_id` leads its key, so one user's
entries are never served to another even for byte-identical requests.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Double, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from workbench.db.base import WORKBENCH_SCHEMA, Base, UTCDateTime
from workbench.db.run_models import RunAttempt, TurnResult


class ResponseCacheEntry(Base):
    """One reply, keyed by a hash of everything that changes the answer (see runs/cache.py)."""

    __tablename__ = "response_cache"
    __table_args__ = (
        Index("response_cache_user_id_created_at_idx", "user_id", "created_at"),
        {"schema": WORKBENCH_SCHEMA},
    )

    user_id: Mapped[str] = mapped_column(
        Text,
        ForeignKey(
            "user.id", name="response_cache_user_id_fkey", ondelete="CASCADE", onupdate="CASCADE"
        ),
        primary_key=True,
    )
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    provider: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)
    reply: Mapped[str] = mapped_column(Text)
    reply_model: Mapped[str] = mapped_column(Text)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Declared here, not in run_models.py, because migration 0004 adds them: a run's attempts in
# position order and its turns by attempt, both reached through the user first.
_ATTEMPTS = RunAttempt.__table__.c
_TURNS = TurnResult.__table__.c
Index(
    "run_attempt_user_id_run_id_position_idx",
    _ATTEMPTS.user_id,
    _ATTEMPTS.run_id,
    _ATTEMPTS.position,
    _ATTEMPTS.repeat,
)
Index(
    "turn_result_user_id_run_id_attempt_id_idx",
    _TURNS.user_id,
    _TURNS.run_id,
    _TURNS.attempt_id,
    _TURNS.turn_index,
)
