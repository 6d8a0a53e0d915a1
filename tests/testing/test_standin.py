"""The stand-in itself: counters, fault queues per path, the subprocess mode, its lifetime."""

from __future__ import annotations

import asyncio
import time

import pytest

from workbench.runs import Message, openai_compatible
from workbench.runs.generate import open_client
from workbench.testing.standin import ANTHROPIC_PATH, OPENAI_PATH, Fault, StandIn


def test_per_path_faults_only_hit_that_path() -> None:
    with StandIn(max_lifetime_s=30) as server:
        server.inject("500", path=ANTHROPIC_PATH)
        target = openai_compatible(base_url=server.openai_base_url, model="m", max_retries=0)

        async def go() -> str:
            client = open_client(target, api_key="k")
            try:
                return (await client.complete([Message("user", "x")])).text
            finally:
                await client.aclose()

        assert asyncio.run(go()) == "echo: x"
        assert server.counts == {OPENAI_PATH: 1} and not server.faults_served
        assert list(server._per_path[ANTHROPIC_PATH]) == [Fault("500")]


def test_replies_mapping_and_unknown_fault() -> None:
    with StandIn(replies={"hi": "hello!"}, max_lifetime_s=30) as server:
        with pytest.raises(ValueError, match="unknown fault"):
            server.inject("418")
        target = openai_compatible(base_url=server.openai_base_url, model="m")

        async def go() -> list[str]:
            client = open_client(target, api_key="k")
            try:
                return [(await client.complete([Message("user", t)])).text for t in ("hi", "yo")]
            finally:
                await client.aclose()

        assert asyncio.run(go()) == ["hello!", "echo: yo"]


def test_spawned_server_answers_and_reports_counts() -> None:
    with StandIn.spawn(latency_s=0.01, max_lifetime_s=30) as server:
        pid = server.pid
        target = openai_compatible(base_url=server.openai_base_url, model="m")

        async def go() -> None:
            client = open_client(target, api_key="k")
            try:
                await asyncio.gather(*(client.complete([Message("user", "p")]) for _ in range(10)))
            finally:
                await client.aclose()

        asyncio.run(go())
        assert server.stats()["counts"] == {OPENAI_PATH: 10}
    assert pid is not None and server.pid is None  # stopped and reaped


def test_server_stops_by_itself_after_its_lifetime() -> None:
    server = StandIn(max_lifetime_s=0.3)
    server.__enter__()
    assert server._thread is not None
    server._thread.join(5)
    assert not server._thread.is_alive()
    started = time.perf_counter()
    server.__exit__(None, None, None)
    assert time.perf_counter() - started < 1
