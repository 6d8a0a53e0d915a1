"""Column builders for the contract's recurring shapes, so each model reads as its Prisma twin."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from workbench.db.base import UTCDateTime
from workbench.timeutil import utcnow


def new_uuid() -> str:
    """Prisma's `@default(uuid())`, which the client fills in, not the database."""
    return str(uuid.uuid4())


def uuid_pk() -> Mapped[str]:
    return mapped_column(Text, primary_key=True, default=new_uuid)


def created_at(column_name: str) -> Mapped[datetime]:
    """`@default(now())`: CURRENT_TIMESTAMP in the database, but always written by us in UTC.

    The database default depends on the session time zone, so the workbench never relies on it.
    """
    return mapped_column(
        column_name, UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP")
    )


def updated_at(column_name: str) -> Mapped[datetime]:
    """`@updatedAt`: no database default; the client sets it on every write."""
    return mapped_column(column_name, UTCDateTime, default=utcnow, onupdate=utcnow)


def tags() -> Mapped[list[str] | None]:
    """Prisma's `String[] @default([])`: a nullable `text[]` defaulting to the empty array."""
    return mapped_column(
        ARRAY(Text), nullable=True, default=list, server_default=text("ARRAY[]::TEXT[]")
    )


def cascade_fk(target: str, constraint_name: str, **kwargs: Any) -> ForeignKey:
    """A required relation with `onDelete: Cascade` (and Prisma's ON UPDATE CASCADE)."""
    return ForeignKey(
        target, name=constraint_name, ondelete="CASCADE", onupdate="CASCADE", **kwargs
    )
