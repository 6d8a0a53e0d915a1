"""History: how a suite's runs went over time (pass rate, cost, latency percentiles)."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

import psycopg

from workbench.errors import NotFound, ValidationError
from workbench.runs.analysis import sql
from workbench.tables import DATETIME, typed_frame

if TYPE_CHECKING:
    import pandas as pd

Connection = psycopg.Connection[Any]
MAX_LAST = 10_000

TREND_COLUMNS = {
    "run_id": "string",
    "created_at": DATETIME,
    "status": "string",
    "suite": "string",
    "prompt": "string",
    "model": "string",
    "attempts_passed": "Int64",
    "attempts_failed": "Int64",
    "attempts_errored": "Int64",
    "unfinished": "Int64",
    "pass_rate": "Float64",
    "expectation_pass_rate": "Float64",
    "expectations_errored": "Int64",
    "cost_usd": "Float64",
    "p50_latency_s": "Float64",
    "p95_latency_s": "Float64",
    "cached_replies": "Int64",
}


def trend_frame(connection: Connection, user_id: str, suite: str | None, last: int) -> pd.DataFrame:
    """The last `last` runs (of `suite`, by id or name; all suites when None), oldest first.

    Rates leave errors out (an error is not a failure); latency is per reply (turn).
    """
    if isinstance(last, bool) or not isinstance(last, int) or not 1 <= last <= MAX_LAST:
        raise ValidationError(f"last must be a whole number from 1 to {MAX_LAST}, got {last!r}")
    if suite is not None and (not isinstance(suite, str) or not suite.strip()):
        raise ValidationError("suite must be a suite's name or id (or None for every suite)")
    rows = connection.execute(sql.TREND, {"u": user_id, "s": suite, "n": last}).fetchall()
    if not rows and suite is not None:
        raise NotFound(f"No runs of a suite named or with id {suite!r}.")
    return typed_frame([_record(row) for row in rows], TREND_COLUMNS)


def _record(row: tuple[Any, ...]) -> dict[str, Any]:
    run_id, created, status, suite, prompt, model, a_pass, a_fail, a_err, waiting = row[:10]
    e_pass, e_fail, e_err, cost, p50, p95, cached = row[10:]
    created = created.replace(tzinfo=UTC)  # stored as naive UTC
    return {
        "run_id": run_id,
        "created_at": created,
        "status": status,
        "suite": suite,
        "prompt": prompt,
        "model": model,
        "attempts_passed": a_pass,
        "attempts_failed": a_fail,
        "attempts_errored": a_err,
        "unfinished": waiting,
        "pass_rate": a_pass / (a_pass + a_fail) if a_pass + a_fail else None,
        "expectation_pass_rate": e_pass / (e_pass + e_fail) if e_pass + e_fail else None,
        "expectations_errored": e_err,
        "cost_usd": cost,
        "p50_latency_s": p50,
        "p95_latency_s": p95,
        "cached_replies": cached,
    }
