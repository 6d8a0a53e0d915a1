"""A run's simulated conversations as DataFrames (issue 21): one row per block played, and the
distribution of their lengths and endings over the repeats.

Numbers as people count them (numbering.py): repeat and turn from 1. Tokens and cost are given
per role: the target's (all replies of the block, summed), the simulator's, and the judge's (the
attempt's judge_conversation criteria, summed). One statement, filtered by user and run first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from workbench.runs.analysis.numbering import shown
from workbench.runs.analysis.stats import with_intervals
from workbench.tables import JSON, typed_frame

if TYPE_CHECKING:
    import pandas as pd

ENDINGS = ("goal_reached", "gave_up", "max_turns", "error")

CONVERSATIONS = f"""
SELECT s.scenario_name AS scenario, s.scenario_id, {shown("a.repeat")},
       {shown("c.turn_index")} AS turn, c.turns_played, c.ending, c.reason,
       t.prompt_tokens, t.completion_tokens, t.cost_usd,
       c.simulator_model, c.simulator_prompt_version, c.simulator_calls,
       c.simulator_prompt_tokens, c.simulator_completion_tokens, c.simulator_cost_usd,
       j.prompt_tokens, j.completion_tokens, j.cost_usd, c.transcript
FROM workbench.conversation_result c
JOIN workbench.run_attempt a ON a.id = c.attempt_id AND a.user_id = %(u)s AND a.run_id = %(r)s
JOIN workbench.run_scenario s ON s.run_id = a.run_id AND s.position = a.position
       AND s.user_id = %(u)s AND s.run_id = %(r)s
LEFT JOIN workbench.turn_result t
       ON t.attempt_id = c.attempt_id AND t.turn_index = c.turn_index AND t.user_id = %(u)s
       AND t.run_id = %(r)s
LEFT JOIN LATERAL (
    SELECT sum((e.detail ->> 'prompt_tokens')::int) AS prompt_tokens,
           sum((e.detail ->> 'completion_tokens')::int) AS completion_tokens,
           sum((e.detail ->> 'cost_usd')::float8) AS cost_usd
    FROM workbench.expectation_result e
    WHERE e.attempt_id = c.attempt_id AND e.user_id = %(u)s AND e.run_id = %(r)s
      AND e.type = 'CONVERSATION'
) j ON true
WHERE c.user_id = %(u)s AND c.run_id = %(r)s
ORDER BY a.position, a.repeat, c.turn_index
"""

CONVERSATION_COLUMNS = {
    "scenario": "string",
    "scenario_id": "string",
    "repeat": "Int64",
    "turn": "Int64",
    "turns_played": "Int64",
    "ending": "string",
    "reason": "string",
    "target_prompt_tokens": "Int64",
    "target_completion_tokens": "Int64",
    "target_cost_usd": "Float64",
    "simulator_model": "string",
    "simulator_prompt_version": "string",
    "simulator_calls": "Int64",
    "simulator_prompt_tokens": "Int64",
    "simulator_completion_tokens": "Int64",
    "simulator_cost_usd": "Float64",
    "judge_prompt_tokens": "Int64",
    "judge_completion_tokens": "Int64",
    "judge_cost_usd": "Float64",
    "transcript": JSON,
}


def conversations_frame(
    connection: psycopg.Connection[Any], user_id: str, run_id: str
) -> pd.DataFrame:
    """One row per simulated block of every attempt: turns played, ending, reason, usage per
    role and the transcript (a list of {"role", "text", ...})."""
    rows = connection.execute(CONVERSATIONS, {"u": user_id, "r": run_id}).fetchall()
    names = list(CONVERSATION_COLUMNS)
    return typed_frame((dict(zip(names, row, strict=True)) for row in rows), CONVERSATION_COLUMNS)


def conversation_summary(conversations: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and block: how many were played, the distribution of their lengths (mean,
    min, median, max, and `lengths`, turns played → count) and of their endings (a count per
    ending), and the rate the goal was reached with its 95% interval."""
    import pandas as pd

    keys = ["scenario", "turn"]
    columns = [*keys, "conversations", "turns_mean", "turns_min", "turns_median", "turns_max",
               "lengths", *ENDINGS, "goal_rate", "ci_low", "ci_high"]  # fmt: skip
    if conversations.empty:
        return pd.DataFrame(columns=columns)
    out = []
    for (scenario, turn), group in conversations.groupby(keys, sort=False):
        played = group["turns_played"].astype(int)
        endings = group["ending"].value_counts()
        row: dict[str, Any] = {
            "scenario": scenario, "turn": turn, "conversations": len(group),
            "turns_mean": float(played.mean()), "turns_min": int(played.min()),
            "turns_median": float(played.median()), "turns_max": int(played.max()),
            "lengths": {int(str(k)): int(v) for k, v in sorted(played.value_counts().items())},
        }  # fmt: skip
        row |= {ending: int(endings.get(ending, 0)) for ending in ENDINGS}
        out.append(row)
    frame = pd.DataFrame(out)
    # The goal rate over conversations that ended on the simulator's word or the turn limit
    # (an ERROR is not counted), with the same interval as pass rates (stats.py).
    others = frame["gave_up"] + frame["max_turns"]
    checked = frame["goal_reached"] + others
    frame["goal_rate"] = (frame["goal_reached"] / checked.where(checked > 0)).astype("Float64")
    frame = with_intervals(frame.assign(others=others), passed="goal_reached", failed="others")
    return frame[columns]
