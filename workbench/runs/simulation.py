"""A simulated block and a judge_conversation turn, played inside an attempt (issue 21).

The block: for each of the simulated user's turns (1..max_turns, counting only its own turns,
never the script before it) the simulator (runs/simulator.py) writes the next user message or
ends the block (only once it has played min_turns); the message is sent to the target like a
scripted one (tools included), and every each_reply check is applied to every reply. A
scripted USER turn still waiting when the block starts is sent together with the first simulated
message (one user message: no double opening, deepeval #1884). After max_turns the simulator is
not asked again and the block ends "max_turns"; its criteria are judged all the same (#934).

Stored: one `turn_result` row for the block (the last reply, the target's usage of all of them
summed, as tool rounds are), one expectation row per each_reply check (FAILED if any reply
failed it, the failing replies listed), one `conversation_result` row (turns played, ending,
reason, transcript, the simulator's usage). Tool calls made in the block keep their turn; their
`round` is 100 × (reply − 1) + the round within that reply, so rows stay unique.

The judge turn: each criterion judged on the whole conversation so far, one call each
(runs/conversation_judge.py), as rows of type CONVERSATION.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from workbench.runs.conversation_judge import CONVERSATION, judge_criterion
from workbench.runs.engine import (
    ExpectationRow,
    Player,
    ScenarioPlan,
    StepPlan,
    ToolRoundsExceeded,
    TurnRow,
    added,
    provider_error_text,
)
from workbench.runs.evaluators.outcome import ERROR, FAILED, PASSED, clip
from workbench.runs.providers import Completion, Message, ProviderError
from workbench.runs.simulator import SIMULATOR_PROMPT_VERSION, next_turn
from workbench.runs.tools import ToolBox, ToolCallRow

ROUNDS_PER_REPLY = 100
KEPT_TEXT = 20_000  # characters of one message kept in a transcript


@dataclass(frozen=True, slots=True)
class ConversationRow:
    turn_index: int
    turns_played: int
    ending: str  # goal_reached, gave_up, max_turns, error
    reason: str | None
    transcript: tuple[Mapping[str, Any], ...]
    simulator_model: str | None
    simulator_calls: int
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None

    def row(self) -> dict[str, Any]:
        return {"t": self.turn_index, "n": self.turns_played, "e": self.ending,
                "r": self.reason, "x": list(self.transcript), "m": self.simulator_model,
                "v": SIMULATOR_PROMPT_VERSION, "c": self.simulator_calls, "p": self.prompt_tokens,
                "o": self.completion_tokens, "u": self.cost_usd}  # fmt: skip


@dataclass
class Block:
    """What a block has played so far."""

    completion: Completion | None = None
    error: str | None = None
    ending: str = "max_turns"
    reason: str | None = None
    played: int = 0
    sent: int = 0
    transcript: list[dict[str, Any]] = field(default_factory=list)
    simulator: list[Completion] = field(default_factory=list)
    checks: list[list[tuple[int, ExpectationRow]]] = field(default_factory=list)
    calls: list[ToolCallRow] = field(default_factory=list)


async def play_special(
    player: Player,
    plan: ScenarioPlan,
    step: StepPlan,
    messages: list[Message],
    turns: list[TurnRow],
    checked: list[ExpectationRow],
    calls: list[ToolCallRow],
    talks: list[ConversationRow],
) -> str | None:
    """A simulated block or a judge_conversation turn, its rows appended to the attempt's
    lists (`Player.special`); the error that ends the attempt, if any."""
    if step.conversation_judge:
        checked += await judge_turn(player, step, tuple(messages))
        return None
    block, rows, talk = await play_block(player, plan.tools, step, messages)
    turns.append(TurnRow(step.turn_index, block.sent, block.completion, block.error))
    checked += rows
    calls += block.calls
    talks.append(talk)
    return block.error


async def play_block(
    player: Player, box: ToolBox | None, step: StepPlan, messages: list[Message]
) -> tuple[Block, list[ExpectationRow], ConversationRow]:
    """Play `step`'s simulated block on `messages` (extended in place)."""
    spec = step.simulated or {}
    block = Block(checks=[[] for _ in step.expectations])
    simulator = player.simulator or player.client
    for turn in range(1, int(spec["max_turns"]) + 1):
        try:
            said, completions, problem = await next_turn(simulator, spec, messages, turn)
        except ProviderError as failure:
            _end(block, "error", f"simulator: {provider_error_text(failure)}", error=True)
            break
        block.simulator += completions
        if said is None:
            _end(block, "error", problem, error=True)
            break
        if said.done:
            _end(block, "goal_reached" if said.goal_reached else "gave_up", said.reason)
            block.transcript.append({"role": "simulator", "done": True, "reason": said.reason})
            break
        _say(messages, said.message)
        block.played += 1
        block.transcript.append({"role": "user", "text": clip(said.message, KEPT_TEXT),
                                 "turn": turn, "reason": said.reason})  # fmt: skip
        made: list[ToolCallRow] = []
        block.sent = len(messages)
        try:
            completion = await player._exchange(box, step, messages, made)
        except (ProviderError, ToolRoundsExceeded) as failure:
            block.calls += _renumbered(made, turn)
            text = provider_error_text(failure) if isinstance(failure, ProviderError) else None
            _end(block, "error", text or str(failure), error=True)
            break
        block.calls += _renumbered(made, turn)
        total = block.completion
        block.completion = completion if total is None else added(total, completion)
        rows = await player._check(step, messages, completion.text)
        messages.append(Message("assistant", completion.text))
        block.transcript.append({"role": "assistant", "text": clip(completion.text, KEPT_TEXT)})
        for index, row in enumerate(rows):
            block.checks[index].append((turn, row))
    else:
        block.reason = f"the simulated user played max_turns={spec['max_turns']} turns"
    return block, _check_rows(step, block), _conversation(step, block)


