"""Reading two runs' paired units and attempts, and building their `PairedComparison`.

Two statements, each filtered by user and run on every table (see sql.py). Units are matched in
pandas by (scenario id, turn, expectation, repeat); scenarios whose version differs between the
runs are left out (a changed test is not a change of the assistant) and named in the notes.
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

# One row per decided expectation result (errors are never paired).
UNITS = """
SELECT e.run_id, s.scenario_id, s.scenario_name, s.scenario_version, e.turn_index,
       e.expectation_index, a.repeat, e.status = 'PASSED'
FROM workbench.expectation_result e
JOIN workbench.run_attempt a ON a.id = e.attempt_id
    AND a.user_id = %(u)s AND a.run_id = ANY(%(ids)s)
JOIN workbench.run_scenario s ON s.run_id = a.run_id AND s.position = a.position
    AND s.user_id = %(u)s AND s.run_id = ANY(%(ids)s)
WHERE e.user_id = %(u)s AND e.run_id = ANY(%(ids)s) AND e.status IN ('PASSED', 'FAILED')
"""

# One row per attempt that has ended: status, latency, cost and tokens of its turns.
ATTEMPTS = """
SELECT a.run_id, a.scenario_id, a.position, a.repeat, a.status, a.latency_s, t.cost, t.tokens
FROM workbench.run_attempt a
LEFT JOIN (
    SELECT attempt_id, sum(cost_usd) AS cost,
           sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)) AS tokens
    FROM workbench.turn_result WHERE user_id = %(u)s AND run_id = ANY(%(ids)s)
    GROUP BY attempt_id
) t ON t.attempt_id = a.id
WHERE a.user_id = %(u)s AND a.run_id = ANY(%(ids)s) AND a.status IN ('passed', 'failed', 'error')
"""

UNIT_COLUMNS = ["run_id", "scenario_id", "scenario", "version", "turn", "expectation", "repeat",
                "passed"]  # fmt: skip
ATTEMPT_COLUMNS = ["run_id", "scenario_id", "position", "repeat", "status", "latency_s", "cost",
                   "tokens"]  # fmt: skip


def read_attempts(connection: Connection, user_id: str, run_ids: list[str]) -> pd.DataFrame:
    """Ended attempts of `run_ids` (the caller's own: filtered by `user_id`)."""
    import pandas as pd

    rows = connection.execute(ATTEMPTS, {"u": user_id, "ids": run_ids}).fetchall()
    frame = pd.DataFrame(rows, columns=ATTEMPT_COLUMNS)
    for column in ("latency_s", "cost", "tokens"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def paired_comparison(
    connection: Connection, user_id: str, baseline: str, candidate: str, k: int | None = None
) -> PairedComparison:
    """The paired statistics of two runs of the caller's (checked by the caller)."""
    ids = [baseline, candidate]
    frame = read_units(connection, user_id, ids)
    attempts = read_attempts(connection, user_id, ids)
    return build(frame, attempts, baseline, candidate, read_repeats(connection, user_id, ids), k)


def read_units(connection: Connection, user_id: str, run_ids: list[str]) -> pd.DataFrame:
    """Decided expectation results of `run_ids`: one row per unit that could be paired."""
    import pandas as pd

    rows = connection.execute(UNITS, {"u": user_id, "ids": run_ids}).fetchall()
    return pd.DataFrame(rows, columns=UNIT_COLUMNS)


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
    units = base.merge(cand, on=key, how="outer", suffixes=("_b", "_c"), indicator=True)
    changed = units["version_b"].notna() & units["version_c"].notna()
    changed &= units["version_b"] != units["version_c"]
    if changed.any():
        names = sorted(set(units.loc[changed, "scenario_b"].astype(str)))
        notes.append(f"left out {len(names)} scenario(s) whose version changed: {names[:5]}")
    paired = units[(units["_merge"] == "both") & ~changed]
    unpaired = len(units) - len(paired) - int(changed.sum())
    paired = paired.assign(
        scenario=paired["scenario_b"],
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
