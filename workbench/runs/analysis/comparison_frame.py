"""The DataFrame `wb.runs.compare` returns: a plain DataFrame plus a few shortcuts.

Imported only when a comparison is made, so pandas stays out of `import workbench`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

if TYPE_CHECKING:
    from workbench.runs.analysis.paired import PairedComparison


class ComparisonFrame(pd.DataFrame):
    """One row per aligned expectation; `attrs` says whether it is partial or one-sided.

    `.paired` holds the paired statistics of the two runs (`PairedComparison`: the pass-rate
    difference with its cluster-robust interval, McNemar's exact p-value, pass^k, scenarios
    worse / better / flaky, cost and latency deltas; see runs/analysis/paired.py).
    """

    # Carried by reference through pandas operations (unlike attrs, which are deep-copied).
    _metadata: ClassVar[list[str]] = ["_paired"]
    _paired: LazyPaired | None = None

    @property
    def _constructor(self) -> Any:
        return ComparisonFrame

    @property
    def paired(self) -> PairedComparison | None:
        """The paired statistics, computed on first use (they cost more than the rows: most
        readers of a comparison want its rows only)."""
        return None if self._paired is None else self._paired.get()

    def pair_with(self, load: Callable[[], PairedComparison]) -> None:
        """Compute `.paired` with `load` when it is first asked for."""
        self._paired = LazyPaired(load)

    def regressions(self) -> pd.DataFrame:
        """Expectations that passed (or were flaky) in the baseline and fail in the candidate.

        Scenarios whose version changed between the runs are left out: a changed test is not a
        regression (see the rows whose `change` is "scenario_changed").
        """
        return pd.DataFrame(self[self["change"] == "regression"])

    def counts(self) -> pd.Series[int]:
        """How many expectations fall in each kind of change."""
        return pd.Series(self["change"].value_counts(), name="expectations")

    def scenarios(self) -> pd.DataFrame:
        """Per scenario: latency and cost on each side and their deltas."""
        columns = [
            "scenario_id",
            "scenario",
            "baseline_latency_s",
            "candidate_latency_s",
            "latency_delta_s",
            "baseline_cost_usd",
            "candidate_cost_usd",
            "cost_delta_usd",
        ]
        return pd.DataFrame(self[columns].drop_duplicates("scenario_id").reset_index(drop=True))


class LazyPaired:
    """A value computed once, on first `get()`; pickled as the value (never as `load`, which
    holds a database connection's maker)."""

    def __init__(self, load: Callable[[], PairedComparison]) -> None:
        self._load: Callable[[], PairedComparison] | None = load
        self._value: PairedComparison | None = None

    def get(self) -> PairedComparison | None:
        if self._load is not None:
            self._value, self._load = self._load(), None
        return self._value

    def __getstate__(self) -> dict[str, Any]:
        return {"_load": None, "_value": self.get()}
