"""The conversation engine: one attempt of one scenario, played turn by turn.

Semantics (pinned in tests/runs/test_engine.py, written down in docs/runs.md):
- the system message is the run's rendered prompt;
- USER turns append user messages (consecutive ones merged into one for providers that need
  strict alternation, Anthropic);
- each EXPECT turn asks the target for the reply to the conversation so far, appends that real
  reply, and checks every expectation of the turn against it;
- USER turns after the last EXPECT turn are never sent;
- a FAILED expectation does not stop the scenario unless `stop_on_failure`;
- a `ProviderError` ends the attempt as `error`: the turn's expectations are recorded as ERROR
  (never FAILED) and later turns are not played;
- with tools (issue 20, runs/tools.py): while a reply asks for tool calls, every call of it is
  answered (mock or live function; a failure is an error result the model sees), the calls and
  results are appended in the provider's own format and the target is asked again, at most
  `max_tool_rounds` times (more is an ERROR for the turn, naming the limit); text checks apply
  to the final text, tool checks to the turn's calls; every call is kept for the ledger.
- a simulated USER turn (issue 21) is a block played by runs/simulation.py (`Player.special`):
  a simulator writes the user's messages, each_reply checks apply to every reply; a
  judge_conversation EXPECT turn judges its criteria on the whole conversation, sending nothing
  to the target.

Plans are built once per scenario, so playing an attempt touches no ORM object and parses
nothing: it is a loop over precomputed steps.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from workbench.runs.evaluators import build_check
from workbench.runs.providers import Completion, Message, ModelClient, ProviderError
from workbench.runs.tools import (
    LiveTool,
    ToolBox,
    ToolCallRow,
    ToolCheckPlan,
    answer,
    check_plans,
    evaluate,
    toolbox,
)

DEFAULT_MAX_TOOL_ROUNDS = 8

PASSED, FAILED, ERROR = "PASSED", "FAILED", "ERROR"

Check = Callable[[str], Any]  # reply -> Outcome (status, detail)
Judge = Callable[[Sequence[Message], str, str, float], Awaitable[Any]]
SpecialStep = Callable[..., Awaitable["str | None"]]
"""(player, plan, step, messages, turns, checked, calls, conversations) -> the error, if any."""


@dataclass(frozen=True, slots=True)
class ExpectationPlan:
    index: int
    type: str
    check: Check | None  # None for SEMANTIC_ASSERT: the judge decides
    assertion: str | None
    threshold: float


@dataclass(frozen=True, slots=True)
class StepPlan:
    """One EXPECT turn: the user messages to append first, then what to check."""

    turn_index: int
    new_messages: tuple[Message, ...]
    expectations: tuple[ExpectationPlan, ...]
    tool_checks: tuple[ToolCheckPlan, ...] = ()
    simulated: Mapping[str, Any] | None = None
    """A simulated block (issue 21, runs/simulation.py): `expectations` are its each_reply."""
    conversation_judge: bool = False
    """A judge_conversation turn: `expectations` are criteria judged on the conversation."""


@dataclass(frozen=True, slots=True)
class ScenarioPlan:
    position: int
    scenario_id: str
    steps: tuple[StepPlan, ...]
    tools: ToolBox | None = None


@dataclass(frozen=True, slots=True)
class TurnRow:
    turn_index: int
    message_count: int
    completion: Completion | None
    error: str | None


@dataclass(frozen=True, slots=True)
class ExpectationRow:
    turn_index: int
    expectation_index: int
    type: str
    status: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status: str  # passed, failed, error
    error: str | None
    latency_s: float
    turns: tuple[TurnRow, ...]
    expectations: tuple[ExpectationRow, ...]
    tool_calls: tuple[ToolCallRow, ...] = ()
    conversations: tuple[Any, ...] = ()
    """`simulation.ConversationRow`s: one per simulated block played."""


def build_plan(
    position: int,
    scenario_id: str,
    turns: Sequence[Mapping[str, Any]],
    *,
    merge_users: bool,
    tools: Mapping[str, Any] | None = None,
    live_tools: Mapping[str, LiveTool] | None = None,
    served: Mapping[str, Mapping[str, Any]] | None = None,
) -> ScenarioPlan:
    """The steps of a scenario snapshot (`run_scenario.turns`); trailing USER turns dropped."""
    steps: list[StepPlan] = []
    waiting: list[str] = []
    for turn_index, turn in enumerate(turns):
        if turn["type"] == "USER" and turn.get("simulated"):
            # A simulated block: the user messages still waiting go with its first message.
            block = turn["simulated"]
            each = tuple(expectation_plan(i, s) for i, s in enumerate(block["each_reply"]))
            messages = tuple(Message("user", text) for text in _merged(waiting, merge_users))
            steps.append(StepPlan(turn_index, messages, each, simulated=block))
            waiting = []
            continue
        if turn["type"] == "USER":
            waiting.append(turn.get("text") or "")
            continue
        if merge_users and len(waiting) > 1:
            waiting = ["\n\n".join(waiting)]
        expectations = tuple(
            expectation_plan(index, spec) for index, spec in enumerate(turn["expectations"])
        )
        messages = tuple(Message("user", text) for text in waiting)
        checks = check_plans(turn, len(expectations))
        judged = bool(turn.get("conversation_judge"))
        steps.append(StepPlan(turn_index, messages, expectations, checks,
                              conversation_judge=judged))  # fmt: skip
        waiting = []
    box = toolbox(tools, live_tools or {}, served)
    return ScenarioPlan(position, scenario_id, tuple(steps), box)


def _merged(waiting: list[str], merge: bool) -> list[str]:
    return ["\n\n".join(waiting)] if merge and len(waiting) > 1 else waiting


def expectation_plan(index: int, spec: Mapping[str, Any]) -> ExpectationPlan:
    kind = spec["type"]
    threshold = spec.get("threshold")
    if kind == "SEMANTIC_ASSERT":
        return ExpectationPlan(index, kind, None, spec.get("value") or "", _threshold(threshold))
    check = build_check(
        kind,
        value=spec.get("value"),
        values=tuple(spec.get("values") or ()),
        case_sensitive=bool(spec.get("case_sensitive")),
    )
    return ExpectationPlan(index, kind, check, None, _threshold(threshold))


def _threshold(value: object) -> float:
    return 0.7 if value is None else float(value)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Player:
    """What every attempt of a run shares: the system text, the clients and the policy."""

    system: Message
    client: ModelClient
    judge: Judge
    stop_on_failure: bool
    live_tools: Mapping[str, LiveTool] | None = None
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS
    served: Mapping[str, LiveTool] | None = None  # MCP servers' tools, by name
    simulator: ModelClient | None = None
    """Plays simulated users (issue 21); None: the client of `judge_client`, else the target."""
    judge_client: ModelClient | None = None
    """Judges judge_conversation criteria; None: the target's client."""
    special: SpecialStep | None = None
    """Plays simulated blocks and judge_conversation turns (runs/simulation.py `play_special`,
    given by play.py: simulation builds on this module, so it cannot be imported here)."""

    async def play(self, plan: ScenarioPlan) -> AttemptResult:
        started = time.perf_counter()
        messages: list[Message] = [self.system]
        turns: list[TurnRow] = []
        checked: list[ExpectationRow] = []
        calls: list[ToolCallRow] = []
        talks: list[Any] = []
        status, error = "passed", None
        for step in plan.steps:
            messages.extend(step.new_messages)
            if step.simulated is not None or step.conversation_judge:
                if self.special is None:
                    raise RuntimeError("a simulated step needs Player(special=play_special)")
                error = await self.special(self, plan, step, messages, turns, checked, calls, talks)
                status = "error" if error is not None else worse(status, checked)
                if error is not None or (status == "failed" and self.stop_on_failure):
                    break
                continue
            sent = len(messages)
            made: list[ToolCallRow] = []
            try:
                completion = await self._exchange(plan.tools, step, messages, made)
            except (ProviderError, ToolRoundsExceeded) as failure:
                calls += made
                error = (
                    provider_error_text(failure)
                    if isinstance(failure, ProviderError)
                    else str(failure)
                )
                turns.append(TurnRow(step.turn_index, sent, None, error))
                checked += errored(step, error)
                status = "error"
                break
            calls += made
            reply = completion.text
            turns.append(TurnRow(step.turn_index, sent, completion, None))
            outcomes = await self._check(step, messages, reply)
            if step.tool_checks:
                outcomes += tool_outcomes(step, made)
            messages.append(Message("assistant", reply))
            checked += outcomes
            status = worse(status, outcomes)
            if status == "failed" and self.stop_on_failure:
                break
        latency = time.perf_counter() - started
        return AttemptResult(status, error, latency, tuple(turns), tuple(checked), tuple(calls),
                             tuple(talks))  # fmt: skip

    async def _exchange(
        self, box: ToolBox | None, step: StepPlan, messages: list[Message], made: list[ToolCallRow]
    ) -> Completion:
        """The turn's final completion; tool rounds in between are appended to `messages` and
        their calls to `made`. Usage and latency of every round are summed into the result."""
        if box is None:
            return await self.client.complete(tuple(messages))
        live = self.live_tools or {}
        total: Completion | None = None
        for round_number in range(1, self.max_tool_rounds + 2):
            completion = await self.client.complete(tuple(messages), tools=box.definitions)
            total = completion if total is None else added(total, completion)
            if not completion.tool_calls:
                return total
            if round_number > self.max_tool_rounds:
                break
            messages.append(Message("assistant", completion.text, completion.tool_calls))
            for index, call in enumerate(completion.tool_calls):
                sent, failed, row = await answer(call, box, live, turn_index=step.turn_index,
                                                 round=round_number, index=index,
                                                 served=self.served)  # fmt: skip
                made.append(row)
                messages.append(Message("tool", sent, tool_call_id=call.id, is_error=failed))
        raise ToolRoundsExceeded(
            f"tool_rounds: the assistant still asked for tools after max_tool_rounds="
            f"{self.max_tool_rounds} rounds"
        )

    async def _check(
        self, step: StepPlan, messages: Sequence[Message], reply: str
    ) -> list[ExpectationRow]:
        rows = []
        conversation: tuple[Message, ...] | None = None  # made for a judge only
        for plan in step.expectations:
            if plan.check is not None:
                outcome = plan.check(reply)
            else:
                conversation = conversation or tuple(messages)
                outcome = await self.judge(
                    conversation, reply, plan.assertion or "", plan.threshold
                )
            rows.append(
                ExpectationRow(
                    step.turn_index, plan.index, plan.type, str(outcome.status), outcome.detail
                )
            )
        return rows


