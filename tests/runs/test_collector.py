"""The quieter collector lasts exactly as long as the runs that asked for it."""

from __future__ import annotations

import gc

import pytest

import workbench
from tests.runs.conftest import Setup
from workbench.runs.collector import RUN_THRESHOLDS, quiet_collector


def test_thresholds_and_freeze_last_while_any_run_plays_and_come_back_after() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with quiet_collector():
        assert gc.get_threshold() == RUN_THRESHOLDS
        frozen = gc.get_freeze_count()
        assert frozen > 0  # what existed when the run began is out of the scans
        with quiet_collector():  # a second run in the same process, overlapping
            assert gc.get_threshold() == RUN_THRESHOLDS
        assert gc.get_threshold() == RUN_THRESHOLDS  # the first run still plays
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_run_that_fails_still_gives_the_settings_back() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), quiet_collector():
        raise RuntimeError("the run broke")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_disabled_collector_is_left_alone() -> None:
    before = gc.get_threshold()
    gc.disable()
    try:
        with quiet_collector():
            assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    finally:
        gc.enable()


def test_a_run_in_the_kernel_leaves_the_collector_as_it_found_it(setup: Setup) -> None:
    before = gc.get_threshold()
    run = setup.wb.runs.start(suite=setup.suite_id, prompt=setup.prompt_id,
                              target=workbench.offline(), repeats=20, progress=False)  # fmt: skip
    run.wait(timeout=60)
    assert run.status == "finished"
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
