"""Issue 5's targets for the scenario catalog, each against a floor measured in the same run.

Data set: 100,000 scenarios over 91 users, one of whom owns 10,000; 4 turns and 5 expectations
each. The floor is a hand-written SQL query through psycopg on one open connection. Targets:
- a page of 50 summaries with counts: under 5 ms median and within 1.5x of the floor;
- all 10,000 summaries of the big user: within 1.35x of the floor (issue 24; 1.5x in issue 5);
- importing 10,000 scenarios with their turns and expectations: under 10 s;
- with 1,000,000 scenarios in the database, the page of 50 still under 5 ms.
For reference, the web app's ORM (Prisma 7, findMany with _count) takes about 330 ms for the
page and 1.2 s for the 10,000 on this kind of machine.

    python bench/bench_catalog.py [--skip-million]
"""

from __future__ import annotations

import argparse
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

from workbench.db.engine import Database
from workbench.handle import SignedInUser, Workbench

PAGE_TARGET_MS = 5.0
FLOOR_RATIO = 1.5
ALL_RATIO = 1.35
IMPORT_TARGET_S = 10.0

FLOOR_SQL = """
SELECT s.id, s.name, s.description, s.locale, s.status, s.version, s.tags, s."createdAt",
       s."updatedAt",
       (SELECT count(*) FROM "ScenarioTurn" t WHERE t."scenarioId" = s.id) AS turn_count,
       (SELECT count(*) FROM "ScenarioExpectation" e WHERE e."scenarioId" = s.id)
           AS expectation_count
       {total}
FROM "Scenario" s WHERE s.user_id = %(user)s
ORDER BY s."updatedAt" DESC, s.id DESC {limit}
"""
TOTAL_SQL = ', (SELECT count(*) FROM "Scenario" o WHERE o.user_id = %(user)s) AS total'


def copy_rows(
    conn: psycopg.Connection[Any], table: str, columns: str, rows: Iterator[tuple[Any, ...]]
) -> None:
    with conn.cursor().copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def next_ids(conninfo: str) -> tuple[int, int]:
    """The highest turn and expectation ids so far: COPY continues after them."""
    with psycopg.connect(conninfo) as conn:
        turn = conn.execute('SELECT coalesce(max(id), 0) FROM "ScenarioTurn"').fetchone()
        expectation = conn.execute(
            'SELECT coalesce(max(id), 0) FROM "ScenarioExpectation"'
        ).fetchone()
    assert turn is not None and expectation is not None
    return int(turn[0]), int(expectation[0])


def load(conninfo: str, owners: list[tuple[str, int]]) -> None:
    """COPY `count` scenarios for each (user id, count), 4 turns and 5 expectations each."""
    now = datetime.now(UTC).replace(tzinfo=None)
    scenarios, turns, expectations = [], [], []
    turn_id, expectation_id = next_ids(conninfo)
    for user_id, count in owners:
        for number in range(count):
            scenario_id = str(uuid.uuid4())
            stamp = now - timedelta(seconds=number)
            scenarios.append(
                (
                    scenario_id,
                    user_id,
                    f"scenario {number:07d}",
                    "generated",
                    "en",
                    "DRAFT",
                    1,
                    "{bench}",
                    stamp,
                    stamp,
                )
            )
            for order in range(4):
                turn_id += 1
                kind = "USER" if order % 2 == 0 else "EXPECT"
                turns.append(
                    (turn_id, scenario_id, order, kind, "hello" if kind == "USER" else None)
                )
                if kind == "EXPECT":
                    for e_order in range(2 if order == 1 else 3):
                        expectation_id += 1
                        expectations.append(
                            (
                                expectation_id,
                                scenario_id,
                                turn_id,
                                e_order,
                                "MUST_CONTAIN",
                                "hello",
                                "{}",
                                False,
                                None,
                            )
                        )
    with psycopg.connect(conninfo) as conn:
        copy_rows(
            conn,
            "Scenario",
            'id, user_id, name, description, locale, status, version, tags, "createdAt", '
            '"updatedAt"',
            iter(scenarios),
        )
        copy_rows(
            conn,
            "ScenarioTurn",
            'id, "scenarioId", "orderIndex", "turnType", "userText"',
            iter(turns),
        )
        copy_rows(
            conn,
            "ScenarioExpectation",
            'id, "scenarioId", "turnId", "orderIndex", type, value, "values", "caseSensitive", '
            "threshold",
            iter(expectations),
        )


def add_users(conninfo: str, count: int, prefix: str) -> list[str]:
    now = datetime.now(UTC).replace(tzinfo=None)
    ids = [f"{prefix}{n:06d}".ljust(32, "x") for n in range(count)]
    with psycopg.connect(conninfo) as conn:
        copy_rows(
            conn,
            "user",
            'id, name, email, "emailVerified", "createdAt", "updatedAt"',
            ((i, "bench", f"{i}@bench.example", False, now, now) for i in ids),
        )
    return ids


