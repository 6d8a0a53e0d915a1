"""Scenario extensions: what a scenario holds beyond the web app's contract, per saved version.

One JSON document per (scenario, kind, version) in `workbench.scenario_extension`, written in
the transaction that saves the version (create, update, restore, import) and validated in
Python by its kind's reader before it is used. Kind "tools" (issue 20) keeps the tools, their
mocks and the tool checks; other kinds (simulated users) add a reader to `KINDS`.

The web app edits turns without knowing about extensions, so a document states which turn each
group of tool checks belongs to by the turn's identity, its `ScenarioTurn.id` and position:

    {"tools": [{"name": "lookup_order", ...}],
     "checks": [{"turn_id": 812, "position": 1, "checks": [{"type": "TOOL_CALLED", ...}]}]}

On read, checks whose turn is no longer there at that position (or is no longer an EXPECT
turn) are attached to no turn and reported (`ScenarioView.tool_problems`); a run refuses the
scenario until it is saved again from the workbench.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from workbench.db.enums import ScenarioTurnType
from workbench.db.models import ScenarioExtension, ScenarioTurn
from workbench.errors import ValidationError
from workbench.services.scenarios.simulated import SIMULATED, read_simulated
from workbench.services.scenarios.store import id_array, load_turns, select_scenario, view_of
from workbench.services.scenarios.tools import (
    ToolCheckSpec,
    ToolSpec,
    check_document,
    check_from_document,
    tool_document,
    tool_from_document,
)
from workbench.services.scenarios.types import ScenarioView, TurnSpec
from workbench.timeutil import utcnow

TOOLS = "tools"


@dataclass(frozen=True)
class ToolsDocument:
    """A "tools" document read back: the tools, and checks by (turn id, position)."""

    tools: tuple[ToolSpec, ...]
    checks: tuple[tuple[int | None, int, tuple[ToolCheckSpec, ...]], ...]


def read_tools(document: Any) -> ToolsDocument:
    """Validate and read a "tools" document; `ValidationError` if it is not one."""
    try:
        tools = tuple(tool_from_document(item) for item in document.get("tools") or ())
        checks = tuple(
            (
                None if group.get("turn_id") is None else int(group["turn_id"]),
                int(group["position"]),
                tuple(check_from_document(item) for item in group["checks"]),
            )
            for group in document.get("checks") or ()
        )
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise ValidationError(
            f"tools: a stored tools document cannot be read ({error!r}); save the scenario's "
            "tools again."
        ) from None
    return ToolsDocument(tools, checks)


KINDS: dict[str, Callable[[Any], Any]] = {TOOLS: read_tools, SIMULATED: read_simulated}
"""Kind → reader that validates a document (raising `ValidationError`)."""


def tools_document(
    tools: Sequence[ToolSpec], turns: Sequence[TurnSpec], turn_ids: Sequence[int | None]
) -> dict[str, Any] | None:
    """The document of `tools` and the tool checks of `turns` (ids in turn order); None when
    there is nothing to keep."""
    groups = [
        {
            "turn_id": turn_id,
            "position": position,
            "checks": [check_document(check) for check in turn.tool_checks],
        }
        for position, (turn, turn_id) in enumerate(zip(turns, turn_ids, strict=True))
        if turn.tool_checks
    ]
    if not tools and not groups:
        return None
    return {"tools": [tool_document(spec) for spec in tools], "checks": groups}


def write_documents(
    session: Session, user_id: str, rows: Sequence[tuple[str, int, str, Mapping[str, Any]]]
) -> None:
    """Insert (scenario id, version, kind, document) rows, each validated by its kind first."""
    if not rows:
        return
    for _, _, kind, document in rows:
        KINDS[kind](document)
    now = utcnow()
    values = [
        {"scenario_id": sid, "version": version, "kind": kind, "user_id": user_id,
         "document": dict(document), "created_at": now}
        for sid, version, kind, document in rows
    ]  # fmt: skip
    session.execute(insert(ScenarioExtension), values)


def latest_documents(
    session: Session,
    user_id: str,
    scenario_ids: Sequence[str],
    kind: str,
    *,
    version: int | None = None,
) -> dict[str, tuple[int, dict[str, Any]]]:
    """Scenario id → (version, document) of its newest `kind` document (at `version` or
    before, when given): one query for all of them."""
    if not scenario_ids:
        return {}
    statement = (
        select(ScenarioExtension.scenario_id, ScenarioExtension.version, ScenarioExtension.document)
        .where(
            ScenarioExtension.user_id == user_id,
            ScenarioExtension.scenario_id == id_array(scenario_ids),
            ScenarioExtension.kind == kind,
        )
        .ext(distinct_on(ScenarioExtension.scenario_id))
        .order_by(ScenarioExtension.scenario_id, ScenarioExtension.version.desc())
    )
    if version is not None:
        statement = statement.where(ScenarioExtension.version <= version)
    return {sid: (number, document) for sid, number, document in session.execute(statement)}


def turn_identities(
    session: Session, scenario_ids: Sequence[str]
) -> dict[str, list[tuple[int, str]]]:
    """Scenario id → its turns' (id, type) in order."""
    rows = session.execute(
        select(ScenarioTurn.scenario_id, ScenarioTurn.id, ScenarioTurn.turn_type)
        .where(ScenarioTurn.scenario_id == id_array(scenario_ids))
        .order_by(ScenarioTurn.scenario_id, ScenarioTurn.order_index)
    )
    found: dict[str, list[tuple[int, str]]] = {}
    for sid, turn_id, turn_type in rows:
        found.setdefault(sid, []).append((turn_id, str(ScenarioTurnType(turn_type))))
    return found


