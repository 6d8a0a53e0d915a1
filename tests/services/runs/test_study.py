"""Studying runs: flakiness, pass-rate intervals, comparison, history and export (issue 12).

Runs are played for real with the offline provider; replies that change between repeats or
between runs come from a rule function with a counter.
"""

from __future__ import annotations

import csv
import io
import json
import math
import pickle
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import text

import workbench
from tests.runs.conftest import Setup, make_setup
from workbench.errors import NotFound, ValidationError
from workbench.handle import Workbench
from workbench.runs.analysis import flips, verdict, wilson
from workbench.services.scenarios.types import (
    ScenarioUpdate,
    expect,
    must_contain,
    must_not_contain,
    user,
)


def play(setup: Setup, target: Any, **options: Any) -> Any:
    run = setup.wb.runs.start(
        suite=setup.suite_id, prompt=setup.prompt_id, target=target, progress=False, **options
    )
    return run.wait(60)


def alternating(first: str, second: str) -> Callable[[str], str]:
    """Replies `first`, `second`, `first`, ... to each request, whatever was asked."""
    calls = {"n": 0}

    def reply(_last_user: str) -> str:
        calls["n"] += 1
        return first if calls["n"] % 2 else second

    return reply


@pytest.fixture
def two(wb: Workbench) -> Setup:
    return make_setup(
        wb,
        {
            "Greets": [user("hello"), expect(must_contain("hello"), must_not_contain("rude"))],
            "Refunds": [user("refund please"), expect(must_contain("refund"))],
        },
    )


# ---------------------------------------------------------------- statistics


