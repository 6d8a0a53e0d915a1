"""Run-to-run comparison: what changed between a baseline and a candidate.

Results are aligned by scenario id, turn index and the expectation's position within its turn.
Each side's repeats are summarised (passed, failed, flaky, errored), then classified:

    regression      passed or flaky -> failed          fixed          failed or flaky -> passed
    newly_flaky     passed or failed -> flaky          still_flaky    flaky -> flaky
    still_failing   failed -> failed                   still_passing  passed -> passed
    errored         either side only errored (an error is never a failure)
    scenario_changed  the scenario's version differs: a changed test, not a regression
    only_baseline / only_candidate  the scenario (or that turn/expectation) is on one side only
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import psycopg

from workbench.errors import NotFound, ValidationError
from workbench.runs.analysis import sql
from workbench.runs.analysis.paired_sql import paired_comparison
from workbench.runs.analysis.stats import verdict
from workbench.tables import typed_frame

if TYPE_CHECKING:
    import pandas as pd

    from workbench.runs.analysis.comparison_frame import ComparisonFrame

Connection = psycopg.Connection[Any]
FINISHED = ("finished", "cancelled", "interrupted")

COMPARE_COLUMNS = {
    "scenario_id": "string",
    "scenario": "string",
    "turn": "Int64",
    "expectation": "Int64",
    "type": "string",
    "change": "string",
    "baseline": "string",
    "candidate": "string",
    "baseline_outcomes": "string",
    "candidate_outcomes": "string",
    "baseline_version": "Int64",
    "candidate_version": "Int64",
    "version_changed": "boolean",
    "baseline_reply": "string",
    "candidate_reply": "string",
    "baseline_latency_s": "Float64",
    "candidate_latency_s": "Float64",
    "latency_delta_s": "Float64",
    "baseline_cost_usd": "Float64",
    "candidate_cost_usd": "Float64",
    "cost_delta_usd": "Float64",
}

_CHANGES = {
    ("passed", "failed"): "regression",
    ("flaky", "failed"): "regression",
    ("failed", "passed"): "fixed",
    ("flaky", "passed"): "fixed",
    ("passed", "flaky"): "newly_flaky",
    ("failed", "flaky"): "newly_flaky",
    ("flaky", "flaky"): "still_flaky",
    ("failed", "failed"): "still_failing",
    ("passed", "passed"): "still_passing",
}


def change_of(before: str | None, after: str | None, version_changed: bool) -> str:
    if before is None:
        return "only_candidate"
    if after is None:
        return "only_baseline"
    if version_changed:
        return "scenario_changed"
    return _CHANGES.get((before, after), "errored")


def check_runs(
    connection: Connection, user_id: str, baseline: str, candidate: str
) -> dict[str, tuple[Any, ...]]:
    """Both runs, the caller's own; NotFound for either exactly as for a missing one."""
    for name, value in (("baseline", baseline), ("candidate", candidate)):
        if not isinstance(value, str) or not value:
            raise ValidationError(f"{name} must be a run id (a run's .id), got {value!r}"[:200])
    if baseline == candidate:
        raise ValidationError(
            "baseline and candidate are the same run; compare two different runs "
            "(for one run's unsettled expectations, use run.flaky())"
        )
    rows = connection.execute(sql.RUNS, {"u": user_id, "ids": [baseline, candidate]}).fetchall()
    found = {row[0]: row for row in rows}
    for value in (baseline, candidate):
        if value not in found:
            raise NotFound(f"No run with id {value!r}.")
    return found


def compare_runs(
    connection: Connection,
    user_id: str,
    baseline: str,
    candidate: str,
    k: int | None = None,
    *,
    paired: bool = True,
) -> ComparisonFrame:
    """The comparison as a DataFrame (`ComparisonFrame`, with `.regressions()` and `.paired`,
    the paired statistics; pass^k with `k`, by default the smaller run's repeats).
    `paired=False` leaves `.paired` to the caller (`ComparisonFrame.pair_with`)."""
    runs = check_runs(connection, user_id, baseline, candidate)
    params = {"u": user_id, "ids": [baseline, candidate], "b": baseline, "c": candidate}
    rows = connection.execute(sql.COMPARE, params).fetchall()
    costs = {
        (run_id, scenario_id): (latency, cost)
        for run_id, scenario_id, latency, _count, cost in connection.execute(
            sql.SCENARIO_COSTS, params
        ).fetchall()
    }
    records = [_record(row, costs, baseline, candidate) for row in rows]
    from workbench.runs.analysis.comparison_frame import ComparisonFrame

    frame = ComparisonFrame(typed_frame(records, COMPARE_COLUMNS))
    if paired:
        stats = paired_comparison(connection, user_id, baseline, candidate, k)
        frame.pair_with(lambda: stats)
    _describe(frame, runs, baseline, candidate)
    return frame


def _record(
    row: tuple[Any, ...],
    costs: dict[tuple[str, str], tuple[Any, Any]],
    baseline: str,
    candidate: str,
) -> dict[str, Any]:
    scenario_id, name, turn, index, kind, b_version, c_version, b_out, c_out, b_reply, c_reply = row
    before = verdict(b_out) if b_out is not None else None
    after = verdict(c_out) if c_out is not None else None
    changed = b_version is not None and c_version is not None and b_version != c_version
    b_latency, b_cost = costs.get((baseline, scenario_id), (None, None))
    c_latency, c_cost = costs.get((candidate, scenario_id), (None, None))
    return {
        "scenario_id": scenario_id,
        "scenario": name,
        "turn": turn,
        "expectation": index,
        "type": kind,
        "change": change_of(before, after, changed),
        "baseline": before,
        "candidate": after,
        "baseline_outcomes": b_out,
        "candidate_outcomes": c_out,
        "baseline_version": b_version,
        "candidate_version": c_version,
        "version_changed": changed,
        "baseline_reply": b_reply,
        "candidate_reply": c_reply,
        "baseline_latency_s": b_latency,
        "candidate_latency_s": c_latency,
        "latency_delta_s": _delta(b_latency, c_latency),
        "baseline_cost_usd": b_cost,
        "candidate_cost_usd": c_cost,
        "cost_delta_usd": _delta(b_cost, c_cost),
    }


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _describe(
    frame: pd.DataFrame, runs: dict[str, tuple[Any, ...]], baseline: str, candidate: str
) -> None:
    """What a reader must know before trusting the rows: partial runs, one-sided scenarios."""
    playing = [run_id for run_id in (baseline, candidate) if runs[run_id][1] not in FINISHED]
    one_sided = frame[frame["change"].isin(["only_baseline", "only_candidate"])]
    changed = frame[frame["change"] == "scenario_changed"]
    frame.attrs.update(
        baseline=baseline,
        candidate=candidate,
        partial=bool(playing),
        still_playing=playing,
        same_suite=runs[baseline][2] == runs[candidate][2],
        only_baseline=sorted(set(one_sided[one_sided["change"] == "only_baseline"]["scenario"])),
        only_candidate=sorted(set(one_sided[one_sided["change"] == "only_candidate"]["scenario"])),
        changed_scenarios=sorted(set(changed["scenario"])),
    )
    if playing:
        warnings.warn(
            f"run(s) {', '.join(playing)} still playing: this compares what has finished so far "
            "(frame.attrs['partial'] is True); compare again when they are done",
            stacklevel=3,
        )
