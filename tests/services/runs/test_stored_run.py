"""`wb.runs.get(run_id)` is the stored run: its record, and every question a started run answers.

A newcomer reopening yesterday's run in a new kernel studies it exactly as the handle `start`
returned: the same frames, comparison, export and viewer; the old names keep working.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

import workbench
from tests.runs.conftest import Setup
from workbench.services.runs import RunHandle, StoredRun
from workbench.widgets.run_viewer import RunViewer


def play(setup: Setup, reply: str, **options: Any) -> RunHandle:
    target = workbench.offline({"hello": reply}, default="first second")
    run: RunHandle = setup.wb.runs.start(
        suite=setup.suite_id, prompt=setup.prompt_id, target=target, progress=False, **options
    )
    return run.wait(60)


def test_a_stored_run_answers_what_its_handle_answers(setup: Setup) -> None:
    run = play(setup, "echo: hello", repeats=2)
    stored = setup.wb.runs.get(run.id)
    assert isinstance(stored, StoredRun)
    assert (stored.id, stored.status, stored.repeats) == (run.id, "finished", 2)
    assert stored.totals is not None and stored.totals["attempts"] == stored.total == 4
    for question in ("frame", "summary", "flaky", "pass_rates", "attempts"):
        pd.testing.assert_frame_equal(getattr(stored, question)(), getattr(run, question)())
    assert stored.transcript(position=2) == run.transcript(position=2)
    assert stored.to_csv() == run.to_csv()
    assert json.loads(stored.to_json())["run"]["id"] == run.id
    # The old names still work and say the same.
    pd.testing.assert_frame_equal(setup.wb.runs.results_frame(run.id), stored.frame())
    pd.testing.assert_frame_equal(setup.wb.runs.summary(run.id), stored.summary())
    assert setup.wb.runs.list() == [stored]


def test_a_run_compares_itself_with_a_baseline_either_way_round(setup: Setup) -> None:
    baseline = play(setup, "echo: hello")
    candidate = play(setup, "something else")  # "Greets" now fails
    stored = setup.wb.runs.get(candidate.id)
    expected = setup.wb.runs.compare(baseline, candidate)
    for diff in (candidate.compare(baseline), stored.compare(baseline.id)):
        pd.testing.assert_frame_equal(diff, expected)
    assert list(expected.regressions()["scenario"]) == ["Greets"]


def test_the_viewer_shows_a_stored_run(setup: Setup) -> None:
    run = play(setup, "echo: hello")
    viewer = RunViewer(setup.wb.runs.get(run.id))
    assert viewer.progress.value == viewer.progress.max == 2
    viewer.select(1, 1)
    assert "echo: hello" in viewer.transcript.value
