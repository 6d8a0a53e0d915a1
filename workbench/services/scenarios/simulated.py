"""Simulated users and conversation criteria in a scenario (issue 21): the specs and their document.

>>> from workbench import simulated_user, judge_conversation, must_not_contain
>>> block = simulated_user(goal="Get a cash refund", persona="polite", min_turns=2, max_turns=6,
...                        each_reply=[must_not_contain("guarantee")])
>>> block.type, block.text
(<ScenarioTurnType.USER: 'USER'>, 'Simulated user. Goal: Get a cash refund')
>>> judge_conversation("Offers store credit").expectations[0].type
<ExpectationType.SEMANTIC_ASSERT: 'SEMANTIC_ASSERT'>

What the web app stores (and shows): a simulated block is a USER turn whose text is
"Simulated user. Goal: <goal>"; a `judge_conversation` turn is an EXPECT turn with one
SEMANTIC_ASSERT per criterion (the criterion's text is that assertion's value, so an edit of it
in the web app is what the workbench judges). The rest (persona, turn bounds, each_reply checks,
and which turns are simulated or conversation-judged) is kept in `workbench.scenario_extension`
as kind "simulated", per version, naming each turn by its `ScenarioTurn.id` and position as the
tools document does: a turn the web app changed since is noticed and reported, never misattached.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from workbench.db.enums import ExpectationType, ScenarioTurnType
from workbench.errors import ValidationError
from workbench.services.scenarios.simulated_spec import SimulatedSpec
from workbench.services.scenarios.types import ExpectationSpec, TurnSpec, semantic

__all__ = ["SimulatedSpec", "judge_conversation", "simulated_user"]

SIMULATED: Final = "simulated"
MAX_SIMULATED_TURNS: Final = 50
"""The ceiling on `max_turns`: a block's simulated user turns, each one target call and one
simulator call (documented in docs/simulated-users.md)."""
MAX_CRITERIA: Final = 20
GOAL_PREFIX: Final = "Simulated user. Goal: "


def simulated_user(
    goal: str,
    *,
    persona: str = "",
    min_turns: int = 1,
    max_turns: int = 6,
    each_reply: Sequence[Any] = (),
) -> TurnSpec:
    """A simulated block: a USER turn played by a model toward `goal` (see module docs)."""
    spec = SimulatedSpec(goal, persona, min_turns, max_turns, tuple(each_reply))
    text = GOAL_PREFIX + goal if isinstance(goal, str) else goal
    return TurnSpec(ScenarioTurnType.USER, text=text, simulated=spec)


def judge_conversation(*criteria: str) -> TurnSpec:
    """An EXPECT turn judging the whole conversation so far against each criterion, one judge
    call per criterion: verdict pass, fail or inconclusive, with reasoning."""
    # As semantic(...) writes them (threshold included): the web app shows and runs them as such.
    expectations = tuple(semantic(text) for text in criteria)
    return TurnSpec(ScenarioTurnType.EXPECT, expectations=expectations, conversation_judge=True)


def simulation_problems(turns: Any) -> list[tuple[int, str, str]]:
    """(turn index, field, message) for every problem of the simulated blocks and criteria
    (their each_reply expectations are checked by validation.py, as any expectation)."""
    found: list[tuple[int, str, str]] = []
    if not isinstance(turns, Sequence) or isinstance(turns, str):
        return found
    for index, turn in enumerate(turns):
        if not isinstance(turn, TurnSpec):
            continue
        if turn.conversation_judge:
            if not turn.expectations:
                found.append((index, "criteria", "judge_conversation needs at least one criterion"))
            if len(turn.expectations) > MAX_CRITERIA:
                found.append((index, "criteria", f"at most {MAX_CRITERIA} criteria per turn"))
            for k, criterion in enumerate(turn.expectations):
                found += [(index, f"criteria[{k}]", m) for m in _criterion_problems(criterion)]
        block = turn.simulated
        if block is None:
            continue
        found += [(index, field, message) for field, message in _block_problems(block)]
    return found


def _criterion_problems(criterion: Any) -> list[str]:
    value = getattr(criterion, "value", None)
    if not isinstance(value, str) or not value.strip():
        return ["a criterion is empty; say what to judge"]
    kind = str(getattr(criterion, "type", ""))
    if kind != ExpectationType.SEMANTIC_ASSERT.value:
        # The judge reads a criterion's statement; another type's value would be judged as one.
        return [f"a criterion is a SEMANTIC_ASSERT statement, not {kind}"]
    return []


def _block_problems(spec: SimulatedSpec) -> list[tuple[str, str]]:
    found = []
    if not isinstance(spec.goal, str) or not spec.goal.strip():
        found.append(("goal", "the simulated user needs a goal (what it tries to get done)"))
    if not isinstance(spec.persona, str):
        found.append(("persona", f"must be text, not {type(spec.persona).__name__}"))
    bounds_ok = True
    for name in ("min_turns", "max_turns"):
        value = getattr(spec, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            found.append((name, f"must be a whole number of at least 1, got {value!r}"))
            bounds_ok = False
    if bounds_ok and spec.max_turns > MAX_SIMULATED_TURNS:
        found.append(("max_turns", f"is {spec.max_turns}; the ceiling is {MAX_SIMULATED_TURNS}"))
    if bounds_ok and spec.min_turns > spec.max_turns:
        found.append(
            ("min_turns", f"min_turns={spec.min_turns} is above max_turns={spec.max_turns}")
        )
    return found


def expectation_document(spec: Any) -> dict[str, Any]:
    return {
        "type": str(spec.type),
        "value": spec.value,
        "values": list(spec.values),
        "case_sensitive": bool(spec.case_sensitive),
        "threshold": spec.threshold,
    }


def block_document(spec: SimulatedSpec) -> dict[str, Any]:
    return {
        "goal": spec.goal,
        "persona": spec.persona,
        "min_turns": spec.min_turns,
        "max_turns": spec.max_turns,
        "each_reply": [expectation_document(check) for check in spec.each_reply],
    }


def block_from_document(item: Mapping[str, Any]) -> SimulatedSpec:
    checks = tuple(
        ExpectationSpec(
            str(c["type"]), c.get("value"), tuple(c.get("values") or ()),
            bool(c.get("case_sensitive")), c.get("threshold"),
        )
        for c in item.get("each_reply") or ()
    )  # fmt: skip
    spec = SimulatedSpec(
        str(item["goal"]), str(item.get("persona") or ""), int(item["min_turns"]),
        int(item["max_turns"]), checks,
    )  # fmt: skip
    if _block_problems(spec):
        raise ValueError("; ".join(message for _, message in _block_problems(spec)))
    return spec


@dataclass(frozen=True)
class SimulatedDocument:
    """A "simulated" document read back: blocks and judge turns by (turn id, position)."""

    blocks: tuple[tuple[int | None, int, SimulatedSpec], ...]
    judges: tuple[tuple[int | None, int], ...]


def read_simulated(document: Any) -> SimulatedDocument:
    """Validate and read a "simulated" document; `ValidationError` if it is not one."""
    try:
        blocks = tuple(
            (_id(item.get("turn_id")), int(item["position"]), block_from_document(item))
            for item in document.get("blocks") or ()
        )
        judges = tuple(
            (_id(item.get("turn_id")), int(item["position"]))
            for item in document.get("judges") or ()
        )
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise ValidationError(
            f"simulated: a stored simulated-user document cannot be read ({error!r}); save the "
            "scenario again from the workbench."
        ) from None
    return SimulatedDocument(blocks, judges)


def _id(value: Any) -> int | None:
    return None if value is None else int(value)


def simulated_document(
    turns: Sequence[Any], turn_ids: Sequence[int | None]
) -> dict[str, Any] | None:
    """The document of `turns`' simulated blocks and judge turns (ids in turn order); None when
    the scenario has neither."""
    blocks, judges = [], []
    for position, (turn, turn_id) in enumerate(zip(turns, turn_ids, strict=True)):
        if turn.simulated is not None:
            blocks.append({"turn_id": turn_id, "position": position,
                           **block_document(turn.simulated)})  # fmt: skip
        if turn.conversation_judge:
            judges.append({"turn_id": turn_id, "position": position})
    if not blocks and not judges:
        return None
    return {"blocks": blocks, "judges": judges}


ENTRY_KEYS: Final = ("simulated_user", "judge_conversation")
"""The turn shapes of an exported document (io.py) beside {user: ...} and {expect: [...]}."""


def turn_entry(turn: TurnSpec) -> dict[str, Any] | None:
    """A simulated block or judge turn as an export document's turn; None for other turns."""
    if turn.simulated is not None:
        return {"simulated_user": block_document(turn.simulated)}
    if turn.conversation_judge:
        return {"judge_conversation": [spec.value for spec in turn.expectations]}
    return None


def turn_from_entry(key: str, value: Any) -> TurnSpec:
    """The turn of a document entry {key: value}; ValueError saying why it cannot be read."""
    if key == "judge_conversation":
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise ValueError("judge_conversation must be a list of criteria (text)")
        return judge_conversation(*value)
    if not isinstance(value, Mapping):
        raise ValueError("simulated_user must be a mapping (goal, persona, min_turns, ...)")
    try:
        spec = block_from_document(value)
    except (KeyError, TypeError) as error:
        raise ValueError(f"simulated_user cannot be read ({error!r:.100})") from None
    return simulated_user(spec.goal, persona=spec.persona, min_turns=spec.min_turns,
                          max_turns=spec.max_turns, each_reply=spec.each_reply)  # fmt: skip
