"""Issue 26's targets for reviews, each against a floor measured in the same run.

Data set (loaded by COPY straight into the run tables, labels by one INSERT ... SELECT): two
users, each with one run of 5,000 scenarios x 5 repeats x 4 SEMANTIC_ASSERT expectations
(100,000 judged results, two thresholds), every result labelled (pass, fail, a few unsure).
Targets, for the first user (the second one's rows must not slow them):
- `wb.reviews.agreement(run)` over 100,000 labelled results: under 300 ms median and within 2x
  of a hand-written SQL query (the 2x2 counts grouped by type, prompt version, threshold,
  verdict and label, fetched through psycopg, no statistics);
- no statement of reviews reads a table whole (EXPLAIN at full size);
- printed, no target: `threshold_curve(run)`, and the ReviewWidget's next item from Python (key
  to widget values set) over a queue of 10,000 items.

    python bench/bench_review.py
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _scratch import scratch_database

from workbench.handle import SignedInUser, Workbench
from workbench.services.reviews import sql

SCENARIOS, REPEATS, EXPECTATIONS = 5_000, 5, 4
RESULTS = SCENARIOS * REPEATS * EXPECTATIONS
TARGET_MS, FLOOR_RATIO, QUEUE_ITEMS = 300.0, 2.0, 10_000
TURNS = json.dumps([{"type": "USER", "text": "hi"}, {"type": "EXPECT", "expectations": []}])

# What a person would write by hand over the same table: the pairs counted, nothing else.
HAND_WRITTEN = """
SELECT type, judge_prompt_version, threshold, judge_status, label, count(*)
FROM workbench.review_label
WHERE user_id = %(u)s AND run_id = %(r)s
GROUP BY 1, 2, 3, 4, 5
"""
# The same counts read through the join to the results (what the label's copy of its verdict
# saves): printed for comparison, no target.
THROUGH_RESULTS = """
SELECT e.type, e.detail ->> 'prompt_version', e.detail ->> 'threshold', e.status, l.label,
       count(*)
FROM workbench.review_label l
JOIN workbench.expectation_result e ON e.id = l.result_id
WHERE l.user_id = %(u)s AND l.run_id = %(r)s AND e.user_id = %(u)s AND e.run_id = %(r)s
GROUP BY 1, 2, 3, 4, 5
"""

# Every result labelled: mostly as the judge said, one in ten the other way, one in 37 unsure.
LABEL_ALL = """
INSERT INTO workbench.review_label
    (user_id, result_id, run_id, label, comment, type, judge_status, judge_prompt_version,
     threshold, judge_score, labelled_by, created_at, updated_at)
SELECT user_id, id, run_id,
       CASE WHEN abs(hashtext(id::text)) %% 37 = 0 THEN 'unsure'
            WHEN (status = 'PASSED') = (abs(hashtext(id::text)) %% 10 <> 0) THEN 'pass'
            ELSE 'fail' END,
       NULL, type, status, detail ->> 'prompt_version', (detail ->> 'threshold')::float8,
       (detail ->> 'score')::float8, user_id, now(), now()
