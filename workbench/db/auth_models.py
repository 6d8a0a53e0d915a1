"""Better Auth's four tables (`user`, `session`, `account`, `verification`), as its CLI makes them.

Python attributes are snake_case; the column names are Better Auth's camelCase, given explicitly.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workbench.db.base import Base, UTCDateTime

if TYPE_CHECKING:
    from workbench.db.prompt_models import Prompt, UserApiKey, Variable
    from workbench.db.scenario_models import Scenario, ScenarioSuite


def user_fk(constraint_name: str) -> ForeignKey:
    """A required reference to `user`, cascading as every Better Auth and contract table does."""
    return ForeignKey("user.id", name=constraint_name, ondelete="CASCADE", onupdate="CASCADE")


class User(Base):
    __tablename__ = "user"
    __table_args__ = (Index("user_email_key", "email", unique=True),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    email_verified: Mapped[bool] = mapped_column("emailVerified", Boolean)
    image: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column("updatedAt", UTCDateTime)

    sessions: Mapped[list[Session]] = relationship(back_populates="user", passive_deletes=True)
    accounts: Mapped[list[Account]] = relationship(back_populates="user", passive_deletes=True)
    scenarios: Mapped[list[Scenario]] = relationship(back_populates="user", passive_deletes=True)
    scenario_suites: Mapped[list[ScenarioSuite]] = relationship(
        back_populates="user", passive_deletes=True
    )
    prompts: Mapped[list[Prompt]] = relationship(back_populates="user", passive_deletes=True)
    variables: Mapped[list[Variable]] = relationship(back_populates="user", passive_deletes=True)
    api_keys: Mapped[list[UserApiKey]] = relationship(back_populates="user", passive_deletes=True)

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, email={self.email!r})"


class Session(Base):
    __tablename__ = "session"
    __table_args__ = (
        Index("session_token_key", "token", unique=True),
        Index("session_userId_idx", "userId"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    expires_at: Mapped[datetime] = mapped_column("expiresAt", UTCDateTime)
    # The workbench keeps a hash of the token here, never the token itself.
    token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column("updatedAt", UTCDateTime)
    ip_address: Mapped[str | None] = mapped_column("ipAddress", Text)
    user_agent: Mapped[str | None] = mapped_column("userAgent", Text)
    user_id: Mapped[str] = mapped_column("userId", Text, user_fk("session_userId_fkey"))

    user: Mapped[User] = relationship(back_populates="sessions")

    def __repr__(self) -> str:
        return f"Session(id={self.id!r}, user_id={self.user_id!r}, expires_at={self.expires_at!r})"


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (Index("account_userId_idx", "userId"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str] = mapped_column("accountId", Text)
    provider_id: Mapped[str] = mapped_column("providerId", Text)
    user_id: Mapped[str] = mapped_column("userId", Text, user_fk("account_userId_fkey"))
    access_token: Mapped[str | None] = mapped_column("accessToken", Text)
    refresh_token: Mapped[str | None] = mapped_column("refreshToken", Text)
    id_token: Mapped[str | None] = mapped_column("idToken", Text)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(
        "accessTokenExpiresAt", UTCDateTime
    )
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(
        "refreshTokenExpiresAt", UTCDateTime
    )
    scope: Mapped[str | None] = mapped_column(Text)
    password: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column("updatedAt", UTCDateTime)

    user: Mapped[User] = relationship(back_populates="accounts")

    def __repr__(self) -> str:
        # Tokens and the password hash stay out of the repr.
        return (
            f"Account(id={self.id!r}, provider_id={self.provider_id!r}, user_id={self.user_id!r})"
        )


class Verification(Base):
    __tablename__ = "verification"
    __table_args__ = (Index("verification_identifier_idx", "identifier"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    identifier: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column("expiresAt", UTCDateTime)
    created_at: Mapped[datetime | None] = mapped_column("createdAt", UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column("updatedAt", UTCDateTime)

    def __repr__(self) -> str:
        return f"Verification(id={self.id!r}, expires_at={self.expires_at!r})"
