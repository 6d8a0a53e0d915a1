"""Memory stays flat with the size of a run (issue 24): peak growth of the kernel's process.

10,000 single-turn scenarios (4 string checks each), played once (10,000 attempts) and ten times
(100,000 attempts) at concurrency 200 against the stand-in (its own process, 5 ms latency, so
the run is short and CPU-bound). Each run is played in a fresh child process, as in a kernel
that has just warmed up with a small run; the figure is the growth of that process's peak
resident memory (`ru_maxrss`) over the run, from `start()` to `wait()` returning.
Target: 100,000 attempts under 300 MB of growth. While the run plays, the main thread asks the
handle for its `repr` (the progress it shows) every 0.2 s: the slowest answer and the longest
time the count stood still are printed (the handle and the progress bar stay responsive).

    .venv/bin/python bench/bench_memory.py [--repeats 1 10] [--trace]
    # WORKBENCH_BENCH_DATABASE_URL, else embedded; --trace: tracemalloc's top lines at half-way
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

from _scratch import scratch_database
from bench_runs import make_suite, make_user

from workbench.db.engine import Database, open_database
from workbench.handle import SignedInUser, Workbench
from workbench.runs.providers.targets import openai_compatible
from workbench.testing.standin import StandIn

SCENARIOS = 10_000
CONCURRENCY = 200
LATENCY_S = 0.005
TARGET_MB = {100_000: 300.0}  # attempts -> peak growth allowed


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """One run in this (fresh) process: the figures as a dict."""
    database: Database = open_database(spec["url"], check_schema=False)
    wb = Workbench(database, SignedInUser(spec["user_id"], spec["email"], "Bench"))
    target = openai_compatible(base_url=spec["base_url"], model="m", concurrency=CONCURRENCY)
    warm = wb.runs.start(suite=spec["warm_suite"], prompt="Agent", target=target,
                         concurrency=20, progress=False)  # fmt: skip
    warm.wait()
    if spec["trace"]:
        import tracemalloc

        tracemalloc.start(10)
    before = peak_rss_mb()
    started = time.perf_counter()
    run = wb.runs.start(suite=spec["suite"], prompt="Agent", target=target,
                        repeats=spec["repeats"], concurrency=CONCURRENCY,
                        progress=True)  # fmt: skip
    start_s = time.perf_counter() - started
    slowest, still, last, since = 0.0, 0.0, "", time.perf_counter()
    traced = False
    while not run.done:
        asked = time.perf_counter()
        shown = repr(run)
        answered = time.perf_counter()
        slowest = max(slowest, answered - asked)
        if shown != last:
            last, since = shown, answered
        still = max(still, answered - since)
        if spec["trace"] and not traced and sum(run._counts.values()) * 2 >= run.total:
            traced = True
            _print_top()
        time.sleep(0.2)
    run.wait()
    run_s = time.perf_counter() - started
    counts = dict(run._counts)
    return {"attempts": run.total, "stored": sum(counts.values()), "run_s": run_s,
            "start_s": start_s, "growth_mb": peak_rss_mb() - before,
            "slowest_repr_ms": slowest * 1000, "longest_still_s": still}  # fmt: skip


def _print_top() -> None:
    import tracemalloc

    snapshot = tracemalloc.take_snapshot()
    total = sum(stat.size for stat in snapshot.statistics("filename"))
    print(f"tracemalloc at half-way: {total / 2**20:.1f} MB traced", file=sys.stderr)
    for stat in snapshot.statistics("lineno")[:20]:
        print(f"  {stat.size / 2**20:7.2f} MB {stat.count:8d}  {stat.traceback}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, nargs="*", default=[1, 10])
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    missed: list[str] = []
    with (
        scratch_database("bench_memory") as (database, libpq_url),
        StandIn.spawn(latency_s=LATENCY_S, max_lifetime_s=3600.0) as server,
    ):
        wb = make_user(database)
        warm = make_suite(wb, "warm", 20, 1)
        started = time.perf_counter()
        suite = make_suite(wb, "big", SCENARIOS, 1)
        print(f"suite of {SCENARIOS:,} scenarios written in {time.perf_counter() - started:.0f} s")
        url = database.url.render_as_string(hide_password=False)
        for repeats in args.repeats:
            spec = {"url": url, "user_id": wb.user.id, "email": wb.user.email, "suite": suite,
                    "warm_suite": warm, "repeats": repeats, "base_url": server.openai_base_url,
                    "trace": args.trace}  # fmt: skip
            done = subprocess.run(
                [sys.executable, __file__, "--child", json.dumps(spec)],
                stdout=subprocess.PIPE, text=True, check=True,
                stderr=None if args.trace else subprocess.DEVNULL,  # the bar: not shown
            )  # fmt: skip
            got = json.loads(done.stdout.strip().splitlines()[-1])
            attempts = got["attempts"]
            allowed = TARGET_MB.get(attempts)
            line = (
                f"{attempts:,} attempts ({SCENARIOS:,} x {repeats}), concurrency {CONCURRENCY}: "
                f"{got['stored']:,} stored in {got['run_s']:.1f} s (start() {got['start_s']:.2f}"
                f" s), peak growth {got['growth_mb']:.0f} MB"
                f" ({got['growth_mb'] * 1024 / attempts:.2f} KB per attempt; target "
                f"{f'{allowed:.0f} MB' if allowed else '-'}), handle repr slowest "
                f"{got['slowest_repr_ms']:.1f} ms, count still at most "
                f"{got['longest_still_s']:.1f} s"
            )
            print(line, flush=True)
            assert got["stored"] == attempts, line
            if allowed is not None and got["growth_mb"] > allowed:
                missed.append(line)
    del libpq_url
    for line in missed:
        print("MISSED:", line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
