"""What a user holds of a run: a `RunHandle` while it plays, a `StoredRun` from `wb.runs.get`.

Both answer the same questions about their results (`RunResults`): `frame()`, `summary()`,
`flaky()`, `pass_rates()`, `attempts()`, `transcript(...)`, `compare(baseline)`, `to_json()`,
`to_csv()`, `to_junit()`, through the user's `RunStudy`, so a run reopened in a new kernel is
studied exactly as the one just started.

    run = wb.runs.start(...); run.wait(); run.summary()
    yesterday = wb.runs.get(run_id); run.compare(yesterday).regressions()
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.runs.analysis.conversations import conversation_summary
from workbench.services.runs.background import Background, Progress

if TYPE_CHECKING:
    import pandas as pd

    from workbench.runs.analysis.comparison_frame import ComparisonFrame
    from workbench.services.runs.study import RunRef, RunStudy


class RunResults:
    """A run's results, studied: what `RunHandle` and `StoredRun` share (they set `id`)."""

    id: str
    _study: RunStudy

    def frame(self) -> pd.DataFrame:
        """One row per expectation attempt (see `wb.runs.results_frame`), with its `result_id`
        and a person's `label` (wb.reviews) beside the automated `status`."""
        return self._study.results_frame(self.id)

    def tool_calls_frame(self) -> pd.DataFrame:
        """One row per tool call the assistant made (see `wb.runs.tool_calls_frame`)."""
        return self._study.tool_calls_frame(self.id)

    def conversations(self) -> pd.DataFrame:
        """One row per simulated conversation: turns played, ending (goal_reached, gave_up,
        max_turns, error), reason, tokens and cost per role, transcript (issue 21)."""
        return self._study.conversations(self.id)

    def conversation_summary(self) -> pd.DataFrame:
        """Per scenario and simulated block over the repeats: the distribution of lengths and
        endings, and the goal rate with its 95% interval."""
        return conversation_summary(self._study.conversations(self.id))

    def summary(self, *, labels: bool = False) -> pd.DataFrame:
        """Pass rate per scenario and expectation; ERROR results are never counted as failed.
        `labels=True` counts a person's pass/fail label (wb.reviews) where there is one."""
        return self._study.summary(self.id, labels=labels)

    def flaky(self) -> pd.DataFrame:
        """Expectations that both passed and failed across repeats: pass rate, flips, interval."""
        return self._study.flaky(self.id)

    def pass_rates(self) -> pd.DataFrame:
        """Pass rate per scenario with its Wilson 95% interval (errors never count as failed)."""
        return self._study.pass_rates(self.id)

    def attempts(self) -> pd.DataFrame:
        """One row per attempt: scenario, repeat, status, error, latency, tags, flaky."""
        return self._study.attempts(self.id)

    def transcript(self, *, position: int, repeat: int = 1) -> dict[str, Any]:
        """One attempt's turns: USER text, EXPECT replies with each expectation's outcome;
        `position` (the scenario's in the suite) and `repeat` count from 1, as `attempts()`
        shows them: `run.transcript(position=2, repeat=1)`."""
        return self._study.transcript(self.id, position=position, repeat=repeat)

    def compare(self, baseline: RunRef) -> ComparisonFrame:
        """What changed in this run since `baseline` (a run or a run id): as
        `wb.runs.compare(baseline, this_run)`; `.regressions()` is what broke."""
        return self._study.compare(baseline, self.id)

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        return self._study.export(self.id, format="json", path=path)

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        return self._study.export(self.id, format="csv", path=path)

    def to_junit(self, path: str | os.PathLike[str] | None = None) -> str:
        return self._study.export(self.id, format="junit", path=path)


@dataclass(frozen=True, eq=True)
class StoredRun(RunResults):
    """One of your runs as stored when it was read (`wb.runs.get`, `wb.runs.list`): its record
    and everything `RunResults` answers about it."""

    id: str
    suite_name: str
    prompt_name: str
    model: str
    status: str
    repeats: int
    created_at: datetime
    finished_at: datetime | None
    totals: Mapping[str, Any] | None
    _study: RunStudy = field(repr=False, compare=False)

    done = True  # for RunViewer: a stored run is not followed live

    @property
    def total(self) -> int:
        """Its attempts (0 while the run has no totals yet)."""
        return int((self.totals or {}).get("attempts") or 0)


RUN_FIELDS = ("id", "suite_name", "prompt_name", "model", "status", "repeats", "created_at",
              "finished_at", "totals")  # fmt: skip
"""A stored run's record: what `wb.runs.frame()` lists and an export carries."""


class RunHandle(RunResults):
    """A started run. `await run`, `run.wait()`, `run.cancel()`, `run.frame()`, `run.summary()`."""

    def __init__(
        self, run_id: str, study: RunStudy, progress: Progress, background: Background
    ) -> None:
        self.id = run_id
        self.total = progress.total
        self._study = study
        self._progress = progress
        self._counts = progress.counts  # finished attempts by status, as they arrive
        self._background = background

    @property
    def done(self) -> bool:
        return self._background.done

    @property
    def status(self) -> str:
        """running until it ends; then finished, cancelled or interrupted (from the ledger)."""
        return self._study.get(self.id).status if self.done else "running"

    def wait(self, timeout: float | None = None) -> RunHandle:
        """Block until the run ends. Ctrl-C (the kernel's interrupt button) cancels it."""
        self._background.wait(timeout, f"run {self.id}")
        return self

    def cancel(self) -> RunHandle:
        """Stop: requests in flight are cancelled, finished attempts kept, run marked cancelled."""
        self._background.cancel()
        return self

    def __await__(self) -> Generator[Any, None, RunHandle]:
        yield from asyncio.wrap_future(self._background.future).__await__()
        return self

    def __repr__(self) -> str:
        outcome = self._background.outcome()
        shown = f"<Run {self.id} {outcome}: {self._progress.describe()}>"
        if outcome == "interrupted":  # nobody plays it: say how to finish it
            shown += f" (nobody is playing it: wb.runs.resume({self.id!r}) plays the rest)"
        return shown
