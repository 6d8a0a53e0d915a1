"""What the ledger's own writes cost per attempt (issue 24): statements, rows, HOT, WAL, time.

No HTTP: the ledger calls an executor makes are driven directly, as `workbench worker` makes
them at `--concurrency 200`: claims of `CLAIM` attempts, results written in batches of `BATCH`
(the `ResultWriter`'s), one heartbeat per 10 claims (a worker beats every 10 s: fewer still). Each
attempt's result is what `bench_workers` stores: one turn and 4 string checks. The run is
queued with `wb.runs.start(..., executor="workers")` before the clock starts, so its inserts
are not counted (they are `start()`'s).

Printed, per attempt: statements sent, wall time of the ledger calls (client and server: the
database is on this machine), the rows inserted and updated with how many updates were HOT
(`pg_stat_user_tables`), and the WAL written. `--rounds` repeats it on fresh runs.

    .venv/bin/python bench/bench_ledger.py [--attempts 10000] [--rounds 3]
    # WORKBENCH_BENCH_DATABASE_URL, else embedded
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg
from _scratch import scratch_database
from bench_runs import make_suite, make_user
from sqlalchemy import text

from workbench.db.engine import Database
from workbench.handle import Workbench
from workbench.runs.engine import AttemptResult, ExpectationRow, TurnRow
from workbench.runs.ledger import DatabaseThread, Finished, claim, heartbeat, write_results
from workbench.runs.providers import Completion
from workbench.runs.providers.targets import openai_compatible

T = TypeVar("T")
CLAIM, BATCH, SCENARIOS = 500, 200, 1000
BEAT_EVERY = 10
"""Claims per heartbeat: a worker beats every 10 s, when it has played thousands of attempts."""
TABLES = ("run_attempt", "turn_result", "expectation_result")
CHECKS = ("MUST_CONTAIN", "MUST_NOT_CONTAIN", "MUST_CONTAIN_ANY", "REGEX")


def result_of(n: int) -> AttemptResult:
    done = Completion(f"echo: question {n} part 0", "m", 0.05, 12, 6, None)
    checks = tuple(
        ExpectationRow(1, k, kind, "PASSED", {"matched": "echo"}) for k, kind in enumerate(CHECKS)
    )
    return AttemptResult("passed", None, 0.05, (TurnRow(1, 2, done, None),), checks)


def flush_statistics(database: Database) -> None:
    """Every pooled connection's table statistics into the shared counters (a backend reports
    them when idle, but at most once a second, else up to 10 s later)."""
    connections = [database.engine.connect() for _ in range(database.engine.pool.size())]
    for connection in connections:
        connection.execute(text("SELECT pg_stat_force_next_flush()"))
        connection.commit()
    for connection in connections:
        connection.close()
    time.sleep(0.3)


def table_stats(database: Database) -> dict[str, int]:
    """Rows inserted and updated, and HOT updates, of the ledger's tables, and the WAL position."""
    flush_statistics(database)
    got: dict[str, int] = {}
    with database.engine.connect() as connection:
        for name, ins, upd, hot in connection.execute(
            text("SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
                 " WHERE schemaname = 'workbench' AND relname = ANY(:t)"),
            {"t": list(TABLES)},
        ):  # fmt: skip
            got |= {f"{name} inserted": ins, f"{name} updated": upd, f"{name} HOT": hot}
        lsn = "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"
        got["WAL bytes"] = int(connection.execute(text(lsn)).scalar_one())
    return got


def server_cpu_s(database: Database) -> float:
    """CPU seconds used so far by the backends serving this database (PostgreSQL runs on this
    machine: /proc). Unlike wall time, barely moved by other work on a shared machine."""
    with database.engine.connect() as connection:
        pids = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        total = 0.0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
            except OSError:  # not on this machine, or gone
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def queued_run(wb: Workbench, suite: str, repeats: int) -> str:
    target = openai_compatible(base_url="http://127.0.0.1:9/v1", model="m")
    run = wb.runs.start(suite=suite, prompt="Agent", target=target, repeats=repeats,
                        executor="workers", progress=False)  # fmt: skip
    expected = SCENARIOS * repeats
    deadline = time.monotonic() + 120
    while count_attempts(wb.database, run.id) < expected:  # a streaming start() may lag
        assert time.monotonic() < deadline, "the run's attempts were never all queued"
        time.sleep(0.05)
    return run.id


