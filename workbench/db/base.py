"""The declarative base and the column types every model shares."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Dialect, MetaData
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

WORKBENCH_SCHEMA = "workbench"
"""The PostgreSQL schema for tables only the workbench uses; `public` belongs to the contract."""


class UTCDateTime(TypeDecorator[datetime]):
    """Prisma's `DateTime`: `timestamp(3) without time zone` holding UTC.

    Python sees timezone-aware UTC datetimes; the database sees naive UTC, exactly as Prisma
    writes it. A naive datetime given to the workbench is refused rather than guessed at.
    """

    impl = TIMESTAMP(precision=3)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the workbench stores timezone-aware UTC only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Base of every mapped class; its metadata is what Alembic compares against."""

    metadata = MetaData(naming_convention={"pk": "%(table_name)s_pkey"})
