"""Reading "simulated" documents back onto scenario views, and the document a save writes.

A block or judge turn fits when the turn at its position still has the id it was saved with and
the right type (USER for a block, EXPECT for a judge); one that no longer fits is attached to no
turn and said in `ScenarioView.simulation_problems` (and warned about), never put on another
turn. A run refuses such a scenario until it is saved again from the workbench.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from workbench.db.enums import ScenarioTurnType
from workbench.services.common import Unset
from workbench.services.scenarios.extensions import latest_documents, turn_identities
from workbench.services.scenarios.simulated import (
    SIMULATED,
    SimulatedDocument,
    read_simulated,
    simulated_document,
)
from workbench.services.scenarios.types import ScenarioView, TurnSpec

EMPTY: dict[str, Any] = {"blocks": [], "judges": []}


def fits(
    turns: Sequence[Any],
    identities: Sequence[tuple[int, str]] | None,
    turn_id: int | None,
    position: int,
    wanted: ScenarioTurnType,
) -> bool:
    """Whether the turn at `position` is still the one a document entry was written for."""
    if not 0 <= position < len(turns):
        return False
    kind = (
        turns[position].get("type") if isinstance(turns[position], dict) else turns[position].type
    )
    if str(kind) != wanted.value:
        return False
    if identities is None:
        return True
    return position < len(identities) and identities[position][0] == turn_id


def attach(
    view: ScenarioView, document: SimulatedDocument, identities: Sequence[tuple[int, str]] | None
) -> ScenarioView:
    """`view` with its simulated blocks and judge turns; those that no longer fit listed."""
    turns, problems = attach_turns(view.turns, document, identities)
    return replace(view, turns=turns, simulation_problems=problems)


def attach_turns(
    given: Sequence[TurnSpec],
    document: SimulatedDocument,
    identities: Sequence[tuple[int, str]] | None,
) -> tuple[tuple[TurnSpec, ...], tuple[str, ...]]:
    """`given` with the blocks and judge turns that fit (`identities` None: by position and
    type only, a version's own snapshot), and the problems of those that do not."""
    turns = list(given)
    problems: list[str] = []
    for turn_id, position, spec in document.blocks:
        if fits(turns, identities, turn_id, position, ScenarioTurnType.USER):
            turns[position] = replace(turns[position], simulated=spec)
        else:
            problems.append(_changed(position, f"simulated user (goal: {spec.goal[:80]!r})"))
    for turn_id, position in document.judges:
        if fits(turns, identities, turn_id, position, ScenarioTurnType.EXPECT):
            turns[position] = replace(turns[position], conversation_judge=True)
        else:
            problems.append(_changed(position, "judge_conversation criteria"))
    return tuple(turns), tuple(problems)


def at_version(
    session: Session, user_id: str, scenario_id: str, version: int, turns: Sequence[TurnSpec]
) -> tuple[TurnSpec, ...]:
    """A saved version's turns with the blocks and judge turns saved with that very version
    (a web app's save carries none: its turns were not written for them)."""
    found = latest_documents(session, user_id, [scenario_id], SIMULATED, version=version)
    document = found.get(scenario_id)
    if document is None or document[0] != version:
        return tuple(turns)
    return attach_turns(turns, read_simulated(document[1]), None)[0]


def _changed(position: int, what: str) -> str:
    return (
        f"turn {position + 1}: its {what} was written for a turn that was changed since outside "
        "the workbench; it is attached to no turn. Open the scenario, put it back on the right "
        "turn and save it."
    )


def with_simulation(
    session: Session, user_id: str, views: Sequence[ScenarioView]
) -> list[ScenarioView]:
    """`views` with their simulated blocks and judge turns, problems warned about."""
    documents = latest_documents(session, user_id, [view.id for view in views], SIMULATED)
    if not documents:
        return list(views)
    identities = turn_identities(session, list(documents))
    out = []
    for view in views:
        if view.id in documents:
            view = attach(view, read_simulated(documents[view.id][1]), identities.get(view.id, []))
            for problem in view.simulation_problems:
                warnings.warn(f"Scenario {view.name!r}, {problem}", UserWarning, stacklevel=4)
        out.append(view)
    return out


def next_document(
    session: Session,
    user_id: str,
    scenario_id: str,
    turns: tuple[TurnSpec, ...] | Unset,
    turn_ids: Sequence[int],
) -> dict[str, Any] | None:
    """The "simulated" document of a new version: built from `turns` when they were replaced,
    else the previous one carried forward (the turn ids it names are unchanged). Turns without
    any that replace turns with some get an empty document, so the old one stops applying."""
    previous = latest_documents(session, user_id, [scenario_id], SIMULATED).get(scenario_id)
    if isinstance(turns, Unset):
        return None if previous is None else previous[1]
    document = simulated_document(turns, list(turn_ids))
    if document is None and previous is not None and previous[1] != EMPTY:
        return dict(EMPTY)
    return document
