"""Rows in and out: bulk writes of turns, expectations and versions, and loading them back.

Shared by the scenario service and import. Every write here is a bulk statement (SQLAlchemy's
"insertmanyvalues": many rows per INSERT), never one round trip per turn or expectation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import Row, any_, bindparam, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from workbench.db.columns import new_uuid
from workbench.db.enums import ExpectationType, ScenarioStatus, ScenarioTurnType
from workbench.db.models import Scenario, ScenarioExpectation, ScenarioTurn, ScenarioVersion
from workbench.errors import NotFound
from workbench.services.scenario_types import (
    ExpectationSpec,
    ScenarioCreate,
    ScenarioView,
    TurnSpec,
)
from workbench.services.scenario_versions import snapshot_of

AnyRow: TypeAlias = Row[*tuple[Any, ...]]
"""A result row of any shape (SQLAlchemy 2.1 types rows by their columns)."""

SCENARIO_COLUMNS = (
    Scenario.id,
    Scenario.name,
    Scenario.description,
    Scenario.locale,
    Scenario.status,
    Scenario.version,
    Scenario.tags,
    Scenario.created_at,
    Scenario.updated_at,
)


def not_found(scenario_id: str) -> NotFound:
    """The one message for a scenario that is missing or someone else's."""
    return NotFound(f"No scenario with id {scenario_id!r}; check the id (wb.scenarios.list()).")


def id_array(ids: Sequence[str]) -> Any:
    """`= ANY(:ids)` with one array parameter, not one parameter per id."""
    return any_(bindparam("ids", list(ids), type_=ARRAY(Text)))


@dataclass(frozen=True)
class NewScenario:
    """A validated scenario about to be inserted, with the id and times it will get."""

    id: str
    spec: ScenarioCreate
    created_at: datetime
    note: str | None


def insert_scenarios(session: Session, user_id: str, items: Sequence[NewScenario]) -> None:
    """Insert scenarios at version 1 with their turns, expectations and first snapshots."""
    if not items:
        return
    rows = [
        {
            "id": item.id,
            "user_id": user_id,
            "name": item.spec.name,
            "description": item.spec.description,
            "locale": item.spec.locale,
            "status": item.spec.status,
            "version": 1,
            "tags": list(item.spec.tags),
            "created_at": item.created_at,
            "updated_at": item.created_at,
        }
        for item in items
    ]
    session.execute(insert(Scenario), rows)
    insert_turns(session, [(item.id, item.spec.turns) for item in items])
    insert_versions(
        session, [(item.id, 1, item.spec, item.note, item.created_at) for item in items]
    )


def insert_turns(session: Session, scenarios: Iterable[tuple[str, Sequence[TurnSpec]]]) -> None:
    """Insert the turns of many scenarios, then their expectations: two bulk statements."""
    turn_rows: list[dict[str, Any]] = []
    owners: list[Sequence[ExpectationSpec]] = []
    for scenario_id, turns in scenarios:
        for index, turn in enumerate(turns):
            turn_rows.append(
                {
                    "scenario_id": scenario_id,
                    "order_index": index,
                    "turn_type": turn.type,
                    "user_text": turn.text,
                }
            )
            owners.append(turn.expectations)
    if not turn_rows:
        return
    # sort_by_parameter_order: the ids come back in the order of the rows given.
    returning = insert(ScenarioTurn).returning(ScenarioTurn.id, sort_by_parameter_order=True)
    turn_ids = session.scalars(returning, turn_rows).all()
    expectation_rows = [
        expectation_row(row["scenario_id"], turn_id, index, spec)
        for row, turn_id, specs in zip(turn_rows, turn_ids, owners, strict=True)
        for index, spec in enumerate(specs)
    ]
    if expectation_rows:
        session.execute(insert(ScenarioExpectation), expectation_rows)


