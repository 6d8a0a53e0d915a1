"""Reliability gates for CI (`workbench run --min-pass-rate/--pass-k/--baseline --max-drop`).

Per scenario, over its decided attempts (an errored attempt is never a failure; a run with
errors exits 2 anyway): the pass rate must reach `min_pass_rate`; with `pass_k`, the measure is
pass^k (the chance k attempts in a row all pass, `paired.pass_hat_k`) and the minimum defaults
to 1.0 (every attempt passed). Against a baseline run: the paired pass-rate drop (baseline -
this run, over units matched by scenario, turn, expectation and repeat) must not exceed
`max_drop`; when it does, each scenario that got worse is named with both pass rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.errors import ValidationError
from workbench.runs.analysis.paired import PairedComparison, pass_hat_k

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class GateFailure:
    """One gate a scenario (or the whole run) did not pass, said in a sentence."""

    gate: str
    scenario: str
    message: str


def check_fraction(value: float | None, name: str) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValidationError(f"{name} must be a fraction from 0 to 1 (0.9 for 90%), got {value}")


def scenario_gates(
    attempts: pd.DataFrame, min_pass_rate: float | None, pass_k: int | None
) -> list[GateFailure]:
    """Scenarios below the minimum; `attempts` has `scenario` and `status` (passed, failed,
    error) per attempt, as `wb.runs.attempts(run)` gives."""
    if min_pass_rate is None and pass_k is None:
        return []
    minimum = 1.0 if min_pass_rate is None else min_pass_rate
    failures = []
    for scenario, group in attempts.groupby("scenario", sort=False):
        statuses = group["status"].astype(str)
        total = int(statuses.isin(["passed", "failed"]).sum())
        passed = int((statuses == "passed").sum())
        name = str(scenario)
        if total == 0:
            failures.append(GateFailure("min-pass-rate", name, f"scenario {name!r}: no attempt "
                                        "passed or failed (every one errored)"))  # fmt: skip
            continue
        measure = "pass rate" if pass_k is None else f"pass^{pass_k}"
        value = passed / total if pass_k is None else pass_hat_k(passed, total, pass_k)
        if not value >= minimum:  # NaN (fewer than k attempts) fails too
            gate = "min-pass-rate" if pass_k is None else "pass-k"
            failures.append(GateFailure(gate, name, f"scenario {name!r}: {measure} {value:.1%} "
                                        f"({passed} of {total} attempts passed) is below the "
                                        f"minimum {minimum:.1%}"))  # fmt: skip
    return failures


def drop_gate(paired: PairedComparison, max_drop: float) -> list[GateFailure]:
    """The run's paired drop from the baseline, if above `max_drop`, and each worse scenario."""
    drop = paired.baseline_rate - paired.candidate_rate
    if not drop > max_drop:
        return []
    d = paired.difference
    p = "n/a" if paired.p_value is None else f"{paired.p_value:.3g}"
    failures = [GateFailure("max-drop", "(run)", f"pass rate fell by {drop:.1%} from the "
                            f"baseline {paired.baseline[:8]} ({paired.baseline_rate:.1%} -> "
                            f"{paired.candidate_rate:.1%}; difference 95% interval "
                            f"[{d.ci_low:+.1%}, {d.ci_high:+.1%}], McNemar p={p}), more than "
                            f"the maximum {max_drop:.1%}")]  # fmt: skip
    rows = paired.scenarios
    worse = rows[rows["change"] == "worse"]
    for name, before, after in zip(
        worse["scenario"], worse["baseline_rate"], worse["candidate_rate"], strict=True
    ):
        failures.append(GateFailure("max-drop", str(name), f"scenario {str(name)!r} got worse: "
                                    f"pass rate {float(before):.1%} in the baseline, "
                                    f"{float(after):.1%} now"))  # fmt: skip
    return failures
