"""Runs whose assistants call tools (issue 20), end to end, against the stand-in.

500 scenarios of one USER turn whose EXPECT turn needs two tool rounds (three requests each:
call, call, text), the stand-in in its own process at 50 ms, concurrency 50. Beside it, in the
same process and the same run of this script, a floor: a bare aiohttp loop making the same
1,500 requests in the same per-scenario order (the same bodies: tools, the call messages and
the results), storing nothing. Targets (issue 20):

- the run, every call stored, within 1.3x of the floor (ideal: 500 / 50 x 3 x 50 ms = 1.5 s),
  over each transport (direct, then the SDK);
- the tool loop's own CPU per round under 0.3 ms (answering a call from its mock and appending
  the messages, measured alone over many rounds: the HTTP and the database are the floor's and
  the ledger's, measured above).

    .venv/bin/python bench/bench_tools.py       # WORKBENCH_BENCH_DATABASE_URL, else embedded
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from _scratch import scratch_database
from bench_runs import SYSTEM, make_user
from sqlalchemy import text

from workbench.crypto.tokens import new_id
from workbench.handle import Workbench
from workbench.runs.engine import added
from workbench.runs.providers import Completion, Message, ToolCallRequest
from workbench.runs.providers.targets import openai_compatible
from workbench.runs.tools import answer, toolbox
from workbench.testing.standin import StandIn

COUNT, CONCURRENCY, RATIO, ROUND_CPU_MS = 500, 50, 1.3, 0.3
ORDER = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}
TOOLS = [
    {"name": "lookup_order", "description": "Look up an order", "parameters": ORDER,
     "cases": [], "returns": {"status": "shipped"}},
    {"name": "issue_refund", "description": "Refund an order", "parameters": ORDER,
     "cases": [], "returns": {"refunded": True}},
]  # fmt: skip


def question(i: int) -> str:
    return f"where is order {i}"


def rounds(i: int) -> list[list[list[Any]]]:
    order = {"order_id": f"A{i}"}
    return [[["lookup_order", order]], [["issue_refund", order]]]


def make_suite(wb: Workbench, name: str) -> str:
    """The scenarios through the import path (COPY), tools and checks included."""
    scenarios = [
        {"name": f"{name} {i}", "tools": TOOLS,
         "turns": [{"user": question(i)},
                   {"expect": [{"type": "MUST_CONTAIN", "value": "refunded"},
                               {"type": "TOOL_ORDER", "names": ["lookup_order", "issue_refund"]}]}]}
        for i in range(COUNT)
    ]  # fmt: skip
    suites = [{"name": name, "scenarios": [s["name"] for s in scenarios]}]
    result = wb.import_scenarios({"format": "workbench.scenarios/v1", "scenarios": scenarios,
                                  "suites": suites})  # fmt: skip
    return result.suite_ids[name]


async def floor(url: str, count: int) -> None:
    import aiohttp

    definitions = [{"type": "function", "function": {k: t[k] for k in
                    ("name", "description", "parameters")}} for t in TOOLS]  # fmt: skip
    gate = asyncio.Semaphore(CONCURRENCY)
    headers = {"authorization": "Bearer sk-bench"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def conversation(i: int) -> None:
            async with gate:
                messages: list[dict[str, Any]] = [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": question(i)},
                ]
                for _ in range(3):
                    body = {"model": "m", "messages": messages, "tools": definitions}
                    async with http.post(url + "/chat/completions", json=body,
                                         headers=headers) as reply:  # fmt: skip
                        message = (await reply.json())["choices"][0]["message"]
                    calls = message.get("tool_calls")
                    if not calls:
                        return
                    messages.append(message)
                    for call in calls:
                        result = json.dumps({"status": "shipped"})
                        messages.append({"role": "tool", "tool_call_id": call["id"],
                                         "content": result})  # fmt: skip

        await asyncio.gather(*(conversation(i) for i in range(count)))


def loop_cpu_ms_per_round(rounds_measured: int = 20_000) -> float:
    """The loop's own work for one round of one call: answer it from the mock, append the call
    and the result, add up usage; no HTTP, no database."""
    box = toolbox({"tools": TOOLS}, {})
    assert box is not None
    call = ToolCallRequest("call_0", "lookup_order", '{"order_id": "A1"}')
    done = Completion("", "m", 0.05, 10, 5, None, tool_calls=(call,))

    async def many() -> float:
        started = time.process_time()
        for k in range(rounds_measured):
            messages: list[Message] = [Message("user", "where is order 1")]
            messages.append(Message("assistant", done.text, done.tool_calls))
            sent, failed, _row = await answer(call, box, {}, turn_index=1, round=k, index=0)
            messages.append(Message("tool", sent, tool_call_id=call.id, is_error=failed))
            added(done, done)
        return (time.process_time() - started) / rounds_measured * 1000

    return asyncio.run(many())


def measure(wb: Workbench, url: str, transport: str) -> tuple[str, bool]:
    """(the figure's line, whether it met its targets) for one transport."""
    target = openai_compatible(base_url=url, model="m", concurrency=CONCURRENCY,
                               transport=transport)  # fmt: skip
    suite = make_suite(wb, f"tools {transport} {new_id()[:6]}")
    asyncio.run(floor(url, 20))  # warm: imports, connections
    started = time.perf_counter()
    asyncio.run(floor(url, COUNT))
    floor_s = time.perf_counter() - started
    started = time.perf_counter()
    run = wb.runs.start(suite=suite, prompt="Agent", target=target,
                        concurrency=CONCURRENCY, progress=False)  # fmt: skip
    run.wait()
    run_s = time.perf_counter() - started
    with wb.database.transaction() as session:
        stored = session.scalar(
            text("SELECT count(*) FROM workbench.tool_call WHERE run_id = :r"), {"r": run.id}
        )
    passed = int((run.frame()["status"] == "PASSED").sum())
    ratio = run_s / floor_s
    line = (f"{COUNT} scenarios x 2 tool rounds (3 requests), concurrency {CONCURRENCY}, "
            f"transport {transport}: {run_s:.2f} s, calls stored {stored} of {2 * COUNT}, "
            f"checks passed {passed} of {2 * COUNT}; floor {floor_s:.2f} s; ratio {ratio:.2f} "
            f"(target {RATIO})")  # fmt: skip
    return line, ratio <= RATIO and stored == passed == 2 * COUNT


def main() -> int:
    import os

    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    plan = {question(i): rounds(i) for i in range(COUNT)}
    missed: list[str] = []
    with (
        scratch_database("bench_tools") as (database, _),
        StandIn.spawn(latency_s=0.05, tool_rounds=plan) as server,
    ):
        wb = make_user(database)
        for transport in ("direct", "sdk"):
            line, met = measure(wb, server.openai_base_url, transport)
            print(line)
            if not met:
                missed.append(line)
    cpu = loop_cpu_ms_per_round()
    print(f"tool loop CPU per round: {cpu:.3f} ms (target {ROUND_CPU_MS} ms)")
    if cpu > ROUND_CPU_MS:
        missed.append(f"tool loop CPU per round {cpu:.3f} ms")
    for item in missed:
        print("MISSED:", item)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
