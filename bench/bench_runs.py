"""Runs, end to end: from `wb.runs.start` to every result stored, against the stand-in.

The stand-in runs in its own process with a fixed 50 ms latency. Beside each run, in the same
process and the same run of this script, a floor: a bare asyncio loop with the same HTTP client
(aiohttp) POSTing the same chat-completion requests (the same conversations, turn by turn) at
the same concurrency, storing nothing. Figures (issue 24; issue 11's were 0.75 / 3.0 / 2.25 s
and 1.3x):

- 200 single-turn scenarios x 4 string expectations, concurrency 20: under 0.70 s (ideal 0.50),
  within 1.15x of the floor
- 2,000 of them at concurrency 50: under 2.6 s (ideal 2.0), within 1.15x, peak memory growth
  under 150 MB
- 200 scenarios of 3 EXPECT turns, concurrency 20: under 1.95 s (ideal 1.5), within 1.15x
- 10,000 single-turn scenarios at concurrency 50: within 1.1x of the floor (ideal 10 s)
- every case: the stand-in's first request within 50 ms of `start()` returning (printed)

The targets are checked on the default transport. `--transport sdk` or `direct` measures one
transport instead; `--transport both` measures the two side by side, alternated case by case in
the same run (the figures in docs/providers.md).

    .venv/bin/python bench/bench_runs.py [--transport default|sdk|direct|both]
    # WORKBENCH_BENCH_DATABASE_URL, else embedded
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from typing import Any

from _scratch import scratch_database
from sqlalchemy import text

from workbench.crypto.tokens import new_id
from workbench.db.engine import Database
from workbench.db.models import Prompt, Scenario, ScenarioSuite, ScenarioSuiteItem, User
from workbench.handle import SignedInUser, Workbench
from workbench.runs.providers.targets import openai_compatible
from workbench.testing._spawn import SpawnedStandIn
from workbench.testing.standin import StandIn
from workbench.timeutil import utcnow

SYSTEM = "You are a support agent."
CASES = [  # (scenarios, EXPECT turns each, concurrency, target seconds, target ratio)
    (200, 1, 20, 0.70, 1.15),
    (2000, 1, 50, 2.6, 1.15),
    (200, 3, 20, 1.95, 1.15),
    (10_000, 1, 50, None, 1.1),
]
MEMORY_MB = 150.0
FIRST_REQUEST_MS = 50.0


def make_user(database: Database) -> Workbench:
    now, user_id = utcnow(), new_id()
    with database.transaction() as session:
        session.add(User(id=user_id, name="Bench", email=f"{user_id.lower()}@example.com",
                         email_verified=False, created_at=now, updated_at=now))  # fmt: skip
        session.add(Prompt(user_id=user_id, name="Agent", content=SYSTEM))
    return Workbench(database, SignedInUser(user_id, f"{user_id.lower()}@example.com", "Bench"))


def make_suite(wb: Workbench, name: str, count: int, turns: int) -> str:
    """A suite written straight as rows (the scenario service is not what is measured)."""
    from workbench.db.models import ScenarioExpectation, ScenarioTurn

    checks = ["MUST_CONTAIN", "MUST_NOT_CONTAIN", "MUST_CONTAIN_ANY", "REGEX"]
    with wb.database.transaction() as session:
        suite = ScenarioSuite(user_id=wb.user.id, name=name)
        session.add(suite)
        session.flush()
        for i in range(count):
            scenario = Scenario(user_id=wb.user.id, name=f"{name} {i}")
            session.add(scenario)
            session.flush()
            for t in range(turns):
                said = ScenarioTurn(scenario_id=scenario.id, order_index=2 * t, turn_type="USER",
                                    user_text=f"question {i} part {t}")  # fmt: skip
                asked = ScenarioTurn(scenario_id=scenario.id, order_index=2 * t + 1,
                                     turn_type="EXPECT")  # fmt: skip
                session.add_all([said, asked])
                session.flush()
                for k, kind in enumerate(checks):
                    session.add(ScenarioExpectation(
                        scenario_id=scenario.id, turn_id=asked.id, order_index=k, type=kind,
                        value=None if kind == "MUST_CONTAIN_ANY" else
                        ("echo" if kind != "MUST_NOT_CONTAIN" else "sorry"),
                        values=["echo", "hi"] if kind == "MUST_CONTAIN_ANY" else [],
                    ))  # fmt: skip
            session.add(ScenarioSuiteItem(suite_id=suite.id, scenario_id=scenario.id,
                                          order_index=i))  # fmt: skip
        return suite.id


async def floor(url: str, count: int, turns: int, concurrency: int) -> None:
    import aiohttp

    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def conversation(i: int) -> None:
            async with gate:
                messages: list[dict[str, str]] = [{"role": "system", "content": SYSTEM}]
                for t in range(turns):
                    messages.append({"role": "user", "content": f"question {i} part {t}"})
                    body = {"model": "m", "messages": messages}
                    headers = {"authorization": "Bearer sk-bench"}
                    async with http.post(url + "/chat/completions", json=body,
                                         headers=headers) as answer:  # fmt: skip
                        reply = (await answer.json())["choices"][0]["message"]["content"]
                    messages.append({"role": "assistant", "content": reply})

        await asyncio.gather(*(conversation(i) for i in range(count)))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(
    wb: Workbench,
    server: SpawnedStandIn,
    count: int,
    turns: int,
    concurrency: int,
    transport: str = "default",
) -> dict[str, Any]:
    url = server.openai_base_url
    suite = make_suite(wb, f"bench {count}x{turns} {new_id()[:6]}", count, turns)
    chosen = {} if transport == "default" else {"transport": transport}
    target = openai_compatible(base_url=url, model="m", concurrency=concurrency, **chosen)
    asyncio.run(floor(url, 20, turns, concurrency))  # warm: imports, connections
    started = time.perf_counter()
    asyncio.run(floor(url, count, turns, concurrency))
    floor_s = time.perf_counter() - started
    rss_before = peak_rss_mb()
    server.reset()
    started = time.perf_counter()
    run = wb.runs.start(suite=suite, prompt="Agent", target=target, concurrency=concurrency,
                        progress=False)  # fmt: skip
    returned_at, start_s = time.time(), time.perf_counter() - started
    run.wait()
    run_s = time.perf_counter() - started
    first_at = server.first_request_at()
    assert first_at is not None, "the stand-in received no request"
    with wb.database.transaction() as session:
        stored = session.scalar(
            text("SELECT count(*) FROM workbench.expectation_result WHERE run_id = :r"),
            {"r": run.id},
        )
    assert stored == count * turns * 4, f"{stored} results stored, expected {count * turns * 4}"
    return {"run_s": run_s, "floor_s": floor_s, "memory_mb": peak_rss_mb() - rss_before,
            "start_s": start_s, "first_ms": (first_at - returned_at) * 1000}  # fmt: skip


def main() -> int:
    import argparse
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=("default", "sdk", "direct", "both"),
                        default="default")  # fmt: skip
    parser.add_argument("--sizes", type=int, nargs="*", default=[case[0] for case in CASES],
                        help="only the cases of these many scenarios")  # fmt: skip
    args = parser.parse_args()
    transports = ["sdk", "direct"] if args.transport == "both" else [args.transport]
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    missed: list[str] = []
    with scratch_database("bench_runs") as (database, _), StandIn.spawn(latency_s=0.05) as server:
        wb = make_user(database)
        # Warm-up run: the SDK import and the first connections are not what is measured.
        for transport in transports:  # each transport's (the SDK's import is not measured)
            measure(wb, server, 20, 1, 20, transport)
        for (count, turns, concurrency, target, target_ratio), transport in (
            (case, transport) for case in CASES if case[0] in args.sizes
            for transport in transports
        ):  # fmt: skip
            got = measure(wb, server, count, turns, concurrency, transport)
            ratio = got["run_s"] / got["floor_s"]
            line = (
                f"[{transport}] {count} scenarios x {turns} EXPECT x 4 checks, "
                f"concurrency {concurrency}: "
                f"{got['run_s']:.2f} s stored (target {target or '-'} s), "
                f"floor {got['floor_s']:.2f} s, ratio {ratio:.2f} (target {target_ratio}), "
                f"start() {got['start_s'] * 1000:.0f} ms, first request "
                f"{got['first_ms']:.0f} ms after it returned (target {FIRST_REQUEST_MS:.0f}), "
                f"peak memory growth {got['memory_mb']:.0f} MB"
            )
            print(line, flush=True)
            if (target is not None and got["run_s"] > target) or ratio > target_ratio:
                missed.append(line)
            if got["first_ms"] > FIRST_REQUEST_MS:
                missed.append(f"first request {got['first_ms']:.0f} ms after start() returned")
            if count == 2000 and got["memory_mb"] > MEMORY_MB:
                missed.append(f"memory growth {got['memory_mb']:.0f} MB > {MEMORY_MB} MB")
    for line in missed:
        print("MISSED:", line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