def attach(
    view: ScenarioView, document: ToolsDocument, identities: Sequence[tuple[int, str]] | None
) -> ScenarioView:
    """`view` with its tools and the tool checks that still fit their turn; the others listed
    in `tool_problems`. `identities` None: attach by position (a version's own snapshot)."""
    turns = list(view.turns)
    problems: list[str] = []
    for turn_id, position, checks in document.checks:
        fits = 0 <= position < len(turns) and turns[position].type is ScenarioTurnType.EXPECT
        if fits and identities is not None:
            fits = position < len(identities) and identities[position][0] == turn_id
        if not fits:
            names = ", ".join(check.describe() for check in checks)
            problems.append(
                f"turn {position + 1}: its tool checks ({names}) were written for a turn that "
                "was changed since outside the workbench; they are attached to no turn. Open the "
                "scenario, put the checks back on the right EXPECT turn and save it."
            )
            continue
        turns[position] = replace(turns[position], tool_checks=checks)
    return replace(view, tools=document.tools, turns=tuple(turns), tool_problems=tuple(problems))


def with_tools(session: Session, user_id: str, views: Sequence[ScenarioView]) -> list[ScenarioView]:
    """`views` with their tools and tool checks, problems warned about: two queries in all
    (and the simulated blocks of issue 21: simulated_store.py)."""
    from workbench.services.scenarios.simulated_store import with_simulation

    views = with_simulation(session, user_id, views)
    ids = [view.id for view in views]
    documents = latest_documents(session, user_id, ids, TOOLS)
    if not documents:
        return list(views)
    identities = turn_identities(session, list(documents))
    out = []
    for view in views:
        if view.id in documents:
            document = read_tools(documents[view.id][1])
            view = attach(view, document, identities.get(view.id, []))
            for problem in view.tool_problems:
                warnings.warn(f"Scenario {view.name!r}, {problem}", UserWarning, stacklevel=4)
        out.append(view)
    return out


def load_view(session: Session, user_id: str, scenario_id: str) -> ScenarioView:
    """The scenario with its turns, tools and tool checks; `NotFound` if it is not yours."""
    row = select_scenario(session, user_id, scenario_id)
    view = view_of(row, load_turns(session, [scenario_id]).get(scenario_id, ()))
    return with_tools(session, user_id, [view])[0]
