"""HTTP transport for model calls: which client reaches the floor at concurrency 50?

2,000 chat completions at concurrency 50 against the stand-in (fixed 50 ms latency, in its own
process so it shares no core or GIL with the client; ideal 2.0 s), each variant on a fresh event
loop after its imports:

- floor: a bare aiohttp loop POSTing the same JSON (no SDK);
- openai SDK, its default httpx client;
- openai SDK with `DefaultAioHttpClient` (the aiohttp transport);
- workbench's generate path (open_client: retries, limits, cost) for OpenAI and Anthropic, on
  the official SDKs ("sdk", their aiohttp transport) and speaking the APIs directly ("direct");
- the generate path's own work per call, measured on the offline provider (no HTTP at all).

Targets (exit status 1 when missed): the chosen transport (the generate path, "direct", for both
APIs) under 3.0 s and within 1.3x of the floor measured in the same run, and the generate path's
own work per call under 100 µs. The SDK variants are printed for the record.

    .venv/bin/python bench/bench_http.py [--requests 2000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from workbench.runs import Message, Target, anthropic, offline, open_client, openai_compatible
from workbench.testing.standin import StandIn

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]}
MESSAGES = [Message("system", "be brief"), Message("user", "hello there")]


async def gather_bounded(n: int, concurrency: int, call: Callable[[], Awaitable[Any]]) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await call()

    await asyncio.gather(*(one() for _ in range(n)))


async def floor(url: str, n: int, concurrency: int) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call() -> None:
            async with session.post(url + "/chat/completions", json=BODY) as answer:
                await answer.json()

        await gather_bounded(n, concurrency, call)


async def sdk(url: str, n: int, concurrency: int, *, aiohttp: bool) -> None:
    import openai

    http_client = openai.DefaultAioHttpClient() if aiohttp else None
    client = openai.AsyncOpenAI(
        api_key="sk-bench", base_url=url, max_retries=0, http_client=http_client
    )

    async def call() -> None:
        await client.chat.completions.create(model="gpt-4o-mini", messages=BODY["messages"])  # type: ignore[arg-type]

    try:
        await gather_bounded(n, concurrency, call)
    finally:
        await client.close()


async def generate(target: Target, n: int, concurrency: int, transport: str) -> None:
    client = open_client(target, api_key="sk-bench", transport=transport)

    async def call() -> None:
        await client.complete(MESSAGES)

    try:
        await gather_bounded(n, concurrency, call)
    finally:
        await client.aclose()


async def own_work(n: int) -> float:
    """Seconds per call of the generate path around the offline provider (no HTTP)."""
    client = open_client(offline(), api_key=None)
    await client.complete(MESSAGES)
    started = time.perf_counter()
    for _ in range(n):
        await client.complete(MESSAGES)
    return (time.perf_counter() - started) / n


def timed(make: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    asyncio.run(make())  # type: ignore[arg-type]
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    n, c = args.requests, args.concurrency
    import aiohttp  # noqa: F401  (imports happen before any clock starts)
    import anthropic as _anthropic  # noqa: F401
    import openai  # noqa: F401

    with StandIn.spawn(latency_s=0.05, max_lifetime_s=600) as server:
        url = server.openai_base_url
        openai_target = openai_compatible(base_url=url, model="gpt-4o-mini", concurrency=c)
        anthropic_target = anthropic("claude-3-5-haiku", base_url=server.base_url, concurrency=c)
        timed(lambda: floor(url, 100, c))  # warm the server's and the client's code paths
        figures = {
            "floor (bare aiohttp)": timed(lambda: floor(url, n, c)),
            "openai SDK, default httpx client": timed(lambda: sdk(url, n, c, aiohttp=False)),
            "openai SDK, DefaultAioHttpClient": timed(lambda: sdk(url, n, c, aiohttp=True)),
            "generate path, openai (sdk, aiohttp)": timed(
                lambda: generate(openai_target, n, c, "sdk")
            ),
            "generate path, anthropic (sdk, aiohttp)": timed(
                lambda: generate(anthropic_target, n, c, "sdk")
            ),
            "generate path, openai (direct)": timed(
                lambda: generate(openai_target, n, c, "direct")
            ),
            "generate path, anthropic (direct)": timed(
                lambda: generate(anthropic_target, n, c, "direct")
            ),
            "floor again": timed(lambda: floor(url, n, c)),
        }
        received = sum(server.stats()["counts"].values())
    per_call = asyncio.run(own_work(20_000))
    floor_s = min(figures["floor (bare aiohttp)"], figures["floor again"])
    ideal = n / c * 0.05
    print(f"{n} requests at concurrency {c}, stand-in latency 50 ms (ideal {ideal:.2f} s)")
    for name, seconds in figures.items():
        print(f"  {name:38s} {seconds:6.2f} s   {seconds / floor_s:5.2f}x floor")
    print(f"  generate path's own work per call (offline provider): {per_call * 1e6:.1f} µs")
    print(f"  requests the stand-in received: {received}")
    chosen = max(
        figures["generate path, openai (direct)"], figures["generate path, anthropic (direct)"]
    )
    failures = []
    if chosen >= 3.0:
        failures.append(f"generate path (direct) {chosen:.2f} s >= 3.0 s")
    if chosen > 1.3 * floor_s:
        failures.append(f"generate path (direct) {chosen / floor_s:.2f}x the floor > 1.3x")
    if per_call >= 100e-6:
        failures.append(f"own work {per_call * 1e6:.0f} µs per call >= 100 µs")
    for failure in failures:
        print("MISSED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
