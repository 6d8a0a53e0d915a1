"""A matrix's frames: one row per cell (prompt x target), and every cell against a baseline.

Computed in pandas from one read of all the cells' attempts and units (`paired_sql.py`), so a
2 x 2 matrix of 500 scenarios x 3 repeats is summarised in two statements, not one per cell.

A cell's pass rate is over decided attempts (an attempt passes when every expectation of it
passed; errors are counted apart, never as failures), with the cluster-robust 95% interval by
scenario (`paired.clustered_mean`): repeats of one scenario are not independent draws.
pass^k is the mean over scenarios of each scenario's unbiased pass^k (`paired.pass_hat_k`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.runs.analysis.paired import PairedComparison, clustered_mean, pass_hat_k
from workbench.runs.analysis.paired_sql import build
from workbench.tables import typed_frame

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Cell:
    """One cell: its number (from 1), prompt and target as shown, and the run that played it."""

    number: int
    prompt: str
    target: str
    run_id: str | None
    status: str | None = None
    settings: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


SUMMARY_COLUMNS = {
    "cell": "Int64",
    "prompt": "string",
    "target": "string",
    "run_id": "string",
    "status": "string",
    "attempts": "Int64",
    "passed": "Int64",
    "failed": "Int64",
    "errors": "Int64",
    "pass_rate": "Float64",
    "ci_low": "Float64",
    "ci_high": "Float64",
    "pass_k": "Float64",
    "cost_usd": "Float64",
    "tokens": "Int64",
    "latency_p50_s": "Float64",
    "latency_p95_s": "Float64",
}

COMPARE_COLUMNS = {
    "cell": "Int64",
    "prompt": "string",
    "target": "string",
    "pairs": "Int64",
    "baseline_rate": "Float64",
    "candidate_rate": "Float64",
    "difference": "Float64",
    "ci_low": "Float64",
    "ci_high": "Float64",
    "p_value": "Float64",
    "worse": "Int64",
    "better": "Int64",
    "flaky": "Int64",
    "cost_usd_delta": "Float64",
    "latency_p50_s_delta": "Float64",
    "notes": "string",
}


def summary_frame(cells: list[Cell], attempts: pd.DataFrame, k: int) -> pd.DataFrame:
    """One row per cell (`SUMMARY_COLUMNS`); `attempts` as `paired_sql.read_attempts` gives."""
    by_run = {str(run_id): group for run_id, group in attempts.groupby("run_id", sort=False)}
    return typed_frame([_cell_row(cell, by_run.get(cell.run_id or ""), k) for cell in cells],
                       SUMMARY_COLUMNS)  # fmt: skip


def _cell_row(cell: Cell, attempts: pd.DataFrame | None, k: int) -> dict[str, Any]:
    row: dict[str, Any] = {"cell": cell.number, "prompt": cell.prompt, "target": cell.target,
                           "run_id": cell.run_id, "status": cell.status}  # fmt: skip
    if attempts is None or attempts.empty:
        return {**row, "attempts": 0, "passed": 0, "failed": 0, "errors": 0}
    decided = attempts[attempts["status"].isin(["passed", "failed"])]
    passed = (decided["status"] == "passed").to_numpy()
    rate = clustered_mean(decided["scenario_id"].to_numpy(), passed)
    latency = attempts["latency_s"].dropna()
    return {
        **row,
        "attempts": len(attempts),
        "passed": int(passed.sum()),
        "failed": int(len(decided) - passed.sum()),
        "errors": int((attempts["status"] == "error").sum()),
        "pass_rate": rate.value,
        "ci_low": rate.ci_low,
        "ci_high": rate.ci_high,
        "pass_k": mean_pass_k(decided, k),
        "cost_usd": float(attempts["cost"].sum()) if attempts["cost"].notna().any() else None,
        "tokens": int(attempts["tokens"].fillna(0).sum()),
        "latency_p50_s": float(latency.quantile(0.5)) if len(latency) else None,
        "latency_p95_s": float(latency.quantile(0.95)) if len(latency) else None,
    }


def mean_pass_k(decided: pd.DataFrame, k: int) -> float:
    """The mean over scenarios of pass^k (scenarios with fewer than k decided attempts left out;
    NaN when none has k)."""
    passed = (decided["status"] == "passed").groupby(decided["scenario_id"]).agg(["sum", "count"])
    values = [pass_hat_k(int(p), int(n), k) for p, n in zip(passed["sum"], passed["count"],
                                                            strict=True) if n >= k]  # fmt: skip
    return sum(values) / len(values) if values else math.nan


def compare_cells(
    cells: list[Cell],
    baseline: Cell,
    units: pd.DataFrame,
    attempts: pd.DataFrame,
    repeats: dict[str, int],
    k: int,
) -> tuple[pd.DataFrame, dict[int, PairedComparison]]:
    """Every other cell against `baseline`: a row each (`COMPARE_COLUMNS`) and, by cell number,
    the full `PairedComparison` (scenarios worse / better / flaky, pass^k per scenario)."""
    records, paired = [], {}
    for cell in cells:
        if cell.number == baseline.number or cell.run_id is None or baseline.run_id is None:
            continue
        ids = {baseline.run_id, cell.run_id}
        result = build(units[units["run_id"].isin(ids)], attempts[attempts["run_id"].isin(ids)],
                       baseline.run_id, cell.run_id, repeats, k)  # fmt: skip
        paired[cell.number] = result
        d = result.difference
        records.append(
            {"cell": cell.number, "prompt": cell.prompt, "target": cell.target,
             "pairs": result.table.pairs, "baseline_rate": result.baseline_rate,
             "candidate_rate": result.candidate_rate, "difference": d.value,
             "ci_low": d.ci_low, "ci_high": d.ci_high, "p_value": result.p_value,
             "worse": len(result.worse), "better": len(result.better),
             "flaky": len(result.flaky), "cost_usd_delta": result.costs.get("cost_usd_delta"),
             "latency_p50_s_delta": result.costs.get("latency_p50_s_delta"),
             "notes": "; ".join(result.notes)}
        )  # fmt: skip
    frame = typed_frame(records, COMPARE_COLUMNS)
    frame.attrs.update(baseline_cell=baseline.number, baseline=f"{baseline.prompt} x "
                       f"{baseline.target}")  # fmt: skip
    return frame, paired
