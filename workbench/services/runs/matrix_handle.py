"""What a user holds of a matrix: `wb.runs.matrix(...)`, `wb.runs.matrix_get(id)`.

    m.wait(); m.summary(); m.compare(baseline=("Terse", "gpt-4o-mini")); m.plot()
    m.report("report.html")   # one self-contained HTML file to share

Every answer is read again from the database, so a matrix reopened in a new kernel (or still
playing) is studied exactly as the one just started.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import ValidationError
from workbench.runs.analysis.report import render

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from workbench.runs.analysis.paired import PairedComparison
    from workbench.services.runs.handle import RunHandle
    from workbench.services.runs.matrix_study import MatrixRecord, MatrixStudy

REPORT_TRANSCRIPTS = 20  # failing attempts shown per cell in a report (the rest are counted)


class MatrixHandle:
    """A matrix of runs, one per (prompt, target) cell."""

    def __init__(
        self,
        record: MatrixRecord,
        study: MatrixStudy,
        handles: dict[str, RunHandle],
        attach: Callable[[str], RunHandle],
    ) -> None:
        self.id = record.id
        self._record = record
        self._study = study
        self._handles = handles
        self._attach = attach

    @property
    def suite_name(self) -> str:
        return self._record.suite_name

    @property
    def repeats(self) -> int:
        return self._record.repeats

    @property
    def run_ids(self) -> list[str | None]:
        """Each cell's run, in cell order (prompt by prompt, target by target)."""
        return [cell.run_id for cell in self._record.cells]

    def record(self) -> MatrixRecord:
        """The matrix as stored now (each cell's run status read again)."""
        self._record = self._study.record(self.id)
        return self._record

    @property
    def done(self) -> bool:
        return all(c.status not in ("running", None) for c in self.record().cells if c.run_id)

    def wait(self, timeout: float | None = None) -> MatrixHandle:
        """Block until every cell's run has ended (Ctrl-C cancels the one being waited on)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for run_id in self.run_ids:
            if run_id is None:
                continue
            handle = self._handles.get(run_id) or self._attach(run_id)
            self._handles[run_id] = handle
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            handle.wait(left)
        return self

    def cancel(self) -> MatrixHandle:
        """Cancel every cell's run that this kernel plays."""
        for handle in self._handles.values():
            handle.cancel()
        return self

    def summary(self) -> pd.DataFrame:
        """One row per cell: pass rate with its 95% interval (clustered by scenario), pass^k,
        attempts passed / failed / errors, cost, tokens, reply latency p50 and p95."""
        return self._study.summary(self.record())

    def compare(self, baseline: object = None) -> pd.DataFrame:
        """Every other cell against `baseline`, a (prompt, target) pair (target as a Target or
        its label in `summary()`), or a cell number: the pass-rate difference with its paired
        interval, McNemar's p-value, scenarios worse / better / flaky, cost and latency deltas.
        `paired(baseline)` gives each cell's full `PairedComparison`."""
        return self._compare(baseline)[0]

    def paired(self, baseline: object = None) -> dict[tuple[str, str], PairedComparison]:
        """Each other cell's `PairedComparison` with `baseline`, by (prompt, target)."""
        record = self.record()
        _frame, paired = self._compare(baseline)
        names = {c.number: (c.prompt, c.target) for c in record.cells}
        return {names[number]: result for number, result in paired.items()}

    def _compare(self, baseline: object) -> tuple[pd.DataFrame, dict[int, PairedComparison]]:
        record = self.record()
        if baseline is None and not record.settings.get("baseline_cell"):
            raise ValidationError(
                "say which cell is the baseline: m.compare(baseline=(prompt, target)); the "
                f"cells are {[(c.prompt, c.target) for c in record.cells]}"
            )
        return self._study.compare(record, record.cell_of(baseline))

    def plot(self, *, title: str | None = None) -> Figure:
        """Pass rate per cell with its 95% interval, grouped by prompt (a matplotlib Figure)."""
        from workbench.plots import matrix

        figure: Figure = matrix(self.summary(), title=title or f"Matrix on {self.suite_name}")
        return figure

    def report(self, path: str | os.PathLike[str], *, baseline: object = None) -> Path:
        """Write one self-contained HTML file (no network): the matrix, each cell's failing
        attempts with transcripts, and the comparison with the baseline (if one is known).
        Every text from users, models and judges is escaped. Returns the path."""
        record = self.record()
        comparison: pd.DataFrame | None = None
        paired: dict[int, PairedComparison] = {}
        if baseline is not None or record.settings.get("baseline_cell"):
            comparison, paired = self._compare(baseline)
        failures = {
            cell.number: self._study.failures(cell.run_id, REPORT_TRANSCRIPTS)
            for cell in record.cells
            if cell.run_id is not None
        }
        html = render(record, self._study.summary(record), comparison, paired, failures)
        target = Path(path)
        target.write_text(html, encoding="utf-8")
        return target

    def __repr__(self) -> str:
        cells = self._record.cells
        return (f"<Matrix {self.id} on {self.suite_name!r}: {len(cells)} cells, "
                f"repeats={self.repeats}>")  # fmt: skip
