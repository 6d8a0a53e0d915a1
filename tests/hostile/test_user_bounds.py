"""Issue 18 item 3: absurd values a user passes are refused with a `WorkbenchError` saying what to
do, and never turn into a raw driver or Python error: page bounds, ids that are not ids, key names
PostgreSQL cannot store. (The run options: tests/services/runs/test_run_bounds.py.)"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

import workbench
from workbench.errors import NotFound, ValidationError, WorkbenchError
from workbench.handle import Workbench
from workbench.services.limits import MAX_PAGE
from workbench.services.scenarios.types import ScenarioCreate, user


def refused(call: Callable[[], object], error: type[WorkbenchError] = ValidationError) -> str:
    with pytest.raises(WorkbenchError) as caught:
        call()
    assert isinstance(caught.value, error), repr(caught.value)
    return str(caught.value)


@pytest.mark.parametrize("bad", [2**63, MAX_PAGE + 1, -1, 1.5, True, "10"])
def test_every_list_bounds_its_page(wb: Workbench, bad: Any) -> None:
    lists: list[Callable[..., object]] = [
        wb.scenarios.list,
        wb.suites.list,
        wb.prompts.list,
        wb.variables.list,
    ]
    for listing in lists:
        assert "offset" in refused(partial(listing, offset=bad))
        if bad != -1:
            assert "limit" in refused(partial(listing, limit=bad))
    assert len(wb.scenarios.list(offset=MAX_PAGE, limit=MAX_PAGE)) == 0


NON_IDS: list[object] = [12, None, 1.5, b"bytes", "bad\ud800", "nul\x00", "x" * 10_000]


@pytest.mark.parametrize("bad", NON_IDS, ids=lambda v: type(v).__name__ + str(len(str(v))))
def test_a_non_id_is_not_found_or_refused(wb: Workbench, bad: Any) -> None:
    getters: list[Callable[[Any], object]] = [
        wb.runs.get,
        wb.scenarios.get,
        wb.suites.get,
        wb.prompts.get,
        wb.variables.get,
        lambda value: wb.api_keys.get(provider=value),
        wb.runs.results_frame,
        wb.runs.summary,
    ]
    for get in getters:
        with pytest.raises((NotFound, ValidationError)):
            get(bad)


@pytest.mark.parametrize("name", ["bad\ud800name", "nul\x00name"])
def test_an_api_key_name_postgresql_cannot_store_is_refused(wb: Workbench, name: str) -> None:
    message = refused(lambda: wb.api_keys.set(provider="openai", api_key="sk-x" * 5, key_name=name))
    assert "key_name" in message
    assert wb.api_keys.list() == []


HOSTILE: list[object] = [
    12, None, 1.5, math.nan, True, b"x", "bad\ud800", "nul\x00", 2**63, -(2**63) - 1, 10**400,
    [1], {"a": 1}, "x" * 100_000,
]  # fmt: skip


def test_no_hostile_argument_escapes_as_a_raw_error(wb: Workbench) -> None:
    """Every public call given each hostile value: a WorkbenchError or an answer, never a
    driver error (`ProgrammingError`, `UnicodeEncodeError`) or a Python one (`TypeError`)."""
    sc = wb.scenarios.create(ScenarioCreate(name="s", turns=[user("hi")]))
    suite = wb.suites.create(name="S", scenario_ids=[sc.id])
    pr = wb.prompts.create(name="P", content="hi {{ x }}")
    calls = {
        "scenarios.get": lambda v: wb.scenarios.get(v),
        "scenarios.get_by_name": lambda v: wb.scenarios.get_by_name(v),
        "scenarios.list.search": lambda v: wb.scenarios.list(search=v),
        "scenarios.list.tags": lambda v: wb.scenarios.list(tags=v),
        "scenarios.list.status": lambda v: wb.scenarios.list(status=v),
        "scenarios.list.sort": lambda v: wb.scenarios.list(sort=v),
        "scenarios.delete": lambda v: wb.scenarios.delete(v),
        "scenarios.history": lambda v: wb.scenarios.history(v),
        "suites.get": lambda v: wb.suites.get(v),
        "suites.list.search": lambda v: wb.suites.list(search=v),
        "suites.create.ids": lambda v: wb.suites.create(name="T", scenario_ids=[v]),
        "suites.add": lambda v: wb.suites.add(suite.id, [v]),
        "suites.add2": lambda v: wb.suites.add(v, [sc.id]),
        "suites.remove": lambda v: wb.suites.remove(suite.id, [v]),
        "suites.items": lambda v: wb.suites.items(v),
        "suites.delete": lambda v: wb.suites.delete(v),
        "prompts.get": lambda v: wb.prompts.get(v),
        "prompts.get_by_name": lambda v: wb.prompts.get_by_name(v),
        "prompts.render": lambda v: wb.prompts.render(pr.id, x=v),
        "prompts.render.id": lambda v: wb.prompts.render(v),
        "prompts.list.search": lambda v: wb.prompts.list(search=v),
        "prompts.delete": lambda v: wb.prompts.delete(v),
        "variables.get": lambda v: wb.variables.get(v),
        "variables.set": lambda v: wb.variables.set_many({"k": v}),
        "variables.delete": lambda v: wb.variables.delete(v),
        "api_keys.get": lambda v: wb.api_keys.get(provider=v),
        "api_keys.delete": lambda v: wb.api_keys.delete(provider=v),
        "api_keys.set.name": lambda v: wb.api_keys.set(
            provider="openai", api_key="sk-abcdefgh", key_name=v
        ),
        "runs.get": lambda v: wb.runs.get(v),
        "runs.summary": lambda v: wb.runs.summary(v),
        "runs.compare": lambda v: wb.runs.compare(v, v),
        "runs.export": lambda v: wb.runs.export(v),
        "runs.resume": lambda v: wb.runs.resume(v),
        "runs.attach": lambda v: wb.runs.attach(v),
        "runs.start.suite": lambda v: wb.runs.start(
            suite=v, prompt="P", target=workbench.offline(), progress=False
        ),
        "runs.start.prompt": lambda v: wb.runs.start(
            suite="S", prompt=v, target=workbench.offline(), progress=False
        ),
    }
    raw = []
    for name, call in calls.items():
        for value in HOSTILE:
            try:
                call(value)
            except WorkbenchError:
                pass
            except Exception as error:
                raw.append(f"{name}({str(value)[:20]!r}): {type(error).__name__}: {error}"[:200])
    assert not raw, "\n".join(raw[:20])