class ToolRoundsExceeded(Exception):
    """A turn's assistant kept asking for tools beyond `max_tool_rounds`."""


def added(total: Completion, more: Completion) -> Completion:
    """`more` (the latest round's text and calls) with usage, cost and latency of both."""

    def plus(a: Any, b: Any) -> Any:
        return None if a is None and b is None else (a or 0) + (b or 0)

    return replace(
        more,
        latency_s=total.latency_s + more.latency_s,
        prompt_tokens=plus(total.prompt_tokens, more.prompt_tokens),
        completion_tokens=plus(total.completion_tokens, more.completion_tokens),
        cost_usd=plus(total.cost_usd, more.cost_usd),
        attempts=total.attempts + more.attempts,
    )


def tool_outcomes(step: StepPlan, calls: Sequence[ToolCallRow]) -> list[ExpectationRow]:
    rows = []
    for plan in step.tool_checks:
        status, detail = evaluate(plan, calls)
        rows.append(ExpectationRow(step.turn_index, plan.index, plan.type, status, detail))
    return rows


def worse(status: str, outcomes: Sequence[ExpectationRow]) -> str:
    """An attempt fails if any expectation failed; ERROR results alone never make it fail."""
    if status == "failed":
        return status
    statuses = {row.status for row in outcomes}  # one pass (this runs once per turn played)
    if FAILED in statuses:
        return "failed"
    if status == "error" or ERROR in statuses:
        return "error"
    return status


def errored(step: StepPlan, error: str) -> list[ExpectationRow]:
    detail = {"error": error}
    plans: list[ExpectationPlan | ToolCheckPlan] = [*step.expectations, *step.tool_checks]
    return [ExpectationRow(step.turn_index, plan.index, plan.type, ERROR, detail) for plan in plans]


def provider_error_text(error: ProviderError) -> str:
    """What is stored of a provider failure: its kind, status and message (never a key)."""
    status = f" {error.status}" if getattr(error, "status", None) else ""
    return f"{error.kind}{status}: {error}"
