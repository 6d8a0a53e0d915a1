"""Tables only the workbench uses. They live in the `workbench` schema, never in `public`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from workbench.db.base import WORKBENCH_SCHEMA, Base, UTCDateTime


class InstallationSetting(Base):
    """Facts about this database the migrations need to remember.

    `public_owner` is `workbench` when the workbench created the contract tables, or `external`
    when a Prisma app already had; a downgrade only ever drops what the workbench created.
    """

    __tablename__ = "installation_setting"
    __table_args__ = {"schema": WORKBENCH_SCHEMA}  # noqa: RUF012 - SQLAlchemy reads it once

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"InstallationSetting(key={self.key!r}, value={self.value!r})"


class SignInFailure(Base):
    """One failed password sign-in, kept so every kernel sees the same throttle.

    Rows older than the throttle window are pruned whenever a new failure is recorded.
    """

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        Index("sign_in_failure_email_failed_at_idx", "email", "failed_at"),
        {"schema": WORKBENCH_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"SignInFailure(email={self.email!r}, failed_at={self.failed_at!r})"


class AdminLock(Base):
    """A named lock for the administrative paths (workbench/db/security/locks.py).

    Locking a row (`INSERT ... ON CONFLICT DO UPDATE`, made on first use) replaces advisory
    locks, which any role could take; per-user roles have no privilege on this table.
    """

    __tablename__ = "admin_lock"
    __table_args__ = {"schema": WORKBENCH_SCHEMA}  # noqa: RUF012 - SQLAlchemy reads it once

    name: Mapped[str] = mapped_column(Text, primary_key=True)

    def __repr__(self) -> str:
        return f"AdminLock(name={self.name!r})"
