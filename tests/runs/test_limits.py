"""The process-wide limits: a concurrency ceiling the stand-in can see, shared between clients,
AIMD adapting down on 429 and back up, and a requests-per-minute bucket."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator

import pytest

from workbench.runs import Message, openai_compatible
from workbench.runs.generate import RetryPolicy, open_client
from workbench.runs.limits import AdaptiveLimit, Bucket
from workbench.testing.standin import Fault, StandIn

FAST = RetryPolicy(backoff_s=0.01, max_backoff_s=0.02)


@pytest.fixture(scope="module")
def server() -> Iterator[StandIn]:
    with StandIn(latency_s=0.02, max_lifetime_s=120) as s:
        yield s


def test_concurrency_bounds_in_flight_requests_at_the_server(server: StandIn) -> None:
    server.reset()
    target = openai_compatible(base_url=server.openai_base_url, model="m", concurrency=4)

    async def play() -> None:
        # Two clients (two runs) on the same key and model share the one limit.
        first = open_client(target, api_key="sk-a", retry=FAST)
        second = open_client(target, api_key="sk-a", retry=FAST)
        calls = [c.complete([Message("user", str(i))]) for i in range(20) for c in (first, second)]
        await asyncio.gather(*calls)
        assert first.limits is second.limits and first.limits.concurrency.peak == 4
        await first.aclose()
        await second.aclose()

    asyncio.run(play())
    assert server.requests == 40 and server.peak_in_flight == 4


def test_other_keys_have_their_own_limit(server: StandIn) -> None:
    target = openai_compatible(base_url=server.openai_base_url, model="m", concurrency=2)

    async def play() -> bool:
        a = open_client(target, api_key="sk-a", retry=FAST)
        b = open_client(target, api_key="sk-b", retry=FAST)
        await asyncio.gather(a.complete([Message("user", "x")]), b.complete([Message("user", "y")]))
        same = a.limits is b.limits
        await a.aclose()
        await b.aclose()
        return same

    assert asyncio.run(play()) is False


def test_rate_limit_halves_the_limit_once_per_wave_then_grows(server: StandIn) -> None:
    server.reset()
    target = openai_compatible(base_url=server.openai_base_url, model="aimd", concurrency=8)

    async def play() -> tuple[float, float, int, float]:
        client = open_client(target, api_key="sk-aimd", retry=FAST)
        limit = client.limits.concurrency
        server.inject(*[Fault("429", retry_after=0.05)] * 8)  # the whole first wave is refused
        await asyncio.gather(*(client.complete([Message("user", str(i))]) for i in range(8)))
        after_wave = limit.limit
        await asyncio.gather(*(client.complete([Message("user", str(i))]) for i in range(60)))
        await client.aclose()
        return after_wave, limit.limit, limit.cuts, limit.lowest

    after_wave, later, cuts, lowest = asyncio.run(play())
    assert cuts == 1 and lowest == 4  # eight 429s of one wave: one halving, 8 -> 4
    assert after_wave == 5  # the 4 retries that then succeeded added one
    assert later == 8  # additive increase back to the ceiling
    assert server.faults_served["429"] == 8


def test_unbounded_limit_drops_to_half_of_in_flight() -> None:
    async def play() -> AdaptiveLimit:
        limit = AdaptiveLimit(None)
        epochs = [await limit.acquire() for _ in range(10)]
        limit.rate_limited(epochs[0])
        limit.rate_limited(epochs[1])  # same wave: ignored
        for _ in range(10):
            limit.release()
        return limit

    limit = asyncio.run(play())
    assert limit.limit == 5 and limit.cuts == 1 and limit.in_flight == 0
    assert AdaptiveLimit(None).limit == math.inf


def test_cancelled_waiter_gives_its_slot_back() -> None:
    async def play() -> int:
        limit = AdaptiveLimit(1)
        await limit.acquire()
        waiter = asyncio.create_task(limit.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        limit.release()
        await asyncio.wait_for(limit.acquire(), 1)  # the slot is free, not leaked
        return limit.in_flight

    assert asyncio.run(play()) == 1


def test_requests_per_minute_bucket_spaces_requests(server: StandIn) -> None:
    # 600 rpm = one every 0.1 s once the initial burst of 600 is spent; start the bucket empty.
    async def play() -> float:
        bucket = Bucket(600)
        bucket.level = 0.0
        started = time.perf_counter()
        for _ in range(3):
            await bucket.take(1)
        return time.perf_counter() - started

    assert 0.25 <= asyncio.run(play()) < 1.0


def test_rpm_limit_applies_through_the_client(server: StandIn) -> None:
    target = openai_compatible(base_url=server.openai_base_url, model="rpm", rpm=600)

    async def play() -> float:
        client = open_client(target, api_key="sk-rpm", retry=FAST)
        bucket = client.limits.rpm
        assert bucket is not None
        bucket.level = 0.0
        started = time.perf_counter()
        await asyncio.gather(*(client.complete([Message("user", "r")]) for _ in range(3)))
        await client.aclose()
        return time.perf_counter() - started

    assert asyncio.run(play()) >= 0.25
