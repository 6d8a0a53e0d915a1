"""Pass rates with honest uncertainty: Wilson score intervals and flip counts.

An ERROR outcome (the provider failed, a regex timed out) says nothing about the assistant, so
it is left out of every rate and interval and counted on its own; it is never a failure.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

Z95 = 1.959963984540054  # the normal quantile for a two-sided 95% interval


def wilson(passed: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for `passed` successes out of `total` (NaNs when total is 0).

    Unlike the normal approximation it stays inside [0, 1] and is not zero-width at 0/n or n/n:
    3 passes out of 3 gives (0.44, 1.0), which is what three repeats can really tell.
    """
    if total <= 0:
        return (math.nan, math.nan)
    p = passed / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def flips(outcomes: str) -> int:
    """Changes between PASSED and FAILED from one repeat to the next, errors skipped.

    `outcomes` holds one letter per repeat in repeat order: P, F or E ("PFEP" flips twice).
    """
    decided = [letter for letter in outcomes if letter in "PF"]
    return sum(1 for before, after in itertools.pairwise(decided) if before != after)


def verdict(outcomes: str) -> str:
    """What a set of repeats says: passed, failed, flaky (both), errored (only errors) or none."""
    passed, failed = "P" in outcomes, "F" in outcomes
    if passed and failed:
        return "flaky"
    if passed:
        return "passed"
    if failed:
        return "failed"
    return "errored" if "E" in outcomes else "none"


def with_intervals(
    frame: pd.DataFrame, passed: str = "passed", failed: str = "failed"
) -> pd.DataFrame:
    """`frame` with `ci_low`/`ci_high`: the Wilson 95% interval of passed / (passed + failed)."""
    bounds = [
        wilson(int(p), int(p) + int(f)) for p, f in zip(frame[passed], frame[failed], strict=True)
    ]
    frame["ci_low"] = [low for low, _ in bounds]
    frame["ci_high"] = [high for _, high in bounds]
    frame["ci_low"] = frame["ci_low"].astype("Float64").mask(frame["ci_low"].isna())
    frame["ci_high"] = frame["ci_high"].astype("Float64").mask(frame["ci_high"].isna())
    return frame
