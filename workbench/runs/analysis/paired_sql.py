"""Reading two runs' paired units and attempts, and building their `PairedComparison`.

One statement per table, each filtered by user and run (see sql.py), joined in pandas. Units
are matched by (scenario id, turn, expectation, repeat); scenarios whose version differs between
the runs are left out (a changed test is not a change of the assistant) and named in the notes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from workbench.runs.analysis.paired import (
    PairedComparison,
    clustered_difference,
    mcnemar_p,
    mcnemar_table,
    scenario_frame,
)

if TYPE_CHECKING:
    import pandas as pd

Connection = psycopg.Connection[Any]

# One statement per table, each filtered by user and run through its (user_id, run_id) index,
# joined in pandas: joined in SQL, the planner's estimates for freshly played runs (one row,
# before autovacuum has analysed them) chose nested loops that took seconds at 6,000 attempts.
SCENARIOS = """
SELECT run_id, position, scenario_id, scenario_name, scenario_version FROM workbench.run_scenario
WHERE user_id = %(u)s AND run_id = ANY(%(ids)s)
"""
ENDED = """
SELECT id, run_id, position, repeat, status, latency_s FROM workbench.run_attempt
WHERE user_id = %(u)s AND run_id = ANY(%(ids)s) AND status IN ('passed', 'failed', 'error')
"""
# Decided expectation results only: errors are never paired.
RESULTS = """
SELECT attempt_id, turn_index, expectation_index, status = 'PASSED'
FROM workbench.expectation_result
WHERE user_id = %(u)s AND run_id = ANY(%(ids)s) AND status IN ('PASSED', 'FAILED')
"""
COSTS = """
SELECT attempt_id, sum(cost_usd),
       sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0))
