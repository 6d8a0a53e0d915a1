"""The result writer: a batch that cannot be written is split until the one bad attempt is
found; that one is stored as an error saying why, every other result is stored (issue 18)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from sqlalchemy import text

from tests.runs.conftest import Setup
from tests.runs.test_ledger import count, db_thread, ids, ledger_run, result  # noqa: F401
from workbench.runs.engine import AttemptResult, ExpectationRow, TurnRow
from workbench.runs.ledger import Finished, _storable_json, claim
from workbench.runs.providers import Completion
from workbench.runs.writer import ResultWriter


def unstorable() -> AttemptResult:
    """A result no column can hold: a token count beyond `integer` (what generate.py clamps;
    here it reaches the writer as is, standing for whatever else a batch may refuse)."""
    done = Completion("fine", "m", 0.01, 10**12, 2, None)
    turn = TurnRow(1, 2, done, None)
    check = ExpectationRow(1, 0, "MUST_CONTAIN", "PASSED", {"found": True})
    return AttemptResult("passed", None, 0.02, (turn,), (check,))


def test_one_unstorable_result_is_isolated_and_every_other_is_stored(
    ledger_run: tuple[Setup, str],  # noqa: F811
) -> None:
    setup, _ = ledger_run
    db = db_thread(setup)
    claimed = db.run_sync(claim, owner="w", limit=6, **ids(setup))
    heard: list[str] = []

    async def write() -> int:
        writer = ResultWriter(db, owner="w", on_stored=heard.append, **ids(setup))
        for position, item in enumerate(claimed):
            bad = position == 4
            writer.add(Finished(item.attempt_id, unstorable() if bad else result("ok")))
        await writer.close()
        return writer.written

    assert asyncio.run(write()) == 6
    assert sorted(heard) == ["error"] + ["passed"] * 5  # heard once stored, as stored
    with setup.wb.database.transaction() as session:
        statuses = dict(session.execute(text("SELECT id, status FROM workbench.run_attempt")).all())
        error = session.scalar(
            text("SELECT error FROM workbench.run_attempt WHERE id = :i"),
            {"i": claimed[4].attempt_id},
        )
    assert sorted(statuses.values()) == ["error"] + ["passed"] * 5
    assert error is not None and "could not be stored" in error and "out of range" in error
    assert count(setup, "turn_result") == 5 and count(setup, "expectation_result") == 5


def test_text_and_numbers_a_provider_sent_are_made_storable_in_the_batch() -> None:
    rows = [
        {"d": {"quote": "a\ud800b\x00c", "n": math.nan, "big": 10**5000, "t": (1, 2)}},
        {"d": {"\udfffkey": math.inf}},
    ]
    dumped = _storable_json(rows)
    assert "\ud800" not in dumped and "\\u0000" not in dumped
    assert '"quote": "a\ufffdb\ufffdc"' in dumped and '"n": "nan"' in dumped
    assert '"t": [1, 2]' in dumped and '"\ufffdkey": "inf"' in dumped


def test_long_replies_are_written_in_bounded_batches(
    ledger_run: tuple[Setup, str],  # noqa: F811
) -> None:
    setup, _ = ledger_run
    db = db_thread(setup)
    claimed = db.run_sync(claim, owner="w", limit=6, **ids(setup))
    batches: list[int] = []
    write = db.call

    async def counted(function: Any, /, **kwargs: Any) -> Any:
        if "finished" in kwargs:
            batches.append(len(kwargs["finished"]))
        return await write(function, **kwargs)

    db.call = counted  # type: ignore[method-assign]

    async def play() -> None:
        writer = ResultWriter(db, owner="w", max_characters=2_500, **ids(setup))
        for item in claimed:
            writer.add(Finished(item.attempt_id, result("x" * 1_000)))
        await writer.close()

    asyncio.run(play())
    assert batches == [3, 3]  # 3,000 characters reach the limit: a batch ends there
    assert count(setup, "turn_result") == 6
