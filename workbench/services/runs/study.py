"""Reading the user's runs: `wb.runs.get/list/frame`, the results frames, comparison, history,
flakiness, export and the response cache. A collaborator of `RunService`, which hands these
calls to it, and of every `RunHandle` and `StoredRun`, whose `.frame()`, `.compare(...)` and
friends it answers.

Every statement is filtered by the user; another user's run is `NotFound`, exactly as a missing
one. The frames themselves are built in `workbench.runs.analysis` (one SQL statement each).

    diff = wb.runs.compare(baseline, candidate)     # one row per aligned expectation
    diff.regressions()                              # passed before, failing now
    wb.runs.trend(suite="Checkout flows", last=20)  # pass rate, cost, p50/p95 latency per run
    run.flaky()                                     # passed and failed across repeats
"""

from __future__ import annotations

import builtins
import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.db.models import Run
from workbench.errors import NotFound, ValidationError, quoted
from workbench.runs import lifecycle
from workbench.runs.analysis import compare_runs, export, flaky_frame, pass_rate_frame, trend_frame
from workbench.runs.analysis.attempts import attempts_frame, transcript
from workbench.runs.analysis.conversations import conversations_frame
from workbench.runs.analysis.numbering import checked
from workbench.runs.analysis.paired_sql import paired_comparison
from workbench.runs.analysis.results import results_frame, summarise
from workbench.runs.analysis.tool_calls import tool_calls_frame
from workbench.runs.cache import ResponseCache, ttl_of
from workbench.services._base import UserScopedService, session_driver
from workbench.services._fields import checked_id
from workbench.services.runs.handle import RUN_FIELDS, StoredRun

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

    from workbench.runs.analysis.comparison_frame import ComparisonFrame
    from workbench.runs.analysis.paired import PairedComparison


class HasRunId(Protocol):
    @property
    def id(self) -> str: ...


RunRef = str | HasRunId  # a run id, or a run (a RunHandle, a StoredRun)
ExportFormat = Literal["json", "csv", "junit"]


def run_id_of(run: object, name: str = "run") -> str:
    value = getattr(run, "id", run)
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{name} must be a run or a run id, got {str(run)[:100]!r}")
    return checked_id(value, f"{name} id")


def stored_run(row: Run, study: RunStudy) -> StoredRun:
    return StoredRun(
        row.id,
        row.suite_name,
        row.prompt_name,
        str(row.target.get("model")),
        row.status,
        row.repeats,
        row.created_at,
        row.finished_at,
        row.totals,
        study,
    )


