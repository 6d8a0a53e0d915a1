"""Scenarios with their turns, expectations and versions, and suites: what users author."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Boolean, Double, Index, Integer, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workbench.db.base import Base
from workbench.db.columns import cascade_fk, created_at, tags, updated_at, uuid_pk
from workbench.db.enums import (
    EXPECTATION_TYPE,
    SCENARIO_STATUS,
    SCENARIO_TURN_TYPE,
    ExpectationType,
    ScenarioStatus,
    ScenarioTurnType,
)

if TYPE_CHECKING:
    from workbench.db.auth_models import User


class Scenario(Base):
    __tablename__ = "Scenario"
    __table_args__ = (
        Index("Scenario_user_id_name_key", "user_id", "name", unique=True),
        Index("Scenario_user_id_status_idx", "user_id", "status"),
        Index("Scenario_user_id_updatedAt_idx", "user_id", "updatedAt"),
    )

    id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = mapped_column(Text, cascade_fk("user.id", "Scenario_user_id_fkey"))
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(Text, default="en", server_default=text("'en'"))
    status: Mapped[ScenarioStatus] = mapped_column(
        SCENARIO_STATUS, default=ScenarioStatus.DRAFT, server_default=text("'DRAFT'")
    )
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    tags: Mapped[list[str] | None] = tags()
    created_at: Mapped[datetime] = created_at("createdAt")
    updated_at: Mapped[datetime] = updated_at("updatedAt")

    user: Mapped[User] = relationship(back_populates="scenarios")
    turns: Mapped[list[ScenarioTurn]] = relationship(
        back_populates="scenario",
        order_by="ScenarioTurn.order_index",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    versions: Mapped[list[ScenarioVersion]] = relationship(
        back_populates="scenario", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"Scenario(id={self.id!r}, name={self.name!r}, version={self.version!r})"


class ScenarioTurn(Base):
    __tablename__ = "ScenarioTurn"
    __table_args__ = (
        Index("ScenarioTurn_scenarioId_orderIndex_key", "scenarioId", "orderIndex", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    scenario_id: Mapped[str] = mapped_column(
        "scenarioId", Text, cascade_fk("Scenario.id", "ScenarioTurn_scenarioId_fkey")
    )
    order_index: Mapped[int] = mapped_column("orderIndex", Integer)
    turn_type: Mapped[ScenarioTurnType] = mapped_column("turnType", SCENARIO_TURN_TYPE)
    user_text: Mapped[str | None] = mapped_column("userText", Text)

    scenario: Mapped[Scenario] = relationship(back_populates="turns")
    expectations: Mapped[list[ScenarioExpectation]] = relationship(
        back_populates="turn",
        order_by="ScenarioExpectation.order_index",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"ScenarioTurn(order_index={self.order_index!r}, turn_type={self.turn_type!r})"


class ScenarioExpectation(Base):
    __tablename__ = "ScenarioExpectation"
    __table_args__ = (
        Index("ScenarioExpectation_scenarioId_idx", "scenarioId"),
        Index("ScenarioExpectation_turnId_idx", "turnId"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    scenario_id: Mapped[str] = mapped_column(
        "scenarioId", Text, cascade_fk("Scenario.id", "ScenarioExpectation_scenarioId_fkey")
    )
    turn_id: Mapped[int] = mapped_column(
        "turnId", BigInteger, cascade_fk("ScenarioTurn.id", "ScenarioExpectation_turnId_fkey")
    )
    order_index: Mapped[int] = mapped_column(
        "orderIndex", Integer, default=0, server_default=text("0")
    )
    type: Mapped[ExpectationType] = mapped_column(EXPECTATION_TYPE)
    value: Mapped[str | None] = mapped_column(Text)
    values: Mapped[list[str] | None] = tags()
    case_sensitive: Mapped[bool] = mapped_column(
        "caseSensitive", Boolean, default=False, server_default=text("false")
    )
    threshold: Mapped[float | None] = mapped_column(Double)

    turn: Mapped[ScenarioTurn] = relationship(back_populates="expectations")

    def __repr__(self) -> str:
        return f"ScenarioExpectation(type={self.type!r}, order_index={self.order_index!r})"


class ScenarioVersion(Base):
    __tablename__ = "ScenarioVersion"
    __table_args__ = (
        Index("ScenarioVersion_scenarioId_version_key", "scenarioId", "version", unique=True),
    )

    id: Mapped[str] = uuid_pk()
    scenario_id: Mapped[str] = mapped_column(
        "scenarioId", Text, cascade_fk("Scenario.id", "ScenarioVersion_scenarioId_fkey")
    )
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at("createdAt")

    scenario: Mapped[Scenario] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"ScenarioVersion(scenario_id={self.scenario_id!r}, version={self.version!r})"


class ScenarioSuite(Base):
    __tablename__ = "ScenarioSuite"
    __table_args__ = (
        Index("ScenarioSuite_user_id_name_key", "user_id", "name", unique=True),
        Index("ScenarioSuite_user_id_updatedAt_idx", "user_id", "updatedAt"),
    )

    id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = mapped_column(Text, cascade_fk("user.id", "ScenarioSuite_user_id_fkey"))
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str] | None] = tags()
    created_at: Mapped[datetime] = created_at("createdAt")
    updated_at: Mapped[datetime] = updated_at("updatedAt")

    user: Mapped[User] = relationship(back_populates="scenario_suites")
    items: Mapped[list[ScenarioSuiteItem]] = relationship(
        back_populates="suite",
        order_by="ScenarioSuiteItem.order_index",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"ScenarioSuite(id={self.id!r}, name={self.name!r})"


class ScenarioSuiteItem(Base):
    __tablename__ = "ScenarioSuiteItem"
    __table_args__ = (Index("ScenarioSuiteItem_scenarioId_idx", "scenarioId"),)

    suite_id: Mapped[str] = mapped_column(
        "suiteId",
        Text,
        cascade_fk("ScenarioSuite.id", "ScenarioSuiteItem_suiteId_fkey"),
        primary_key=True,
    )
    scenario_id: Mapped[str] = mapped_column(
        "scenarioId",
        Text,
        cascade_fk("Scenario.id", "ScenarioSuiteItem_scenarioId_fkey"),
        primary_key=True,
    )
    order_index: Mapped[int] = mapped_column(
        "orderIndex", Integer, default=0, server_default=text("0")
    )
    added_at: Mapped[datetime] = created_at("addedAt")

    suite: Mapped[ScenarioSuite] = relationship(back_populates="items")

    def __repr__(self) -> str:
        return f"ScenarioSuiteItem(suite_id={self.suite_id!r}, scenario_id={self.scenario_id!r})"
