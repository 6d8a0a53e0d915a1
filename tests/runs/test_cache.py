"""The response cache (issue 12): keys, hits without requests, TTL, repeats, scoping, clearing.

Requests are counted by the stand-in server the real openai SDK talks to over loopback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

import workbench
from tests.runs.conftest import Setup, make_setup
from workbench.errors import ValidationError
from workbench.handle import Workbench
from workbench.runs.cache import cache_key
from workbench.runs.providers import Message
from workbench.services.scenarios.types import expect, must_contain, user
from workbench.testing.standin import StandIn

HELLO = (Message("system", "Be kind."), Message("user", "hello"))


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn(max_lifetime_s=120) as server:
        yield server


def target(server: StandIn, **params: Any) -> Any:
    return workbench.openai_compatible(
        base_url=server.openai_base_url, model="m", max_retries=0, **params
    )


def play(setup: Setup, server_target: Any, **options: Any) -> Any:
    return setup.wb.runs.start(
        suite=setup.suite_id,
        prompt=setup.prompt_id,
        target=server_target,
        progress=False,
        **options,
    ).wait(60)


def cached_flags(wb: Workbench, run_id: str) -> list[bool]:
    with wb.database.transaction() as session:
        return list(
            session.scalars(
                text("SELECT cached FROM workbench.turn_result WHERE run_id = :r ORDER BY id"),
                {"r": run_id},
            )
        )


# ---------------------------------------------------------------- the key


def test_the_key_changes_with_everything_that_changes_the_answer(standin: StandIn) -> None:
    base = cache_key(target(standin, temperature=0), HELLO)
    changed = [
        cache_key(target(standin, temperature=0.5), HELLO),
        cache_key(target(standin, temperature=0, max_tokens=10), HELLO),
        cache_key(workbench.openai_compatible(base_url="http://other:1/v1", model="m"), HELLO),
        cache_key(workbench.openai("m", temperature=0), HELLO),
        cache_key(target(standin, temperature=0), (*HELLO, Message("user", "more"))),
        cache_key(target(standin, temperature=0), HELLO, json_schema={"type": "object"}),
        cache_key(target(standin, temperature=0), HELLO, temperature=0.3),
    ]
    assert len({base, *changed}) == len(changed) + 1
    # Limits never change the answer: the cache stays warm when they change.
    same = cache_key(target(standin, temperature=0, timeout_s=5, concurrency=3), HELLO)
    assert same == base


def test_repeats_get_their_own_entries_only_when_sampling(standin: StandIn) -> None:
    greedy = target(standin, temperature=0)
    assert cache_key(greedy, HELLO, repeat=2) == cache_key(greedy, HELLO)
    sampling, unset = target(standin, temperature=0.7), target(standin)
    assert cache_key(sampling, HELLO, repeat=2) != cache_key(sampling, HELLO, repeat=1)
    assert cache_key(unset, HELLO, repeat=1) != cache_key(unset, HELLO)  # provider default 1
    assert cache_key(sampling, HELLO, repeat=0) == cache_key(sampling, HELLO)
    offline = workbench.offline(default="x", temperature=1.0)
    assert cache_key(offline, HELLO, repeat=3) == cache_key(offline, HELLO)


# ---------------------------------------------------------------- runs


@pytest.fixture
def suite(wb: Workbench) -> Setup:
    return make_setup(
        wb,
        {
            "One": [user("hello"), expect(must_contain("hello"))],
            "Two": [user("a"), expect(must_contain("a")), user("b"), expect(must_contain("b"))],
        },
    )


def test_a_warm_rerun_makes_no_request_and_marks_replies_cached(
    suite: Setup, standin: StandIn
) -> None:
    cold = play(suite, target(standin, temperature=0), cache=True)
    assert len(standin.bodies) == 3 and not any(cached_flags(suite.wb, cold.id))
    warm = play(suite, target(standin, temperature=0), cache=True)
    assert len(standin.bodies) == 3  # not one more request
    assert cached_flags(suite.wb, warm.id) == [True, True, True]
    frame = warm.frame()
    assert list(frame["reply"]) == list(cold.frame()["reply"])
    assert frame["cached"].all() and (frame["cost_usd"].fillna(0) == 0).all()


def test_without_cache_every_run_asks_again(suite: Setup, standin: StandIn) -> None:
    play(suite, target(standin, temperature=0), cache=True)
    play(suite, target(standin, temperature=0))
    assert len(standin.bodies) == 6


def test_entries_older_than_the_ttl_are_not_used(suite: Setup, standin: StandIn) -> None:
    play(suite, target(standin, temperature=0), cache=True)
    with suite.wb.database.transaction() as session:
        session.execute(
            text("UPDATE workbench.response_cache SET created_at = created_at - interval '15 days'")
        )
    play(suite, target(standin, temperature=0), cache=True)
    assert len(standin.bodies) == 6  # the default TTL is 14 days
    play(suite, target(standin, temperature=0), cache=True, cache_ttl=timedelta(days=30))
    assert len(standin.bodies) == 6  # refreshed entries, and a longer TTL


def test_sampled_repeats_each_have_their_own_entry(suite: Setup, standin: StandIn) -> None:
    play(suite, target(standin, temperature=0.8), cache=True, repeats=3)
    assert len(standin.bodies) == 9
    with suite.wb.database.transaction() as session:
        entries = session.scalar(text("SELECT count(*) FROM workbench.response_cache"))
    assert entries == 9
    play(suite, target(standin, temperature=0.8), cache=True, repeats=3)
    assert len(standin.bodies) == 9


def test_greedy_repeats_share_one_entry(suite: Setup, standin: StandIn) -> None:
    play(suite, target(standin, temperature=0), cache=True, repeats=3, concurrency=1)
    assert len(standin.bodies) == 3  # repeats 1 and 2 are served what repeat 0 paid for


def test_another_users_cache_is_never_used_and_clear_cache_clears_only_yours(
    suite: Setup, standin: StandIn, other_wb: Workbench
) -> None:
    theirs = make_setup(
        other_wb,
        {
            "One": [user("hello"), expect(must_contain("hello"))],
            "Two": [user("a"), expect(must_contain("a")), user("b"), expect(must_contain("b"))],
        },
    )
    play(suite, target(standin, temperature=0), cache=True)
    play(theirs, target(standin, temperature=0), cache=True)
    assert len(standin.bodies) == 6  # identical requests, but B pays for B's own
    assert other_wb.runs.clear_cache() == 3
    assert suite.wb.runs.clear_cache(older_than=1) == 0  # A's are younger than a day
    play(suite, target(standin, temperature=0), cache=True)
    assert len(standin.bodies) == 6
    assert suite.wb.runs.clear_cache() == 3


def test_bad_cache_options_are_refused_before_anything_is_written(
    suite: Setup, standin: StandIn
) -> None:
    with pytest.raises(ValidationError, match="cache must be True or False"):
        play(suite, target(standin), cache="yes")
    with pytest.raises(ValidationError, match="cache=True"):
        play(suite, target(standin), cache_ttl=3)
    with pytest.raises(ValidationError, match="cache_ttl"):
        play(suite, target(standin), cache=True, cache_ttl=-1)
    assert suite.wb.runs.list() == [] and len(standin.bodies) == 0


def wait_for_requests(server: StandIn, *, at_least: int) -> None:
    # Polls the stand-in, not the database: the run writes through the test's own connection.
    deadline = time.monotonic() + 30  # a loaded machine, not a slow test: usually 0.6 s
    while len(server.bodies) < at_least:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {at_least} requests in 30 s")
        time.sleep(0.02)


def test_a_resumed_cached_run_keeps_its_cache_and_ttl(suite: Setup) -> None:
    with StandIn(latency_s=0.2, max_lifetime_s=60) as server:
        sampled = target(server, temperature=0.8)  # each repeat its own entry
        run = suite.wb.runs.start(
            suite=suite.suite_id, prompt=suite.prompt_id, target=sampled, repeats=10,
            concurrency=2, cache=True, cache_ttl=timedelta(days=30), progress=False,
        )  # fmt: skip
        wait_for_requests(server, at_least=6)  # of 30: some attempts played, then stop
        run.cancel()
        view = suite.wb.runs.get(run.id)
        assert view.status == "cancelled" and 0 < view.totals["unplayed"] < 20
        with suite.wb.database.transaction() as session:
            options = session.scalar(text("SELECT options FROM workbench.run"))
        assert options == {"stop_on_failure": False, "cache": True, "cache_ttl_s": 30 * 86400.0}
        suite.wb.runs.resume(run.id, target=sampled, progress=False).wait(60)
        sent = server.requests
        # What the resumed part was answered went into the cache, so a warm run with the same
        # settings asks nothing at all (without the cache on resume it asked again).
        warm = play(suite, sampled, cache=True, cache_ttl=timedelta(days=30), repeats=10)
        assert server.requests == sent
        assert all(cached_flags(suite.wb, warm.id))


def test_prefetched_entries_are_kept_for_two_batches_and_a_dropped_one_is_looked_up_again(
    suite: Setup, standin: StandIn
) -> None:
    import asyncio

    from workbench.runs.cache_client import CachedClient
    from workbench.runs.generate import open_client
    from workbench.runs.ledger import DatabaseThread

    chosen = target(standin, temperature=0)
    play(suite, chosen, cache=True)  # the entries: hello, a, and a's second turn
    system = Message("system", "Be kind.")
    a = (system, Message("user", "a"))
    b = (*a, Message("assistant", "echo: a"), Message("user", "b"))
    db = DatabaseThread(suite.wb.database)

    async def batches() -> tuple[list[int], str]:
        client = CachedClient(open_client(chosen, api_key=None), chosen, db, suite.wb.user.id)
        try:
            known = [await client.prefetch([HELLO]), await client.prefetch([a]),
                     await client.prefetch([b])]  # fmt: skip
            reply = (await client.complete(HELLO)).text  # dropped: looked up again
            return known, reply
        finally:
            await client.aclose()

    try:
        known, reply = asyncio.run(batches())
    finally:
        db.close()
    assert known == [1, 2, 2]  # the first batch's entry dropped with the third
    assert reply == "echo: hello" and len(standin.bodies) == 3  # from the cache, not the server