FROM workbench.turn_result WHERE user_id = %(u)s AND run_id = ANY(%(ids)s)
GROUP BY attempt_id
"""

UNIT_COLUMNS = ["run_id", "scenario_id", "scenario", "version", "turn", "expectation", "repeat",
                "passed"]  # fmt: skip
ATTEMPT_COLUMNS = ["run_id", "scenario_id", "position", "repeat", "status", "latency_s", "cost",
                   "tokens"]  # fmt: skip


def _frame(connection: Connection, query: str, params: dict[str, Any], columns: list[str]) -> Any:
    import pandas as pd

    return pd.DataFrame(connection.execute(query, params).fetchall(), columns=columns)


def _attempts(connection: Connection, params: dict[str, Any]) -> pd.DataFrame:
    """Ended attempts with their scenario (id, name, version) and attempt id."""
    attempts = _frame(connection, ENDED, params,
                      ["id", "run_id", "position", "repeat", "status", "latency_s"])  # fmt: skip
    scenarios = _frame(connection, SCENARIOS, params,
                       ["run_id", "position", "scenario_id", "scenario", "version"])  # fmt: skip
    merged: pd.DataFrame = attempts.merge(scenarios, on=["run_id", "position"], how="left")
    return merged


def read_attempts(connection: Connection, user_id: str, run_ids: list[str]) -> pd.DataFrame:
    """Ended attempts of `run_ids` (the caller's own: filtered by `user_id`), with the cost and
    tokens of their turns (`ATTEMPT_COLUMNS`)."""
    return read_study(connection, user_id, run_ids, units=False)[1]


def read_units(connection: Connection, user_id: str, run_ids: list[str]) -> pd.DataFrame:
    """Decided expectation results of `run_ids`: one row per unit that could be paired, with
    the turn, expectation and repeat as stored (from 0: they only match units here)."""
    return read_study(connection, user_id, run_ids)[0]


def read_study(
    connection: Connection, user_id: str, run_ids: list[str], units: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units (`UNIT_COLUMNS`; empty unless `units`) and attempts (`ATTEMPT_COLUMNS`) of runs of
    the caller's, the attempts and scenarios read once for both."""
    import pandas as pd

    params = {"u": user_id, "ids": run_ids}
    attempts = _attempts(connection, params)
    costs = _frame(connection, COSTS, params, ["id", "cost", "tokens"])
    frame = attempts.merge(costs, on="id", how="left")
    for column in ("latency_s", "cost", "tokens"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    found = pd.DataFrame(columns=UNIT_COLUMNS)
    if units:
        results = _frame(connection, RESULTS, params, ["id", "turn", "expectation", "passed"])
        found = pd.DataFrame(results.merge(attempts, on="id", how="inner")[UNIT_COLUMNS])
    return found, pd.DataFrame(frame[ATTEMPT_COLUMNS])


def paired_comparison(
    connection: Connection, user_id: str, baseline: str, candidate: str, k: int | None = None
) -> PairedComparison:
    """The paired statistics of two runs of the caller's (checked by the caller)."""
    ids = [baseline, candidate]
    frame, attempts = read_study(connection, user_id, ids)
    return build(frame, attempts, baseline, candidate, read_repeats(connection, user_id, ids), k)


def read_repeats(connection: Connection, user_id: str, run_ids: list[str]) -> dict[str, int]:
    rows = connection.execute(
        "SELECT id, repeats FROM workbench.run WHERE user_id = %(u)s AND id = ANY(%(ids)s)",
        {"u": user_id, "ids": run_ids},
    ).fetchall()
    return {str(run_id): int(repeats) for run_id, repeats in rows}


def build(
    frame: pd.DataFrame,
    attempts: pd.DataFrame,
    baseline: str,
    candidate: str,
    repeats: dict[str, int],
    k: int | None = None,
) -> PairedComparison:
    """`PairedComparison` of unit rows (run_id, scenario_id, scenario, version, turn,
    expectation, repeat, passed) and attempt rows (`read_attempts`)."""
    notes: list[str] = []
    key = ["scenario_id", "turn", "expectation", "repeat"]
    base = frame[frame["run_id"] == baseline]
    cand = frame[frame["run_id"] == candidate]
    # An inner join (an outer one costs twice as much): what is on one side only is counted.
    units = base.merge(cand[[*key, "version", "passed"]], on=key, suffixes=("_b", "_c"))
    changed = units["version_b"] != units["version_c"]
    if changed.any():
        names = sorted(set(units.loc[changed, "scenario"].astype(str)))
        notes.append(f"left out {len(names)} scenario(s) whose version changed: {names[:5]}")
    paired = units[~changed]
    unpaired = len(base) + len(cand) - 2 * len(units)
    paired = paired.assign(
        base=paired["passed_b"].astype(bool),
        cand=paired["passed_c"].astype(bool),
    )
    k = k if k is not None else min(repeats.get(baseline, 1), repeats.get(candidate, 1))
    table = mcnemar_table(paired["base"], paired["cand"])
    difference = clustered_difference(paired["scenario_id"], paired["base"], paired["cand"])
    p_value: float | None = mcnemar_p(table.only_baseline, table.only_candidate)
    if table.pairs < 2:
        p_value = None
        notes.append(f"{table.pairs} paired unit(s): too few for a p-value")
    if difference.clusters < 2:
        notes.append("fewer than 2 scenarios paired: no interval (it is clustered by scenario)")
    if min(repeats.get(baseline, 1), repeats.get(candidate, 1)) < 2:
        notes.append(
            "repeats=1: flakiness and pass^k need 2 repeats or more; a difference per scenario "
            "rests on one attempt each"
        )
    if k > min(repeats.get(baseline, 1), repeats.get(candidate, 1)):
        notes.append(f"pass^{k} needs {k} repeats per run: it is NaN where there are fewer")
    decided = attempts[attempts["status"].isin(["passed", "failed"])]
    sides = decided.assign(
        side=decided["run_id"].map({baseline: "baseline", candidate: "candidate"}),
        passed=decided["status"] == "passed",
    )
    scenarios = scenario_frame(paired, sides, k)
    rate_b = float(paired["base"].mean()) if len(paired) else float("nan")
    rate_c = float(paired["cand"].mean()) if len(paired) else float("nan")
    return PairedComparison(
        baseline, candidate, table, unpaired, rate_b, rate_c, difference, p_value, k, scenarios,
        costs=cost_deltas(attempts, baseline, candidate), notes=notes,
    )  # fmt: skip


def cost_deltas(attempts: pd.DataFrame, baseline: str, candidate: str) -> dict[str, float | None]:
    """Mean cost per attempt and reply latency p50/p95 per side, and candidate - baseline."""
    out: dict[str, float | None] = {}
    for name, column, how in (
        ("cost_usd", "cost", None),  # the mean
        ("latency_p50_s", "latency_s", 0.5),
        ("latency_p95_s", "latency_s", 0.95),
    ):
        values = {}
        for side, run_id in (("baseline", baseline), ("candidate", candidate)):
            series = attempts.loc[attempts["run_id"] == run_id, column].dropna()
            value = None
            if len(series):
                value = float(series.mean() if how is None else series.quantile(how))
            values[side] = value
            out[f"{side}_{name}"] = value
        b, c = values["baseline"], values["candidate"]
        out[f"{name}_delta"] = None if b is None or c is None else c - b
    return out
