"""What a run needs of simulated users at start (issue 21), all checked before anything is
written or sent.

Each scenario's "simulated" document is read and put on its turns of the run's snapshot: a
simulated block as `turns[i]["simulated"]` (goal, persona, bounds, each_reply), a judge turn as
`turns[i]["conversation_judge"] = True`. A scenario whose blocks no longer fit its turns (the web
app changed them), or a suite with a simulated block and no model to play the user (no
`simulator=`, no judge to default to), stops the start with a `ValidationError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from workbench.db.enums import ScenarioTurnType
from workbench.errors import ValidationError, quoted
from workbench.runs.lifecycle import ScenarioSnapshot
from workbench.runs.providers.targets import Target

PASS_SIMULATOR = "pass simulator=workbench.openai(...) (or a judge=, which plays it by default)"


def with_simulation(
    session: Session, user_id: str, snapshots: Sequence[ScenarioSnapshot]
) -> list[ScenarioSnapshot]:
    """The snapshots with their simulated blocks and judge turns; `ValidationError` listing
    every block that no longer fits its turn."""
    # Here, not at the top: a worker (`stored_simulator`) plays snapshots and needs none of it.
    from workbench.services.scenarios.extensions import latest_documents, turn_identities
    from workbench.services.scenarios.simulated import SIMULATED, block_document, read_simulated
    from workbench.services.scenarios.simulated_store import fits

    ids = [s.scenario_id for s in snapshots]
    documents = latest_documents(session, user_id, ids, SIMULATED)
    if not documents:
        return list(snapshots)
    identities = turn_identities(session, list(documents))
    problems: list[str] = []
    out = []
    for snapshot in snapshots:
        found = documents.get(snapshot.scenario_id)
        if found is None:
            out.append(snapshot)
            continue
        document = read_simulated(found[1])
        turns = [dict(turn) for turn in snapshot.turns]
        ids_now = identities.get(snapshot.scenario_id, [])
        where = f"Scenario {quoted(snapshot.name)}"
        for turn_id, position, spec in document.blocks:
            if fits(turns, ids_now, turn_id, position, ScenarioTurnType.USER):
                turns[position]["simulated"] = block_document(spec)
            else:
                problems.append(_changed(where, position, "simulated user"))
        for turn_id, position in document.judges:
            if fits(turns, ids_now, turn_id, position, ScenarioTurnType.EXPECT):
                turns[position]["conversation_judge"] = True
            else:
                problems.append(_changed(where, position, "judge_conversation criteria"))
        out.append(snapshot.with_turns(turns))
    if problems:
        raise ValidationError(
            "Cannot start the run; nothing was started:\n" + "\n".join(f"- {p}" for p in problems),
            problems=problems,
        )
    return out


def _changed(where: str, position: int, what: str) -> str:
    return (
        f"{where}, turn {position + 1}: its {what} was written for a turn that was changed since "
        "outside the workbench; open the scenario, put it back on the right turn and save it"
    )


def has_blocks(snapshots: Sequence[ScenarioSnapshot]) -> bool:
    return any(_simulated(s) for s in snapshots)


def _simulated(snapshot: ScenarioSnapshot) -> bool:
    # The text first: most snapshots have no block, and need not be parsed to say so.
    return '"simulated"' in snapshot.turns_json and any(
        turn.get("simulated") for turn in snapshot.turns
    )


class NoSimulator(ValidationError):
    """A suite with a simulated user and no model to play it. `.scenarios` names them; the
    message says how to give one, `saying(how)` the same error for another caller (a CLI flag,
    a picker)."""

    def __init__(self, scenarios: list[str], *, how: str = PASS_SIMULATOR) -> None:
        super().__init__(
            f"Cannot start the run: {', '.join(map(quoted, scenarios[:5]))} has a simulated user "
            f"and no model is given to play it; {how}. Nothing was started."
        )
        self.scenarios = scenarios

    def saying(self, how: str) -> NoSimulator:
        return NoSimulator(self.scenarios, how=how)


def check_simulator(
    simulator: Target | None, judge: Target | None, snapshots: Sequence[ScenarioSnapshot]
) -> None:
    """A suite with simulated blocks needs a model to play the user (`NoSimulator`)."""
    if simulator is None and judge is None and has_blocks(snapshots):
        raise NoSimulator(sorted({s.name for s in snapshots if _simulated(s)}))


def stored_simulator(options: Any) -> Target | None:
    """The simulator a run was started with (`simulator_option`), for resume and workers."""
    settings = (options or {}).get("simulator")
    return None if settings is None else Target.from_settings(settings, role="simulator")


def simulator_option(simulator: Target | None) -> dict[str, Any]:
    """The run's `options` entry: the simulator's settings, recorded only when given."""
    return {} if simulator is None else {"simulator": simulator.settings()}
