"""What the suite service returns: plain frozen dataclasses, no ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workbench.db.enums import ScenarioStatus
from workbench.db.models import ScenarioSuite


@dataclass(frozen=True)
class SuiteView:
    """A suite with the ids of its scenarios, in order."""

    id: str
    name: str
    description: str | None
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    scenario_ids: tuple[str, ...]


@dataclass(frozen=True)
class SuiteSummary:
    """One row of the suite list: the suite and how many scenarios it holds."""

    id: str
    name: str
    description: str | None
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    scenario_count: int


@dataclass(frozen=True)
class SuiteItem:
    """One scenario of a suite, at `position` (the first is 1, as every number a user reads),
    with its turn and expectation counts."""

    position: int
    scenario_id: str
    name: str
    status: ScenarioStatus
    version: int
    turn_count: int
    expectation_count: int


def suite_fields(suite: ScenarioSuite) -> dict[str, Any]:
    return {
        "id": suite.id,
        "name": suite.name,
        "description": suite.description,
        "tags": tuple(suite.tags or ()),
        "created_at": suite.created_at,
        "updated_at": suite.updated_at,
    }
