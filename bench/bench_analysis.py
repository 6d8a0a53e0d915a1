"""Issue 12's targets for studying runs, each against a floor measured in the same run.

Data set (loaded by COPY straight into the run tables): two users, each with 100 runs of one
200-scenario suite, 3 repeats, 4 expectations per attempt (240,000 expectation results each,
480,000 in all). Targets, for the first user (the second one's rows must not slow them):
- `run.frame()` of one run, `wb.runs.compare` of two runs and `wb.runs.trend(last=20)`: each
  under 200 ms median and within 2x of the same statement(s) hand-written through psycopg
  (fetching the rows, no DataFrame);
- a rerun of a 200-scenario suite with the response cache warm: under 0.3 s from start to every
  result stored, with zero requests to the stand-in.

    python bench/bench_analysis.py
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _scratch import scratch_database

import workbench
from workbench.handle import SignedInUser, Workbench
from workbench.runs.analysis import sql
from workbench.runs.analysis.results import RESULTS
from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user
from workbench.testing.standin import StandIn

RUNS, SCENARIOS, REPEATS, EXPECTATIONS = 100, 200, 3, 4
QUERY_TARGET_MS, FLOOR_RATIO, WARM_TARGET_S = 200.0, 2.0, 0.3
TURNS = json.dumps([{"type": "USER", "text": "hi"}, {"type": "EXPECT", "expectations": []}])


def copy_rows(conn: psycopg.Connection[Any], table: str, columns: str, rows: Iterator[Any]) -> None:
    with conn.cursor().copy(f"COPY workbench.{table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def add_user(conn: psycopg.Connection[Any], name: str) -> str:
    user_id = uuid.uuid4().hex
    now = datetime.now(UTC).replace(tzinfo=None)
    conn.execute(
        'INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt")'
        " VALUES (%s, %s, %s, false, %s, %s)",
        (user_id, name, f"{user_id}@bench.example", now, now),
    )
    return user_id


def load(conninfo: str, user_id: str, suite_id: str, first_attempt: int) -> list[str]:
    """100 runs for `user_id`; returns their ids, oldest first."""
    rng = random.Random(user_id)
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=RUNS)
    run_ids = [str(uuid.uuid4()) for _ in range(RUNS)]
    scenario_ids = [str(uuid.uuid4()) for _ in range(SCENARIOS)]
    runs, scenarios, attempts, turns, expectations = [], [], [], [], []
    attempt_id = first_attempt
    for n, run_id in enumerate(run_ids):
        created = start + timedelta(days=n)
        target = json.dumps({"provider": "openai", "model": "gpt-4o-mini"})
        passed = 0
        for position, scenario_id in enumerate(scenario_ids):
            scenarios.append((run_id, position, user_id, scenario_id, f"S{position}", 1, TURNS))
            for repeat in range(REPEATS):
                attempt_id += 1
                outcome = ["PASSED" if rng.random() > 0.05 else "FAILED" for _ in range(4)]
                status = "failed" if "FAILED" in outcome else "passed"
                passed += status == "passed"
                latency = rng.uniform(0.2, 2.0)
                attempts.append(
                    (
                        attempt_id,
                        run_id,
                        user_id,
                        position,
                        scenario_id,
                        repeat,
                        status,
                        1,
                        created,
                        created,
                        latency,
                    )
                )
                turns.append(
                    (
                        attempt_id,
                        run_id,
                        user_id,
                        1,
                        3,
                        "gpt-4o-mini",
                        f"reply {position} {repeat}",
                        latency,
                        20,
                        10,
                        0.0001,
                        False,
                    )
                )
                for index, result in enumerate(outcome):
                    expectations.append(
                        (attempt_id, run_id, user_id, 1, index, "MUST_CONTAIN", result, "{}")
                    )
        # The totals `lifecycle.finish` stores with a finished run (trend reads them).
        attempts_made = SCENARIOS * REPEATS
        failed = attempts_made - passed
        totals = json.dumps(
            {"attempts": attempts_made, "passed": passed, "failed": failed, "errors": 0}
        )
        runs.append(
            (
                run_id,
                user_id,
                suite_id,
                "Bench suite",
                "p",
                "Prompt",
                created,
                "sys",
                "0" * 64,
                target,
                REPEATS,
                "{}",
                "finished",
                created,
                created,
                created,
                totals,
            )
        )
    with psycopg.connect(conninfo) as conn:
        copy_rows(
            conn,
            "run",
            "id, user_id, suite_id, suite_name, prompt_id, prompt_name,"
            " prompt_updated_at, system_text, system_sha256, target, repeats, options,"
            " status, created_at, started_at, finished_at, totals",
            iter(runs),
        )
        copy_rows(
            conn,
            "run_scenario",
            "run_id, position, user_id, scenario_id, scenario_name, scenario_version, turns",
            iter(scenarios),
        )
        copy_rows(
            conn,
            "run_attempt",
            "id, run_id, user_id, position, scenario_id, repeat,"
            " status, tries, started_at, finished_at, latency_s",
            iter(attempts),
        )
        copy_rows(
            conn,
            "turn_result",
            "attempt_id, run_id, user_id, turn_index, message_count,"
            " model, reply, latency_s, prompt_tokens, completion_tokens, cost_usd, cached",
            iter(turns),
        )
        copy_rows(
            conn,
            "expectation_result",
            "attempt_id, run_id, user_id, turn_index, expectation_index, type, status, detail",
            iter(expectations),
        )
    return run_ids


def paired_medians_ms(
    ours: Callable[[], object], floor: Callable[[], object], rounds: int = 15
) -> tuple[float, float]:
    """Medians of `ours` and `floor`, alternated call by call so drift weighs on both alike."""
    ours(), floor()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for action, kept in ((ours, samples[0]), (floor, samples[1])):
            started = time.perf_counter()
            action()
            kept.append(time.perf_counter() - started)
    return statistics.median(samples[0]) * 1000, statistics.median(samples[1]) * 1000


class Checks:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def check(self, ok: bool, message: str) -> None:
        print(("  ok   " if ok else "  FAIL ") + message)
        if not ok:
            self.failures.append(message)

    def timed(self, label: str, ours_ms: float, floor_ms: float) -> None:
        ratio = ours_ms / floor_ms
        self.check(
            ours_ms < QUERY_TARGET_MS and ratio <= FLOOR_RATIO,
            f"{label}: {ours_ms:.1f} ms (floor {floor_ms:.1f} ms, {ratio:.2f}x; "
            f"target < {QUERY_TARGET_MS:.0f} ms and <= {FLOOR_RATIO}x)",
        )


def measure_queries(checks: Checks, wb: Workbench, conninfo: str, run_ids: list[str]) -> None:
    u = wb.user.id
    one, base, cand = run_ids[-1], run_ids[-2], run_ids[-1]
    with psycopg.connect(conninfo, autocommit=True) as conn:

        def floor_frame() -> object:
            return conn.execute(RESULTS, {"u": u, "r": one}).fetchall()

        def floor_compare() -> object:
            ids = {"u": u, "ids": [base, cand], "b": base, "c": cand}
            conn.execute(sql.RUNS, ids).fetchall()
            return conn.execute(sql.COMPARE, ids).fetchall(), conn.execute(
                sql.SCENARIO_COSTS, ids
            ).fetchall()

        def floor_trend() -> object:
            return conn.execute(sql.TREND, {"u": u, "s": "Bench suite", "n": 20}).fetchall()

        ids = {"u": u, "ids": [base, cand], "b": base, "c": cand}
        check_plans(
            checks,
            conninfo,
            {
                "frame": (RESULTS, {"u": u, "r": one}),
                "compare": (sql.COMPARE, ids),
                "scenario costs": (sql.SCENARIO_COSTS, ids),
                "trend": (sql.TREND, {"u": u, "s": "Bench suite", "n": 20}),
            },
        )
        frame = wb.runs.results_frame(one)
        checks.check(
            len(frame) == SCENARIOS * REPEATS * EXPECTATIONS, f"frame has {len(frame)} rows"
        )
        checks.timed(
            "run.frame()", *paired_medians_ms(lambda: wb.runs.results_frame(one), floor_frame)
        )
        diff = wb.runs.compare(base, cand)
        checks.check(len(diff) == SCENARIOS * EXPECTATIONS, f"compare has {len(diff)} rows")
        checks.timed(
            "compare", *paired_medians_ms(lambda: wb.runs.compare(base, cand), floor_compare)
        )
        trend = wb.runs.trend(suite="Bench suite", last=20)
        checks.check(len(trend) == 20, f"trend has {len(trend)} rows")
        checks.timed(
            "trend(last=20)",
            *paired_medians_ms(lambda: wb.runs.trend(suite="Bench suite", last=20), floor_trend),
        )


TABLES = ("run", "run_scenario", "run_attempt", "turn_result", "expectation_result")


def scanned(plan: dict[str, Any], found: list[str]) -> list[str]:
    """`node on table (index)` for every scan of a run table in an EXPLAIN plan."""
    if plan.get("Relation Name") in TABLES:
        index = plan.get("Index Name") or (plan.get("Plans") or [{}])[0].get("Index Name")
        found.append(f"{plan['Node Type']} on {plan['Relation Name']} ({index})")
    for child in plan.get("Plans", []):
        scanned(child, found)
    return found


def check_plans(checks: Checks, conninfo: str, statements: dict[str, tuple[str, Any]]) -> None:
    """At full size, with the planner free: no table is read whole (another user's rows)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for label, (statement, params) in statements.items():
            row = conn.execute("EXPLAIN (FORMAT JSON) " + statement, params).fetchone()
            assert row is not None
            scans = scanned(row[0][0]["Plan"], [])
            whole = [s for s in scans if s.startswith("Seq Scan")]
            checks.check(not whole, f"{label} plan: {'; '.join(scans)}")


def measure_warm_cache(checks: Checks, wb: Workbench) -> None:
    ids = [
        wb.scenarios.create(
            ScenarioCreate(name=f"Cache {n}", turns=(user(f"q{n}"), expect(must_contain(f"q{n}"))))
        ).id
        for n in range(SCENARIOS)
    ]
    suite = wb.suites.create(name="Cache suite", scenario_ids=ids)
    prompt = wb.prompts.create(name="Cache prompt", content="Be brief.")
    with StandIn(latency_s=0.05, max_lifetime_s=120) as server:
        target = workbench.openai_compatible(
            base_url=server.openai_base_url, model="m", temperature=0, max_retries=0
        )

        def play() -> float:
            started = time.perf_counter()
            wb.runs.start(
                suite=suite.id,
                prompt=prompt.id,
                target=target,
                cache=True,
                concurrency=20,
                progress=False,
            ).wait(120)
            return time.perf_counter() - started

        cold = play()
        asked = len(server.bodies)
        warm = [play() for _ in range(5)]
        extra = len(server.bodies) - asked
    best, median = min(warm), statistics.median(warm)
    print(f"  cold run (filling the cache): {cold:.2f} s, {asked} requests")
    checks.check(
        median < WARM_TARGET_S and extra == 0,
        f"warm rerun of {SCENARIOS} scenarios: median {median:.3f} s (best {best:.3f} s), "
        f"{extra} requests (target < {WARM_TARGET_S} s, 0 requests)",
    )


def main() -> int:
    checks = Checks()
    with scratch_database("wb_bench_analysis") as (database, conninfo):
        with psycopg.connect(conninfo) as conn:
            ada, bob = add_user(conn, "Ada"), add_user(conn, "Bob")
        started = time.perf_counter()
        per_user = RUNS * SCENARIOS * REPEATS
        # Bob first, so Ada's rows are the newest: neither order may matter to the plans.
        load(conninfo, bob, str(uuid.uuid4()), 0)
        run_ids = load(conninfo, ada, str(uuid.uuid4()), per_user)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for table in ("run_attempt", "turn_result", "expectation_result"):
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('workbench.{table}', 'id'),"
                    f" (SELECT max(id) FROM workbench.{table}))"
                )
            conn.execute("VACUUM ANALYZE")
        print(
            f"loaded 2 x {per_user * EXPECTATIONS:,} expectation results "
            f"in {time.perf_counter() - started:.1f} s"
        )
        wb = Workbench(database, SignedInUser(id=ada, email=f"{ada}@bench.example", name="Ada"))
        measure_queries(checks, wb, conninfo, run_ids)
        measure_warm_cache(checks, wb)
    print("all targets met" if not checks.failures else f"{len(checks.failures)} targets missed")
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
