"""What the writer's robustness costs (issue 18): this checkout against another, alternated.

Each round plays the same run, 2,000 single-turn scenarios x 4 checks at concurrency 50 against
the stand-in (its own process, 50 ms latency), once with this checkout's code and once with the
other's (`--base`, e.g. a `git worktree` of main), in fresh processes, in alternating order, so
the machine's load falls on both alike. Each side's figure is its median over the rounds: the
wall time from `wb.runs.start` to every result stored, and the CPU time of the client process
(the run's thread and its database thread: what making values storable, bounded reads and the
writer add). Target: this checkout within 5% of the base on both.

Both sides play on the same transport, named (`--transport`, direct by default): the default
changed after issue 18 (issue 24), and a comparison across transports would measure that.

    .venv/bin/python bench/bench_writer_cost.py --base /work/wt/h18w-base [--rounds 4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
COUNT, CONCURRENCY = 2000, 50
TARGET = 1.05


def child() -> None:
    """One run with whatever `workbench` is on the path; prints {"wall_s", "cpu_s"}."""
    from _scratch import scratch_database
    from bench_runs import make_suite, make_user

    from workbench.runs.providers.targets import openai_compatible
    from workbench.testing.standin import StandIn

    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    with scratch_database("bench_cost") as (database, _), StandIn.spawn(latency_s=0.05) as server:
        wb = make_user(database)
        transport = os.environ.get("WORKBENCH_BENCH_TRANSPORT", "direct")
        target = openai_compatible(base_url=server.openai_base_url, model="m", transport=transport)
        warm = make_suite(wb, "warm", 50, 1)
        wb.runs.start(suite=warm, prompt="Agent", target=target, progress=False).wait()
        suite = make_suite(wb, "measured", COUNT, 1)
        wall, cpu = time.perf_counter(), time.process_time()
        wb.runs.start(suite=suite, prompt="Agent", target=target, concurrency=CONCURRENCY,
                      progress=False).wait()  # fmt: skip
        figures = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
    print(json.dumps(figures), flush=True)


def measure(checkout: Path, transport: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "WORKBENCH_BENCH_TRANSPORT": transport}
    done = subprocess.run(
        [sys.executable, str(HERE / "bench_writer_cost.py"), "--child"],
        cwd=checkout, env=env, capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--transport", choices=("direct", "sdk"), default="direct")
    args = parser.parse_args()
    if args.child:
        child()
        return 0
    if args.base is None:
        parser.error("--base CHECKOUT is required")
    sides = {"base": args.base.resolve(), "this": HERE.parent}
    seen: dict[str, list[dict[str, float]]] = {"base": [], "this": []}
    for round_ in range(args.rounds):
        order = ("base", "this") if round_ % 2 == 0 else ("this", "base")
        for side in order:
            got = measure(sides[side], args.transport)
            seen[side].append(got)
            wall, cpu = got["wall_s"], got["cpu_s"]
            print(f"round {round_ + 1} {side}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    missed = []
    for figure in ("wall_s", "cpu_s"):
        base = statistics.median(r[figure] for r in seen["base"])
        this = statistics.median(r[figure] for r in seen["this"])
        line = f"{figure}: median {this:.2f} here, {base:.2f} base, ratio {this / base:.3f}"
        print(line + f" (target {TARGET})")
        if this / base > TARGET:
            missed.append(line)
    for line in missed:
        print("MISSED:", line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
