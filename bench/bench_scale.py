"""Runs beyond one kernel (issue 14): the Dask executor against the in-kernel one.

The stand-in runs in its own process at a fixed 50 ms latency. Figures:

- 2,000 single-turn attempts, 2 Dask worker processes (LocalCluster) at 50 concurrent calls
  each, from `wb.runs.start` to every result stored: under 3.0 s;
- the same run in-kernel at 100 concurrent calls, measured in the same run of this script: the
  Dask run (claims, leases, heartbeats from two processes) within 10% of it.

Both with the default transport ("direct" since issue 24); the Dask run is also timed with the
target's `transport="sdk"` (the official SDKs, opt-in: about three times the client CPU per
request), printed beside it. The
20,000-attempt figure over `workbench worker` processes is bench/bench_workers.py.

    .venv/bin/python bench/bench_scale.py        # WORKBENCH_BENCH_DATABASE_URL, else embedded
"""

from __future__ import annotations

import os
import sys
import time

from _scratch import scratch_database
from bench_runs import make_suite, make_user
from sqlalchemy import text

from workbench.crypto.tokens import new_id
from workbench.handle import Workbench
from workbench.runs.providers.targets import openai_compatible
from workbench.testing.standin import StandIn

COUNT, PER_WORKER, WORKERS = 2000, 50, 2
TARGET_S, OVERHEAD = 3.0, 1.10


def timed(
    wb: Workbench, url: str, executor: object, concurrency: int, transport: str = "direct"
) -> float:
    suite = make_suite(wb, f"scale {new_id()[:6]}", COUNT, 1)
    target = openai_compatible(base_url=url, model="m", transport=transport)
    started = time.perf_counter()
    run = wb.runs.start(suite=suite, prompt="Agent", target=target, concurrency=concurrency,
                        executor=executor, progress=False)  # fmt: skip
    run.wait(timeout=300)
    elapsed = time.perf_counter() - started
    with wb.database.transaction() as session:
        stored = session.scalar(
            text("SELECT count(*) FROM workbench.run_attempt WHERE run_id = :r"
                 " AND status IN ('passed', 'failed')"),
            {"r": run.id},
        )  # fmt: skip
    assert stored == COUNT, f"{stored} attempts stored, expected {COUNT}"
    return elapsed


def main() -> int:
    from distributed import Client, LocalCluster

    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    missed: list[str] = []
    with (
        scratch_database("bench_scale") as (database, _),
        StandIn.spawn(latency_s=0.05) as server,
        LocalCluster(n_workers=WORKERS, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        wb = make_user(database)
        url = server.openai_base_url
        timed(wb, url, client, PER_WORKER)  # warm: imports and connections on the workers
        timed(wb, url, client, PER_WORKER, "sdk")
        dask_s = timed(wb, url, client, PER_WORKER)
        sdk_s = timed(wb, url, client, PER_WORKER, "sdk")
        kernel_s = timed(wb, url, "kernel", PER_WORKER * WORKERS)
    ratio = dask_s / kernel_s
    print(f"{COUNT} attempts, {WORKERS} Dask workers x {PER_WORKER}: {dask_s:.2f} s stored "
          f"(target {TARGET_S} s); in-kernel x {PER_WORKER * WORKERS}: {kernel_s:.2f} s; "
          f"ratio {ratio:.2f} (target {OVERHEAD})")  # fmt: skip
    print(f"  the same Dask run with transport='sdk' (opt-in): {sdk_s:.2f} s stored "
          f"(for the record)")  # fmt: skip
    if dask_s > TARGET_S:
        missed.append(f"dask {dask_s:.2f} s > {TARGET_S} s (default transport)")
    if ratio > OVERHEAD:
        missed.append(f"ratio {ratio:.2f} > {OVERHEAD}")
    for line in missed:
        print("MISSED:", line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
