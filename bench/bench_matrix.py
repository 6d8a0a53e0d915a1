"""Matrices (issue 23): a 2 x 2 matrix against one run of as many attempts, and its study.

Against the stand-in in its own process at 50 ms a reply:

- a 2 prompts x 2 models matrix of 500 single-turn scenarios x 3 repeats (6,000 attempts;
  each model's budget `PER_MODEL`, so 2 * PER_MODEL requests at once) takes at most 1.3x the
  time of one run of 6,000 attempts (500 scenarios x 12 repeats) at concurrency 2 * PER_MODEL;
- `m.summary()` and `m.compare(baseline)` each under 300 ms (the best of 3);
- `m.report(path)` under 2 s, the file under 5 MB.

    .venv/bin/python bench/bench_matrix.py      # WORKBENCH_BENCH_DATABASE_URL, else embedded
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _scratch import scratch_database
from bench_runs import make_user

from workbench.crypto.tokens import new_id
from workbench.db.models import (
    Prompt,
    Scenario,
    ScenarioExpectation,
    ScenarioSuite,
    ScenarioSuiteItem,
    ScenarioTurn,
)
from workbench.handle import Workbench
from workbench.runs.providers.targets import openai_compatible
from workbench.testing.standin import StandIn

SCENARIOS, REPEATS, PER_MODEL = 500, 3, 50
RATIO, STUDY_S, REPORT_S, REPORT_MB = 1.3, 0.3, 2.0, 5.0


def make_suite(wb: Workbench, name: str, count: int) -> str:
    """Single-turn scenarios as rows: "echo" always passes, "7" fails for most questions."""
    with wb.database.transaction() as session:
        suite = ScenarioSuite(user_id=wb.user.id, name=name)
        session.add(suite)
        session.add(Prompt(user_id=wb.user.id, name="Brief", content="Be brief."))
        session.flush()
        for i in range(count):
            scenario = Scenario(user_id=wb.user.id, name=f"{name} {i}")
            session.add(scenario)
            session.flush()
            said = ScenarioTurn(scenario_id=scenario.id, order_index=0, turn_type="USER",
                                user_text=f"question {i}")  # fmt: skip
            asked = ScenarioTurn(scenario_id=scenario.id, order_index=1, turn_type="EXPECT")
            session.add_all([said, asked])
            session.flush()
            for k, value in enumerate(("echo", "7")):
                session.add(ScenarioExpectation(scenario_id=scenario.id, turn_id=asked.id,
                                                order_index=k, type="MUST_CONTAIN", value=value,
                                                values=[]))  # fmt: skip
            session.add(ScenarioSuiteItem(suite_id=suite.id, scenario_id=scenario.id,
                                          order_index=i))  # fmt: skip
        return suite.id


def best_of(times: int, call: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(times):
        started = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> int:
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    missed: list[str] = []
    with scratch_database("bench_matrix") as (database, _), StandIn.spawn(latency_s=0.05) as server:
        wb = make_user(database)
        suite = make_suite(wb, f"matrix {new_id()[:6]}", SCENARIOS)
        url = server.openai_base_url
        m1, m2 = (openai_compatible(base_url=url, model=name) for name in ("m1", "m2"))
        warm = wb.runs.start(suite=suite, prompt="Agent", target=m1, concurrency=PER_MODEL,
                             progress=False)  # fmt: skip
        warm.wait()  # imports, connections, the planner's statistics
        started = time.perf_counter()
        wb.runs.start(suite=suite, prompt="Agent", target=m1, repeats=4 * REPEATS,
                      concurrency=2 * PER_MODEL, progress=False).wait()  # fmt: skip
        single_s = time.perf_counter() - started
        started = time.perf_counter()
        m = wb.runs.matrix(suite=suite, prompts=["Agent", "Brief"], targets=[m1, m2],
                           repeats=REPEATS, concurrency=PER_MODEL)  # fmt: skip
        m.wait()
        matrix_s = time.perf_counter() - started
        ratio = matrix_s / single_s
        print(f"2 x 2 matrix, {SCENARIOS} scenarios x {REPEATS} repeats (6,000 attempts): "
              f"{matrix_s:.2f} s; one run of 6,000 attempts at concurrency {2 * PER_MODEL}: "
              f"{single_s:.2f} s; ratio {ratio:.2f} (target {RATIO})")  # fmt: skip
        if ratio > RATIO:
            missed.append("matrix vs one run")
        summary_s, summary = best_of(3, m.summary)
        compare_s, _ = best_of(3, lambda: m.compare(baseline=("Agent", "m1")))
        print(f"summary {summary_s * 1000:.0f} ms, compare {compare_s * 1000:.0f} ms "
              f"(target {STUDY_S * 1000:.0f} ms each)")  # fmt: skip
        assert int(summary["attempts"].sum()) == 4 * SCENARIOS * REPEATS
        missed += [name for name, s in (("summary", summary_s), ("compare", compare_s))
                   if s > STUDY_S]  # fmt: skip
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            path = m.report(Path(scratch) / "report.html", baseline=("Agent", "m1"))
            report_s = time.perf_counter() - started
            size_mb = path.stat().st_size / 1e6
        print(f"report {report_s:.2f} s (target {REPORT_S} s), {size_mb:.2f} MB "
              f"(target {REPORT_MB} MB)")  # fmt: skip
        if report_s > REPORT_S or size_mb > REPORT_MB:
            missed.append("report")
    print("all targets met" if not missed else f"MISSED: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
