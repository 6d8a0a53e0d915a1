"""Reading scenarios back: rows, turns with their expectations, views. (Writes: bulk.)

Turns of any number of scenarios load in one query; nothing here runs a query per row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

from sqlalchemy import Row, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from workbench.db.enums import ExpectationType, ScenarioStatus, ScenarioTurnType
from workbench.db.models import Scenario, ScenarioExpectation, ScenarioTurn
from workbench.errors import NotFound, quoted
from workbench.services._fields import checked_id
from workbench.services.scenarios.types import (
    ExpectationSpec,
    ScenarioView,
    TurnSpec,
)

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
    message = f"No scenario with id {quoted(scenario_id)}; check the id (wb.scenarios.list())."
    if isinstance(scenario_id, str) and not _UUID.fullmatch(scenario_id):
        # Not even shaped like an id: most likely a name, which has its own lookup.
        message = (
            f"No scenario with id {quoted(scenario_id)}, which is not an id but may be a name: "
            f"use wb.scenarios.get_by_name({quoted(scenario_id)})."
        )
    return NotFound(message)


_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def id_array(ids: Sequence[str]) -> Any:
    """`= ANY(:ids)` with one array parameter, not one parameter per id."""
    return any_(bindparam("ids", list(ids), type_=ARRAY(Text)))


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
    checked_id(scenario_id, "scenario_id")
    row = session.execute(
        select(*SCENARIO_COLUMNS).where(Scenario.id == scenario_id, Scenario.user_id == user_id)
    ).first()
    if row is None:
        raise not_found(scenario_id)
    return row
