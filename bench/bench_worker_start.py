"""A `workbench worker`'s start-up: the CPU of a worker process that plays a 2-attempt run, from
its interpreter's start to its exit, against a floor process that makes the same 2 requests
(issue 24).

bench_workers.py spawns its workers on a 2-core machine where everything is CPU-bound, so a
worker's start-up (imports, sign-in, opening its HTTP client) is paid in the benchmark's time.
Here a run of 2 single-turn attempts is queued (`executor="workers"`) and played by one
`workbench worker --concurrency 200` process signed in by the bench user's own role (as on a
hub), against the stand-in at no latency; the floor is one `bench_workers.py floor` process (an
interpreter, aiohttp and 2 requests). The two alternate, ROUNDS times each after one unmeasured
round of each (bytecode, the page cache), and each figure is the median of its process's CPU
(user + system, from the children's rusage: robust when the machine is busy).

Target: the worker's median CPU at most 3.0x the floor's. Measured on the shared 2-core machine
with compiled bytecode, same runs (`--baseline`): before issue 24's start-up work 0.73-0.81 s
against 0.20-0.24 s (3.5-3.8x); with the worker importing only what playing needs 0.70 s
(3.5x), and ending without the interpreter's teardown 0.57 s (2.6x). The rest is mostly
SQLAlchemy, psycopg, aiohttp (the floor's too) and the ORM's mapped classes.

    export PYTHONDONTWRITEBYTECODE=    # compiled bytecode, as an installed workbench has
    .venv/bin/python bench/bench_worker_start.py    # WORKBENCH_BENCH_DATABASE_URL, else embedded
    .venv/bin/python bench/bench_worker_start.py --importtime    # + the worker's slowest imports
    .venv/bin/python bench/bench_worker_start.py --baseline DIR  # + workers of another checkout

`--baseline DIR`: DIR holds another version of the package (`git archive COMMIT | tar -x -C
DIR`); its workers (`python -m workbench.cli` run in DIR, so DIR's `workbench` is imported)
alternate with this tree's in the same rounds: a before/after on the same busy machine.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.handle import Workbench

ROUNDS = 7
RATIO = 3.0
ATTEMPTS = 2
BENCH_DIR = Path(__file__).resolve().parent


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def cpu_of(
    argv: list[str], env: dict[str, str], expect: str, cwd: Path | None = None
) -> tuple[float, str]:
    """The CPU seconds of one process (it must exit 0 and print `expect`), and its stderr."""
    before = children_cpu()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    used = children_cpu() - before
    assert done.returncode == 0 and expect in done.stdout, (done.stdout, done.stderr[-2000:])
    return used, done.stderr


def worker_process(
    wb: Workbench, database_url: str, url: str, suite: str, source: Path | None = None
) -> Callable[..., float]:
    """A worker of this tree's package, or of the one in `source` (run in it: `-m` imports from
    the working directory first)."""
    from workbench.runs.providers.targets import openai_compatible

    target = openai_compatible(base_url=url, model="m")
    env = {**os.environ, "DATABASE_URL": database_url}

    def measured(*, importtime: bool = False) -> float:
        run = wb.runs.start(suite=suite, prompt="Agent", target=target, repeats=1,
                            concurrency=10, executor="workers", progress=False)  # fmt: skip
        flags = ["-X", "importtime"] if importtime else []
        argv = [sys.executable, *flags, "-m", "workbench.cli", "worker", "--run", run.id,
                "--concurrency", "200"]  # fmt: skip
        used, stderr = cpu_of(argv, env, f"played {ATTEMPTS} attempts", source)
        run.wait(timeout=30)
        assert run.status == "finished", run.status
        if importtime:
            print_slowest_imports(stderr)
        return used

    return measured


def floor_process(url: str) -> Callable[[], float]:
    argv = [sys.executable, str(BENCH_DIR / "bench_workers.py"), "floor", url, "0", "1",
            str(ATTEMPTS), "200"]  # fmt: skip

    def measured() -> float:
        return cpu_of(argv, dict(os.environ), f"made {ATTEMPTS} requests")[0]

    return measured


def print_slowest_imports(stderr: str, count: int = 15) -> None:
    """`-X importtime`'s top-level-ish imports by cumulative microseconds."""
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.removeprefix("import time:").split("|")
            if cumulative.strip().isdigit():
                rows.append((int(cumulative), name.rstrip()))
    print("the worker's slowest imports (cumulative µs):")
    for cumulative, name in sorted(rows, reverse=True)[:count]:
        print(f"  {cumulative:>9,} {name}")


def main(importtime: bool, baseline: Path | None) -> int:
    sys.path.insert(0, str(BENCH_DIR))
    from bench_runs import make_suite
    from bench_workers import role_bench

    with role_bench("bench_worker_start", latency_s=0.0, lifetime_s=600) as bench:
        _, wb, database_url, server = bench
        suite = make_suite(wb, "start", ATTEMPTS, 1)
        worker = worker_process(wb, database_url, server.openai_base_url, suite)
        floor = floor_process(server.openai_base_url)
        before = baseline and worker_process(
            wb, database_url, server.openai_base_url, suite, baseline
        )
        worker(), floor()  # unmeasured: bytecode, the page cache, the stand-in's first call
        workers, floors, befores = [], [], []
        if before:
            before()
        for _ in range(ROUNDS):
            workers.append(worker())
            floors.append(floor())
            if before:
                befores.append(before())
        if importtime:
            worker(importtime=True)
    return report(workers, floors, befores)


def report(workers: list[float], floors: list[float], befores: list[float]) -> int:
    worker_s, floor_s = statistics.median(workers), statistics.median(floors)
    ratio = worker_s / floor_s
    if befores:
        before_s = statistics.median(befores)
        print(f"baseline's worker process: median {before_s:.3f} s CPU, ratio "
              f"{before_s / floor_s:.2f} ({', '.join(f'{s:.2f}' for s in befores)})")  # fmt: skip
    print(f"worker process ({ATTEMPTS} attempts): median {worker_s:.3f} s CPU "
          f"({', '.join(f'{s:.2f}' for s in workers)})")  # fmt: skip
    print(f"floor process ({ATTEMPTS} requests): median {floor_s:.3f} s CPU "
          f"({', '.join(f'{s:.2f}' for s in floors)})")  # fmt: skip
    print(f"ratio {ratio:.2f} (target {RATIO})")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("note: PYTHONDONTWRITEBYTECODE is set; uncached modules compile in every process")
    if ratio > RATIO:
        print(f"MISSED: the worker's {worker_s:.3f} s is {ratio:.2f}x the floor's {floor_s:.3f} s")
        return 1
    return 0


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--importtime", action="store_true", help="and the slowest imports")
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR")
    args = parser.parse_args()
    sys.exit(main(args.importtime, args.baseline))
