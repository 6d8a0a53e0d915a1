"""A run started inside a running event loop, as in a Jupyter cell (ipykernel runs cells on its
loop): start returns at once, and the run is awaited on that loop without blocking it."""

from __future__ import annotations

import asyncio

import workbench
from tests.runs.conftest import Setup


def test_start_inside_a_running_loop_then_await(setup: Setup) -> None:
    ticks = 0

    async def cell() -> str:
        nonlocal ticks
        run = setup.wb.runs.start(
            suite=setup.suite_id, prompt=setup.prompt_id, target=workbench.offline(),
            repeats=20, progress=False,
        )  # fmt: skip

        async def ticker() -> None:  # the kernel's loop keeps serving while the run plays
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        beating = asyncio.get_running_loop().create_task(ticker())
        finished = await run
        beating.cancel()
        return setup.wb.runs.get(finished.id).status

    assert asyncio.run(cell()) == "finished"
    assert ticks > 0


def test_wait_works_from_a_cell_on_the_running_loop(setup: Setup) -> None:
    async def cell() -> int:
        run = setup.wb.runs.start(
            suite=setup.suite_id, prompt=setup.prompt_id, target=workbench.offline(),
            progress=False,
        )  # fmt: skip
        return len(run.wait(30).frame())  # a plain cell blocks its loop; the run does not care

    assert asyncio.run(cell()) == 4
