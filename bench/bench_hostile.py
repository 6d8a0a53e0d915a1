"""Hostile input stays bounded: template scanning is linear, a save at every limit is quick.

Targets (ratios within this run, so a busy machine moves both sides alike):
- scanning a 1 MB template takes at most 15x a 100 KB one (linear is ~10x; the old
  newline-counting scan was ~100x);
- creating a scenario at every limit at once (limits.py) takes under a second;
- refusing a 358-byte YAML alias bomb takes under 0.1 s (the old import ran for ~110 s).

Run: .venv/bin/python bench/bench_hostile.py   (exits 1 on a missed target)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib
import itertools

from _scratch import scratch_database

SCALING_TARGET = 15.0
SAVE_TARGET_S = 1.0
BOMB_TARGET_S = 0.1

LEVELS = "abcdefghi"
BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in itertools.pairwise(LEVELS)]
)


def best_of(call: Callable[[], object], times: int = 5) -> float:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return min(samples)


def template(size: int) -> str:
    unit = "{{a}} text\n"
    return unit * (size // len(unit))


def scanning() -> tuple[float, float]:
    from workbench.services.prompts.templates import scan

    small, large = template(100_000), template(1_000_000)
    return best_of(lambda: scan(small)), best_of(lambda: scan(large))


def limit_save_and_bomb() -> tuple[float, float]:
    from tests.conftest import insert_user
    from workbench.errors import ValidationError
    from workbench.handle import Workbench
    from workbench.services import limits
    from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user

    with scratch_database("wbbench_hostile") as (database, _):
        wb = Workbench(database, insert_user(database))
        per_turn = limits.MAX_SCENARIO_TEXT // limits.MAX_TURNS // 2 - 10
        checks = [must_contain("x" * 5) for _ in range(limits.MAX_EXPECTATIONS_PER_TURN)]
        turns = [
            user("u" * per_turn) if i % 2 == 0 else expect(*checks) for i in range(limits.MAX_TURNS)
        ]
        tags = tuple(f"tag {i}" for i in range(limits.MAX_TAGS))
        start = time.perf_counter()
        wb.scenarios.create(ScenarioCreate("at every limit", tags=tags, turns=tuple(turns)))
        save = time.perf_counter() - start

        def bomb() -> None:
            with contextlib.suppress(ValidationError):
                wb.import_scenarios(BOMB)

        return save, best_of(bomb)


def main() -> int:
    small, large = scanning()
    ratio = large / small
    save, bomb = limit_save_and_bomb()
    print(f"scan 100 KB template      {small * 1000:8.1f} ms")
    print(
        f"scan 1 MB template        {large * 1000:8.1f} ms   "
        f"({ratio:.1f}x, target <= {SCALING_TARGET})"
    )
    print(
        f"save at every limit       {save * 1000:8.1f} ms   (target < {SAVE_TARGET_S * 1000:.0f})"
    )
    print(
        f"refuse the alias bomb     {bomb * 1000:8.1f} ms   (target < {BOMB_TARGET_S * 1000:.0f})"
    )
    missed = [
        label
        for label, ok in [
            ("template scanning is not linear", ratio <= SCALING_TARGET),
            ("a save at every limit is too slow", save < SAVE_TARGET_S),
            ("refusing the alias bomb is too slow", bomb < BOMB_TARGET_S),
        ]
        if not ok
    ]
    for label in missed:
        print(f"MISSED: {label}")
    if not missed:
        print("all hostile-input targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
