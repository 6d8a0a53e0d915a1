"""Agreement between the judge and people, from counts PostgreSQL made.

A 2x2 table per group: the judge's PASSED/FAILED against a person's pass/fail. Cohen's kappa
and its 95% interval come from statsmodels (`cohens_kappa`, with the asymptotic variance);
precision, recall and F1 are those of "pass", with the person as the truth. "unsure" labels
and results the judge could not decide (ERROR) are never paired: they are counted beside.
statsmodels is imported when agreement is asked for, so `import workbench` stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from workbench.tables import typed_frame

if TYPE_CHECKING:
    import pandas as pd

COUNTS = ("judge_pass_human_pass", "judge_pass_human_fail", "judge_fail_human_pass",
          "judge_fail_human_fail")  # fmt: skip
SCORES = {
    "n": "Int64",
    "agreement": "Float64",
    "kappa": "Float64",
    "kappa_low": "Float64",
    "kappa_high": "Float64",
    "precision": "Float64",
    "recall": "Float64",
    "f1": "Float64",
    **{name: "Int64" for name in COUNTS},
}
AGREEMENT_COLUMNS = {
    "type": "string",
    "judge_prompt_version": "string",
    "threshold": "Float64",
    **SCORES,
    "unsure": "Int64",
    "errored": "Int64",
}
CURVE_COLUMNS = {"threshold": "Float64", **SCORES, "best": "boolean"}


def scores(both_pass: int, judge_only: int, person_only: int, both_fail: int) -> dict[str, Any]:
    """n, observed agreement, kappa with its 95% interval, precision/recall/F1 of "pass"."""
    n = both_pass + judge_only + person_only + both_fail
    kappa, low, high = cohens_kappa(both_pass, judge_only, person_only, both_fail)
    precision = _ratio(both_pass, both_pass + judge_only)
    recall = _ratio(both_pass, both_pass + person_only)
    f1 = _ratio(2 * both_pass, 2 * both_pass + judge_only + person_only)
    counts = dict(zip(COUNTS, (both_pass, judge_only, person_only, both_fail), strict=True))
    return {
        "n": n,
        "agreement": _ratio(both_pass + both_fail, n),
        "kappa": kappa,
        "kappa_low": low,
        "kappa_high": high,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        **counts,
    }


def cohens_kappa(
    both_pass: int, judge_only: int, person_only: int, both_fail: int
) -> tuple[float | None, float | None, float | None]:
    """Kappa and its 95% interval (within -1..1); None where undefined (no pairs, or chance
    agreement 1: both sides gave one answer only)."""
    n = both_pass + judge_only + person_only + both_fail
    judge_pass, person_pass = both_pass + judge_only, both_pass + person_only
    chance = (judge_pass * person_pass + (n - judge_pass) * (n - person_pass)) / (n * n or 1)
    if n == 0 or chance >= 1.0:
        return None, None, None
    import warnings

    from statsmodels.stats.inter_rater import cohens_kappa as kappa_of

    with warnings.catch_warnings():  # its z test divides by 0 when kappa is 0; unused here
        warnings.simplefilter("ignore", RuntimeWarning)
        found = kappa_of([[both_pass, judge_only], [person_only, both_fail]])
    # The asymptotic interval can reach past kappa's range on small tables: clipped to it.
    low, high = _finite(found.kappa_low), _finite(found.kappa_upp)
    low = None if low is None else max(low, -1.0)
    high = None if high is None else min(high, 1.0)
    return float(found.kappa), low, high


def agreement_frame(rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """One row per (type, judge prompt version, threshold) from AGREEMENT's counts."""
    records = []
    for kind, version, threshold, tp, fp, fn, tn, unsure, errored in rows:
        records.append(
            {"type": kind, "judge_prompt_version": version, "threshold": threshold}
            | scores(tp, fp, fn, tn)
            | {"unsure": unsure, "errored": errored}
        )
    return typed_frame(records, AGREEMENT_COLUMNS)


def curve_frame(rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """One row per threshold from THRESHOLD_CURVE's counts; `best` marks the highest kappa
    (ties: the higher F1, then the lower threshold)."""
    records = [{"threshold": cut} | scores(tp, fp, fn, tn) for cut, tp, fp, fn, tn in rows]
    ranked = [r for r in records if r["kappa"] is not None]
    best = max(ranked, key=lambda r: (r["kappa"], r["f1"] or 0.0, -r["threshold"]), default=None)
    for record in records:
        record["best"] = record is best
    frame = typed_frame(records, CURVE_COLUMNS)
    frame.attrs["best_threshold"] = None if best is None else best["threshold"]
    return frame


def _ratio(top: int, bottom: int) -> float | None:
    return top / bottom if bottom else None


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None
