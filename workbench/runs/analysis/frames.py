"""One run's pass rates and flaky expectations as DataFrames (pandas imported lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from workbench.runs.analysis import sql
from workbench.runs.analysis.stats import flips, verdict, wilson
from workbench.tables import typed_frame

if TYPE_CHECKING:
    import pandas as pd

Connection = psycopg.Connection[Any]

FLAKY_COLUMNS = {
    "position": "Int64",
    "scenario_id": "string",
    "scenario": "string",
    "turn": "Int64",
    "expectation": "Int64",
    "type": "string",
    "outcomes": "string",
    "passed": "Int64",
    "failed": "Int64",
    "errored": "Int64",
    "inconclusive": "Int64",  # a conversation criterion's verdict (issue 21): never a failure
    "pass_rate": "Float64",
    "ci_low": "Float64",
    "ci_high": "Float64",
    "flips": "Int64",
    "verdict": "string",
}
RATE_COLUMNS = {
    "position": "Int64",
    "scenario_id": "string",
    "scenario": "string",
    "scenario_version": "Int64",
    "passed": "Int64",
    "failed": "Int64",
    "errored": "Int64",
    "unfinished": "Int64",
    "pass_rate": "Float64",
    "ci_low": "Float64",
    "ci_high": "Float64",
    "mean_latency_s": "Float64",
}


def outcome_records(connection: Connection, user_id: str, run_id: str) -> list[dict[str, Any]]:
    """Every expectation of a run with its repeats summarised (the flaky ones and the rest)."""
    rows = connection.execute(sql.OUTCOMES, {"u": user_id, "r": run_id}).fetchall()
    records = []
    for position, scenario_id, name, turn, index, kind, outcomes in rows:
        passed, failed = outcomes.count("P"), outcomes.count("F")
        low, high = wilson(passed, passed + failed)
        records.append(
            {
                "position": position,
                "scenario_id": scenario_id,
                "scenario": name,
                "turn": turn,
                "expectation": index,
                "type": kind,
                "outcomes": outcomes,
                "passed": passed,
                "failed": failed,
                "errored": outcomes.count("E"),
                "inconclusive": outcomes.count("I"),
                "pass_rate": passed / (passed + failed) if passed + failed else None,
                "ci_low": low,
                "ci_high": high,
                "flips": flips(outcomes),
                "verdict": verdict(outcomes),
            }
        )
    return records


def flaky_frame(connection: Connection, user_id: str, run_id: str) -> pd.DataFrame:
    """Expectations that both passed and failed across repeats, the most unsettled first."""
    records = [r for r in outcome_records(connection, user_id, run_id) if r["verdict"] == "flaky"]
    records.sort(key=lambda r: (-r["flips"], abs(r["pass_rate"] - 0.5), r["position"]))
    return typed_frame(records, FLAKY_COLUMNS)


def pass_rate_frame(connection: Connection, user_id: str, run_id: str) -> pd.DataFrame:
    """Per scenario: attempts passed/failed/errored and the pass rate with its 95% interval.

    The rate is over attempts that finished with a verdict (errors and unfinished left out).
    """
    rows = connection.execute(sql.SCENARIO_RATES, {"u": user_id, "r": run_id}).fetchall()
    records = []
    for position, scenario_id, name, version, passed, failed, errored, waiting, latency in rows:
        decided = passed + failed
        low, high = wilson(passed, decided)
        records.append(
            {
                "position": position,
                "scenario_id": scenario_id,
                "scenario": name,
                "scenario_version": version,
                "passed": passed,
                "failed": failed,
                "errored": errored,
                "unfinished": waiting,
                "pass_rate": passed / decided if decided else None,
                "ci_low": low,
                "ci_high": high,
                "mean_latency_s": latency,
            }
        )
    return typed_frame(records, RATE_COLUMNS)
