"""Studying runs, as `wb.runs.compare/trend/clear_cache` and `run.flaky()/pass_rates()/to_*`.

`RunStudy` is a base of `RunService` and `RunStudyHandle` of `RunHandle`: they add these
operations to what the user already holds, scoped like everything else (every statement is
filtered by the handle's user; another user's run is `NotFound`, exactly as a missing one).

    diff = wb.runs.compare(baseline, candidate)     # one row per aligned expectation
    diff.regressions()                              # passed before, failing now
    wb.runs.trend(suite="Checkout flows", last=20)  # pass rate, cost, p50/p95 latency per run
    run.flaky()                                     # passed and failed across repeats
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from workbench.errors import NotFound, ValidationError
from workbench.services._base import UserScopedService

if TYPE_CHECKING:
    import pandas as pd

    from workbench.runs.analysis.comparison_frame import ComparisonFrame
    from workbench.services.runs.service import RunService

RunRef = Any  # a run id, or anything with an `.id` (a RunHandle, a RunView)
ExportFormat = Literal["json", "csv", "junit"]


def run_id_of(run: RunRef, name: str = "run") -> str:
    value = getattr(run, "id", run)
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{name} must be a run or a run id, got {str(run)[:100]!r}")
    return value


def cache_settings(cache: object, ttl: timedelta | float | None) -> timedelta | None:
    """The cache TTL of `wb.runs.start(cache=..., cache_ttl=...)`, None when the cache is off."""
    from workbench.runs.cache import ttl_of

    if not isinstance(cache, bool):
        raise ValidationError(f"cache must be True or False, got {str(cache)[:50]!r}")
    if not cache:
        if ttl is not None:
            raise ValidationError("cache_ttl is given but cache is off; pass cache=True too")
        return None
    return ttl_of(ttl)


class RunStudy(UserScopedService):
    """Comparison, history, flakiness and the response cache of the user's runs."""

    def compare(self, baseline: RunRef, candidate: RunRef) -> ComparisonFrame:
        """Align two runs by scenario, turn and expectation; say what changed.

        Returns a `ComparisonFrame`: one row per expectation with `change` (regression, fixed,
        newly_flaky, still_failing, ...), both sides' outcomes and replies, and per-scenario
        latency and cost deltas. `.regressions()`, `.counts()`, `.scenarios()` are shortcuts;
        `.attrs` says whether it is partial (a run still playing) and which scenarios are on
        one side only or changed version.

        >>> wb.runs.compare(last_week, today).regressions()      # doctest: +SKIP
        """
        from workbench.runs.analysis import compare_runs

        b, c = run_id_of(baseline, "baseline"), run_id_of(candidate, "candidate")
        self._mark_interrupted()  # a run whose kernel died is not "still playing"
        with self._single_statement_driver() as connection:
            return compare_runs(connection, self._user_id, b, c)

    def trend(self, *, suite: str | None = None, last: int = 20) -> pd.DataFrame:
        """Your last `last` runs of `suite` (name or id; every suite if None), oldest first:
        pass rate, cost and p50/p95 reply latency per run.

        >>> wb.runs.trend(suite="Checkout flows", last=20)     # doctest: +SKIP
        """
        from workbench.runs.analysis import trend_frame

        with self._single_statement_driver() as connection:
            return trend_frame(connection, self._user_id, suite, last)

    def flaky(self, run: RunRef) -> pd.DataFrame:
        """Expectations of a run that both passed and failed across its repeats."""
        from workbench.runs.analysis import flaky_frame

        run_id = run_id_of(run)
        with self._single_statement_driver() as connection:
            self._check_run(connection, run_id)
            return flaky_frame(connection, self._user_id, run_id)

    def pass_rates(self, run: RunRef) -> pd.DataFrame:
        """Per scenario: attempts passed, failed, errored and the pass rate's 95% interval."""
        from workbench.runs.analysis import pass_rate_frame

        run_id = run_id_of(run)
        with self._single_statement_driver() as connection:
            self._check_run(connection, run_id)
            return pass_rate_frame(connection, self._user_id, run_id)

    def attempts(self, run: RunRef) -> pd.DataFrame:
        """One row per attempt: scenario, repeat, status, error, latency, tags, flaky."""
        from workbench.runs.analysis.attempts import attempts_frame

        run_id = run_id_of(run)
        with self._single_statement_driver() as connection:
            self._check_run(connection, run_id)
            return attempts_frame(connection, self._user_id, run_id)

    def transcript(self, run: RunRef, *, position: int, repeat: int = 0) -> dict[str, Any]:
        """One attempt's turns: USER text, EXPECT replies with each expectation's outcome."""
        from workbench.runs.analysis.attempts import transcript

        run_id = run_id_of(run)
        for name, value in (("position", position), ("repeat", repeat)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError(f"{name} must be a whole number >= 0, got {value!r}")
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
        from workbench.runs.analysis import export

        if format not in ("json", "csv", "junit"):
            raise ValidationError(f"format must be 'json', 'csv' or 'junit', got {format!r}")
        run_id = run_id_of(run)
        service: Any = self
        view = service.get(run_id)  # RunService.get: NotFound unless yours
        frame = service.results_frame(run_id)
        meta = {name: getattr(view, name) for name in view.__dataclass_fields__}
        if format == "json":
            text = export.to_json(frame, meta)
        elif format == "csv":
            text = export.to_csv(frame)
        else:
            text = export.to_junit(frame, meta)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def clear_cache(self, *, older_than: timedelta | float | None = None) -> int:
        """Delete your cached replies (those older than `older_than`, days or a timedelta, if
        given); how many were deleted. Nobody else's are touched."""
        from workbench.runs.cache import ResponseCache, ttl_of

        self._guard()
        age = None if older_than is None else ttl_of(older_than)
        return ResponseCache(self._database, self._user_id).clear(older_than=age)

    def _mark_interrupted(self) -> None:
        from workbench.runs.play import mark_interrupted

        with self._transaction() as session:
            mark_interrupted(session, self._user_id)

    def _check_run(self, connection: Any, run_id: str) -> None:
        row = connection.execute(
            "SELECT 1 FROM workbench.run WHERE user_id = %s AND id = %s", (self._user_id, run_id)
        ).fetchone()
        if row is None:
            raise NotFound(f"No run {run_id!r}; see wb.runs.list().")


class RunStudyHandle:
    """What a `RunHandle` adds for studying it (it has `id` and `_service`)."""

    id: str
    _service: RunService

    def flaky(self) -> pd.DataFrame:
        """Expectations that both passed and failed across repeats: pass rate, flips, interval."""
        return self._service.flaky(self.id)

    def pass_rates(self) -> pd.DataFrame:
        """Pass rate per scenario with its Wilson 95% interval (errors never count as failed)."""
        return self._service.pass_rates(self.id)

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        return self._service.export(self.id, format="json", path=path)

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        return self._service.export(self.id, format="csv", path=path)

    def to_junit(self, path: str | os.PathLike[str] | None = None) -> str:
        return self._service.export(self.id, format="junit", path=path)