def write_export(path: str | os.PathLike[str], text: str) -> None:
    """`text` written to `path`; a path the system refuses is a `ValidationError` saying why."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except (OSError, ValueError, UnicodeEncodeError) as error:  # ValueError: a NUL in the path
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ValidationError(
            f"Cannot write the export to {quoted(str(path))}: {reason[:200]}. Choose a path in "
            "a folder that exists and that you may write to."
        ) from None


class RunStudy(UserScopedService):
    """The user's stored runs and everything that studies them."""

    def get(self, run_id: str) -> StoredRun:
        """One of your runs; `NotFound` if it is not yours."""
        with self._transaction() as session:
            return stored_run(self._row(session, run_id), self)

    def list(self) -> builtins.list[StoredRun]:
        """Your runs, newest first (runs whose kernel died are marked interrupted first)."""
        with self._transaction() as session:
            lifecycle.mark_interrupted(session_driver(session), user_id=self._user_id)
            rows = session.scalars(
                select(Run).where(Run.user_id == self._user_id).order_by(Run.created_at.desc())
            )
            return [stored_run(row, self) for row in rows]

    def frame(self) -> pd.DataFrame:
        """Your runs as a DataFrame, newest first."""
        import pandas as pd

        runs = self.list()
        columns = list(RUN_FIELDS[:-1])
        rows = [[getattr(r, c) for c in columns] + [dict(r.totals or {})] for r in runs]
        return pd.DataFrame(rows, columns=[*columns, "totals"])

    def results_frame(self, run_id: str) -> pd.DataFrame:
        """One row per expectation attempt of a run of yours."""
        self.get(run_id)  # NotFound unless yours; a run whose kernel died is marked first
        with self._single_statement_driver() as connection:
            return results_frame(connection, self._user_id, run_id)

    def tool_calls_frame(self, run_id: str) -> pd.DataFrame:
        """One row per tool call of a run of yours: scenario, repeat, turn, round, name,
        arguments, result, source (mock, live or none), latency and error."""
        self.get(run_id)
        with self._single_statement_driver() as connection:
            return tool_calls_frame(connection, self._user_id, run_id)

    def conversations(self, run_id: str) -> pd.DataFrame:
        """One row per simulated conversation of a run of yours (issue 21): scenario, repeat,
        turn, turns played, ending, reason, tokens and cost per role, transcript."""
        self.get(run_id)
        with self._single_statement_driver() as connection:
            return conversations_frame(connection, self._user_id, run_id)

    def summary(self, run_id: str, *, labels: bool = False) -> pd.DataFrame:
        """Pass rate per scenario and expectation of a run of yours (ERROR never counts);
        `labels` counts a person's pass/fail label instead of the outcome where there is one."""
        return summarise(self.results_frame(run_id), labels=labels)

    def compare(
        self, baseline: RunRef, candidate: RunRef, *, pass_k: int | None = None
    ) -> ComparisonFrame:
        """Align two runs by scenario, turn and expectation; say what changed.

        Returns a `ComparisonFrame`: one row per expectation with `change` (regression, fixed,
        newly_flaky, still_failing, ...), both sides' outcomes and replies, and per-scenario
        latency and cost deltas. `.regressions()`, `.counts()`, `.scenarios()` are shortcuts;
        `.attrs` says whether it is partial (a run still playing) and which scenarios are on
        one side only or changed version. `.paired` holds the paired statistics: the pass-rate
        difference with a cluster-robust interval, McNemar's exact p-value, pass^k per scenario
        (k = `pass_k`, by default the runs' repeats), scenarios worse / better / flaky, cost and
        latency deltas (docs/matrix.md).

        >>> wb.runs.compare(last_week, today).regressions()      # doctest: +SKIP
        """
        b, c = run_id_of(baseline, "baseline"), run_id_of(candidate, "candidate")
        if pass_k is not None:
            checked(pass_k, "pass_k")
        self.mark_interrupted()  # a run whose kernel died is not "still playing"
        with self._single_statement_driver() as connection:
            frame = compare_runs(connection, self._user_id, b, c, pass_k, paired=False)
        frame.pair_with(lambda: self._paired(b, c, pass_k))  # on first use: most want the rows
        return frame

    def _paired(self, baseline: str, candidate: str, pass_k: int | None) -> PairedComparison:
        with self._single_statement_driver() as connection:
            return paired_comparison(connection, self._user_id, baseline, candidate, pass_k)

    def trend(self, *, suite: str | None = None, last: int = 20) -> pd.DataFrame:
        """Your last `last` runs of `suite` (name or id; every suite if None), oldest first:
        pass rate, cost and p50/p95 reply latency per run.

        >>> wb.runs.trend(suite="Checkout flows", last=20)     # doctest: +SKIP
        """
        with self._single_statement_driver() as connection:
            return trend_frame(connection, self._user_id, suite, last)

    def flaky(self, run: RunRef) -> pd.DataFrame:
        """Expectations of a run that both passed and failed across its repeats."""
        run_id = run_id_of(run)
        with self._single_statement_driver() as connection:
            self._check_run(connection, run_id)
            return flaky_frame(connection, self._user_id, run_id)

    def pass_rates(self, run: RunRef) -> pd.DataFrame:
        """Per scenario: attempts passed, failed, errored and the pass rate's 95% interval."""
        run_id = run_id_of(run)
        with self._single_statement_driver() as connection:
            self._check_run(connection, run_id)
            return pass_rate_frame(connection, self._user_id, run_id)

    def attempts(self, run: RunRef) -> pd.DataFrame:
        """One row per attempt: scenario, repeat, status, error, latency, tags, flaky."""
        run_id = run_id_of(run)
        with self._single_statement_driver() as connection:
            self._check_run(connection, run_id)
            return attempts_frame(connection, self._user_id, run_id)

    def transcript(self, run: RunRef, *, position: int, repeat: int = 1) -> dict[str, Any]:
        """One attempt's turns: USER text, EXPECT replies with each expectation's outcome.

        `position` and `repeat` count from 1, as `run.attempts()` shows them."""
        run_id = run_id_of(run)
        with self._single_statement_driver() as connection:
            self._check_run(connection, run_id)
            return transcript(connection, self._user_id, run_id, position, repeat)

    def export(
        self,
        run: RunRef,
        *,
        format: ExportFormat = "json",
        path: str | os.PathLike[str] | None = None,
    ) -> str:
        """A run's results as JSON, CSV or JUnit XML text, also written to `path` if given."""
        if format not in ("json", "csv", "junit"):
            raise ValidationError(f"format must be 'json', 'csv' or 'junit', got {format!r}")
        if path is not None and not isinstance(path, str | os.PathLike):
            raise ValidationError(
                f"path must be a file path (str or Path), not {type(path).__name__}"
            )
        run_id = run_id_of(run)
        stored = self.get(run_id)  # NotFound unless yours
        frame = self.results_frame(run_id)
        meta = {name: getattr(stored, name) for name in RUN_FIELDS}
        if format == "json":
            text = export.to_json(frame, meta)
        elif format == "csv":
            text = export.to_csv(frame)
        else:
            text = export.to_junit(frame, meta)
        if path is not None:
            write_export(path, text)
        return text

    def clear_cache(self, *, older_than: timedelta | float | None = None) -> int:
        """Delete your cached replies (those older than `older_than`, days or a timedelta, if
        given); how many were deleted. Nobody else's are touched."""
        self._guard()
        age = None if older_than is None else ttl_of(older_than)
        return ResponseCache(self._database, self._user_id).clear(older_than=age)

    def mark_interrupted(self) -> None:
        """Runs of yours whose kernel died are marked interrupted."""
        with self._transaction() as session:
            lifecycle.mark_interrupted(session_driver(session), user_id=self._user_id)

    def row(self, run_id: str) -> Run:
        """The run's row (another user's is `NotFound`), runs whose kernel died marked first."""
        with self._transaction() as session:
            return self._row(session, run_id)

    def _row(self, session: Session, run_id: str) -> Run:
        run_id = run_id_of(run_id)
        lifecycle.mark_interrupted(session_driver(session), user_id=self._user_id)
        row = session.scalar(select(Run).where(Run.id == run_id, Run.user_id == self._user_id))
        if row is None:
            raise NotFound(f"No run {run_id!r}; see wb.runs.list().")
        return row

    def _check_run(self, connection: psycopg.Connection[Any], run_id: str) -> None:
        run_id = run_id_of(run_id)
        row = connection.execute(
            "SELECT 1 FROM workbench.run WHERE user_id = %s AND id = %s", (self._user_id, run_id)
        ).fetchone()
        if row is None:
            raise NotFound(f"No run {run_id!r}; see wb.runs.list().")
