"""People's labels on run results (migration 0008_reviews).

A label never replaces the judge's verdict: the verdict stays in `expectation_result`, the
person's label lives here, one current row per user and result, and every label given is also
appended to `review_label_change` with who gave it and when. Both tables carry `user_id` (the
row-level security policy) and `run_id` (agreement over a run reads an index on both).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Double, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from workbench.db.base import WORKBENCH_SCHEMA, Base, UTCDateTime

LABELS = ("pass", "fail", "unsure")
COMMENT_LIMIT = 2000
"""Characters a comment may hold (a CHECK constraint says it too)."""


def _checks(table: str) -> tuple[CheckConstraint, CheckConstraint]:
    return (
        CheckConstraint("label IN ('pass', 'fail', 'unsure')", name=f"{table}_label_check"),
        CheckConstraint(
            f"comment IS NULL OR char_length(comment) <= {COMMENT_LIMIT}",
            name=f"{table}_comment_check",
        ),
    )


def _user_fk(table: str) -> ForeignKey:
    return ForeignKey(
        "user.id", name=f"{table}_user_id_fkey", ondelete="CASCADE", onupdate="CASCADE"
    )


def _result_fk(table: str) -> ForeignKey:
    return ForeignKey(
        f"{WORKBENCH_SCHEMA}.expectation_result.id",
        name=f"{table}_result_id_fkey",
        ondelete="CASCADE",
    )


class ReviewLabel(Base):
    """A person's current label on one expectation result, with a copy of what it labelled (the
    result's type and status, the judge's prompt version, threshold and score: results never
    change once written), so agreement reads this table alone."""

    __tablename__ = "review_label"
    __table_args__ = (
        *_checks("review_label"),
        Index("review_label_user_id_run_id_idx", "user_id", "run_id"),
        {"schema": WORKBENCH_SCHEMA},
    )

    user_id: Mapped[str] = mapped_column(Text, _user_fk("review_label"), primary_key=True)
    result_id: Mapped[int] = mapped_column(BigInteger, _result_fk("review_label"), primary_key=True)
    run_id: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    judge_status: Mapped[str] = mapped_column(Text)
    judge_prompt_version: Mapped[str | None] = mapped_column(Text)
    threshold: Mapped[float | None] = mapped_column(Double)
    judge_score: Mapped[float | None] = mapped_column(Double)
    labelled_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewLabelChange(Base):
    """One label given: kept forever (until its result goes), so changes can be traced."""

    __tablename__ = "review_label_change"
    __table_args__ = (
        *_checks("review_label_change"),
        Index("review_label_change_user_id_result_id_idx", "user_id", "result_id", "id"),
        Index("review_label_change_user_id_run_id_idx", "user_id", "run_id"),
        {"schema": WORKBENCH_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(Text, _user_fk("review_label_change"))
    result_id: Mapped[int] = mapped_column(BigInteger, _result_fk("review_label_change"))
    run_id: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
