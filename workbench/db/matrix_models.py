"""Matrices of runs (migration 0007): one normal run per (prompt, target) cell.

Both tables carry `user_id` (the per-user policy of `workbench db secure`, indexes by user).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from workbench.db.base import WORKBENCH_SCHEMA, Base, UTCDateTime


def _user_fk(table: str) -> ForeignKey:
    return ForeignKey(
        "user.id", name=f"{table}_user_id_fkey", ondelete="CASCADE", onupdate="CASCADE"
    )


class RunMatrix(Base):
    """A matrix: the suite, repeats and settings every cell's run was started with."""

    __tablename__ = "run_matrix"
    __table_args__ = (
        Index("run_matrix_user_id_created_at_idx", "user_id", "created_at"),
        {"schema": WORKBENCH_SCHEMA},
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text, _user_fk("run_matrix"))
    suite_id: Mapped[str] = mapped_column(Text)
    suite_name: Mapped[str] = mapped_column(Text)
    repeats: Mapped[int] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RunMatrixCell(Base):
    """One (prompt, target) of a matrix and the run that played it."""

    __tablename__ = "run_matrix_cell"
    __table_args__ = (
        Index("run_matrix_cell_user_id_matrix_id_idx", "user_id", "matrix_id"),
        {"schema": WORKBENCH_SCHEMA},
    )

    matrix_id: Mapped[str] = mapped_column(
        Text,
        ForeignKey(
            f"{WORKBENCH_SCHEMA}.run_matrix.id",
            name="run_matrix_cell_matrix_id_fkey",
            ondelete="CASCADE",
        ),
        primary_key=True,
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text, _user_fk("run_matrix_cell"))
    prompt_id: Mapped[str] = mapped_column(Text)
    prompt_name: Mapped[str] = mapped_column(Text)
    target: Mapped[dict[str, Any]] = mapped_column(JSONB)
    run_id: Mapped[str | None] = mapped_column(
        Text,
        ForeignKey(
            f"{WORKBENCH_SCHEMA}.run.id", name="run_matrix_cell_run_id_fkey", ondelete="SET NULL"
        ),
    )
