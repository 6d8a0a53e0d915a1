"""Tables only the workbench uses. They live in the `workbench` schema, never in `public`."""

from __future__ import annotations

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from workbench.db.base import WORKBENCH_SCHEMA, Base


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
