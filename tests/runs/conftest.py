"""Fixtures for runs: a user with a suite of scenarios and a prompt, written through services."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from workbench.handle import Workbench
from workbench.services.scenarios.types import (
    ScenarioCreate,
    TurnSpec,
    expect,
    must_contain,
    must_not_contain,
    user,
)


@dataclass(frozen=True)
class Setup:
    wb: Workbench
    suite_id: str
    prompt_id: str
    scenario_ids: tuple[str, ...]


def make_setup(
    wb: Workbench, scenarios: dict[str, list[TurnSpec]], prompt: str = "Be {{ tone }}."
) -> Setup:
    ids = tuple(
        wb.scenarios.create(ScenarioCreate(name=name, turns=turns)).id
        for name, turns in scenarios.items()
    )
    suite = wb.suites.create(name="Smoke", scenario_ids=list(ids))
    made = wb.prompts.create(name="Support", content=prompt)
    wb.variables.set_many({"tone": "kind"})
    return Setup(wb, suite.id, made.id, ids)


@pytest.fixture
def setup(wb: Workbench) -> Setup:
    return make_setup(
        wb,
        {
            "Greets": [user("hello"), expect(must_contain("echo: hello"))],
            "Two turns": [
                user("first"),
                expect(must_contain("first"), must_not_contain("first")),
                user("second"),
                expect(must_contain("second")),
                user("never sent"),
            ],
        },
    )