FROM workbench.expectation_result WHERE user_id = %(u)s AND run_id = %(r)s
"""


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


def load(
    conninfo: str, user_id: str, first_attempt: int, count: int = SCENARIOS, labelled: bool = True
) -> str:
    """One judged run of `count` scenarios for `user_id` (every result labelled, if
    `labelled`); its id."""
    rng = random.Random(user_id)
    run_id, now = str(uuid.uuid4()), datetime.now(UTC).replace(tzinfo=None)
    target = json.dumps({"provider": "openai", "model": "gpt-4o-mini"})
    run = (run_id, user_id, "s", "Bench suite", "p", "Prompt", now, "sys", "0" * 64, target,
           REPEATS, "{}", "finished", now, now, now, "{}")  # fmt: skip
    scenarios, attempts, expectations = [], [], []
    attempt_id = first_attempt
    for position in range(count):
        scenario_id = str(uuid.uuid4())
        scenarios.append((run_id, position, user_id, scenario_id, f"S{position}", 1, TURNS))
        for repeat in range(REPEATS):
            attempt_id += 1
            attempts.append((attempt_id, run_id, user_id, position, scenario_id, repeat,
                             "passed", 1, now, now, 0.5))  # fmt: skip
            for index in range(EXPECTATIONS):
                score, threshold = round(rng.random(), 3), (0.5 if index % 2 else 0.7)
                detail = {"score": score, "threshold": threshold, "prompt_version": "judge-v1",
                          "reasoning": "bench"}  # fmt: skip
                status = "PASSED" if score >= threshold else "FAILED"
                expectations.append((attempt_id, run_id, user_id, 1, index, "SEMANTIC_ASSERT",
                                     status, json.dumps(detail)))  # fmt: skip
    with psycopg.connect(conninfo) as conn:
        copy_rows(conn, "run", "id, user_id, suite_id, suite_name, prompt_id, prompt_name,"
                  " prompt_updated_at, system_text, system_sha256, target, repeats, options,"
                  " status, created_at, started_at, finished_at, totals", iter([run]))  # fmt: skip
        copy_rows(conn, "run_scenario", "run_id, position, user_id, scenario_id, scenario_name,"
                  " scenario_version, turns", iter(scenarios))  # fmt: skip
        copy_rows(conn, "run_attempt", "id, run_id, user_id, position, scenario_id, repeat,"
                  " status, tries, started_at, finished_at, latency_s", iter(attempts))  # fmt: skip
        copy_rows(conn, "expectation_result", "attempt_id, run_id, user_id, turn_index,"
                  " expectation_index, type, status, detail", iter(expectations))  # fmt: skip
        if labelled:
            conn.execute(LABEL_ALL, {"u": user_id, "r": run_id})
    return run_id


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


TABLES = ("run", "review_label", "expectation_result", "run_attempt", "run_scenario")


def scanned(plan: dict[str, Any], found: list[str]) -> list[str]:
    """`node on table (index)` for every scan of a table of ours in an EXPLAIN plan."""
    if plan.get("Relation Name") in TABLES:
        index = plan.get("Index Name") or (plan.get("Plans") or [{}])[0].get("Index Name")
        found.append(f"{plan['Node Type']} on {plan['Relation Name']} ({index})")
    for child in plan.get("Plans", []):
        scanned(child, found)
    return found


def check_plans(checks: Checks, conninfo: str, u: str, r: str) -> None:
    columns = {name: expression for name, (expression, _) in sql.GROUPS.items()}
    statements = {
        "agreement": (sql.AGREEMENT.format(**columns), {"u": u, "r": r}),
        "threshold curve": (sql.THRESHOLD_CURVE, {"u": u, "r": r, "cuts": [0.5]}),
        "queue candidates": (sql.CANDIDATES, {"u": u, "r": r}),
    }
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for label, (statement, params) in statements.items():
            row = conn.execute("EXPLAIN (FORMAT JSON) " + statement, params).fetchone()
            assert row is not None
            scans = scanned(row[0][0]["Plan"], [])
            whole = [s for s in scans if s.startswith("Seq Scan")]
            checks.check(not whole, f"{label} plan: {'; '.join(scans)}")


def measure_agreement(checks: Checks, wb: Workbench, conninfo: str, run_id: str) -> None:
    u = wb.user.id
    with psycopg.connect(conninfo, autocommit=True) as conn:

        def floor() -> object:
            return conn.execute(HAND_WRITTEN, {"u": u, "r": run_id}).fetchall()

        frame = wb.reviews.agreement(run_id)
        pairs, unsure = int(frame["n"].sum()), int(frame["unsure"].sum())
        checks.check(pairs + unsure == RESULTS, f"agreement: {pairs} pairs + {unsure} unsure")
        print(frame[["threshold", "n", "kappa", "kappa_low", "kappa_high", "f1"]].to_string())
        ours_ms, floor_ms = paired_medians_ms(lambda: wb.reviews.agreement(run_id), floor)
        ratio = ours_ms / floor_ms
        checks.check(
            ours_ms < TARGET_MS and ratio <= FLOOR_RATIO,
            f"agreement over {RESULTS:,} labelled results: {ours_ms:.1f} ms (hand-written SQL "
            f"{floor_ms:.1f} ms, {ratio:.2f}x; target < {TARGET_MS:.0f} ms and <= {FLOOR_RATIO}x)",
        )
        started = time.perf_counter()
        conn.execute(THROUGH_RESULTS, {"u": u, "r": run_id}).fetchall()
        joined_ms = (time.perf_counter() - started) * 1000
        print(f"  the same counts joined to the results instead: {joined_ms:.0f} ms (no target)")
    started = time.perf_counter()
    curve = wb.reviews.threshold_curve(run_id)
    print(f"  threshold_curve: {(time.perf_counter() - started) * 1000:.0f} ms, best "
          f"{curve.attrs['best_threshold']} (no target)")  # fmt: skip


def measure_widget(wb: Workbench, run_id: str) -> None:
    """The kernel's share of the next item over an unlabelled queue of 10,000: from a key to the
    widget's values set, the next one read ahead included (no target here; the browser's
    whole path is bench/bench_review_browser.py's)."""
    from workbench.widgets.review import ReviewWidget

    started = time.perf_counter()
    widget = ReviewWidget(wb.reviews.queue(run_id))
    opened = time.perf_counter() - started
    for key in "pn":
        waits = []
        for _ in range(25):
            started = time.perf_counter()
            widget.press(key)
            waits.append(time.perf_counter() - started)
        print(f"  ReviewWidget over {len(widget.queue):,} items (opened in {opened * 1000:.0f} ms):"
              f" key {key!r} median {statistics.median(waits) * 1000:.1f} ms, max "
              f"{max(waits) * 1000:.1f} ms (no target)")  # fmt: skip


def main() -> int:
    checks = Checks()
    with scratch_database("wb_bench_review") as (database, conninfo):
        with psycopg.connect(conninfo) as conn:
            ada, bob = add_user(conn, "Ada"), add_user(conn, "Bob")
        started = time.perf_counter()
        load(conninfo, bob, 0)  # Bob first: Ada's rows are the newest; neither order may matter
        run_id = load(conninfo, ada, SCENARIOS * REPEATS)
        small = QUEUE_ITEMS // (REPEATS * EXPECTATIONS)
        unlabelled = load(conninfo, ada, 2 * SCENARIOS * REPEATS, small, labelled=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("ANALYZE")
        print(f"loaded 2 x {RESULTS:,} labelled results in {time.perf_counter() - started:.1f} s")
        wb = Workbench(database, SignedInUser(id=ada, email=f"{ada}@bench.example", name="Ada"))
        check_plans(checks, conninfo, ada, run_id)
        measure_agreement(checks, wb, conninfo, run_id)
        measure_widget(wb, unlabelled)
    print("FAILED: " + "; ".join(checks.failures) if checks.failures else "all targets met")
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
