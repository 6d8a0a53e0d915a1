"""Paired statistics for two runs of the same suite: did the candidate really change the pass rate?

Two runs that played the same scenarios are *paired*: expectation 2 of turn 4 of "Refunds",
repeat 3, was asked of both sides. A paired unit is one (scenario, turn, expectation, repeat)
decided (PASSED or FAILED) on both sides; units with an ERROR or missing on either side are left
out and counted (`unpaired`), as everywhere an error is never a failure.

* **McNemar's exact test** on the discordant units: `only_baseline` units passed only in the
  baseline, `only_candidate` only in the candidate. Under "no difference" each discordant unit
  is a fair coin, so the two-sided p-value is `scipy.stats.binomtest(c, b + c, 0.5)`. Concordant
  units (both passed, both failed) carry no information about the difference. It is computed
  as twice the smaller tail with scipy.special's binomial CDF (`bdtr`), which is what
  `binomtest` gives at 1/2 and imports in a fraction of the time; a test checks both agree.
* **A cluster-robust 95% interval** for the difference of pass rates (candidate - baseline),
  clustered by scenario. Repeats and expectations of one scenario are not independent (a prompt
  that breaks "Refunds" breaks every repeat of it), so a binomial interval over units would be
  far too narrow. The interval is mean(d) +/- t(G-1) * SE, where d is each unit's difference
  (-1, 0 or 1), G the number of scenarios, and SE the cluster-robust (sandwich) standard error
  sqrt(G/(G-1) * sum_s(R_s^2)) / N with R_s the sum of scenario s's residuals d - mean(d). This
  is the clustered standard error of Miller, "Adding Error Bars to Evals" (2024); the t quantile
  with G-1 degrees of freedom keeps it honest with few scenarios. It needs two scenarios or more.
  McNemar's p-value treats units as independent; with strongly clustered scenarios, trust the
  interval over the p-value.
* **pass^k per scenario**: the chance that k attempts in a row all pass, estimated without bias
  from c passes out of n decided attempts as C(c, k) / C(n, k) (tau-bench). It needs k <= n.

Pure computations on DataFrames here; `paired_sql.py` reads the rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.runs.analysis.stats import Z95
from workbench.tables import typed_frame

if TYPE_CHECKING:
    import pandas as pd

SCENARIO_COLUMNS = {
    "scenario_id": "string",
    "scenario": "string",
    "pairs": "Int64",
    "baseline_rate": "Float64",
    "candidate_rate": "Float64",
    "difference": "Float64",
    "only_baseline": "Int64",
    "only_candidate": "Int64",
    "baseline_pass_k": "Float64",
    "candidate_pass_k": "Float64",
    "candidate_flaky": "boolean",
    "change": "string",
}


@dataclass(frozen=True)
class McNemarTable:
    """The 2x2 table of paired units: rows the baseline, columns the candidate."""

    both_passed: int
    only_baseline: int  # passed in the baseline, failed in the candidate
    only_candidate: int  # failed in the baseline, passed in the candidate
    both_failed: int

    @property
    def pairs(self) -> int:
        return self.both_passed + self.only_baseline + self.only_candidate + self.both_failed


@dataclass(frozen=True)
class Difference:
    """candidate - baseline pass rate over paired units, with its cluster-robust interval."""

    value: float
    ci_low: float
    ci_high: float
    standard_error: float
    clusters: int


@dataclass
class PairedComparison:
    """What two runs' paired units say (`wb.runs.compare(a, b).paired`)."""

    baseline: str
    candidate: str
    table: McNemarTable
    unpaired: int
    baseline_rate: float
    candidate_rate: float
    difference: Difference
    p_value: float | None
    k: int
    scenarios: pd.DataFrame
    costs: dict[str, float | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def worse(self) -> list[str]:
        return _names(self.scenarios, "worse")

    @property
    def better(self) -> list[str]:
        return _names(self.scenarios, "better")

    @property
    def flaky(self) -> list[str]:
        frame = self.scenarios
        return sorted(frame[frame["candidate_flaky"].fillna(False)]["scenario"].astype(str))

    def as_dict(self) -> dict[str, Any]:
        """Plain numbers (for JSON, reports and gates)."""
        d = self.difference
        return {
            "baseline": self.baseline,
            "candidate": self.candidate,
            "pairs": self.table.pairs,
            "unpaired": self.unpaired,
            "both_passed": self.table.both_passed,
            "only_baseline": self.table.only_baseline,
            "only_candidate": self.table.only_candidate,
            "both_failed": self.table.both_failed,
            "baseline_rate": self.baseline_rate,
            "candidate_rate": self.candidate_rate,
            "difference": d.value,
            "ci_low": d.ci_low,
            "ci_high": d.ci_high,
            "p_value": self.p_value,
            "k": self.k,
            "worse": self.worse,
            "better": self.better,
            "flaky": self.flaky,
            **self.costs,
            "notes": list(self.notes),
        }

    def __repr__(self) -> str:
        d, p = self.difference, self.p_value
        shown_p = "n/a" if p is None else f"{p:.3g}"
        lines = [
            f"PairedComparison({self.baseline[:8]} -> {self.candidate[:8]}): "
            f"{self.baseline_rate:.1%} -> {self.candidate_rate:.1%}, "
            f"difference {d.value:+.1%} [{d.ci_low:+.1%}, {d.ci_high:+.1%}] "
            f"over {self.table.pairs} pairs in {d.clusters} scenarios, McNemar p={shown_p}",
            f"  worse: {len(self.worse)}, better: {len(self.better)}, "
            f"flaky in candidate: {len(self.flaky)}",
        ]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def _names(frame: pd.DataFrame, change: str) -> list[str]:
    return sorted(frame[frame["change"] == change]["scenario"].astype(str))


def mcnemar_p(only_baseline: int, only_candidate: int) -> float:
    """McNemar's exact two-sided p-value: the discordant units as fair coin tosses."""
    discordant = only_baseline + only_candidate
    if discordant == 0:
        return 1.0
    # The exact two-sided binomial test at 1/2 (as scipy.stats.binomtest computes it): twice
    # the smaller tail. scipy.special's CDF, as scipy.stats takes seconds to import.
    from scipy.special import bdtr

    return min(1.0, 2.0 * float(bdtr(min(only_baseline, only_candidate), discordant, 0.5)))


def mcnemar_table(base: pd.Series[bool], cand: pd.Series[bool]) -> McNemarTable:
    """The table of two aligned boolean columns (True = PASSED)."""
    b, c = base.astype(bool).to_numpy(), cand.astype(bool).to_numpy()
    return McNemarTable(
        both_passed=int((b & c).sum()),
        only_baseline=int((b & ~c).sum()),
        only_candidate=int((~b & c).sum()),
        both_failed=int((~b & ~c).sum()),
    )


def clustered_difference(
    clusters: pd.Series[Any], base: pd.Series[bool], cand: pd.Series[bool]
) -> Difference:
    """mean(cand - base) with the cluster-robust 95% interval (see the module's docstring)."""
    d = cand.astype(float).to_numpy() - base.astype(float).to_numpy()
    return clustered_mean(clusters.to_numpy(), d, low=-1.0)


def clustered_mean(clusters: Any, values: Any, low: float = 0.0, high: float = 1.0) -> Difference:
    """The mean of `values` (one per unit) with its cluster-robust 95% interval, clipped to
    [low, high]; NaN bounds with fewer than two clusters. Also a single run's pass rate:
    attempts of one scenario are clustered exactly as paired units are."""
    import numpy as np
    import pandas as pd

    d = np.asarray(values, dtype=float)
    n = len(d)
    groups = int(pd.unique(np.asarray(clusters)).size) if n else 0
    if n == 0:
        return Difference(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(d.mean())
    if groups < 2:
        return Difference(mean, math.nan, math.nan, math.nan, groups)
    residual_sums = pd.Series(d - mean).groupby(np.asarray(clusters)).sum().to_numpy()
    se = math.sqrt(groups / (groups - 1) * float((residual_sums**2).sum())) / n
    half = t_quantile(groups - 1) * se
    return Difference(mean, max(low, mean - half), min(high, mean + half), se, groups)


def t_quantile(df: int) -> float:
    """The two-sided 95% quantile of Student's t with `df` degrees of freedom."""
    if df >= 1000:
        return Z95
    from scipy.special import stdtrit  # Student's t quantile (scipy.stats.t.ppf's own)

    return float(stdtrit(df, 0.975))


def pass_hat_k(passed: int, total: int, k: int) -> float:
    """pass^k: the chance k attempts all pass, C(passed, k) / C(total, k); NaN if total < k."""
    if k < 1 or total < k:
        return math.nan
    return math.comb(passed, k) / math.comb(total, k)


def scenario_frame(units: pd.DataFrame, attempts: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per scenario: paired rates and difference, discordant counts, pass^k on each side,
    whether the candidate is flaky (its attempts both passed and failed), and `change`.

    `units`: scenario_id, scenario, base, cand (booleans, one row per paired unit).
    `attempts`: side ("baseline"/"candidate"), scenario_id, passed (decided attempts only).
    Grouped in pandas, not looped per scenario: 500 scenarios in milliseconds.
    """
    import numpy as np
    import pandas as pd

    base = units["base"].to_numpy(dtype=bool)
    cand = units["cand"].to_numpy(dtype=bool)
    codes, ids = pd.factorize(units["scenario_id"], sort=False)
    names = units["scenario"].to_numpy()[np.unique(codes, return_index=True)[1]]
    pairs = np.bincount(codes, minlength=len(ids))
    b_rates = np.bincount(codes, base, len(ids)) / np.maximum(pairs, 1)
    c_rates = np.bincount(codes, cand, len(ids)) / np.maximum(pairs, 1)
    only_b = np.bincount(codes, base & ~cand, len(ids))
    only_c = np.bincount(codes, ~base & cand, len(ids))
    counts = _attempt_counts(attempts)
    records = []
    for i, scenario_id in enumerate(ids):
        b_pass, b_total = counts.get(("baseline", str(scenario_id)), (0, 0))
        c_pass, c_total = counts.get(("candidate", str(scenario_id)), (0, 0))
        b_rate, c_rate = float(b_rates[i]), float(c_rates[i])
        records.append(
            {"scenario_id": scenario_id, "scenario": names[i], "pairs": int(pairs[i]),
             "baseline_rate": b_rate, "candidate_rate": c_rate, "difference": c_rate - b_rate,
             "only_baseline": int(only_b[i]), "only_candidate": int(only_c[i]),
             "baseline_pass_k": pass_hat_k(b_pass, b_total, k),
             "candidate_pass_k": pass_hat_k(c_pass, c_total, k),
             "candidate_flaky": 0 < c_pass < c_total, "change": _change(b_rate, c_rate)}
        )  # fmt: skip
    return typed_frame(records, SCENARIO_COLUMNS)


def _attempt_counts(attempts: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    if attempts.empty:
        return {}
    import numpy as np
    import pandas as pd

    # "|" never occurs in a side ("baseline", "candidate"): the first one splits the key back.
    keys = attempts["side"].astype(str) + "|" + attempts["scenario_id"].astype(str)
    codes, uniques = pd.factorize(keys)
    passed = np.bincount(codes, attempts["passed"].to_numpy(dtype=bool), len(uniques))
    total = np.bincount(codes, minlength=len(uniques))
    return {
        tuple(key.split("|", 1)): (int(p), int(n))
        for key, p, n in zip(uniques, passed, total, strict=True)
    }


def _change(base_rate: float, cand_rate: float) -> str:
    if cand_rate < base_rate:
        return "worse"
    if cand_rate > base_rate:
        return "better"
    return "same"
