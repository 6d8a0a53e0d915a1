"""A run's tool calls as a DataFrame (issue 20): one row per call, in play order.

Numbers as people count them (numbering.py): repeat and turn from 1, and `round` (the tool
round of the EXPECT turn) from 1 as stored. One statement, filtered by user and run first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from workbench.runs.analysis.numbering import shown
from workbench.tables import typed_frame

if TYPE_CHECKING:
    import pandas as pd

TOOL_CALLS = f"""
SELECT s.scenario_name AS scenario, s.scenario_id, {shown("a.repeat")},
       {shown("c.turn_index")} AS turn, c.round, {shown("c.call_index")} AS call, c.name,
       c.arguments, c.result, c.source, c.latency_s, c.error
FROM workbench.tool_call c
JOIN workbench.run_attempt a ON a.id = c.attempt_id AND a.user_id = %(u)s AND a.run_id = %(r)s
JOIN workbench.run_scenario s ON s.run_id = a.run_id AND s.position = a.position
       AND s.user_id = %(u)s AND s.run_id = %(r)s
WHERE c.user_id = %(u)s AND c.run_id = %(r)s
ORDER BY a.position, a.repeat, c.turn_index, c.round, c.call_index
"""

TOOL_CALL_COLUMNS = {
    "scenario": "string",
    "scenario_id": "string",
    "repeat": "Int64",
    "turn": "Int64",
    "round": "Int64",
    "call": "Int64",
    "name": "string",
    "arguments": "string",
    "result": "string",
    "source": "string",
    "latency_s": "Float64",
    "error": "string",
}


def tool_calls_frame(
    connection: psycopg.Connection[Any], user_id: str, run_id: str
) -> pd.DataFrame:
    """One row per tool call of the run: where, what was asked, what came back."""
    rows = connection.execute(TOOL_CALLS, {"u": user_id, "r": run_id}).fetchall()
    names = list(TOOL_CALL_COLUMNS)
    return typed_frame((dict(zip(names, row, strict=True)) for row in rows), TOOL_CALL_COLUMNS)
