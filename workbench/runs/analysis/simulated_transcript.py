"""The simulated blocks of one attempt's transcript (issue 21): what `transcript()` adds.

A simulated USER turn gets `simulated` (goal, persona, bounds), `conversation` (turns played,
ending, reason, the simulator's model, prompt version and usage, and the block's messages, the
simulated user's marked as such) and its `expectations` (the each_reply checks with their
results); a judge_conversation turn is marked `conversation_judge`, its expectations being the
criteria with their verdicts and reasoning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from workbench.runs.analysis.numbering import shown_number

CONVERSATIONS = """
SELECT turn_index, turns_played, ending, reason, transcript, simulator_model,
       simulator_prompt_version, simulator_calls, simulator_prompt_tokens,
       simulator_completion_tokens, simulator_cost_usd
FROM workbench.conversation_result
WHERE user_id = %(u)s AND run_id = %(r)s AND attempt_id = %(a)s
"""
NAMES = ("turns_played", "ending", "reason", "transcript", "simulator_model",
         "simulator_prompt_version", "simulator_calls", "simulator_prompt_tokens",
         "simulator_completion_tokens", "simulator_cost_usd")  # fmt: skip


def add_simulated(
    connection: psycopg.Connection[Any],
    params: dict[str, Any],
    turns: Sequence[dict[str, Any]],
    shown_turns: list[dict[str, Any]],
    checks: dict[int, dict[int, dict[str, Any]]],
) -> None:
    """Add the blocks and judge turns of `turns` (the snapshot) to `shown_turns` in place."""
    if not any(t.get("simulated") or t.get("conversation_judge") for t in turns):
        return  # one query only for attempts that have them
    found = {row[0]: dict(zip(NAMES, row[1:], strict=True))
             for row in connection.execute(CONVERSATIONS, params).fetchall()}  # fmt: skip
    for index, (turn, entry) in enumerate(zip(turns, shown_turns, strict=True)):
        if turn.get("conversation_judge"):
            entry["conversation_judge"] = True
        block = turn.get("simulated")
        if not block:
            continue
        entry["simulated"] = {k: block.get(k) for k in ("goal", "persona", "min_turns",
                                                       "max_turns")}  # fmt: skip
        entry["conversation"] = found.get(index)
        results = checks.get(index, {})
        entry["expectations"] = [
            {"expectation": shown_number(i), "spec": spec,
             **results.get(i, {"type": spec.get("type"), "status": None})}
            for i, spec in enumerate(block.get("each_reply") or [])
        ]  # fmt: skip
