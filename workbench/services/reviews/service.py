"""`wb.reviews`: people label run results; the judge is measured against them.

    q = wb.reviews.queue(run, only="semantic", sample=100, seed=1)
    wb.reviews.label(result_id, "fail", comment="misses the point")
    wb.reviews.agreement(run)          # kappa, precision/recall/F1 of "pass" per judge set-up
    wb.reviews.threshold_curve(run)    # the same as the SEMANTIC_ASSERT threshold moves

A label never touches the judge's verdict (it is a row of its own) and every label given is
kept in the history. Another user's result or run is `NotFound`, exactly as a missing one.
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workbench.db.review_models import COMMENT_LIMIT, LABELS
from workbench.errors import NotFound, ValidationError, quoted
from workbench.runs.analysis.attempts import transcript
from workbench.services._base import UserScopedService, session_driver
from workbench.services.reviews import sql
from workbench.services.reviews.agreement import agreement_frame, curve_frame
from workbench.services.reviews.queue import ONLY, ReviewItem, ReviewQueue, item_record
from workbench.services.reviews.store import write_label
from workbench.services.runs.study import RunRef, run_id_of

if TYPE_CHECKING:
    import pandas as pd
    import psycopg

MAX_QUEUE = 1_000_000
"""Result ids a queue may hold (a bound on hostile input)."""
BIGGEST = 2**63 - 1
"""The largest id, sample or seed taken (PostgreSQL's bigint)."""


@dataclass(frozen=True)
class Label:
    """A person's current label on one result."""

    result_id: int
    label: str
    comment: str | None
    created_at: datetime
    updated_at: datetime


class ReviewService(UserScopedService):
    """Your labels on your runs' results (reached as `wb.reviews`)."""

    def queue(
        self,
        source: RunRef | pd.DataFrame | Sequence[int],
        *,
        only: str | None = None,
        sample: int | None = None,
        seed: int | None = None,
    ) -> ReviewQueue:
        """Results to review: a run's (all, or `only` "semantic", "failed", "errored" or
        "flaky" ones), or given result ids (a DataFrame with a `result_id` column, or a list);
        `sample` picks that many at random (`seed` makes the pick repeatable), kept in play
        order.

        >>> q = wb.reviews.queue(run, only="semantic", sample=100, seed=1)   # doctest: +SKIP
        """
        if only is not None and only not in ONLY:
            listed = ", ".join(repr(o) for o in ONLY)
            raise ValidationError(f"only must be one of {listed} or None, got {quoted(only)}")
        _check_whole("sample", sample, allow_none=True)
        _check_whole("seed", seed, allow_none=True, least=0)
        if _is_run(source):
            run_id = run_id_of(source)
            ids = self._candidates(run_id, only)
            what = f"run {run_id}" + (f", {only}" if only else "")
        else:
            if only is not None:
                raise ValidationError(
                    "only filters a run's results; with result ids given, filter the frame "
                    "first (for example q.frame().query(\"type == 'SEMANTIC_ASSERT'\"))."
                )
            ids = self._owned(_result_ids(source))
            what = "given results"
        if sample is not None:
            ids = _sampled(ids, sample, seed, what)
        return ReviewQueue(self, ids, description=what)

    def label(self, result_id: int, label: str, *, comment: str | None = None) -> Label:
        """Label one of your results "pass", "fail" or "unsure". A new label replaces your
        previous one (both stay in `history`); the judge's verdict is never changed.
        `comment` left out keeps the comment there was; "" removes it.

        >>> wb.reviews.label(result_id, "fail", comment="misses the point")  # doctest: +SKIP
        """
        _check_whole("result_id", result_id)
        if label not in LABELS:
            raise ValidationError(f"label must be 'pass', 'fail' or 'unsure', got {quoted(label)}")
        if comment is not None and not isinstance(comment, str):
            raise ValidationError(f"comment must be text, got {type(comment).__name__}")
        if comment is not None and "\x00" in comment:  # refused here: psycopg would raise
            raise ValidationError(
                "comment contains a character PostgreSQL cannot store (a NUL character, \\x00); "
                "remove it and try again."
            )
        if comment is not None and len(comment) > COMMENT_LIMIT:
            raise ValidationError(
                f"comment is {len(comment):,} characters; at most {COMMENT_LIMIT:,} are kept. "
                "Shorten it."
            )
        with self._transaction() as session:
            return self._write(session_driver(session), result_id, label, comment)

    def history(self, result_id: int) -> pd.DataFrame:
        """Every label you gave one result, oldest first, with who gave it and when."""
        import pandas as pd

        _check_whole("result_id", result_id)
        with self._single_statement_driver() as connection:
            self._check_owned(connection, [result_id])
            rows = connection.execute(sql.HISTORY, {"u": self._user_id, "id": result_id})
            names = ["result_id", "label", "comment", "changed_by", "changed_at"]
            return pd.DataFrame(rows.fetchall(), columns=names)

    def agreement(
        self,
        run: RunRef,
        *,
        by: Sequence[str] | str = ("type", "judge_prompt_version", "threshold"),
    ) -> pd.DataFrame:
        """Judge against people over your labels on a run, per expectation type, judge prompt
        version and threshold (or what `by` names of those three: `by="type"` pools the
        thresholds): n (pass/fail pairs), observed agreement, Cohen's kappa with its 95%
        interval, precision/recall/F1 of "pass" (people as the truth), the confusion matrix's
        four counts; "unsure" labels and judge ERRORs are counted, never paired."""
        grouped = (by,) if isinstance(by, str) else tuple(by)
        unknown = [name for name in grouped if name not in sql.GROUPS]
        if unknown or not isinstance(by, str | list | tuple):
            listed = ", ".join(repr(name) for name in sql.GROUPS)
            raise ValidationError(f"by must name some of {listed}, got {quoted(by)}")
        columns = {name: sql.GROUPS[name][name not in grouped] for name in sql.GROUPS}
        run_id = run_id_of(run)
        with self._single_statement_driver() as connection:
            self._check_run(connection, run_id)
            statement = sql.AGREEMENT.format(**columns)
            rows = connection.execute(statement, {"u": self._user_id, "r": run_id})
            return agreement_frame(rows.fetchall())

    def threshold_curve(self, run: RunRef, *, step: float = 0.05) -> pd.DataFrame:
        """Agreement on a run's SEMANTIC_ASSERT results if the threshold were each of 0, `step`,
        ... 1 (from the judge's stored scores); `best` marks the threshold with the highest
        kappa, also in `.attrs["best_threshold"]`."""
        if isinstance(step, bool) or not isinstance(step, int | float) or not 0.001 <= step <= 1:
            raise ValidationError(f"step must be a number from 0.001 to 1, got {quoted(step)}")
        run_id = run_id_of(run)
        count = round(1 / step)
        cuts = sorted({round(min(i * step, 1.0), 6) for i in range(count + 1)} | {1.0})
        with self._single_statement_driver() as connection:
            self._check_run(connection, run_id)
            params = {"u": self._user_id, "r": run_id, "cuts": cuts}
            return curve_frame(connection.execute(sql.THRESHOLD_CURVE, params).fetchall())

    # What queues and the widget read.

    def item_records(self, result_ids: Sequence[int]) -> list[dict[str, Any]]:
        """ITEMS' rows for `result_ids`, in their order (ids no longer there left out)."""
        with self._single_statement_driver() as connection:
            rows = connection.execute(sql.ITEMS, {"u": self._user_id, "ids": list(result_ids)})
            found = {row[0]: item_record(row) for row in rows.fetchall()}
        return [found[i] for i in result_ids if i in found]

    def item(self, result_id: int, index: int = 0) -> ReviewItem:
        """One result with the conversation up to its reply."""
        with self._single_statement_driver() as connection:
            row = connection.execute(sql.ITEMS, {"u": self._user_id, "ids": [result_id]})
            found = row.fetchone()
            if found is None:
                raise NotFound(f"No result {result_id}; it may have gone with its run.")
            record = item_record(found)
            shown = transcript(
                connection, self._user_id, record["run_id"], record["position"], record["repeat"]
            )
        return ReviewItem(index=index, conversation=_conversation(shown, record), **record)

    # Internals.

    def _write(
        self, connection: psycopg.Connection[Any], result_id: int, label: str, comment: str | None
    ) -> Label:
        found = connection.execute(sql.OWNED, {"u": self._user_id, "ids": [result_id]}).fetchone()
        if found is None:
            raise NotFound(f"No result {result_id} of yours; q.frame() lists result ids.")
        stored = write_label(connection, self._user_id, result_id, found[1], label, comment)
        return Label(result_id, stored[0], stored[1], _utc(stored[2]), _utc(stored[3]))

    def _candidates(self, run_id: str, only: str | None) -> list[int]:
        with self._single_statement_driver() as connection:
            self._check_run(connection, run_id)
            rows = connection.execute(sql.CANDIDATES, {"u": self._user_id, "r": run_id})
            ids = [rid for rid, kind, status, flaky in rows.fetchall()
                   if _kept(only, kind, status, flaky)]  # fmt: skip
        if not ids:
            kind = f"{only} results" if only else "results"
            raise ValidationError(
                f"Run {run_id!r} has no {kind} to review; try another filter (only=None "
                "reviews every result)."
            )
        return ids

    def _owned(self, ids: list[int]) -> list[int]:
        with self._single_statement_driver() as connection:
            self._check_owned(connection, ids)
        return ids

    def _check_owned(self, connection: psycopg.Connection[Any], ids: Sequence[int]) -> None:
        rows = connection.execute(sql.OWNED, {"u": self._user_id, "ids": list(ids)}).fetchall()
        missing = set(ids) - {row[0] for row in rows}
        if missing:
            sample = ", ".join(str(i) for i in sorted(missing)[:5])
            raise NotFound(
                f"{len(missing)} of the result ids given are not results of yours ({sample}"
                f"{', ...' if len(missing) > 5 else ''}); run.frame() lists yours."
            )

    def _check_run(self, connection: psycopg.Connection[Any], run_id: str) -> None:
        row = connection.execute(
            "SELECT 1 FROM workbench.run WHERE user_id = %s AND id = %s", (self._user_id, run_id)
        ).fetchone()
        if row is None:
            raise NotFound(f"No run {run_id!r}; see wb.runs.list().")


def _kept(only: str | None, kind: str, status: str, flaky: bool) -> bool:
    if only == "semantic":
        return kind == "SEMANTIC_ASSERT"
    if only == "failed":
        return status == "FAILED"
    if only == "errored":
        return status == "ERROR"
    if only == "flaky":
        return bool(flaky)
    return True


def _is_run(source: object) -> bool:
    return isinstance(source, str) or isinstance(getattr(source, "id", None), str)


def _result_ids(source: object) -> list[int]:
    """The ids of a DataFrame's `result_id` column or of a list, deduplicated, in order."""
    column = getattr(source, "columns", None)
    if column is not None:
        if "result_id" not in column:
            raise ValidationError(
                "The DataFrame has no result_id column; q.frame() and run.frame() have one."
            )
        values = list(source["result_id"])  # type: ignore[index]
    elif isinstance(source, list | tuple):
        values = list(source)
    else:
        raise ValidationError(
            "queue() takes a run (or run id), a DataFrame with a result_id column or a list of "
            f"result ids, got {type(source).__name__}"
        )
    if len(values) > MAX_QUEUE:
        raise ValidationError(f"At most {MAX_QUEUE:,} results per queue, got {len(values):,}.")
    ids: list[int] = []
    for value in values:
        _check_whole("result_id", value)
        ids.append(int(value))
    if not ids:
        raise ValidationError("No result ids given: the queue would be empty.")
    return list(dict.fromkeys(ids))


def _sampled(ids: list[int], sample: int, seed: int | None, what: str) -> list[int]:
    if sample > len(ids):
        raise ValidationError(
            f"sample={sample} asks for more items than the {len(ids)} of {what}; ask for at "
            f"most {len(ids)}, or leave sample out."
        )
    picked = set(random.Random(seed).sample(ids, sample))
    return [i for i in ids if i in picked]  # play order, as the frames show results


def _check_whole(name: str, value: object, *, allow_none: bool = False, least: int = 1) -> None:
    if value is None and allow_none:
        return
    whole = not isinstance(value, bool) and isinstance(value, numbers.Integral)
    if not whole or not least <= value <= BIGGEST:  # type: ignore[operator]
        raise ValidationError(
            f"{name} must be a whole number from {least} to {BIGGEST}, got {quoted(value)}"
        )


def _conversation(shown: dict[str, Any], record: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    messages: list[tuple[str, str]] = []
    for turn in shown["turns"][: record["turn"]]:
        if turn["type"] == "USER":
            messages.append(("user", turn.get("text") or ""))
        elif turn["type"] == "EXPECT":
            messages.append(("assistant", turn.get("reply") or f"(no reply: {turn.get('error')})"))
    return tuple(messages)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
