"""Benchmark: the editors open fast and add almost nothing to the service calls they make.

    .venv/bin/python bench/bench_editors.py

Prints the figures and exits non-zero when a target is missed (medians of several runs):
- `ScenarioEditor(wb.scenarios, id)` on a scenario of 50 turns < 150 ms, of 200 turns < 500 ms
  (kernel side: the read and every widget built); and on 50 turns with 5 tools and two tool
  checks on every EXPECT turn < 150 ms;
- `ScenarioBrowser(wb.scenarios)` first page with 10,000 scenarios stored < 100 ms;
- Save from the editor (50 turns) within 1.2x of the `wb.scenarios.update` call it makes,
  the two alternated call by call so both see the same database state.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._scratch import scratch_database

RUNS = 9
SAVE_RUNS = 15
TARGETS_S = {50: 0.150, 200: 0.500}
BROWSER_TARGET_S = 0.100
SAVE_RATIO_MAX = 1.2
CATALOG = 10_000


def median_of(action: Callable[[], object], runs: int = RUNS) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def turns_of(count: int) -> list[object]:
    from workbench.services.scenarios.types import expect, must_contain, must_contain_any, user

    return [
        user(f"message {i}")
        if i % 2 == 0
        else expect(must_contain(f"word {i}"), must_contain_any("a", "b"))
        for i in range(count)
    ]


def tools_scenario() -> object:
    """50 turns as `turns_of(50)`, each EXPECT turn with two tool checks, and 5 tools."""
    from dataclasses import replace

    from workbench import called, not_called, tool
    from workbench.services.scenarios.types import ScenarioCreate

    order = {"type": "object", "properties": {"order_id": {"type": "string"}}}
    tools = [tool(f"tool_{k}", "A tool", parameters=order, returns={"ok": k},
                  cases=[({"order_id": "A2"}, {"ok": -k})]) for k in range(5)]  # fmt: skip
    checks = (called("tool_0", args={"order_id": "A1"}, times=1), not_called("tool_4"))
    turns = [t if t.type.value == "USER" else replace(t, tool_checks=checks) for t in turns_of(50)]  # type: ignore[attr-defined]
    return ScenarioCreate(name="50 turns with tools", turns=tuple(turns), tools=tuple(tools))  # type: ignore[arg-type]


def catalog_document(count: int) -> dict[str, object]:
    turns = [{"user": "hello"}, {"expect": [{"type": "MUST_CONTAIN", "value": "hi"}]}]
    return {
        "format": "workbench.scenarios/v1",
        "scenarios": [{"name": f"scenario {i:05d}", "turns": turns} for i in range(count)],
    }


def main() -> int:
    from tests.conftest import insert_user
    from workbench.handle import Workbench
    from workbench.services.scenarios.types import ScenarioCreate, ScenarioUpdate, user
    from workbench.widgets.scenario_browser import ScenarioBrowser
    from workbench.widgets.scenario_editor import ScenarioEditor

    missed: list[str] = []
    with scratch_database("wbbench_editors") as (database, _):
        wb = Workbench(database, insert_user(database))
        ids = {}
        for count in TARGETS_S:
            spec = ScenarioCreate(name=f"{count} turns", turns=tuple(turns_of(count)))  # type: ignore[arg-type]
            ids[count] = wb.scenarios.create(spec).id
        for count, target in TARGETS_S.items():
            ScenarioEditor(wb.scenarios, ids[count]).close()  # warm imports and caches
            figure = median_of(lambda c=count: ScenarioEditor(wb.scenarios, ids[c]).close())
            report(f"ScenarioEditor open, {count} turns", figure, target, missed)
        with_tools = wb.scenarios.create(tools_scenario()).id  # type: ignore[arg-type]
        ScenarioEditor(wb.scenarios, with_tools).close()
        figure = median_of(lambda: ScenarioEditor(wb.scenarios, with_tools).close())
        report("ScenarioEditor open, 50 turns, tools", figure, TARGETS_S[50], missed)

        editor = ScenarioEditor(wb.scenarios, ids[50])
        service_times, editor_times = [], []
        for i in range(SAVE_RUNS):
            # Alternated, and in turns first and second, so neither gets the warmer database.
            for by_editor in (True, False) if i % 2 == 0 else (False, True):
                view = wb.scenarios.get(ids[50])
                if by_editor:
                    editor._load(view)
                    editor.turns[0].text.value = f"edited {i} by the editor"
                    started = time.perf_counter()
                    editor.save()
                    editor_times.append(time.perf_counter() - started)
                    assert editor.version == view.version + 1, editor.message.value
                else:
                    first = user(f"edited {i} by the service")
                    # The very call the editor makes: every field, every turn.
                    changes = ScenarioUpdate(
                        name=view.name,
                        description=view.description,
                        locale=view.locale,
                        tags=view.tags,
                        turns=(first, *view.turns[1:]),
                        tools=view.tools,
                    )
                    started = time.perf_counter()
                    wb.scenarios.update(ids[50], changes, expected_version=view.version)
                    service_times.append(time.perf_counter() - started)
        ratio = statistics.median(editor_times) / statistics.median(service_times)
        print(
            f"save from the editor {statistics.median(editor_times) * 1e3:8.2f} ms vs "
            f"service update {statistics.median(service_times) * 1e3:8.2f} ms: "
            f"{ratio:.2f}x (target ≤ {SAVE_RATIO_MAX}x)"
        )
        if ratio > SAVE_RATIO_MAX:
            missed.append("save ratio")

        started = time.perf_counter()
        wb.import_scenarios(catalog_document(CATALOG))
        print(f"imported {CATALOG:,} scenarios in {time.perf_counter() - started:.1f} s")
        ScenarioBrowser(wb.scenarios).close()
        figure = median_of(lambda: ScenarioBrowser(wb.scenarios).close())
        report(f"ScenarioBrowser first page of {CATALOG + 2:,}", figure, BROWSER_TARGET_S, missed)
    if missed:
        print("MISSED: " + ", ".join(missed))
        return 1
    print("all targets met")
    return 0


def report(label: str, figure: float, target: float, missed: list[str]) -> None:
    verdict = "ok" if figure < target else "MISSED"
    print(f"{label:45s} {figure * 1e3:8.2f} ms (target < {target * 1e3:.0f} ms) {verdict}")
    if figure >= target:
        missed.append(label)


if __name__ == "__main__":
    sys.exit(main())
