"""HTTP transport for model calls: how close to the floor is each client at concurrency 50?

2,000 chat completions at concurrency 50 against the stand-in (fixed 50 ms latency, in its own
process so it shares no core or GIL with the client; ideal 2.0 s), each variant on a fresh event
loop after its imports:

- floor: a bare aiohttp loop POSTing the same JSON (no SDK);
- openai SDK, typed `chat.completions.create`, on its default httpx2 client and on
  `DefaultAioHttpClient` (the aiohttp transport); anthropic SDK, typed `messages.create`, aiohttp;
- both SDKs' documented raw call, `client.post(path, body=..., cast_to=httpx2.Response)` on
  `DefaultAioHttpClient`, JSON read by the caller (what workbench's "sdk" transport does);
- workbench's generate path (open_client: retries, limits, cost) for OpenAI and Anthropic, on the
  default transport (the target's own: "direct" since issue 24, the two APIs over one aiohttp
  session, no SDK), on "direct" named, and on the opt-in "sdk" one (the official SDKs' raw call);
- the generate path's own work per call, measured on the offline provider (no HTTP at all).

Every variant runs `--rounds` times (3), the rounds interleaved, and its best time is the figure:
on a shared two-core machine a burst of other work slows whichever variant it lands on, and the
SDK variants (more CPU a request) far more than the floor.

Targets (exit status 1 when missed): the default transport (the generate path on the target's
own transport, for both APIs) under 3.0 s and within 1.3x of the floor measured in the same run,
its client CPU per request within 1.2x of the direct transport's (issue 24), and the generate
path's own work per call under 100 µs. The other variants are printed for the record.

    .venv/bin/python bench/bench_http.py [--requests 2000] [--concurrency 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from workbench.runs import Message, Target, anthropic, offline, open_client, openai_compatible
from workbench.testing.standin import StandIn

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]}
ANTHROPIC_BODY = {"model": "claude-3-5-haiku", "max_tokens": 1024, "messages": BODY["messages"]}
MESSAGES = [Message("system", "be brief"), Message("user", "hello there")]
FLOOR, FLOOR_AGAIN = "floor (bare aiohttp)", "floor again"
DEFAULT_OPENAI = "generate, openai (default)"
DEFAULT_ANTHROPIC = "generate, anthropic (default)"
DIRECT_OPENAI = "generate, openai (direct)"
DIRECT_ANTHROPIC = "generate, anthropic (direct)"


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


async def sdk(url: str, n: int, concurrency: int, *, aiohttp: bool, raw: bool) -> None:
    """The openai SDK: typed `chat.completions.create`, or the raw `client.post`."""
    import httpx2
    import openai

    http_client = openai.DefaultAioHttpClient() if aiohttp else None
    client = openai.AsyncOpenAI(
        api_key="sk-bench", base_url=url, max_retries=0, http_client=http_client
    )

    async def call() -> None:
        if raw:
            answer = await client.post("/chat/completions", body=BODY, cast_to=httpx2.Response)
            json.loads(answer.content)
        else:
            await client.chat.completions.create(model="gpt-4o-mini", messages=BODY["messages"])  # type: ignore[arg-type]

    try:
        await gather_bounded(n, concurrency, call)
    finally:
        await client.close()


async def anthropic_sdk(url: str, n: int, concurrency: int, *, raw: bool) -> None:
    """The anthropic SDK on `DefaultAioHttpClient`: typed `messages.create`, or `client.post`."""
    import anthropic as sdk
    import httpx2

    client = sdk.AsyncAnthropic(
        api_key="sk-bench", base_url=url, max_retries=0, http_client=sdk.DefaultAioHttpClient()
    )

    async def call() -> None:
        if raw:
            answer = await client.post("/v1/messages", body=ANTHROPIC_BODY, cast_to=httpx2.Response)
            json.loads(answer.content)
        else:
            await client.messages.create(**ANTHROPIC_BODY)  # type: ignore[call-overload]

    try:
        await gather_bounded(n, concurrency, call)
    finally:
        await client.close()


async def generate(target: Target, n: int, concurrency: int, transport: str | None) -> None:
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


def timed(make: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds): the stand-in's CPU is in its own process."""
    started, cpu = time.perf_counter(), time.process_time()
    asyncio.run(make())  # type: ignore[arg-type]
    return time.perf_counter() - started, time.process_time() - cpu


Variant = Callable[[], Awaitable[None]]


