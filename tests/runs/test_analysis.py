"""Studying runs: flakiness, pass-rate intervals, comparison, history and export (issue 12).

Runs are played for real with the offline provider; replies that change between repeats or
between runs come from a rule function with a counter.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
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
    greets = flaky[(flaky["scenario"] == "Greets") & (flaky["expectation"] == 0)].iloc[0]
    assert greets["passed"] + greets["failed"] == 4
    assert greets["flips"] >= 1
    assert greets["ci_low"] < greets["pass_rate"] < greets["ci_high"]
    never_flaky = flaky[flaky["expectation"] == 1]  # must_not_contain("rude") always passes
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
