"""One run's attempts (with the scenarios' current tags) and one attempt's transcript."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from workbench.errors import NotFound
from workbench.runs.analysis.frames import outcome_records
from workbench.runs.analysis.numbering import shown, shown_number, stored
from workbench.runs.analysis.simulated_transcript import add_simulated
from workbench.tables import typed_frame

if TYPE_CHECKING:
    import pandas as pd

Connection = psycopg.Connection[Any]

ATTEMPTS = f"""
SELECT {shown("a.position")}, s.scenario_id, s.scenario_name, {shown("a.repeat")}, a.status,
       a.error, a.latency_s, coalesce(sc.tags, '{{}}')
FROM workbench.run_attempt a
JOIN workbench.run_scenario s ON s.run_id = a.run_id AND s.position = a.position
    AND s.user_id = %(u)s AND s.run_id = %(r)s
LEFT JOIN public."Scenario" sc ON sc.id = s.scenario_id AND sc.user_id = %(u)s
WHERE a.user_id = %(u)s AND a.run_id = %(r)s
ORDER BY a.position, a.repeat
"""
ATTEMPT = """
SELECT a.id, a.status, a.error, s.scenario_name, s.turns, r.system_text
FROM workbench.run_attempt a
JOIN workbench.run_scenario s ON s.run_id = a.run_id AND s.position = a.position
    AND s.user_id = %(u)s AND s.run_id = %(r)s
JOIN workbench.run r ON r.id = a.run_id AND r.user_id = %(u)s
WHERE a.user_id = %(u)s AND a.run_id = %(r)s AND a.position = %(p)s AND a.repeat = %(k)s
"""
TURNS = """
SELECT turn_index, reply, latency_s, cached, error, model, prompt_tokens, completion_tokens,
       cost_usd
FROM workbench.turn_result
WHERE user_id = %(u)s AND run_id = %(r)s AND attempt_id = %(a)s
"""
NO_REPLY = (None, None, False, None, None, None, None, None)
CHECKS = """
SELECT turn_index, expectation_index, type, status, detail FROM workbench.expectation_result
WHERE user_id = %(u)s AND run_id = %(r)s AND attempt_id = %(a)s
ORDER BY turn_index, expectation_index
"""

TOOL_CALLS = """
SELECT turn_index, round, name, arguments, result, source, error, latency_s
FROM workbench.tool_call
WHERE user_id = %(u)s AND run_id = %(r)s AND attempt_id = %(a)s
ORDER BY turn_index, round, call_index
"""

ATTEMPT_COLUMNS = {
    "position": "Int64",
    "scenario_id": "string",
    "scenario": "string",
    "repeat": "Int64",
    "status": "string",
    "error": "string",
    "latency_s": "Float64",
    "tags": "object",
    "flaky": "boolean",
}


def attempts_frame(connection: Connection, user_id: str, run_id: str) -> pd.DataFrame:
    """One row per attempt; `flaky` when one of its scenario's expectations flipped."""
    rows = connection.execute(ATTEMPTS, {"u": user_id, "r": run_id}).fetchall()
    flaky = {
        r["position"]
        for r in outcome_records(connection, user_id, run_id)
        if r["verdict"] == "flaky"
    }
    names = list(ATTEMPT_COLUMNS)[:-1]
    records = [dict(zip(names, row, strict=True)) | {"flaky": row[0] in flaky} for row in rows]
    return typed_frame(records, ATTEMPT_COLUMNS)


def transcript(
    connection: Connection, user_id: str, run_id: str, position: int, repeat: int
) -> dict[str, Any]:
    """The attempt at `position`, `repeat` (both as shown: from 1): its turns in order, USER
    text, or EXPECT with its reply, the model, tokens, latency and cost of the call, and its
    checked expectations (status and detail: what matched, or the judge's reasoning and score)
    with its tool checks after them and the tool calls it made (`tool_calls`: round, name,
    arguments, result, source, error); and the run's system prompt as sent. Turns and
    expectations are numbered as shown too."""
    where = {"p": stored(position, "position"), "k": stored(repeat, "repeat")}
    params = {"u": user_id, "r": run_id, **where}
    found = connection.execute(ATTEMPT, params).fetchone()
    if found is None:
        raise NotFound(
            f"No attempt at position {position}, repeat {repeat} in run {run_id!r}; "
            "run.attempts() lists them."
        )
    attempt_id, status, error, name, turns, system = found
    params["a"] = attempt_id
    replies = {row[0]: row[1:] for row in connection.execute(TURNS, params).fetchall()}
    checks: dict[int, dict[int, dict[str, Any]]] = {}
    for turn, index, kind, outcome, detail in connection.execute(CHECKS, params).fetchall():
        checks.setdefault(turn, {})[index] = {"type": kind, "status": outcome, "detail": detail}
    calls: dict[int, list[dict[str, Any]]] = {}
    for turn, *call in connection.execute(TOOL_CALLS, params).fetchall():
        names = ("round", "name", "arguments", "result", "source", "error", "latency_s")
        calls.setdefault(turn, []).append(dict(zip(names, call, strict=True)))
    shown_turns = [_turn(index, turn, replies, checks) for index, turn in enumerate(turns)]
    for index, entry in enumerate(shown_turns):
        if entry["type"] == "EXPECT":
            entry["tool_calls"] = calls.get(index, [])
    add_simulated(connection, params, turns, shown_turns, checks)  # issue 21
    return {
        "scenario": name,
        "position": position,
        "repeat": repeat,
        "status": status,
        "error": error,
        "system": system,
        "turns": shown_turns,
    }


def _turn(
    index: int,
    turn: dict[str, Any],
    replies: dict[int, tuple[Any, ...]],
    checks: dict[int, dict[int, dict[str, Any]]],
) -> dict[str, Any]:
    """One stored turn (at 0-based `index`) as the transcript shows it."""
    entry: dict[str, Any] = {
        "turn": shown_number(index),
        "type": turn["type"],
        "text": turn.get("text"),
    }
    if turn["type"] != "EXPECT":
        return entry
    reply, latency, cached, error, model, sent, received, cost = replies.get(index, NO_REPLY)
    entry |= {"reply": reply, "latency_s": latency, "cached": cached, "error": error}
    entry |= {"model": model, "prompt_tokens": sent, "completion_tokens": received}
    entry["cost_usd"] = cost
    results = checks.get(index, {})
    entry["expectations"] = [
        {
            "expectation": shown_number(i),
            "spec": spec,
            **results.get(i, {"type": spec.get("type"), "status": None}),
        }
        for i, spec in enumerate([*(turn.get("expectations") or []),
                                  *(turn.get("tool_checks") or [])])
    ]  # fmt: skip
    return entry