def _say(messages: list[Message], text: str) -> None:
    """The simulated message, joined to a scripted user message still waiting for a reply."""
    if messages and messages[-1].role == "user" and not messages[-1].tool_call_id:
        messages[-1] = Message("user", messages[-1].content + "\n\n" + text)
    else:
        messages.append(Message("user", text))


def _end(block: Block, ending: str, reason: str | None, *, error: bool = False) -> None:
    block.ending, block.reason = ending, reason
    if error:
        block.error = reason or "simulated block failed"


def _renumbered(calls: Sequence[ToolCallRow], turn: int) -> list[ToolCallRow]:
    offset = (turn - 1) * ROUNDS_PER_REPLY
    return [replace(call, round=call.round + offset) for call in calls]


def _check_rows(step: StepPlan, block: Block) -> list[ExpectationRow]:
    """One row per each_reply check over all the block's replies."""
    rows = []
    for plan, seen in zip(step.expectations, block.checks, strict=True):
        failed = [turn for turn, row in seen if row.status == FAILED]
        errored = [turn for turn, row in seen if row.status == ERROR]
        detail: dict[str, Any] = {"each_reply": True, "replies": len(seen),
                                  "failed_replies": failed}  # fmt: skip
        if failed:
            status, first = FAILED, next(row for _, row in seen if row.status == FAILED)
            detail["first_failure"] = dict(first.detail)
        elif errored or not seen:
            status = ERROR
            detail["error"] = (
                next(row for _, row in seen if row.status == ERROR).detail.get("error")
                if errored
                else (block.error or "no reply was played")
            )
        else:
            status = PASSED
        rows.append(ExpectationRow(step.turn_index, plan.index, plan.type, status, detail))
    return rows


def _conversation(step: StepPlan, block: Block) -> ConversationRow:
    def total(name: str) -> Any:
        values = [getattr(c, name) for c in block.simulator]
        return None if all(v is None for v in values) else sum(v or 0 for v in values)

    model = block.simulator[-1].model if block.simulator else None
    return ConversationRow(
        step.turn_index, block.played, block.ending, block.reason, tuple(block.transcript),
        model, len(block.simulator), total("prompt_tokens"), total("completion_tokens"),
        total("cost_usd"),
    )  # fmt: skip


async def judge_turn(
    player: Player, step: StepPlan, messages: Sequence[Message]
) -> list[ExpectationRow]:
    """Each criterion of a judge_conversation turn, judged on its own."""
    judge = player.judge_client or player.client
    rows = []
    for plan in step.expectations:
        outcome = await judge_criterion(judge, messages, plan.assertion or "")
        status, detail = outcome.status, outcome.detail
        rows.append(ExpectationRow(step.turn_index, plan.index, CONVERSATION, status, detail))
    return rows
