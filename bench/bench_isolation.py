"""Issue 13's target: row-level security costs a per-user role little on the catalog page.

Data set: the catalog benchmark's (100,000 scenarios over 91 users, one of whom owns 10,000; 4
turns and 5 expectations each), secured with `workbench db secure`. The same user's page of 50
summaries with counts is timed through `wb.scenarios.list` as the tables' owner and as that
user's own role (policies applied), alternated call by call. Target: the role within 1.2x of
the owner, for the page without and with its total.

    python bench/bench_isolation.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _scratch import scratch_database
from bench_catalog import Run, add_users, analyze, load, paired_medians_ms

import workbench
from workbench.db.security import provision_role, revoke_role, secure
from workbench.handle import SignedInUser, Workbench

RATIO_TARGET = 1.2


def main() -> int:
    run = Run()
    with scratch_database("wb_bench_isolation") as (database, conninfo):
        users = add_users(conninfo, 92, "bench")
        big, others = users[0], users[2:]
        started = time.perf_counter()
        load(conninfo, [(big, 10_000)] + [(u, 1_000) for u in others])
        analyze(conninfo)
        print(f"loaded 100,000 scenarios over 91 users in {time.perf_counter() - started:.1f} s")
        with database.engine.begin() as connection:
            secure(connection)
        owner = Workbench(database, SignedInUser(big, f"{big}@bench.example", "bench"))
        provisioned = provision_role(database, big)
        try:
            as_role = workbench.connect(provisioned.database_url())
            assert as_role.user.id == big
            for label, count_total in (("page of 50", False), ("page with its total", True)):
                ours, floor = paired_medians_ms(
                    lambda total=count_total: as_role.scenarios.list(limit=50, count_total=total),
                    lambda total=count_total: owner.scenarios.list(limit=50, count_total=total),
                    300,
                )
                ratio = ours / floor
                print(f"  {label:20} role {ours:7.2f} ms  owner {floor:7.2f} ms  {ratio:.2f}x")
                run.check(ratio <= RATIO_TARGET, f"{label}: role within {RATIO_TARGET}x of owner")
            as_role.database.engine.dispose()
        finally:
            revoke_role(database, big)  # roles are cluster-wide: never leave one behind
    print("all targets met" if not run.failures else f"{len(run.failures)} targets missed")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