def variants(server: Any, n: int, c: int) -> dict[str, Variant]:
    url, base = server.openai_base_url, server.base_url
    openai_target = openai_compatible(base_url=url, model="gpt-4o-mini", concurrency=c)
    anthropic_target = anthropic("claude-3-5-haiku", base_url=base, concurrency=c)
    return {
        FLOOR: lambda: floor(url, n, c),
        "openai SDK create, default httpx2": lambda: sdk(url, n, c, aiohttp=False, raw=False),
        "openai SDK create, DefaultAioHttpClient": lambda: sdk(url, n, c, aiohttp=True, raw=False),
        "openai SDK client.post, aiohttp": lambda: sdk(url, n, c, aiohttp=True, raw=True),
        "anthropic SDK create, aiohttp": lambda: anthropic_sdk(base, n, c, raw=False),
        "anthropic SDK client.post, aiohttp": lambda: anthropic_sdk(base, n, c, raw=True),
        DEFAULT_OPENAI: lambda: generate(openai_target, n, c, None),
        DEFAULT_ANTHROPIC: lambda: generate(anthropic_target, n, c, None),
        DIRECT_OPENAI: lambda: generate(openai_target, n, c, "direct"),
        DIRECT_ANTHROPIC: lambda: generate(anthropic_target, n, c, "direct"),
        "generate, openai (sdk, opt-in)": lambda: generate(openai_target, n, c, "sdk"),
        "generate, anthropic (sdk, opt-in)": lambda: generate(anthropic_target, n, c, "sdk"),
        FLOOR_AGAIN: lambda: floor(url, n, c),
    }


def measure(n: int, c: int, rounds: int) -> tuple[dict[str, list[tuple[float, float]]], int]:
    """Every variant `rounds` times, interleaved (so a burst of load on this shared machine
    hits them all alike); and the requests the stand-in received."""
    import aiohttp  # noqa: F401  (imports happen before any clock starts)
    import anthropic as _anthropic  # noqa: F401
    import openai  # noqa: F401

    with StandIn.spawn(latency_s=0.05, max_lifetime_s=1200) as server:
        timed(lambda: floor(server.openai_base_url, 100, c))  # warm both sides' code paths
        runs: dict[str, list[tuple[float, float]]] = {}
        for _ in range(rounds):
            for name, make in variants(server, n, c).items():
                runs.setdefault(name, []).append(timed(make))
        return runs, sum(server.stats()["counts"].values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n, c = args.requests, args.concurrency
    runs, received = measure(n, c, args.rounds)
    per_call = asyncio.run(own_work(20_000))
    best = {name: min(wall for wall, _ in done) for name, done in runs.items()}
    floor_s = min(best[FLOOR], best[FLOOR_AGAIN])
    print(f"{n} requests at concurrency {c}, stand-in latency 50 ms (ideal {n / c * 0.05:.2f} s)")
    print(
        f"best of {args.rounds} interleaved rounds (all rounds in brackets); client CPU per request"
    )
    for name, seconds in best.items():
        every = " ".join(f"{wall:.2f}" for wall, _ in runs[name])
        cpu_ms = min(cpu for _, cpu in runs[name]) / n * 1e3
        print(
            f"  {name:40s} {seconds:6.2f} s  {seconds / floor_s:5.2f}x floor  "
            f"{cpu_ms:5.2f} ms CPU  [{every}]"
        )
    print(f"  generate path's own work per call (offline provider): {per_call * 1e6:.1f} µs")
    print(f"  requests the stand-in received: {received}")
    chosen = max(best[DEFAULT_OPENAI], best[DEFAULT_ANTHROPIC])
    failures = []
    if chosen >= 3.0:
        failures.append(f"generate path (default) {chosen:.2f} s >= 3.0 s")
    if chosen > 1.3 * floor_s:
        failures.append(f"generate path (default) {chosen / floor_s:.2f}x the floor > 1.3x")
    cpu = {name: min(c for _, c in done) for name, done in runs.items()}
    for default, direct in ((DEFAULT_OPENAI, DIRECT_OPENAI), (DEFAULT_ANTHROPIC, DIRECT_ANTHROPIC)):
        ratio = cpu[default] / cpu[direct]
        print(f"  {default}: client CPU {ratio:.2f}x the direct transport's (target 1.2x)")
        if ratio > 1.2:
            failures.append(f"{default} CPU {ratio:.2f}x the direct transport's > 1.2x")
    if per_call >= 100e-6:
        failures.append(f"own work {per_call * 1e6:.0f} µs per call >= 100 µs")
    for failure in failures:
        print("MISSED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
