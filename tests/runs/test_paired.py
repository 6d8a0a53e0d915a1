"""Paired statistics (issue 23): McNemar's exact test against hand-computed tables, the
cluster-robust interval by hand and by a seeded simulation whose true difference is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.runs.analysis.paired import (
    clustered_difference,
    mcnemar_p,
    mcnemar_table,
    pass_hat_k,
    t_quantile,
)
from workbench.runs.analysis.paired_sql import build


def test_mcnemar_exact_matches_hand_computed_binomial_tails() -> None:
    # b=1, c=9: 2 * P(X <= 1 | n=10, 1/2) = 2 * (1 + 10) / 1024
    assert mcnemar_p(1, 9) == pytest.approx(22 / 1024)
    assert mcnemar_p(9, 1) == pytest.approx(22 / 1024)
    # b=0, c=5: 2 / 32
    assert mcnemar_p(0, 5) == pytest.approx(0.0625)
    assert mcnemar_p(3, 3) == pytest.approx(1.0)
    assert mcnemar_p(0, 0) == 1.0  # no discordant pair: no evidence of a difference


def test_mcnemar_agrees_with_scipy_binomtest() -> None:
    from scipy.stats import binomtest

    for b in range(0, 30, 3):
        for c in range(0, 30, 4):
            if b + c:
                assert mcnemar_p(b, c) == pytest.approx(binomtest(c, b + c, 0.5).pvalue)


def test_t_quantile_matches_scipy_stats() -> None:
    from scipy.stats import t

    for df in (1, 2, 5, 29, 200):
        assert t_quantile(df) == pytest.approx(t.ppf(0.975, df))


def test_mcnemar_table_counts_each_cell() -> None:
    base = pd.Series([True, True, False, False, True, False])
    cand = pd.Series([True, False, True, False, True, True])
    table = mcnemar_table(base, cand)
    assert (table.both_passed, table.only_baseline, table.only_candidate, table.both_failed) == (
        2,
        1,
        2,
        1,
    )
    assert table.pairs == 6


def test_clustered_interval_by_hand() -> None:
    # Scenario A: d = [1, 0]; scenario B: d = [0, 0]. mean 0.25; residual sums +0.5, -0.5;
    # SE = sqrt(2/1 * (0.25 + 0.25)) / 4 = 0.25; t(1) = 12.706 so the interval is clipped.
    clusters = pd.Series(["A", "A", "B", "B"])
    base = pd.Series([False, True, True, False])
    cand = pd.Series([True, True, True, False])
    d = clustered_difference(clusters, base, cand)
    assert d.value == pytest.approx(0.25)
    assert d.standard_error == pytest.approx(0.25)
    assert d.clusters == 2
    assert (d.ci_low, d.ci_high) == (-1.0, 1.0)
    one = clustered_difference(pd.Series(["A", "A"]), base[:2], cand[:2])
    assert one.value == 0.5 and math.isnan(one.ci_low)  # one scenario: no clustered interval


def simulate(rng: np.random.Generator, scenarios: int, repeats: int) -> pd.DataFrame:
    """Scenarios of varied difficulty; the candidate is better by U(0, 0.2) per scenario, so
    the true difference over the population of scenarios is 0.1. Both sides of a unit share one
    uniform draw (paired, positively correlated), as one model's two prompts tend to."""
    p_base = rng.uniform(0.1, 0.7, scenarios)
    p_cand = p_base + rng.uniform(0.0, 0.2, scenarios)
    draws = rng.uniform(size=(scenarios, repeats))
    return pd.DataFrame(
        {
            "scenario": np.repeat(np.arange(scenarios), repeats),
            "base": (draws < p_base[:, None]).ravel(),
            "cand": (draws < p_cand[:, None]).ravel(),
        }
    )


def test_clustered_interval_covers_the_true_difference_at_about_its_nominal_rate() -> None:
    rng = np.random.default_rng(20231)
    trials, covered = 400, 0
    for _ in range(trials):
        frame = simulate(rng, scenarios=30, repeats=3)
        d = clustered_difference(frame["scenario"], frame["base"], frame["cand"])
        covered += d.ci_low <= 0.1 <= d.ci_high
    assert 0.91 <= covered / trials <= 0.99, covered / trials


