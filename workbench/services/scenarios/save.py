"""The one write path every save of an existing scenario goes through.

`save_scenario` bumps the version, writes the changed fields and (when given) replaces the turns,
then snapshots the result, all inside the caller's transaction. The version and status checks are
part of the UPDATE's WHERE clause, so two racing saves cannot both pass them: the second waits
for the first's row lock, re-reads the row, matches nothing, and gets `Conflict`.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any, NoReturn

from sqlalchemy import update
from sqlalchemy.orm import Session

from workbench.db.enums import ScenarioStatus
from workbench.db.models import Scenario, ScenarioTurn
from workbench.db.security.deletes import delete_rows
from workbench.errors import Conflict, ValidationError, quoted
from workbench.services.common import UNSET, Unset
from workbench.services.scenarios.bulk import insert_turns, insert_versions
from workbench.services.scenarios.extensions import (
    TOOLS,
    latest_documents,
    load_view,
    read_tools,
    tools_document,
    write_documents,
)
from workbench.services.scenarios.simulated import SIMULATED
from workbench.services.scenarios.simulated_store import next_document as next_simulated
from workbench.services.scenarios.store import SCENARIO_COLUMNS, select_scenario
from workbench.services.scenarios.tools import ToolSpec
from workbench.services.scenarios.types import ScenarioView, TurnSpec
from workbench.timeutil import utcnow

# Target status → the statuses a scenario may move to it from.
TRANSITIONS: dict[ScenarioStatus, frozenset[ScenarioStatus]] = {
    ScenarioStatus.PUBLISHED: frozenset({ScenarioStatus.DRAFT}),
    ScenarioStatus.ARCHIVED: frozenset({ScenarioStatus.DRAFT, ScenarioStatus.PUBLISHED}),
    ScenarioStatus.DRAFT: frozenset({ScenarioStatus.PUBLISHED, ScenarioStatus.ARCHIVED}),
}


def save_scenario(
    session: Session,
    user_id: str,
    scenario_id: str,
    values: dict[str, Any],
    turns: tuple[TurnSpec, ...] | Unset,
    *,
    expected_version: int | None,
    allowed_from: Set[ScenarioStatus] | None,
    note: str,
    tools: tuple[ToolSpec, ...] | Unset = UNSET,
) -> ScenarioView:
    """Write `values` (attribute → value), `turns` and `tools` as a new version; the new view.

    The tools document goes forward with every version: when neither turns nor tools change,
    the previous one is copied as it was (the turn ids it names are unchanged)."""
    now = utcnow()
    if "tags" in values:
        values = {**values, "tags": list(values["tags"])}
    statement = update(Scenario).where(Scenario.id == scenario_id, Scenario.user_id == user_id)
    if expected_version is not None:
        statement = statement.where(Scenario.version == expected_version)
    if allowed_from is not None:
        statement = statement.where(Scenario.status.in_(allowed_from))
    statement = statement.values(**values, version=Scenario.version + 1, updated_at=now)
    row = session.execute(
        statement.returning(*SCENARIO_COLUMNS),
        execution_options={"synchronize_session": False},
    ).first()
    if row is None:
        explain_refusal(session, user_id, scenario_id, expected_version, allowed_from)
    previous = latest_documents(session, user_id, [scenario_id], TOOLS).get(scenario_id)
    if isinstance(turns, Unset):
        turn_ids: list[int] = []
    else:
        # Expectations go with their turns (ON DELETE CASCADE).
        delete_rows(session, ScenarioTurn, ScenarioTurn.scenario_id == scenario_id)
        turn_ids = insert_turns(session, [(scenario_id, turns)])[0]
    document = _next_document(previous, turns, turn_ids, tools)
    if document is not None:
        write_documents(session, user_id, [(scenario_id, row.version, TOOLS, document)])
    simulated = next_simulated(session, user_id, scenario_id, turns, turn_ids)
    if simulated is not None:
        write_documents(session, user_id, [(scenario_id, row.version, SIMULATED, simulated)])
    view = load_view(session, user_id, scenario_id)
    insert_versions(session, [(scenario_id, view.version, view.to_create(), note, now)])
    return view


def _next_document(
    previous: tuple[int, dict[str, Any]] | None,
    turns: tuple[TurnSpec, ...] | Unset,
    turn_ids: list[int],
    tools: tuple[ToolSpec, ...] | Unset,
) -> dict[str, Any] | None:
    """The tools document of the new version (validated by the caller's checks)."""
    if isinstance(turns, Unset) and isinstance(tools, Unset):
        return None if previous is None else previous[1]
    old = read_tools(previous[1]) if previous is not None else None
    kept_tools = tools if not isinstance(tools, Unset) else (old.tools if old else ())
    if isinstance(turns, Unset):
        # The turns (and their ids) stay: so do the checks, as they were, fitting or not.
        document = tools_document(kept_tools, [], []) or {"tools": [], "checks": []}
        document["checks"] = previous[1].get("checks", []) if previous is not None else []
        return document if document["tools"] or document["checks"] else None
    return tools_document(kept_tools, turns, turn_ids)


def explain_refusal(
    session: Session,
    user_id: str,
    scenario_id: str,
    expected_version: int | None,
    allowed_from: Set[ScenarioStatus] | None,
) -> NoReturn:
    """Raise the reason a guarded write matched no row: NotFound, Conflict or the status."""
    row = select_scenario(session, user_id, scenario_id)
    if expected_version is not None and row.version != expected_version:
        raise Conflict(
            f"Scenario {quoted(row.name)} was saved since you read it (you had version "
            f"{expected_version}, it is now at {row.version}); nothing was overwritten. "
            "Reload it with wb.scenarios.get(id) and apply your change again."
        )
    if allowed_from is not None and row.status not in allowed_from:
        sources = " or ".join(sorted(status.value for status in allowed_from))
        raise ValidationError(
            f"status: scenario {quoted(row.name)} is {row.status.value}; this change is only "
            f"allowed from {sources}."
        )
    # The row matched when re-read: it changed between the write and this check.
    raise Conflict(
        f"Scenario {quoted(row.name)} changed while saving; nothing was written. Try again."
    )
