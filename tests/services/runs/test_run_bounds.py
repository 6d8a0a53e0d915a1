"""Issue 18 item 3: absurd run options are refused with a `ValidationError` before anything is
written or sent: concurrency and repeats out of their documented bounds (or not whole numbers),
a cache TTL that is not a finite number of days, variables PostgreSQL cannot store."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import workbench
from tests.runs.conftest import Setup
from workbench.errors import ValidationError, WorkbenchError
from workbench.services.limits import MAX_CONCURRENCY, MAX_REPEATS
from workbench.testing.standin import StandIn


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn(max_lifetime_s=120) as server:
        yield server


def written(setup: Setup) -> int:
    with setup.wb.database.transaction() as session:
        return int(
            session.scalar(
                text(
                    "SELECT (SELECT count(*) FROM workbench.run)"
                    " + (SELECT count(*) FROM workbench.run_attempt)"
                )
            )
            or 0
        )


BAD_STARTS: list[tuple[dict[str, Any], str]] = [
    ({"concurrency": 10**6}, "concurrency must be a whole number from 1 to 10,000"),
    ({"concurrency": 2**31}, "concurrency must be"),
    ({"concurrency": MAX_CONCURRENCY + 1}, "concurrency must be"),
    ({"concurrency": 0}, "concurrency must be"),
    ({"concurrency": -3}, "concurrency must be"),
    ({"concurrency": 4.0}, "not float"),
    ({"concurrency": True}, "not bool"),
    ({"concurrency": "8"}, "not str"),
    ({"repeats": 2**31}, "repeats must be a whole number from 1 to 10,000"),
    ({"repeats": MAX_REPEATS + 1}, "repeats must be"),
    ({"repeats": 10**400}, "a 401-digit number"),
    ({"cache": True, "cache_ttl": math.nan}, "cache_ttl must be"),
    ({"cache": True, "cache_ttl": 1e300}, "cache_ttl must be"),
    ({"cache": True, "cache_ttl": math.inf}, "cache_ttl must be"),
    ({"cache": True, "cache_ttl": -math.inf}, "cache_ttl must be"),
    ({"cache": True, "cache_ttl": 10**400}, "cache_ttl must be"),
    ({"variables": {"tone": "bad\ud800surrogate"}}, "lone surrogate"),
    ({"variables": {"tone": "nul\x00"}}, "NUL"),
]


@pytest.mark.parametrize(("change", "match"), BAD_STARTS)
def test_absurd_run_options_are_refused_before_anything(
    setup: Setup, standin: StandIn, change: dict[str, Any], match: str
) -> None:
    target = workbench.openai_compatible(base_url=standin.openai_base_url, model="m")
    options = {"suite": setup.suite_id, "prompt": setup.prompt_id, "progress": False}
    with pytest.raises(ValidationError, match=match):
        setup.wb.runs.start(**options, target=target, **change)
    assert written(setup) == 0 and standin.requests == 0


def test_too_many_attempts_in_one_run_are_refused(setup: Setup) -> None:
    # Two scenarios times 10,000 repeats is fine; the limit is on the product.
    from workbench.services.runs.setup import check_size

    check_size(100, MAX_REPEATS)
    with pytest.raises(ValidationError, match="split the suite"):
        check_size(101, MAX_REPEATS)


def test_resume_bounds_concurrency_too(setup: Setup) -> None:
    with pytest.raises(ValidationError, match="concurrency must be"):
        setup.wb.runs.resume("any", concurrency=10**6)


def test_a_run_plays_with_no_more_workers_than_attempts(setup: Setup) -> None:
    # Issue 18: concurrency=10**6 made a coroutine per unit even for one attempt (2.3 GB).
    seen: list[int] = []

    def reply(message: str) -> str:
        seen.append(len(asyncio.all_tasks()))  # called on the run's loop, mid-run
        return f"echo: {message}"

    options = {"suite": setup.suite_id, "prompt": setup.prompt_id, "progress": False}
    run = setup.wb.runs.start(
        **options, target=workbench.offline(reply), concurrency=MAX_CONCURRENCY
    )
    run.wait(60)
    assert len(run.frame()) == 4 and seen
    assert max(seen) < 20, max(seen)  # two attempts: two workers and the run's own tasks


HOSTILE: list[object] = [
    12, None, 1.5, math.nan, True, b"x", "bad\ud800", "nul\x00", 2**63, -(2**63) - 1, 10**400,
    [1], {"a": 1}, "x" * 100_000, 0, -1,
]  # fmt: skip


def start(setup: Setup, **options: Any) -> Any:
    base = {"suite": setup.suite_id, "prompt": setup.prompt_id, "progress": False}
    return setup.wb.runs.start(**base, target=workbench.offline(), **options)


def test_no_hostile_argument_to_a_run_escapes_as_a_raw_error(setup: Setup, tmp_path: Path) -> None:
    """A run's own calls and the target builders given each hostile value: a WorkbenchError
    or an answer, never `TypeError`, `OverflowError`, `UnicodeEncodeError` or `OSError`."""
    run = start(setup).wait(60)
    stored = setup.wb.runs.get(run.id)
    with pytest.raises(ValidationError, match="Cannot write the export"):
        setup.wb.runs.export(run.id, path=tmp_path / "no such folder" / "x.json")
    calls = {
        "transcript.position": lambda v: run.transcript(position=v),
        "transcript.repeat": lambda v: run.transcript(position=1, repeat=v),
        "stored.transcript": lambda v: stored.transcript(position=v),
        "compare": lambda v: run.compare(v),
        "wb.compare": lambda v: setup.wb.runs.compare(run.id, v),
        "export.format": lambda v: setup.wb.runs.export(run.id, format=v),
        "export.path": lambda v: setup.wb.runs.export(run.id, path=v),
        "wait": lambda v: run.wait(v),
        "results_frame": lambda v: setup.wb.runs.results_frame(v),
        "attach.progress": lambda v: setup.wb.runs.attach(run.id, progress=v),
        "start.repeats": lambda v: setup.wb.runs.start(
            suite=setup.suite_id,
            prompt=setup.prompt_id,
            target=workbench.offline(),
            progress=False,
            repeats=v,
        ),
        "start.stop": lambda v: setup.wb.runs.start(
            suite=setup.suite_id,
            prompt=setup.prompt_id,
            target=workbench.offline(),
            progress=False,
            stop_on_failure=v,
            concurrency=0,
        ),
        "start.cache": lambda v: setup.wb.runs.start(
            suite=setup.suite_id,
            prompt=setup.prompt_id,
            target=workbench.offline(),
            progress=False,
            cache=v,
            concurrency=0,
        ),
        "start.variables": lambda v: setup.wb.runs.start(
            suite=setup.suite_id,
            prompt=setup.prompt_id,
            target=workbench.offline(),
            progress=False,
            variables=v,
            concurrency=0,
        ),
        "start.variables2": lambda v: setup.wb.runs.start(
            suite=setup.suite_id,
            prompt=setup.prompt_id,
            target=workbench.offline(),
            progress=False,
            variables={"tone": v},
            concurrency=0,
        ),
        "offline.judge_score": lambda v: workbench.offline(judge_score=v),
        "openai.timeout": lambda v: workbench.openai("m", timeout_s=v),
        "openai.model": lambda v: workbench.openai(v),
        "openai.base_url": lambda v: workbench.openai("m", base_url=v),
        "openai.temperature": lambda v: workbench.openai("m", temperature=v),
        "openai.stop": lambda v: workbench.openai("m", stop=v),
        "openai.concurrency": lambda v: workbench.openai("m", concurrency=v),
    }
    raw = []
    for name, call in calls.items():
        for value in HOSTILE:
            try:
                call(value)
            except WorkbenchError:
                pass
            except Exception as error:
                raw.append(f"{name}({str(value)[:20]!r}): {type(error).__name__}: {error}"[:200])
    # The test's connection is shared with the runs' threads: let any run thread end first.
    for thread in threading.enumerate():
        if thread.name.startswith("workbench-run"):
            thread.join(30)
    assert not raw, "\n".join(raw[:20])
