"""Issue 18 item 3: absurd values a user passes are refused with a `WorkbenchError` saying what to
do, and never turn into a raw driver or Python error: page bounds, ids that are not ids, key names
PostgreSQL cannot store. (The run options: tests/services/runs/test_run_bounds.py.)"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from workbench.errors import NotFound, ValidationError, WorkbenchError
from workbench.handle import Workbench
from workbench.services.limits import MAX_PAGE


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
