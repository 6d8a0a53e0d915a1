"""Plans built as attempts are claimed (runs/plans.py): every attempt played once, in order."""

from __future__ import annotations

import asyncio
from collections import Counter

import workbench
from tests.runs.conftest import make_setup
from workbench.handle import Workbench
from workbench.runs.generate import open_client
from workbench.runs.ledger import DatabaseThread
from workbench.runs.plans import ClaimedPlans
from workbench.runs.providers import Message
from workbench.services.scenarios.types import expect, must_contain, user
from workbench.testing.standin import StandIn


def questions(wb: Workbench, count: int) -> str:
    """A suite of `count` one-turn scenarios asking "q0", "q1", ...; its id."""
    scenarios = {f"S{i}": [user(f"q{i}"), expect(must_contain(f"q{i}"))] for i in range(count)}
    return make_setup(wb, scenarios, prompt="Be brief.").suite_id


def asked(server: StandIn) -> list[str]:
    return [body["messages"][-1]["content"] for body in server.bodies]


def test_every_attempt_is_played_once_when_repeats_straddle_claimed_batches(wb: Workbench) -> None:
    suite = questions(wb, 7)
    with StandIn(max_lifetime_s=60) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        # Concurrency 2 claims 50 at a time: scenario 3's 13 repeats straddle the first two.
        run = wb.runs.start(suite=suite, prompt="Support", target=target, repeats=13,
                            concurrency=2, progress=False).wait(60)  # fmt: skip
        sent = Counter(asked(server))
    assert sent == {f"q{i}": 13 for i in range(7)}
    attempts = run.attempts()
    assert len(attempts) == 91 and set(attempts["status"]) == {"passed"}
    assert len(attempts.drop_duplicates(["position", "repeat"])) == 91


def test_the_first_requests_follow_the_ledger_order(wb: Workbench) -> None:
    suite = questions(wb, 3)
    with StandIn(max_lifetime_s=60) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        wb.runs.start(suite=suite, prompt="Support", target=target, repeats=2, concurrency=1,
                      progress=False).wait(60)  # fmt: skip
        assert asked(server) == ["q0", "q0", "q1", "q1", "q2", "q2"]


def test_a_batch_reads_and_plans_only_its_own_scenarios(wb: Workbench) -> None:
    suite = questions(wb, 3)
    run = wb.runs.start(suite=suite, prompt="Support", target=workbench.offline(),
                        progress=False).wait(60)  # fmt: skip
    db = DatabaseThread(wb.database)
    client = open_client(workbench.offline(), api_key=None)
    plans = ClaimedPlans(db, run_id=run.id, user_id=wb.user.id, merge_users=False,
                         client=client, system=Message("system", "Be brief."))  # fmt: skip

    async def claims() -> None:
        first = await plans([0, 0, 1])
        assert sorted(first) == [0, 1] and plans.built == 2
        second = await plans([1, 2])  # scenario 1's later repeats: its plan kept, not rebuilt
        assert sorted(second) == [1, 2] and second[1] is first[1] and plans.built == 3
        third = await plans([0])  # dropped with the batch before: read and built again
        assert sorted(third) == [0] and plans.built == 4
        assert third[0].steps[0].new_messages == (Message("user", "q0"),)

    try:
        asyncio.run(claims())
    finally:
        db.close()
