"""wb.runs.matrix (issue 23): one run per (prompt, target) cell, summary, compare, plot, bad input.

Cells play for real: the offline provider (rules per target) and the stand-in server over HTTP.
A matrix plays its cells at once, each run with its own database thread, so the tests that play
use a database that really commits (`committed_db`, emptied afterwards): the rolled-back test
connection is one connection, which concurrent runs cannot share. The tables' per-user policies
are covered with every other table's (tests/test_scoping.py, tests/security/hub.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

import workbench
from tests.conftest import insert_user
from tests.runs.conftest import Setup, make_setup
from workbench.db.engine import Database
from workbench.errors import NotFound, ValidationError
from workbench.handle import Workbench
from workbench.services.runs.matrix import budgets, target_labels
from workbench.services.scenarios.types import expect, must_contain, must_not_contain, user
from workbench.testing.standin import StandIn

GOOD = workbench.offline([("hello", "hello friend"), ("refund", "refund done")], model="good")
RUDE = workbench.offline([("hello", "hello rude friend"), ("refund", "no")], model="rude")


def build(wb: Workbench) -> Setup:
    setup = make_setup(
        wb,
        {
            "Greets": [user("hello"), expect(must_contain("hello"), must_not_contain("rude"))],
            "Refunds": [user("refund please"), expect(must_contain("refund"))],
        },
    )
    wb.prompts.create(name="Other", content="Be {{ tone }} and brief.")
    return setup


@pytest.fixture
def two(committed_db: Database) -> Setup:
    return build(Workbench(committed_db, insert_user(committed_db)))


@pytest.fixture
def rolled(wb: Workbench) -> Setup:
    """For checks that play nothing: in the rolled-back transaction (as a per-user role in
    role mode)."""
    return build(wb)


def rows(setup: Setup) -> int:
    with setup.wb.database.transaction() as session:
        return int(
            session.scalar(
                text(
                    "SELECT (SELECT count(*) FROM workbench.run)"
                    " + (SELECT count(*) FROM workbench.run_attempt)"
                    " + (SELECT count(*) FROM workbench.run_matrix)"
                    " + (SELECT count(*) FROM workbench.run_matrix_cell)"
                )
            )
            or 0
        )


def matrix(setup: Setup, **options: Any) -> Any:
    settings: dict[str, Any] = {
        "suite": "Smoke",
        "prompts": ["Support", "Other"],
        "targets": [GOOD, RUDE],
        "repeats": 2,
    }
    return setup.wb.runs.matrix(**{**settings, **options})


def test_a_matrix_plays_one_run_per_cell_and_summarises_each(two: Setup) -> None:
    m = matrix(two).wait(60)
    summary = m.summary()
    assert list(zip(summary["prompt"], summary["target"], strict=True)) == [
        ("Support", "good"), ("Support", "rude"), ("Other", "good"), ("Other", "rude"),
    ]  # fmt: skip
    assert list(summary["cell"]) == [1, 2, 3, 4] and set(summary["status"]) == {"finished"}
    good = summary[summary["target"] == "good"]
    rude = summary[summary["target"] == "rude"]
    assert set(good["pass_rate"]) == {1.0} and set(rude["pass_rate"]) == {0.0}
    assert set(good["pass_k"]) == {1.0} and set(rude["pass_k"]) == {0.0}  # pass^2
    assert set(summary["attempts"]) == {4} and set(summary["errors"]) == {0}
    assert (summary["ci_low"] <= summary["pass_rate"]).all()
    assert (summary["tokens"] > 0).all() and summary["latency_p95_s"].notna().all()
    # Every cell is a normal run of the user's.
    runs = {r.id: r for r in two.wb.runs.list()}
    assert set(m.run_ids) <= set(runs) and {runs[i].prompt_name for i in m.run_ids} == {
        "Support",
        "Other",
    }


def test_compare_pairs_each_cell_with_the_baseline(two: Setup) -> None:
    m = matrix(two, repeats=3).wait(60)
    diff = m.compare(baseline=("Support", GOOD))
    assert list(diff["cell"]) == [2, 3, 4]
    by = diff.set_index("cell")
    assert by.loc[3, "difference"] == 0.0 and by.loc[3, "worse"] == 0  # same target
    assert by.loc[2, "difference"] == pytest.approx(-2 / 3)  # 2 of 3 expectations lost
    assert by.loc[2, "worse"] == 2 and by.loc[2, "p_value"] == pytest.approx(2 / 64)  # 6 of 6
    assert diff.attrs["baseline"] == "Support x good"
    paired = m.paired(baseline=("Support", "good"))
    assert paired[("Support", "rude")].worse == ["Greets", "Refunds"]
    # A matrix started with its baseline compares with it by default.
    m2 = matrix(two, baseline=("Other", "rude")).wait(60)
    assert m2.compare().attrs["baseline"] == "Other x rude"


def test_matrices_are_listed_reopened_and_scoped_by_user(
    two: Setup, committed_db: Database
) -> None:
    other_wb = Workbench(committed_db, insert_user(committed_db))
    m = matrix(two).wait(60)
    listed = two.wb.runs.matrices()
    assert [x.id for x in listed] == [m.id]
    again = two.wb.runs.matrix_get(m.id).wait(10)
    assert again.summary()["pass_rate"].tolist() == m.summary()["pass_rate"].tolist()
    with pytest.raises(NotFound):
        other_wb.runs.matrix_get(m.id)
    assert other_wb.runs.matrices() == []


BAD = [
    ({"prompts": []}, "prompts must be a non-empty list"),
    ({"targets": []}, "targets must be a non-empty list"),
    ({"prompts": ["Support", "Support"]}, "repeated cell: prompt 'Support'"),
    ({"targets": [GOOD, GOOD]}, "repeated cell: target 'good"),
    ({"baseline": ("Support", "gpt-4o")}, "not a cell of this matrix"),
    ({"baseline": ("Nobody", GOOD)}, "not a cell of this matrix"),
    ({"baseline": "Support"}, "baseline must be a"),
    ({"repeats": 1, "pass_k": 3}, "pass_k=3 needs 3 repeats"),
    ({"repeats": 0}, "repeats must be"),
    ({"targets": ["gpt-4o"]}, "must be a target"),
]


@pytest.mark.parametrize(("change", "match"), BAD)
def test_bad_input_is_refused_before_anything_is_written_or_sent(
    rolled: Setup, change: dict[str, Any], match: str
) -> None:
    with StandIn(max_lifetime_s=60) as server:
        sent = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        options = {"targets": [sent, GOOD], **change}
        with pytest.raises(ValidationError, match=match):
            matrix(rolled, **options)
        assert rows(rolled) == 0 and server.requests == 0


def test_the_same_prompt_by_id_and_by_name_is_a_repeated_cell(rolled: Setup) -> None:
    with pytest.raises(ValidationError, match="repeated cell"):
        matrix(rolled, prompts=["Support", rolled.prompt_id])
    assert rows(rolled) == 0


def test_cells_calling_one_model_share_its_concurrency_budget(two: Setup) -> None:
    with StandIn(latency_s=0.05, max_lifetime_s=60) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        m = matrix(two, targets=[target], repeats=8, concurrency=4).wait(60)
        assert server.requests == 2 * 2 * 8  # 2 prompts x 2 scenarios x 8 repeats
        assert server.peak_in_flight <= 4
    assert set(m.summary()["status"]) == {"finished"}


def test_budgets_split_per_provider_and_model() -> None:
    a = workbench.offline(model="a")
    b = workbench.offline(model="b")
    assert budgets([a, b], 16, prompts=2) == [8, 8]
    assert budgets([a, workbench.offline(model="a", temperature=1)], 16, prompts=2) == [4, 4]
    assert budgets([a], 3, prompts=4) == [1]  # never below one request at a time


def test_labels_tell_targets_of_one_model_apart() -> None:
    settings = [{"model": "m", "params": {"temperature": 0}}, {"model": "m", "params": {}},
                {"model": "x"}]  # fmt: skip
    assert target_labels(settings) == ["m (temperature=0)", "m", "x"]
    assert target_labels([{"model": "m"}, {"model": "m"}]) == ["m #1", "m #2"]


def test_plot_draws_one_bar_per_cell(two: Setup) -> None:
    m = matrix(two).wait(60)
    figure = m.plot()
    bars = [p for p in figure.axes[0].patches]
    assert len(bars) == 4
    assert sorted(round(b.get_height(), 3) for b in bars) == [0.0, 0.0, 1.0, 1.0]


def test_errors_are_counted_apart_and_a_baseline_must_be_a_cell(two: Setup) -> None:
    def broken(last_user: str) -> Any:
        return None if "refund" in last_user else "hello friend"  # not a string: an error

    flaky = workbench.offline(broken, model="broken")
    m = matrix(two, prompts=["Support"], targets=[GOOD, flaky]).wait(60)
    row = m.summary().set_index("target").loc["broken"]
    assert (row["errors"], row["passed"], row["failed"]) == (2, 2, 0)
    assert row["pass_rate"] == 1.0  # of the decided attempts: an error is never a failure
    with pytest.raises(ValidationError, match="not a cell of matrix"):
        m.compare(baseline=("Support", "nobody"))
    with pytest.raises(ValidationError, match="say which cell is the baseline"):
        m.compare()
    assert list(m.compare(baseline=1)["cell"]) == [2]


def test_a_baseline_target_is_found_in_cells_stored_before_direct_was_the_default(
    two: Setup,
) -> None:
    # Issue 24: cells stored while the SDKs were the default carry no transport; the same
    # target built today (transport "direct" by default) still names its cell.
    with StandIn(max_lifetime_s=60) as server:
        a, b = (workbench.openai_compatible(base_url=server.openai_base_url, model=model)
                for model in ("a", "b"))  # fmt: skip
        m = matrix(two, prompts=["Support"], targets=[a, b], repeats=1).wait(60)
    with two.wb.database.transaction() as session:
        session.execute(
            text("UPDATE workbench.run_matrix_cell SET target = target - 'transport' "
                 "WHERE matrix_id = :id"), {"id": m.id},
        )  # fmt: skip
    diff = two.wb.runs.matrix_get(m.id).compare(baseline=("Support", b))
    assert diff.attrs["baseline"] == "Support x b" and list(diff["cell"]) == [1]