def expectation_row(scenario_id: str, turn_id: int, index: int, spec: ExpectationSpec) -> Any:
    return {
        "scenario_id": scenario_id,
        "turn_id": turn_id,
        "order_index": index,
        "type": spec.type,
        "value": spec.value,
        "values": list(spec.values),
        "case_sensitive": spec.case_sensitive,
        "threshold": spec.threshold,
    }


def insert_versions(
    session: Session, versions: Sequence[tuple[str, int, ScenarioCreate, str | None, datetime]]
) -> None:
    """Write one snapshot per (scenario id, version, content, note, time)."""
    rows = [
        {
            "id": new_uuid(),
            "scenario_id": scenario_id,
            "version": version,
            "snapshot": snapshot_of(spec),
            "note": note,
            "created_at": at,
        }
        for scenario_id, version, spec, note, at in versions
    ]
    if rows:
        session.execute(insert(ScenarioVersion), rows)


def load_turns(session: Session, scenario_ids: Sequence[str]) -> dict[str, tuple[TurnSpec, ...]]:
    """The turns of each scenario in order, expectations included: one query for all of them."""
    statement = (
        select(
            ScenarioTurn.scenario_id,
            ScenarioTurn.id,
            ScenarioTurn.turn_type,
            ScenarioTurn.user_text,
            ScenarioExpectation.type,
            ScenarioExpectation.value,
            ScenarioExpectation.values,
            ScenarioExpectation.case_sensitive,
            ScenarioExpectation.threshold,
        )
        .outerjoin(ScenarioExpectation, ScenarioExpectation.turn_id == ScenarioTurn.id)
        .where(ScenarioTurn.scenario_id == id_array(scenario_ids))
        .order_by(
            ScenarioTurn.scenario_id,
            ScenarioTurn.order_index,
            ScenarioExpectation.order_index,
            ScenarioExpectation.id,
        )
    )
    return group_turns(session.execute(statement))


def group_turns(rows: Iterable[AnyRow]) -> dict[str, tuple[TurnSpec, ...]]:
    """Rows of (scenario, turn, expectation-or-nulls), in order, folded into turn specs."""
    grouped: dict[str, list[TurnSpec]] = {}
    pending: dict[int, tuple[str, ScenarioTurnType, str | None, list[ExpectationSpec]]] = {}
    for scenario_id, turn_id, turn_type, text, kind, value, values, case, threshold in rows:
        if turn_id not in pending:
            pending[turn_id] = (scenario_id, turn_type, text, [])
        if kind is not None:
            spec = ExpectationSpec(
                ExpectationType(kind), value, tuple(values or ()), case, threshold
            )
            pending[turn_id][3].append(spec)
    for scenario_id, turn_type, text, specs in pending.values():
        turn = TurnSpec(ScenarioTurnType(turn_type), text, tuple(specs))
        grouped.setdefault(scenario_id, []).append(turn)
    return {scenario_id: tuple(turns) for scenario_id, turns in grouped.items()}


def view_of(row: AnyRow, turns: tuple[TurnSpec, ...]) -> ScenarioView:
    """A scenario row (selected as `SCENARIO_COLUMNS`) and its turns as a view."""
    return ScenarioView(
        id=row.id,
        name=row.name,
        description=row.description,
        locale=row.locale,
        status=ScenarioStatus(row.status),
        version=row.version,
        tags=tuple(row.tags or ()),
        created_at=row.created_at,
        updated_at=row.updated_at,
        turns=turns,
    )


def select_scenario(session: Session, user_id: str, scenario_id: str) -> AnyRow:
    """The user's scenario row, or `NotFound` (the same for someone else's)."""
    row = session.execute(
        select(*SCENARIO_COLUMNS).where(Scenario.id == scenario_id, Scenario.user_id == user_id)
    ).first()
    if row is None:
        raise not_found(scenario_id)
    return row


def load_view(session: Session, user_id: str, scenario_id: str) -> ScenarioView:
    row = select_scenario(session, user_id, scenario_id)
    return view_of(row, load_turns(session, [scenario_id]).get(scenario_id, ()))
