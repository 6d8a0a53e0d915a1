"""Reading matrices of the signed-in user: their cells, summary, comparison and failures.

Every statement is filtered by user first (the indexes of 0007 start with it); a matrix that
is not yours is `NotFound` exactly as one that is not there.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.errors import NotFound, ValidationError
from workbench.runs import lifecycle
from workbench.runs.analysis.attempts import transcript
from workbench.runs.analysis.matrix_frames import Cell, compare_cells, summary_frame
from workbench.runs.analysis.numbering import shown_number
from workbench.runs.analysis.paired_sql import read_attempts, read_repeats, read_study
from workbench.runs.providers.targets import without_transport
from workbench.services._base import UserScopedService, session_driver
from workbench.services.runs.matrix import target_labels

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

    from workbench.runs.analysis.paired import PairedComparison

MATRICES = """
SELECT id, suite_name, repeats, settings, created_at FROM workbench.run_matrix
WHERE user_id = %(u)s AND (%(m)s::text IS NULL OR id = %(m)s)
ORDER BY created_at DESC, id
"""
CELLS = """
SELECT c.matrix_id, c.position, c.prompt_name, c.target, c.run_id, r.status
FROM workbench.run_matrix_cell c
LEFT JOIN workbench.run r ON r.id = c.run_id AND r.user_id = %(u)s
WHERE c.user_id = %(u)s AND c.matrix_id = ANY(%(ids)s)
ORDER BY c.matrix_id, c.position
"""
# The failing attempts of one run, worst scenarios first, as (position, repeat) shown from 1.
FAILED = """
SELECT position + 1, repeat + 1 FROM workbench.run_attempt
WHERE user_id = %(u)s AND run_id = %(r)s AND status IN ('failed', 'error')
ORDER BY position, repeat LIMIT %(n)s
"""
COUNT_FAILED = """
SELECT count(*) FROM workbench.run_attempt
WHERE user_id = %(u)s AND run_id = %(r)s AND status IN ('failed', 'error')
"""


@dataclass(frozen=True)
class MatrixRecord:
    """A matrix as stored: settings and cells (each with its run's status when read)."""

    id: str
    suite_name: str
    repeats: int
    settings: dict[str, Any]
    created_at: datetime
    cells: list[Cell]

    @property
    def pass_k(self) -> int:
        return int(self.settings.get("pass_k") or self.repeats)

    def cell_of(self, baseline: object) -> Cell:
        """The cell a baseline names: its number, or (prompt name, target label)."""
        if baseline is None and self.settings.get("baseline_cell"):
            baseline = int(self.settings["baseline_cell"])
        if isinstance(baseline, int) and not isinstance(baseline, bool):
            found = [c for c in self.cells if c.number == baseline]
        elif isinstance(baseline, tuple) and len(baseline) == 2:
            prompt, target = baseline
            label = target if isinstance(target, str) else None
            if label is None and hasattr(target, "settings"):
                wanted = without_transport(target.settings())  # how it travelled is no matter
                label = next((c.target for c in self.cells
                              if without_transport(c.settings or {}) == wanted), None)  # fmt: skip
            found = [c for c in self.cells if c.prompt == prompt and c.target == label]
        else:
            raise ValidationError("baseline must be a (prompt, target) pair or a cell number")
        if len(found) != 1:
            cells = [(c.prompt, c.target) for c in self.cells]
            raise ValidationError(f"baseline {str(baseline)[:120]} is not a cell of matrix "
                                  f"{self.id}; its cells are {cells}")  # fmt: skip
        return found[0]


class MatrixStudy(UserScopedService):
    """The user's matrices and what studies them."""

    def records(self, matrix_id: str | None = None) -> builtins.list[MatrixRecord]:
        with self._transaction() as session:
            lifecycle.mark_interrupted(session_driver(session), user_id=self._user_id)
        with self._single_statement_driver() as connection:
            params = {"u": self._user_id, "m": matrix_id}
            rows = connection.execute(MATRICES, params).fetchall()
            ids = [row[0] for row in rows]
            cells: dict[str, builtins.list[tuple[Any, ...]]] = {i: [] for i in ids}
            for row in connection.execute(CELLS, {"u": self._user_id, "ids": ids}).fetchall():
                cells[row[0]].append(row)
        return [_record(row, cells[row[0]]) for row in rows]

    def record(self, matrix_id: str) -> MatrixRecord:
        if not isinstance(matrix_id, str) or not matrix_id:
            raise ValidationError(f"a matrix id is a string, got {str(matrix_id)[:80]!r}")
        found = self.records(matrix_id)
        if not found:
            raise NotFound(f"No matrix {matrix_id!r}; see wb.runs.matrices().")
        return found[0]

    def summary(self, record: MatrixRecord) -> pd.DataFrame:
        with self._single_statement_driver() as connection:
            attempts = read_attempts(connection, self._user_id, _run_ids(record))
        return summary_frame(record.cells, attempts, record.pass_k)

    def compare(
        self, record: MatrixRecord, baseline: Cell
    ) -> tuple[pd.DataFrame, dict[int, PairedComparison]]:
        ids = _run_ids(record)
        with self._single_statement_driver() as connection:
            units, attempts = read_study(connection, self._user_id, ids)
            repeats = read_repeats(connection, self._user_id, ids)
        return compare_cells(record.cells, baseline, units, attempts, repeats, record.pass_k)

    def failures(self, run_id: str, limit: int) -> tuple[int, builtins.list[dict[str, Any]]]:
        """How many attempts of the run failed or errored, and the first `limit` transcripts."""
        with self._single_statement_driver() as connection:
            return _failures(connection, self._user_id, run_id, limit)


def _failures(
    connection: psycopg.Connection[Any], user_id: str, run_id: str, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    params = {"u": user_id, "r": run_id, "n": limit}
    total = connection.execute(COUNT_FAILED, params).fetchone()
    shown = connection.execute(FAILED, params).fetchall()
    return (int(total[0]) if total else 0,
            [transcript(connection, user_id, run_id, p, k) for p, k in shown])  # fmt: skip


def _run_ids(record: MatrixRecord) -> list[str]:
    return [c.run_id for c in record.cells if c.run_id is not None]


def _record(row: tuple[Any, ...], cells: list[tuple[Any, ...]]) -> MatrixRecord:
    matrix_id, suite_name, repeats, settings, created_at = row
    labels = settings.get("target_labels") or target_labels([c[3] for c in cells])
    width = len(labels)
    made = [
        Cell(shown_number(position), prompt, labels[position % width] if width else "?", run_id,
             status, settings=target)
        for _m, position, prompt, target, run_id, status in cells
    ]  # fmt: skip
    return MatrixRecord(matrix_id, suite_name, repeats, dict(settings), created_at, made)
