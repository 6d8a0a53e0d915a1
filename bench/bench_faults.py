"""Hostile replies at scale (issue 18): nothing lost, memory bounded, no key stored.

2,000 single-turn attempts (4 checks each) against the stand-in in its own process, as two runs
of 1,000: one on the SDK transport, one on the direct one. In each, 1% of the scenarios get each
hostile reply the stand-in serves: a lone surrogate, usage of 10**12 / 10**20 tokens, a 50 MB
reply, and a 400 whose error message echoes the API key (a key shape the old `sk-`/`key`/`api`
redaction does not recognise). Figures:

- results stored / attempts: must be 2,000 / 2,000 (every attempt finished in the ledger with
  its expectation results);
- peak memory growth of this process over the two runs: under 200 MB (on main one 50 MB reply
  added 210-270 MB);
- keys found in the database (every workbench table, as text): must be 0 (the key a request
  used is redacted from every error before it is stored or raised).

    .venv/bin/python bench/bench_faults.py     # WORKBENCH_BENCH_DATABASE_URL, else embedded
"""

from __future__ import annotations

import os
import resource
import secrets
import sys
import time

from _scratch import scratch_database
from bench_runs import make_suite, make_user
from sqlalchemy import text

from workbench.handle import Workbench
from workbench.runs.providers.targets import openai_compatible
from workbench.testing.standin import HOSTILE, StandIn

RUNS = (("sdk", 1000), ("direct", 1000))
ATTEMPTS = sum(count for _, count in RUNS)
CONCURRENCY = 50
OVERSIZE_BYTES = 50_000_000
MEMORY_MB = 200.0
# A key no `sk-`-shaped pattern catches: only redacting the key actually used removes it.
KEY = "wbfault" + secrets.token_hex(20)
TABLES = ("run", "run_attempt", "turn_result", "expectation_result", "response_cache")


def hostile_messages(count: int) -> dict[str, str]:
    """1% of the scenarios per hostile kind: scenario i gets kind i % 100 (when one)."""
    return {
        f"question {i} part 0": HOSTILE[i % 100] for i in range(count) if i % 100 < len(HOSTILE)
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def keys_in_database(wb: Workbench) -> int:
    """Rows of every workbench table whose text holds the key."""
    found = 0
    with wb.database.transaction() as session:
        for table in TABLES:
            found += int(
                session.scalar(
                    text(f"SELECT count(*) FROM workbench.{table} t WHERE strpos(t::text, :k) > 0"),
                    {"k": KEY},
                )
                or 0
            )
    return found


def cut_replies(wb: Workbench, run_id: str) -> int:
    with wb.database.transaction() as session:
        found = session.scalar(
            text("SELECT count(*) FROM workbench.turn_result WHERE run_id = :r AND reply_cut"),
            {"r": run_id},
        )
    return int(found or 0)


def stored(wb: Workbench, run_id: str) -> tuple[int, int]:
    """(finished attempts, expectation results) of the run in the database."""
    with wb.database.transaction() as session:
        attempts = session.scalar(
            text(
                "SELECT count(*) FROM workbench.run_attempt WHERE run_id = :r"
                " AND status IN ('passed', 'failed', 'error')"
            ),
            {"r": run_id},
        )
        results = session.scalar(
            text("SELECT count(*) FROM workbench.expectation_result WHERE run_id = :r"),
            {"r": run_id},
        )
    return int(attempts or 0), int(results or 0)


def main() -> int:
    os.environ["OPENAI_API_KEY"] = KEY
    missed: list[str] = []
    hostile = hostile_messages(max(count for _, count in RUNS))
    options = {"latency_s": 0.05, "hostile": hostile, "oversize_bytes": OVERSIZE_BYTES}
    with scratch_database("bench_faults") as (database, _), StandIn.spawn(**options) as server:
        wb = make_user(database)
        url = server.openai_base_url
        warm = make_suite(wb, "warm", 20, 1)
        for transport, _ in RUNS:  # imports and clients (each transport's own) are not measured
            wb.runs.start(suite=warm, prompt="Agent", target=openai_compatible(base_url=url,
                          model="m", transport=transport), progress=False).wait()  # fmt: skip
        rss_before = peak_rss_mb()
        total_attempts = total_results = 0
        for transport, count in RUNS:
            suite = make_suite(wb, f"faults {transport}", count, 1)
            target = openai_compatible(base_url=url, model="m", transport=transport,
                                       max_retries=0)  # fmt: skip
            started = time.perf_counter()
            run = wb.runs.start(suite=suite, prompt="Agent", target=target,
                                concurrency=CONCURRENCY, progress=False).wait()  # fmt: skip
            attempts, results = stored(wb, run.id)
            total_attempts, total_results = total_attempts + attempts, total_results + results
            cut = cut_replies(wb, run.id)  # SQL: run.frame() would import pandas mid-measure
            print(
                f"{transport}: {attempts} / {count} attempts stored ({results} expectation "
                f"results, {cut} cut replies) in {time.perf_counter() - started:.1f} s"
            )
        growth = peak_rss_mb() - rss_before
        keys = keys_in_database(wb)
    print(f"results stored / attempts: {total_attempts:,} / {ATTEMPTS:,} "
          f"({total_results:,} expectation results)")  # fmt: skip
    print(f"peak memory growth: {growth:.0f} MB (target under {MEMORY_MB:.0f} MB)")
    print(f"keys found in the database: {keys} (rows holding the API key)")
    if total_attempts != ATTEMPTS or total_results != 4 * ATTEMPTS:
        missed.append(f"stored {total_attempts} of {ATTEMPTS} attempts")
    if growth > MEMORY_MB:
        missed.append(f"memory growth {growth:.0f} MB > {MEMORY_MB:.0f} MB")
    if keys:
        missed.append(f"{keys} rows hold the key")
    for line in missed:
        print("MISSED:", line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