def count_attempts(database: Database, run_id: str) -> int:
    with database.engine.connect() as connection:
        sql = text("SELECT count(*) FROM workbench.run_attempt WHERE run_id = :r")
        return int(connection.execute(sql, {"r": run_id}).scalar_one())


_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-ledger")


def call(db: DatabaseThread, function: Callable[..., T], /, **kwargs: Any) -> T:
    """`function` in its own transaction on the bench's ledger thread (whose statements count)."""
    return _THREAD.submit(db.run_sync, function, **kwargs).result()


def drive(db: DatabaseThread, ids: dict[str, str]) -> tuple[int, dict[str, float]]:
    """Claim and store every attempt of the run; the count and seconds per ledger call."""
    seconds: Counter[str] = Counter()
    done = claims = after = 0
    while True:
        started = time.perf_counter()
        batch = call(db, claim, limit=CLAIM, after=after, **ids)  # past what it took, as _Feed
        seconds["claim"] += time.perf_counter() - started
        if not batch:
            return done, dict(seconds)
        after = batch[-1].attempt_id
        claims += 1
        if claims % BEAT_EVERY == 1:
            started = time.perf_counter()
            call(db, heartbeat, **ids)
            seconds["heartbeat"] += time.perf_counter() - started
        for first in range(0, len(batch), BATCH):
            finished = [
                Finished(c.attempt_id, result_of(c.position)) for c in batch[first:][:BATCH]
            ]
            started = time.perf_counter()
            call(db, write_results, finished=finished, **ids)
            seconds["write_results"] += time.perf_counter() - started
        done += len(batch)


def one_round(wb: Workbench, suite: str, attempts: int) -> dict[str, float]:
    run_id = queued_run(wb, suite, attempts // SCENARIOS)
    db = DatabaseThread(wb.database)
    ids = {"run_id": run_id, "user_id": wb.user.id, "owner": "bench-ledger"}
    statements: list[str] = []
    original = psycopg.Cursor.execute

    def counted(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name.startswith("bench-ledger"):  # not the handle's
            statements.append(str(query))
        return original(cursor, query, *args, **kwargs)

    before = table_stats(wb.database)
    server_before, client_before = server_cpu_s(wb.database), time.process_time()
    psycopg.Cursor.execute = counted  # type: ignore[method-assign]
    try:
        done, seconds = drive(db, ids)
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]
        db.close()
    server_s = server_cpu_s(wb.database) - server_before
    client_s = time.process_time() - client_before
    after = table_stats(wb.database)
    assert done == attempts, f"stored {done} of {attempts}"
    figures = {f"{k}": (after[k] - before[k]) / done for k in after}
    figures |= {f"{k} ms": 1000 * v / done for k, v in seconds.items()}
    figures["ledger ms"] = 1000 * sum(seconds.values()) / done
    figures["PostgreSQL CPU ms"] = 1000 * server_s / done
    figures["client CPU ms"] = 1000 * client_s / done
    figures["statements"] = len(statements) / done  # BEGIN and COMMIT are not in the count
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=200, help="attempts per results batch")
    args = parser.parse_args()
    global BATCH
    BATCH = args.batch
    assert args.attempts % SCENARIOS == 0, f"--attempts is a multiple of {SCENARIOS}"
    with scratch_database("bench_ledger") as (database, _):
        wb = make_user(database)
        suite = make_suite(wb, "ledger", SCENARIOS, 1)
        one_round(wb, suite, SCENARIOS)  # warm: the planner's statistics, the page cache
        rounds = [one_round(wb, suite, args.attempts) for _ in range(args.rounds)]
    print(f"{args.attempts} attempts per round, claims of {CLAIM}, batches of {BATCH}; per "
          f"attempt, median [min-max] of {args.rounds} rounds:")  # fmt: skip
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        print(f"  {key:32} {statistics.median(values):9.4f}  [{min(values):.4f}-{max(values):.4f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
