"""A review queue: the results a person is asked to label, in order, and what each one shows.

    q = wb.reviews.queue(run, only="semantic", sample=100, seed=1)
    q.frame()          # result_id, scenario, turn, expectation, judge outcome and score, label
    q.item(0)          # one item: the conversation up to its reply, the expectation, the verdict

The queue holds result ids only; labels are read from the database each time, so a queue made
again (same run, filter, sample and seed: the same items) resumes where its labels left off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.errors import ValidationError
from workbench.tables import typed_frame

if TYPE_CHECKING:
    import pandas as pd

    from workbench.services.reviews.service import Label, ReviewService

ONLY = ("semantic", "failed", "errored", "flaky")

QUEUE_COLUMNS = {
    "result_id": "Int64",
    "run_id": "string",
    "scenario": "string",
    "position": "Int64",
    "repeat": "Int64",
    "turn": "Int64",
    "expectation": "Int64",
    "type": "string",
    "expected": "string",
    "judge_outcome": "string",
    "judge_score": "Float64",
    "label": "string",
    "comment": "string",
}


@dataclass(frozen=True)
class ReviewItem:
    """One result as a reviewer sees it. `index` counts from 0 within the queue (a list
    index); position, repeat, turn and expectation count from 1, as every frame shows them."""

    index: int
    result_id: int
    run_id: str
    scenario: str
    position: int
    repeat: int
    turn: int
    expectation: int
    type: str
    expected: str | None
    judge_outcome: str
    judge_score: float | None
    judge_reasoning: str | None
    error: str | None
    reply: str | None
    label: str | None
    comment: str | None
    labelled_at: datetime | None
    conversation: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """(role, text) of every message up to and including the reply checked: user, assistant."""


def item_record(row: Sequence[Any]) -> dict[str, Any]:
    """ITEMS' row as a dict of ReviewItem's fields (all but index and conversation)."""
    names = ("result_id", "run_id", "scenario", "position", "repeat", "turn", "expectation",
             "type", "expected", "judge_outcome", "judge_score", "judge_reasoning", "error",
             "reply", "label", "comment", "labelled_at")  # fmt: skip
    return dict(zip(names, row, strict=True))


class ReviewQueue:
    """Results to review, in order (see the module's docstring)."""

    def __init__(
        self, service: ReviewService, result_ids: Sequence[int], *, description: str
    ) -> None:
        self._service = service
        self.result_ids: tuple[int, ...] = tuple(result_ids)
        self.description = description

    def __len__(self) -> int:
        return len(self.result_ids)

    def frame(self) -> pd.DataFrame:
        """The queue's items in order, each with its current label (empty if none yet)."""
        records = self._service.item_records(self.result_ids)
        return typed_frame(records, QUEUE_COLUMNS)

    def item(self, index: int) -> ReviewItem:
        """The item at `index` (0 is the first) with its conversation."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self):
            raise ValidationError(
                f"index must be a whole number from 0 to {len(self) - 1}, got {index!r}"
            )
        return self._service.item(self.result_ids[index], index)

    def label(self, index: int, label: str, *, comment: str | None = None) -> Label:
        """Label the item at `index` (as `wb.reviews.label(result_id, ...)` does)."""
        return self._service.label(self.item_id(index), label, comment=comment)

    def item_id(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self):
            raise ValidationError(
                f"index must be a whole number from 0 to {len(self) - 1}, got {index!r}"
            )
        return self.result_ids[index]

    def labelled(self) -> int:
        """How many of the queue's items carry a label."""
        return sum(1 for r in self._service.item_records(self.result_ids) if r["label"])

    def first_unlabelled(self) -> int:
        """Where to resume: the first item without a label (the last one if all have one)."""
        records = self._service.item_records(self.result_ids)
        for index, record in enumerate(records):
            if record["label"] is None:
                return index
        return max(len(records) - 1, 0)

    def __repr__(self) -> str:
        return f"<ReviewQueue {self.description}: {len(self)} items>"
