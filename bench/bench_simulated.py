"""Runs with simulated users (issue 21), end to end, against the stand-in.

200 scenarios, each one scripted exchange, then a simulated block of exactly 4 user turns
(min_turns = max_turns = 4) with an each_reply check, then 2 conversation criteria: per
scenario 1 + 4 target calls, 4 simulator calls and 2 judge calls (11 requests, in that order),
the stand-in in its own process at 50 ms, concurrency 20. Beside it, in the same process and the
same run of this script, a floor: a bare aiohttp loop making the same 2,200 requests in the same
per-scenario order (the same bodies: the simulator's swapped conversation and schema, the
judge's transcript and criterion), storing nothing. Target (issue 21): the run, every
conversation and verdict stored, within 1.3x of the floor (ideal: 200 / 20 x 11 x 50 ms =
5.5 s).

    .venv/bin/python bench/bench_simulated.py   # WORKBENCH_BENCH_DATABASE_URL, else embedded
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from _scratch import scratch_database
from bench_runs import SYSTEM, make_user
from sqlalchemy import text

from workbench.crypto.tokens import new_id
from workbench.handle import Workbench
from workbench.runs.conversation_judge import SCHEMA as VERDICT
from workbench.runs.conversation_judge import criterion_messages
from workbench.runs.providers import Message
from workbench.runs.providers.targets import openai_compatible
from workbench.runs.simulator import SIMULATOR_SCHEMA, simulator_messages
from workbench.testing.standin import StandIn

COUNT, CONCURRENCY, RATIO, TURNS = 200, 20, 1.3, 4
CRITERIA = ["Never promises a cash refund", "Offers store credit or an escalation"]
EACH_REPLY = [{"type": "MUST_NOT_CONTAIN", "value": "guarantee"}]
BLOCK = {"goal": "Get a cash refund", "persona": "persistent", "min_turns": TURNS,
         "max_turns": TURNS, "each_reply": EACH_REPLY}  # fmt: skip


def question(i: int) -> str:
    return f"I want to return blender {i}"


def make_suite(wb: Workbench, name: str) -> str:
    """The scenarios through the import path, simulated blocks and criteria included."""
    scenarios = [
        {"name": f"{name} {i}",
         "turns": [{"user": question(i)}, {"expect": [{"type": "MUST_CONTAIN", "value": "echo"}]},
                   {"simulated_user": BLOCK}, {"judge_conversation": CRITERIA}]}
        for i in range(COUNT)
    ]  # fmt: skip
    suites = [{"name": name, "scenarios": [s["name"] for s in scenarios]}]
    result = wb.import_scenarios({"format": "workbench.scenarios/v1", "scenarios": scenarios,
                                  "suites": suites})  # fmt: skip
    return result.suite_ids[name]


def wire(messages: list[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def structured(schema: dict[str, Any]) -> dict[str, Any]:
    form = {"name": "verdict", "schema": schema, "strict": True}
    return {"type": "json_schema", "json_schema": form}


async def floor(url: str, count: int) -> None:
    """The same requests in the same order per scenario, with the same bodies."""
    import aiohttp

    gate = asyncio.Semaphore(CONCURRENCY)
    headers = {"authorization": "Bearer sk-bench"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def ask(body: dict[str, Any]) -> str:
            async with http.post(url + "/chat/completions", json=body, headers=headers) as reply:
                return str((await reply.json())["choices"][0]["message"]["content"])

        async def conversation(i: int) -> None:
            async with gate:
                messages = [Message("system", SYSTEM), Message("user", question(i))]
                reply = await ask({"model": "m", "messages": wire(messages)})
                messages.append(Message("assistant", reply))
                for turn in range(1, TURNS + 1):
                    sent = wire(simulator_messages(BLOCK, messages, turn))
                    said = await ask({"model": "m", "messages": sent,
                                      "response_format": structured(SIMULATOR_SCHEMA)})  # fmt: skip
                    messages.append(Message("user", json.loads(said)["message"]))
                    reply = await ask({"model": "m", "messages": wire(messages)})
                    messages.append(Message("assistant", reply))
                for criterion in CRITERIA:
                    sent = wire(criterion_messages(messages, criterion))
                    await ask({"model": "m", "messages": sent, "temperature": 0.0,
                               "response_format": structured(VERDICT)})  # fmt: skip

        await asyncio.gather(*(conversation(i) for i in range(count)))


def measure(wb: Workbench, url: str, transport: str) -> tuple[str, bool]:
    """(the figure's line, whether it met its target) for one transport."""
    target = openai_compatible(base_url=url, model="m", concurrency=CONCURRENCY,
                               transport=transport)  # fmt: skip
    suite = make_suite(wb, f"simulated {transport} {new_id()[:6]}")
    asyncio.run(floor(url, 10))  # warm: imports, connections
    started = time.perf_counter()
    asyncio.run(floor(url, COUNT))
    floor_s = time.perf_counter() - started
    started = time.perf_counter()
    run = wb.runs.start(suite=suite, prompt="Agent", target=target, judge=target,
                        concurrency=CONCURRENCY, progress=False)  # fmt: skip
    run.wait()
    run_s = time.perf_counter() - started
    with wb.database.transaction() as session:
        stored = session.scalar(
            text("SELECT count(*) FROM workbench.conversation_result WHERE run_id = :r"
                 " AND turns_played = :n"), {"r": run.id, "n": TURNS},
        )  # fmt: skip
    frame = run.frame()
    verdicts = int((frame["type"] == "CONVERSATION").sum())
    passed = int((frame["status"] == "PASSED").sum())
    ratio = run_s / floor_s
    line = (f"{COUNT} scenarios x (1 scripted + {TURNS} simulated turns + 2 criteria), "
            f"concurrency {CONCURRENCY}, transport {transport}: {run_s:.2f} s, conversations "
            f"stored {stored} of {COUNT}, verdicts {verdicts} of {2 * COUNT}, checks passed "
            f"{passed} of {4 * COUNT}; floor {floor_s:.2f} s; ratio {ratio:.2f} "
            f"(target {RATIO})")  # fmt: skip
    met = stored == COUNT and verdicts == 2 * COUNT and passed == 4 * COUNT
    return line, ratio <= RATIO and met


def main() -> int:
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    missed: list[str] = []
    with (
        scratch_database("bench_simulated") as (database, _),
        StandIn.spawn(latency_s=0.05) as server,
    ):
        wb = make_user(database)
        for transport in sys.argv[1:] or ["direct", "sdk"]:
            line, met = measure(wb, server.openai_base_url, transport)
            print(line)
            if not met:
                missed.append(line)
    for item in missed:
        print("MISSED:", item)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
