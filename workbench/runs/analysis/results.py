"""A run's results as DataFrames: one row per expectation attempt, and the pass-rate summary.

One SQL statement per frame, filtered by user first (the indexes start with `user_id`). Every
joined table is filtered by user and run itself: with only the user, a hash join read every
attempt of every user (a sequential scan bench/bench_analysis.py caught at 240,000 results).
pandas is imported when a frame is built (`tables.typed_frame`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from workbench.runs.analysis.numbering import shown
from workbench.runs.analysis.stats import with_intervals
from workbench.tables import JSON, typed_frame

if TYPE_CHECKING:
    import pandas as pd

# Numbers as people count them (numbering.py): repeat, turn and expectation from 1.
RESULTS = f"""
SELECT s.scenario_name AS scenario, s.scenario_id, s.scenario_version, {shown("a.repeat")},
       {shown("e.turn_index")} AS turn, {shown("e.expectation_index")} AS expectation, e.type,
       e.status,
       e.status = 'PASSED' AS passed, t.reply, t.latency_s, t.prompt_tokens,
       t.completion_tokens, t.cost_usd, t.cached, t.reply_cut,
       coalesce(t.error, e.detail ->> 'error') AS error, e.detail ->> 'verdict' AS verdict,
       e.detail ->> 'reasoning' AS reasoning, e.detail, e.id AS result_id, l.label
FROM workbench.expectation_result e
JOIN workbench.run_attempt a ON a.id = e.attempt_id AND a.user_id = %(u)s AND a.run_id = %(r)s
JOIN workbench.run_scenario s ON s.run_id = a.run_id AND s.position = a.position
       AND s.user_id = %(u)s AND s.run_id = %(r)s
LEFT JOIN workbench.turn_result t
       ON t.attempt_id = e.attempt_id AND t.turn_index = e.turn_index AND t.user_id = %(u)s
       AND t.run_id = %(r)s
LEFT JOIN workbench.review_label l
       ON l.result_id = e.id AND l.user_id = %(u)s AND l.run_id = %(r)s
WHERE e.user_id = %(u)s AND e.run_id = %(r)s
ORDER BY a.position, a.repeat, e.turn_index, e.expectation_index
"""

RESULT_COLUMNS = {
    "scenario": "string",
    "scenario_id": "string",
    "scenario_version": "Int64",
    "repeat": "Int64",
    "turn": "Int64",
    "expectation": "Int64",
    "type": "string",
    "status": "string",
    "passed": "boolean",
    "reply": "string",
    "latency_s": "Float64",
    "prompt_tokens": "Int64",
    "completion_tokens": "Int64",
    "cost_usd": "Float64",
    "cached": "boolean",
    "reply_cut": "boolean",
    "error": "string",
    "verdict": "string",
    "reasoning": "string",
    "detail": JSON,
    "result_id": "Int64",
    "label": "string",  # a person's label (issue 26: wb.reviews), beside the automated status
}
_STATUS = list(RESULT_COLUMNS).index("status")


def results_frame(connection: psycopg.Connection[Any], user_id: str, run_id: str) -> pd.DataFrame:
    """One row per expectation attempt of the run, in play order."""
    rows = connection.execute(RESULTS, {"u": user_id, "r": run_id}).fetchall()
    names = list(RESULT_COLUMNS)
    records = []
    for row in rows:
        record = dict(zip(names, row, strict=True))
        # An ERROR is not a failure, nor an INCONCLUSIVE criterion (issue 21): `passed` is
        # empty, never False.
        if row[_STATUS] in ("ERROR", "INCONCLUSIVE"):
            record["passed"] = None
        records.append(record)
    return typed_frame(records, RESULT_COLUMNS)


def summarise(results: pd.DataFrame, *, labels: bool = False) -> pd.DataFrame:
    """Per scenario, turn and expectation: passed, failed, errors, inconclusive (a conversation
    criterion's verdict, issue 21: counted apart, like errors never as failed) and the pass rate
    over passed + failed.

    With `labels`, a person's "pass" or "fail" counts instead of the automated outcome where
    there is one ("unsure" leaves the outcome as it was), and `labelled` says how many did.
    """
    import pandas as pd

    if labels:
        results = with_labels_counted(results)
    keys = ["scenario", "turn", "expectation", "type"]
    if results.empty:
        empty = [*keys, "passed", "failed", "errors", "inconclusive"]
        empty += [*(["labelled"] if labels else []), "pass_rate", "ci_low", "ci_high"]
        return pd.DataFrame(columns=empty)
    counts = (
        results.assign(
            passed=results["status"] == "PASSED",
            failed=results["status"] == "FAILED",
            errors=results["status"] == "ERROR",
            inconclusive=results["status"] == "INCONCLUSIVE",
        )
        .groupby(keys, sort=False, observed=True)[["passed", "failed", "errors", "inconclusive"]]
        .sum()
        .reset_index()
    )
    if labels:
        labelled = results.groupby(keys, sort=False, observed=True)["labelled"].sum()
        counts["labelled"] = labelled.to_numpy()
    checked = counts["passed"] + counts["failed"]
    counts["pass_rate"] = (counts["passed"] / checked.where(checked > 0)).astype("Float64")
    return with_intervals(counts)  # issue 12: the Wilson 95% interval


def with_labels_counted(results: pd.DataFrame) -> pd.DataFrame:
    """`results` with `status` taken from the person's label where it says pass or fail."""
    label = results["label"].astype("object")
    human = label.map({"pass": "PASSED", "fail": "FAILED"})
    counted = human.notna()
    return results.assign(status=human.where(counted, results["status"]), labelled=counted)
