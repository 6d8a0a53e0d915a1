"""Studying runs: results, flakiness, run-to-run comparison, history and export, as SQL and
DataFrames (every frame built by `tables.typed_frame`).

Functions here take a psycopg connection and the user id from the service layer
(`workbench/services/runs/study.py`), which is what users reach as `wb.runs` and `run`.
"""

from __future__ import annotations

from workbench.runs.analysis.compare import COMPARE_COLUMNS, compare_runs
from workbench.runs.analysis.frames import flaky_frame, outcome_records, pass_rate_frame
from workbench.runs.analysis.stats import flips, verdict, wilson
from workbench.runs.analysis.trend import trend_frame

__all__ = [
    "COMPARE_COLUMNS",
    "compare_runs",
    "flaky_frame",
    "flips",
    "outcome_records",
    "pass_rate_frame",
    "trend_frame",
    "verdict",
    "wilson",
]
