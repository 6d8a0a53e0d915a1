"""Deadlines: one timer for a client's requests in flight, with `asyncio.timeout`'s behaviour."""

from __future__ import annotations

import asyncio
import time

import pytest

from workbench.runs.deadlines import COMPACT_ABOVE, Deadlines


async def watched(deadlines: Deadlines, seconds: float) -> float:
    """Sleep `seconds` under a deadline; how long the block ran."""
    started = time.monotonic()
    try:
        async with deadlines.watch():
            await asyncio.sleep(seconds)
    finally:
        ran = time.monotonic() - started
    return ran


def test_a_call_past_its_deadline_raises_timeout_error_at_the_deadline() -> None:
    async def main() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await watched(Deadlines(0.05), 10.0)
        return time.monotonic() - started

    assert 0.05 <= asyncio.run(main()) < 1.0


def test_calls_that_end_in_time_are_left_alone() -> None:
    async def main() -> list[float]:
        deadlines = Deadlines(0.3)
        ran = await asyncio.gather(*(watched(deadlines, 0.01 * (i % 5)) for i in range(200)))
        await asyncio.sleep(0.4)  # past every deadline: nothing is cancelled late
        ran.append(await watched(deadlines, 0.01))
        assert deadlines.queued == 0
        return ran

    assert len(asyncio.run(main())) == 201


def test_each_call_has_its_own_deadline_from_when_it_began() -> None:
    async def main() -> tuple[float, BaseException | float]:
        deadlines = Deadlines(0.2)
        first = asyncio.create_task(watched(deadlines, 0.15))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(watched(deadlines, 1.0))
        started = time.monotonic()
        done = await first  # ends before its deadline, with the second still in flight
        with pytest.raises(TimeoutError):
            await second
        return done, time.monotonic() - started

    done, second_ran = asyncio.run(main())
    assert done == pytest.approx(0.15, abs=0.1)
    assert 0.2 <= second_ran < 1.0  # its own deadline, not the first call's


def test_a_cancel_from_outside_stays_a_cancel() -> None:
    async def main() -> None:
        task = asyncio.create_task(watched(Deadlines(0.2), 10.0))
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_a_cancel_from_outside_after_the_deadline_stays_a_cancel() -> None:
    # asyncio.timeout's rule: when the task was also cancelled by someone else, the cancel goes on.
    async def main() -> None:
        deadlines = Deadlines(0.02)

        async def stubborn() -> None:
            async with deadlines.watch():
                try:
                    await asyncio.sleep(10.0)
                except asyncio.CancelledError:
                    await asyncio.sleep(0.1)  # the deadline's cancel, taken while busy: meanwhile
                    raise

        task = asyncio.create_task(stubborn())
        await asyncio.sleep(0.05)
        task.cancel()  # the outside cancel, while the block still runs
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_a_stuck_call_at_the_front_keeps_the_queue_bounded() -> None:
    async def main() -> None:
        deadlines = Deadlines(5.0)
        stuck = asyncio.create_task(watched(deadlines, 0.5))
        await asyncio.sleep(0)
        for _ in range(2000):
            await watched(deadlines, 0)
            assert deadlines.queued <= COMPACT_ABOVE + 1
        assert await stuck == pytest.approx(0.5, abs=0.3)
        assert deadlines.queued == 0

    asyncio.run(main())


def test_one_client_serves_one_event_loop_after_another() -> None:
    deadlines = Deadlines(0.05)
    for _ in range(2):
        with pytest.raises(TimeoutError):
            asyncio.run(watched(deadlines, 10.0))
        assert asyncio.run(watched(deadlines, 0.0)) < 0.05
