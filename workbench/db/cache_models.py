"""The response cache (migration 0004).

The cache belongs to the user who paid for the replies: `user_id` leads its key, so one user's
entries are never served to another even for byte-identical requests.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Double, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from workbench.db.base import WORKBENCH_SCHEMA, Base, UTCDateTime


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