def test_pass_hat_k_is_the_unbiased_estimate() -> None:
    assert pass_hat_k(2, 3, 2) == pytest.approx(1 / 3)
    assert pass_hat_k(3, 3, 3) == 1.0
    assert pass_hat_k(2, 3, 3) == 0.0
    assert pass_hat_k(4, 5, 1) == pytest.approx(0.8)
    assert math.isnan(pass_hat_k(1, 1, 2))  # one attempt cannot say anything about 2 in a row


def units(run: str, rows: list[tuple[str, int, int, bool]], version: int = 1) -> list[dict]:
    return [
        {"run_id": run, "scenario_id": sid, "scenario": f"S{sid}", "version": version,
         "turn": 2, "expectation": exp, "repeat": rep, "passed": passed}
        for sid, exp, rep, passed in rows
    ]  # fmt: skip


def attempts(run: str, rows: list[tuple[str, int, str]]) -> list[dict]:
    return [
        {"run_id": run, "scenario_id": sid, "position": 1, "repeat": rep, "status": status,
         "latency_s": 1.0 if run == "a" else 1.5, "cost": 0.01, "tokens": 10}
        for sid, rep, status in rows
    ]  # fmt: skip


def test_build_pairs_by_scenario_expectation_and_repeat() -> None:
    frame = pd.DataFrame(
        units("a", [("1", 1, 1, True), ("1", 1, 2, True), ("2", 1, 1, False), ("2", 1, 2, True)])
        + units("b", [("1", 1, 1, False), ("1", 1, 2, True), ("2", 1, 1, True), ("2", 1, 2, True)])
        + units("b", [("3", 1, 1, True)])  # only in the candidate: not paired
    )
    tries = pd.DataFrame(
        attempts("a", [("1", 1, "passed"), ("1", 2, "passed"), ("2", 1, "failed"),
                       ("2", 2, "passed")])
        + attempts("b", [("1", 1, "failed"), ("1", 2, "passed"), ("2", 1, "passed"),
                         ("2", 2, "passed")])
    )  # fmt: skip
    paired = build(frame, tries, "a", "b", {"a": 2, "b": 2})
    t = paired.table
    assert (t.both_passed, t.only_baseline, t.only_candidate, t.both_failed) == (2, 1, 1, 0)
    assert paired.unpaired == 1
    assert paired.p_value == pytest.approx(1.0)
    assert paired.worse == ["S1"] and paired.better == ["S2"] and paired.flaky == ["S1"]
    s1 = paired.scenarios.set_index("scenario").loc["S1"]
    assert s1["baseline_pass_k"] == 1.0 and s1["candidate_pass_k"] == 0.0  # pass^2
    assert paired.costs["latency_p50_s_delta"] == pytest.approx(0.5)
    assert paired.costs["cost_usd_delta"] == pytest.approx(0.0)
    assert paired.as_dict()["difference"] == 0.0
    assert "McNemar p=1" in repr(paired)


def test_one_pair_and_one_repeat_say_so_and_give_no_p_value() -> None:
    frame = pd.DataFrame(units("a", [("1", 1, 1, True)]) + units("b", [("1", 1, 1, False)]))
    tries = pd.DataFrame(attempts("a", [("1", 1, "passed")]) + attempts("b", [("1", 1, "failed")]))
    paired = build(frame, tries, "a", "b", {"a": 1, "b": 1}, k=3)
    assert paired.p_value is None
    notes = " ".join(paired.notes)
    assert "too few for a p-value" in notes and "repeats=1" in notes and "pass^3" in notes
    assert pd.isna(paired.scenarios["candidate_pass_k"].iloc[0])  # NA: not estimable


def test_scenarios_whose_version_changed_are_left_out() -> None:
    frame = pd.DataFrame(
        units("a", [("1", 1, 1, True), ("2", 1, 1, True)])
        + units("b", [("1", 1, 1, False)], version=2)
        + units("b", [("2", 1, 1, True)])
    )
    tries = pd.DataFrame(attempts("a", [("1", 1, "passed")]) + attempts("b", [("1", 1, "failed")]))
    paired = build(frame, tries, "a", "b", {"a": 1, "b": 1})
    assert paired.table.pairs == 1 and paired.table.both_passed == 1
    assert any("version changed" in note and "S1" in note for note in paired.notes)