def analyze(conninfo: str) -> None:
    """Advance the id sequences past the COPYed ids (later inserts use them), then analyze."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table in ("ScenarioTurn", "ScenarioExpectation"):
            conn.execute(
                f"""SELECT setval(pg_get_serial_sequence('"{table}"', 'id'), max(id))
                FROM "{table}" """
            )
        conn.execute("VACUUM ANALYZE")


def paired_medians_ms(
    ours: Callable[[], object], floor: Callable[[], object], rounds: int
) -> tuple[float, float]:
    """Medians of `ours` and `floor`, alternated call by call, so drift on a shared machine
    (autovacuum after a bulk load, another process) weighs on both alike."""
    ours(), floor()
    ours_samples, floor_samples = [], []
    for _ in range(rounds):
        for action, samples in ((ours, ours_samples), (floor, floor_samples)):
            started = time.perf_counter()
            action()
            samples.append(time.perf_counter() - started)
    return statistics.median(ours_samples) * 1000, statistics.median(floor_samples) * 1000


class Run:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def check(self, ok: bool, message: str) -> None:
        print(("  ok   " if ok else "  FAIL ") + message)
        if not ok:
            self.failures.append(message)


def measure_lists(
    run: Run, wb: Workbench, conninfo: str, label: str, *, check_ratios: bool
) -> None:
    """The page and the whole list, each against the same query hand-written in psycopg.

    The ratios compare like with like: summaries with counts, no total (Prisma's findMany
    with _count computes none either). The page with its total is reported beside them. The
    issue sets the ratios for the 100,000-scenario set; with 1,000,000 only the page's time.
    """
    user = {"user": wb.user.id}
    page_sql = FLOOR_SQL.format(total="", limit="LIMIT 50")
    total_sql = FLOOR_SQL.format(total=TOTAL_SQL, limit="LIMIT 50")
    all_sql = FLOOR_SQL.format(total="", limit="")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        page, page_floor = paired_medians_ms(
            lambda: wb.scenarios.list(limit=50, count_total=False),
            lambda: conn.execute(page_sql, user).fetchall(),
            300,
        )
        with_total, total_floor = paired_medians_ms(
            lambda: wb.scenarios.list(limit=50),
            lambda: conn.execute(total_sql, user).fetchall(),
            300,
        )
        everything, all_floor = paired_medians_ms(
            lambda: wb.scenarios.list(limit=None, count_total=False),
            lambda: conn.execute(all_sql, user).fetchall(),
            15,
        )
    print(f"{label}:")
    for name, ours, floor in (
        ("page of 50", page, page_floor),
        ("page with its total", with_total, total_floor),
        ("all 10,000", everything, all_floor),
    ):
        print(f"  {name:20} {ours:8.2f} ms  floor {floor:8.2f} ms  {ours / floor:.2f}x")
    run.check(page < PAGE_TARGET_MS, f"{label}: page of 50 under {PAGE_TARGET_MS} ms")
    if check_ratios:
        run.check(
            page <= FLOOR_RATIO * page_floor, f"{label}: page within {FLOOR_RATIO}x of the floor"
        )
        run.check(
            everything <= ALL_RATIO * all_floor,
            f"{label}: all 10,000 within {ALL_RATIO}x of the floor",
        )


def measure_import(run: Run, database: Database, user_id: str) -> None:
    wb = Workbench(
        database, SignedInUser(id=user_id, email=f"{user_id}@bench.example", name="bench")
    )
    document = {
        "format": "workbench.scenarios/v1",
        "scenarios": [
            {
                "name": f"imported {n:05d}",
                "turns": [
                    {"user": "Hello"},
                    {
                        "expect": [
                            {"type": "MUST_CONTAIN", "value": "hello"},
                            {"type": "REGEX", "value": "h.llo"},
                        ]
                    },
                    {"user": "And then?"},
                    {
                        "expect": [
                            {"type": "MUST_CONTAIN_ANY", "values": ["a", "b"]},
                            {"type": "MUST_NOT_CONTAIN", "value": "error"},
                            {"type": "SEMANTIC_ASSERT", "value": "polite", "threshold": 0.7},
                        ]
                    },
                ],
            }
            for n in range(10_000)
        ],
    }
    started = time.perf_counter()
    wb.import_scenarios(document)
    seconds = time.perf_counter() - started
    print(f"import of 10,000 scenarios (40,000 turns, 50,000 expectations): {seconds:.2f} s")
    run.check(seconds < IMPORT_TARGET_S, f"import under {IMPORT_TARGET_S} s")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-million", action="store_true", help="skip the 1,000,000-row check")
    args = parser.parse_args()
    run = Run()
    with scratch_database("wb_bench_catalog") as (database, conninfo):
        users = add_users(conninfo, 92, "bench")
        big, importer, others = users[0], users[1], users[2:]
        started = time.perf_counter()
        load(conninfo, [(big, 10_000)] + [(u, 1_000) for u in others])
        analyze(conninfo)
        print(f"loaded 100,000 scenarios over 91 users in {time.perf_counter() - started:.1f} s")
        wb = Workbench(database, SignedInUser(id=big, email=f"{big}@bench.example", name="bench"))
        measure_lists(run, wb, conninfo, "100,000 scenarios", check_ratios=True)
        measure_import(run, database, importer)
        if not args.skip_million:
            started = time.perf_counter()
            extra = add_users(conninfo, 900, "more")
            for chunk in range(0, 900, 100):
                load(conninfo, [(u, 1_000) for u in extra[chunk : chunk + 100]])
            analyze(conninfo)
            print(f"loaded 900,000 more scenarios in {time.perf_counter() - started:.1f} s")
            measure_lists(run, wb, conninfo, "1,010,000 scenarios", check_ratios=False)
    print("all targets met" if not run.failures else f"{len(run.failures)} targets missed")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
