"""Prompts, variables and provider API keys: the contract's per-user settings tables."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workbench.db.base import Base
from workbench.db.columns import cascade_fk, created_at, tags, updated_at, uuid_pk
from workbench.db.enums import PROMPT_STATUS, PromptStatus

if TYPE_CHECKING:
    from workbench.db.auth_models import User


class Prompt(Base):
    __tablename__ = "prompt"
    __table_args__ = (
        Index("prompt_user_id_status_idx", "user_id", "status"),
        Index("prompt_user_id_updated_at_idx", "user_id", "updated_at"),
    )

    id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = mapped_column(Text, cascade_fk("user.id", "prompt_user_id_fkey"))
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[PromptStatus] = mapped_column(
        PROMPT_STATUS, default=PromptStatus.DRAFT, server_default=text("'DRAFT'")
    )
    tags: Mapped[list[str] | None] = tags()
    created_at: Mapped[datetime] = created_at("created_at")
    updated_at: Mapped[datetime] = updated_at("updated_at")

    user: Mapped[User] = relationship(back_populates="prompts")

    def __repr__(self) -> str:
        return f"Prompt(id={self.id!r}, name={self.name!r})"


class Variable(Base):
    __tablename__ = "variable"
    __table_args__ = (
        Index("variable_user_id_key_key", "user_id", "key", unique=True),
        Index("variable_user_id_updated_at_idx", "user_id", "updated_at"),
    )

    id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = mapped_column(Text, cascade_fk("user.id", "variable_user_id_fkey"))
    key: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at("created_at")
    updated_at: Mapped[datetime] = updated_at("updated_at")

    user: Mapped[User] = relationship(back_populates="variables")

    def __repr__(self) -> str:
        return f"Variable(id={self.id!r}, key={self.key!r})"


class UserApiKey(Base):
    __tablename__ = "user_api_key"
    __table_args__ = (
        Index("user_api_key_user_id_provider_key", "user_id", "provider", unique=True),
        Index("user_api_key_user_id_is_active_idx", "user_id", "is_active"),
    )

    id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = mapped_column(Text, cascade_fk("user.id", "user_api_key_user_id_fkey"))
    provider: Mapped[str] = mapped_column(Text)
    key_name: Mapped[str] = mapped_column(Text)
    # Ciphertext only (see crypto/vault.py); the plaintext never reaches a model object.
    encrypted_key: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = created_at("created_at")
    updated_at: Mapped[datetime] = updated_at("updated_at")

    user: Mapped[User] = relationship(back_populates="api_keys")

    def __repr__(self) -> str:
        return f"UserApiKey(id={self.id!r}, provider={self.provider!r}, key_name={self.key_name!r})"