def test_wilson_interval_matches_the_textbook_values() -> None:
    low, high = wilson(3, 3)
    assert (round(low, 4), high) == (0.4385, 1.0)
    low, high = wilson(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    assert wilson(0, 4)[0] == 0.0 and 0.0 < wilson(0, 4)[1] < 0.5
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_flips_skip_errors_and_verdicts_never_read_an_error_as_a_failure() -> None:
    assert flips("PFEP") == 2
    assert flips("PPPP") == 0
    assert flips("PEEF") == 1
    assert verdict("PF") == "flaky"
    assert verdict("PEP") == "passed"
    assert verdict("EEE") == "errored"
    assert verdict("FE") == "failed"


# ---------------------------------------------------------------- one run


def test_flaky_lists_expectations_that_passed_and_failed_across_repeats(two: Setup) -> None:
    target = workbench.offline(alternating("hello there", "go away"))
    run = play(two, target, repeats=4, concurrency=1)
    flaky = run.flaky()
    assert list(flaky["scenario"].unique()) == ["Greets"] or set(flaky["scenario"]) <= {
        "Greets",
        "Refunds",
    }
    greets = flaky[(flaky["scenario"] == "Greets") & (flaky["expectation"] == 1)].iloc[0]
    assert greets["passed"] + greets["failed"] == 4
    assert greets["flips"] >= 1
    assert greets["ci_low"] < greets["pass_rate"] < greets["ci_high"]
    never_flaky = flaky[flaky["expectation"] == 2]  # must_not_contain("rude") always passes
    assert never_flaky.empty


def test_pass_rates_have_intervals_and_errors_are_counted_apart(wb: Workbench) -> None:
    def reply(last_user: str) -> Any:
        return None if "broken" in last_user else "hello"  # not a string: a provider error

    setup = make_setup(
        wb,
        {
            "Works": [user("hi"), expect(must_contain("hello"))],
            "Broken": [user("broken"), expect(must_contain("hello"))],
        },
    )
    run = play(setup, workbench.offline(reply), repeats=3)
    rates = run.pass_rates().set_index("scenario")
    assert rates.loc["Works", "passed"] == 3 and rates.loc["Works", "pass_rate"] == 1.0
    assert round(rates.loc["Works", "ci_low"], 4) == 0.4385
    broken = rates.loc["Broken"]
    assert (broken["errored"], broken["failed"]) == (3, 0)
    assert broken["pass_rate"] is pd_na()
    summary = run.summary()
    assert {"ci_low", "ci_high"} <= set(summary.columns)
    assert run.flaky().empty  # an error is never a failure, so nothing flipped


def pd_na() -> Any:
    import pandas as pd

    return pd.NA


def test_flaky_of_a_run_that_is_not_yours_is_not_found(two: Setup, other_wb: Workbench) -> None:
    run = play(two, workbench.offline(default="hello"))
    with pytest.raises(NotFound) as theirs:
        other_wb.runs.flaky(run.id)
    with pytest.raises(NotFound) as missing:
        other_wb.runs.flaky("no-such-run")
    assert str(theirs.value).replace(run.id, "X") == str(missing.value).replace("no-such-run", "X")


# ---------------------------------------------------------------- comparison


def rules(greets: str, refunds: str) -> Any:
    return workbench.offline([("hello", greets), ("refund", refunds)])


def test_compare_finds_the_one_regression_with_both_replies_side_by_side(two: Setup) -> None:
    baseline = play(two, rules("hello friend", "no"))
    candidate = play(two, rules("hello rude friend", "refund done"))
    diff = two.wb.runs.compare(baseline, candidate)
    by = diff.set_index(["scenario", "expectation"])
    regression: Any = by.loc[("Greets", 2)]
    assert regression["change"] == "regression"
    assert (regression["baseline_reply"], regression["candidate_reply"]) == (
        "hello friend",
        "hello rude friend",
    )
    assert by.loc[("Greets", 1), "change"] == "still_passing"
    assert by.loc[("Refunds", 1), "change"] == "fixed"
    regressions = diff.regressions()
    assert list(regressions["scenario"]) == ["Greets"]
    assert diff.attrs["partial"] is False and diff.attrs["only_baseline"] == []
    scenarios = diff.scenarios()
    assert len(scenarios) == 2
    assert scenarios["latency_delta_s"].notna().all()
    assert (diff["baseline_cost_usd"].isna() | diff["baseline_cost_usd"].notna()).all()


def test_a_scenario_that_changed_version_is_not_read_as_a_regression(two: Setup) -> None:
    baseline = play(two, rules("hello friend", "refund done"))
    refunds = two.scenario_ids[1]
    two.wb.scenarios.update(
        refunds,
        ScenarioUpdate(turns=(user("refund please"), expect(must_contain("sorry")))),
        expected_version=1,
    )
    candidate = play(two, rules("hello friend", "refund done"))
    diff = two.wb.runs.compare(baseline.id, candidate.id)
    row = diff[diff["scenario"] == "Refunds"].iloc[0]
    assert row["change"] == "scenario_changed" and row["version_changed"]
    assert (row["baseline_version"], row["candidate_version"]) == (1, 2)
    assert diff.regressions().empty
    assert diff.attrs["changed_scenarios"] == ["Refunds"]


def test_newly_flaky_is_its_own_change(two: Setup) -> None:
    baseline = play(two, rules("hello", "refund"), repeats=2)
    candidate = play(two, workbench.offline(alternating("hello", "bye")), repeats=2, concurrency=1)
    diff = two.wb.runs.compare(baseline, candidate)
    changes = set(diff["change"])
    assert "newly_flaky" in changes or "regression" in changes
    flaky = diff[diff["change"] == "newly_flaky"]
    assert all("P" in o and "F" in o for o in flaky["candidate_outcomes"])


def test_runs_of_different_suites_say_which_scenarios_are_on_one_side(two: Setup) -> None:
    baseline = play(two, rules("hello", "refund"))
    other = two.wb.suites.create(name="Only greets", scenario_ids=[two.scenario_ids[0]])
    wb = two.wb
    candidate = wb.runs.start(
        suite=other.id, prompt=two.prompt_id, target=rules("hello", "refund"), progress=False
    ).wait(60)
    diff = wb.runs.compare(baseline, candidate)
    assert diff.attrs["same_suite"] is False
    assert diff.attrs["only_baseline"] == ["Refunds"]
    assert set(diff[diff["scenario"] == "Refunds"]["change"]) == {"only_baseline"}


def test_comparing_a_run_with_itself_is_refused(two: Setup) -> None:
    run = play(two, rules("hello", "refund"))
    with pytest.raises(ValidationError, match="same run"):
        two.wb.runs.compare(run, run.id)


def test_comparing_with_a_run_that_is_not_yours_is_not_found(
    two: Setup, other_wb: Workbench
) -> None:
    mine = play(two, rules("hello", "refund"))
    theirs = play(
        make_setup(other_wb, {"X": [user("hi"), expect(must_contain("hi"))]}), rules("", "")
    )
    with pytest.raises(NotFound, match="No run"):
        two.wb.runs.compare(mine, theirs)
    with pytest.raises(NotFound, match="No run"):
        two.wb.runs.compare("missing-run", mine)


def test_a_run_still_playing_gives_a_partial_comparison_with_a_warning(two: Setup) -> None:
    baseline = play(two, rules("hello", "refund"))
    candidate = play(two, rules("hello", "nope"))
    with two.wb.database.transaction() as session:  # as if its kernel were still playing it
        session.execute(
            text(
                "UPDATE workbench.run SET status = 'running', heartbeat_at ="
                " clock_timestamp() AT TIME ZONE 'UTC' WHERE id = :r"
            ),
            {"r": candidate.id},
        )
    with pytest.warns(UserWarning, match="still playing"):
        diff = two.wb.runs.compare(baseline, candidate)
    assert diff.attrs["partial"] is True and diff.attrs["still_playing"] == [candidate.id]
    assert list(diff.regressions()["scenario"]) == ["Refunds"]


# ---------------------------------------------------------------- history


def test_trend_shows_the_last_runs_oldest_first(two: Setup) -> None:
    first = play(two, rules("hello", "nope"))
    second = play(two, rules("hello", "refund"))
    third = play(two, rules("hello", "refund"))
    trend = two.wb.runs.trend(suite="Smoke", last=2)
    assert list(trend["run_id"]) == [second.id, third.id]
    assert list(trend["pass_rate"]) == [1.0, 1.0]
    everything = two.wb.runs.trend(suite=two.suite_id)
    assert list(everything["run_id"]) == [first.id, second.id, third.id]
    assert everything["pass_rate"].iloc[0] == 0.5
    assert (everything["p95_latency_s"] >= everything["p50_latency_s"]).all()


def test_trend_of_an_unknown_suite_or_a_bad_count_is_refused(
    two: Setup, other_wb: Workbench
) -> None:
    play(two, rules("hello", "refund"))
    with pytest.raises(NotFound):
        other_wb.runs.trend(suite="Smoke")
    with pytest.raises(ValidationError, match="last"):
        two.wb.runs.trend(suite="Smoke", last=0)


# ---------------------------------------------------------------- export


def test_export_as_json_csv_and_junit(two: Setup, tmp_path: Any) -> None:
    run = play(two, rules("hello rude", "refund"))
    document = json.loads(run.to_json(tmp_path / "run.json"))
    assert document["run"]["id"] == run.id and len(document["results"]) == 3
    assert json.loads((tmp_path / "run.json").read_text()) == document
    assert isinstance(document["results"][0]["detail"], dict)
    rows = list(csv.DictReader(io.StringIO(run.to_csv())))
    assert [r["status"] for r in rows] == ["PASSED", "FAILED", "PASSED"]
    junit = ET.fromstring(run.to_junit().split("\n", 1)[1])
    suite = junit.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    failure = suite.find("testcase/failure")
    assert failure is not None and "MUST_NOT_CONTAIN" in (failure.text or "")
    with pytest.raises(ValidationError, match="format"):
        two.wb.runs.export(run, format="xlsx")  # type: ignore[arg-type]


# ---------------------------------------------------------------- plans


STUDIED = {"run", "run_scenario", "run_attempt", "turn_result", "expectation_result"}


def scans(plan: dict[str, Any], found: list[tuple[str, str, str]]) -> None:
    """(node type, table, index) of every scan of a run table in the plan."""
    relation, index = plan.get("Relation Name"), plan.get("Index Name")
    if plan["Node Type"] == "Bitmap Heap Scan":
        index = plan["Plans"][0].get("Index Name")
    if relation in STUDIED or (index and index.split("_user_id")[0] in STUDIED):
        found.append((plan["Node Type"], relation or "", index or ""))
    for child in plan.get("Plans", []):
        scans(child, found)


def test_every_study_query_reaches_the_tables_through_indexes_that_start_with_the_user(
    two: Setup, other_wb: Workbench
) -> None:
    from workbench.runs.analysis import sql

    other = make_setup(other_wb, {"Theirs": [user("hi"), expect(must_contain("hi"))]})
    for _ in range(2):
        play(other, rules("hi", "hi"), repeats=2)
    baseline, candidate = play(two, rules("hello", "x")), play(two, rules("x", "refund"))
    u = two.wb.user.id
    statements = {
        "outcomes": (sql.OUTCOMES, {"u": u, "r": baseline.id}),
        "rates": (sql.SCENARIO_RATES, {"u": u, "r": baseline.id}),
        "compare": (
            sql.COMPARE,
            {"u": u, "ids": [baseline.id, candidate.id], "b": baseline.id, "c": candidate.id},
        ),
        "costs": (sql.SCENARIO_COSTS, {"u": u, "ids": [baseline.id, candidate.id]}),
        "trend": (sql.TREND, {"u": u, "s": "Smoke", "n": 20}),
    }
    with two.wb.database.transaction() as session:
        driver: Any = session.connection().connection.driver_connection
        first_columns = dict(
            driver.execute(
                "SELECT c.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid ="
                " i.indexrelid JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum ="
                " i.indkey[0] JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'workbench'"
            ).fetchall()
        )
        # Tiny tables tempt the planner into sequential scans that say nothing about scale:
        # with them off, what remains is the access path the indexes allow.
        driver.execute("SET LOCAL enable_seqscan = off")
        for name, (statement, params) in statements.items():
            (plan,) = driver.execute("EXPLAIN (FORMAT JSON) " + statement, params).fetchone()
            found: list[tuple[str, str, str]] = []
            scans(plan[0]["Plan"], found)
            assert found, name
            for node, table, index in found:
                assert index, f"{name}: {node} on {table} uses no index"
                # Starting with the user, or with a run or attempt id (`id` of run_attempt): a
                # run belongs to one user and attempts to one run, and each statement names only
                # the caller's own, so such a scan reads none of the other user's entries either.
                first = first_columns[index]
                assert first in ("user_id", "run_id", "attempt_id", "id"), f"{name}: {index}"


# ---------------------------------------------------------------- paired statistics (issue 23)


def test_compare_carries_paired_statistics_matched_by_repeat(two: Setup) -> None:
    baseline = play(two, rules("hello friend", "no"), repeats=3)
    candidate = play(two, rules("hello rude friend", "refund done"), repeats=3)
    paired = two.wb.runs.compare(baseline, candidate).paired
    assert paired is not None
    # Greets: expectation 1 passes on both sides, 2 ("not rude") only in the baseline;
    # Refunds: only in the candidate. Three repeats each: 3 + 3 + 3 discordant-or-not units.
    t = paired.table
    assert (t.both_passed, t.only_baseline, t.only_candidate, t.both_failed) == (3, 3, 3, 0)
    assert paired.p_value == pytest.approx(1.0)
    assert paired.difference.clusters == 2 and paired.difference.value == pytest.approx(0.0)
    assert paired.worse == ["Greets"] and paired.better == ["Refunds"] and paired.flaky == []
    rows = paired.scenarios.set_index("scenario")
    assert rows.loc["Greets", "baseline_pass_k"] == 1.0  # pass^3 of 3 passing attempts
    assert rows.loc["Greets", "candidate_pass_k"] == 0.0
    assert paired.costs["latency_p50_s_delta"] is not None
    assert paired.notes == []
    # The statistics ride along pandas operations on the frame.
    diff = two.wb.runs.compare(baseline, candidate, pass_k=2)
    assert diff.head(1).paired is not None and diff.paired is not None and diff.paired.k == 2


def test_paired_statistics_are_computed_on_first_use_and_pickled_as_values(two: Setup) -> None:
    baseline = play(two, rules("hello friend", "no"), repeats=2)
    candidate = play(two, rules("hello rude friend", "refund done"), repeats=2)
    diff = two.wb.runs.compare(baseline, candidate)
    head = diff.head(3)  # made before the statistics were asked for: shares them
    first = diff.paired
    assert first is not None and head.paired is first and diff.paired is first  # computed once
    # A pickled comparison carries the statistics themselves, never a way to the database.
    fresh = two.wb.runs.compare(baseline, candidate)
    restored = pickle.loads(pickle.dumps(fresh))
    assert restored.paired is not None
    assert restored.paired.table == first.table and restored.paired.worse == first.worse


def test_paired_statistics_of_single_repeats_say_what_they_cannot_tell(two: Setup) -> None:
    baseline = play(two, rules("hello friend", "no"))
    candidate = play(two, rules("hello rude friend", "no"))
    paired = two.wb.runs.compare(baseline, candidate).paired
    assert paired is not None
    assert paired.table.only_baseline == 1 and paired.p_value == pytest.approx(1.0)
    assert any("repeats=1" in note for note in paired.notes)
    with pytest.raises(ValidationError, match="pass_k"):
        two.wb.runs.compare(baseline, candidate, pass_k=0)
