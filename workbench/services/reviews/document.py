"""Labels in a workspace document (optional `labels:`, present when you have labelled):

    labels:
      - {run: 5f0c..., position: 1, repeat: 2, turn: 2, expectation: 1, label: fail,
         comment: misses the point}

A label names its result the way every frame shows it: the run's id, the scenario's position,
the repeat, the turn and the expectation, all counted from 1. Importing puts each label on the
matching result of yours; one whose result is not yours (another database, another user's
run, a run deleted since) is skipped and reported, never attached to someone else's result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import psycopg

from workbench.db.review_models import COMMENT_LIMIT, LABELS
from workbench.errors import quoted
from workbench.runs.analysis.numbering import stored
from workbench.services.reviews import sql
from workbench.services.reviews.store import write_label

LABEL_KEYS: Final = ("run", "position", "repeat", "turn", "expectation", "label", "comment")
NUMBERS: Final = ("position", "repeat", "turn", "expectation")


@dataclass(frozen=True)
class LabelEntry:
    run: str
    position: int
    repeat: int
    turn: int
    expectation: int
    label: str
    comment: str | None

    def where(self) -> str:
        return (
            f"run {self.run}, position {self.position}, repeat {self.repeat}, turn {self.turn}, "
            f"expectation {self.expectation}"
        )


def export_labels(connection: psycopg.Connection[Any], user_id: str) -> list[dict[str, Any]]:
    """Every label of the user's, in run and play order."""
    rows = connection.execute(sql.EXPORT, {"u": user_id}).fetchall()
    return [
        {
            "run": run,
            "position": position,
            "repeat": repeat,
            "turn": turn,
            "expectation": expectation,
            "label": label,
            "comment": comment,
        }
        for run, position, repeat, turn, expectation, label, comment, _ in rows
    ]


def read_labels(value: Any, problems: list[str]) -> list[LabelEntry]:
    """The document's `labels:` checked; each problem appended with its path."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        problems.append(f"labels: must be a list, not {type(value).__name__}")
        return []
    entries = []
    for index, entry in enumerate(value):
        found = _read(entry, f"labels[{index}]", problems)
        if found is not None:
            entries.append(found)
    return entries


def import_labels(
    connection: psycopg.Connection[Any], user_id: str, entries: Sequence[LabelEntry]
) -> tuple[int, tuple[str, ...]]:
    """(labels written, where each skipped one pointed) in the caller's transaction."""
    written, skipped = 0, []
    for entry in entries:
        params = {"u": user_id, "r": entry.run, "p": stored(entry.position, "position"),
                  "k": stored(entry.repeat, "repeat"), "t": stored(entry.turn, "turn"),
                  "x": stored(entry.expectation, "expectation")}  # fmt: skip
        found = connection.execute(sql.FIND, params).fetchone()
        if found is None:
            skipped.append(entry.where())
            continue
        write_label(connection, user_id, found[0], entry.run, entry.label, entry.comment or "")
        written += 1
    return written, tuple(skipped)


def _read(entry: Any, path: str, problems: list[str]) -> LabelEntry | None:
    if not isinstance(entry, Mapping):
        problems.append(f"{path}: must be a mapping with 'run' and 'label', not a list or text")
        return None
    before = len(problems)
    unknown = [key for key in entry if key not in LABEL_KEYS]
    if unknown:
        problems.append(f"{path}: unknown keys {', '.join(quoted(k) for k in unknown[:5])}")
    run = entry.get("run")
    if not isinstance(run, str) or not run or len(run) > 200:
        problems.append(f"{path}.run: must be a run id, got {quoted(run)}")
    for name in NUMBERS:
        number = entry.get(name)
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            problems.append(f"{path}.{name}: must be a whole number from 1, got {quoted(number)}")
    label = entry.get("label")
    if label not in LABELS:
        problems.append(f"{path}.label: must be 'pass', 'fail' or 'unsure', got {quoted(label)}")
    comment = entry.get("comment")
    if comment is not None and (
        not isinstance(comment, str) or len(comment) > COMMENT_LIMIT or "\x00" in comment
    ):
        problems.append(
            f"{path}.comment: must be text of at most {COMMENT_LIMIT:,} characters, without NUL"
        )
    if len(problems) > before:
        return None
    position, repeat, turn, expectation = (int(entry[name]) for name in NUMBERS)
    return LabelEntry(str(run), position, repeat, turn, expectation, str(label), comment)
