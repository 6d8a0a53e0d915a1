"""Every injected fault, through the real openai and anthropic SDKs over real HTTP to the
stand-in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from workbench.runs import Message, ProviderError, Target, anthropic, openai_compatible
from workbench.runs.generate import GenerateClient, RetryPolicy, open_client
from workbench.testing.standin import ANTHROPIC_PATH, OPENAI_PATH, Fault, StandIn

FAST = RetryPolicy(backoff_s=0.01, max_backoff_s=0.02)
HELLO = [Message("system", "be brief"), Message("user", "hello")]


@pytest.fixture(scope="module")
def server() -> Iterator[StandIn]:
    with StandIn(hang_s=5.0, max_lifetime_s=120) as s:
        yield s


@pytest.fixture(params=["openai", "anthropic", "openai-direct", "anthropic-direct"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def transport_of(flavour: str) -> str:
    return "direct" if flavour.endswith("-direct") else "sdk"


def make_target(server: StandIn, flavour: str, **options: Any) -> Target:
    if flavour.startswith("anthropic"):
        return anthropic("claude-3-5-haiku", base_url=server.base_url, **options)
    return openai_compatible(base_url=server.openai_base_url, model="gpt-4o-mini", **options)


def path_of(flavour: str) -> str:
    return ANTHROPIC_PATH if flavour.startswith("anthropic") else OPENAI_PATH


def run(server: StandIn, target: Target, *faults: str | Fault, transport: str) -> Any:
    """(completion or error, requests seen by the stand-in) for one call after injecting faults."""
    server.reset()
    server.inject(*faults)

    async def call() -> Any:
        client = open_client(target, api_key="sk-test-fault-key", retry=FAST, transport=transport)
        try:
            return await client.complete(HELLO)
        except ProviderError as error:
            return error
        finally:
            await client.aclose()

    return asyncio.run(call()), server.requests


def test_plain_answer_has_text_usage_and_cost(server: StandIn, flavour: str) -> None:
    completion, requests = run(
        server, make_target(server, flavour), transport=transport_of(flavour)
    )
    assert completion.text == "echo: hello"
    assert completion.prompt_tokens == 3 and completion.completion_tokens == 2  # words
    assert completion.cost_usd is not None and completion.cost_usd > 0
    assert completion.attempts == 1 and requests == 1


@pytest.mark.parametrize("kind", ["500", "529", "drop"])
def test_retryable_faults_are_retried_then_succeed(
    server: StandIn, flavour: str, kind: str
) -> None:
    completion, requests = run(
        server, make_target(server, flavour), kind, kind, transport=transport_of(flavour)
    )
    assert completion.text == "echo: hello"
    assert completion.attempts == 3 and requests == 3
    assert server.faults_served[kind] == 2


def test_retry_after_is_honoured(server: StandIn, flavour: str) -> None:
    started = time.perf_counter()
    completion, requests = run(
        server,
        make_target(server, flavour),
        Fault("429", retry_after=0.4),
        transport=transport_of(flavour),
    )
    elapsed = time.perf_counter() - started
    assert completion.text == "echo: hello" and requests == 2
    assert elapsed >= 0.4  # the backoff alone would have been ~0.01 s


def test_retry_after_ms_wins_over_seconds(server: StandIn, flavour: str) -> None:
    fault = Fault("429", retry_after=30, retry_after_ms=50)
    started = time.perf_counter()
    completion, requests = run(
        server, make_target(server, flavour), fault, transport=transport_of(flavour)
    )
    assert completion.text == "echo: hello" and requests == 2
    assert time.perf_counter() - started < 5


def test_exhausted_retries_raise_the_last_kind(server: StandIn, flavour: str) -> None:
    target = make_target(server, flavour, max_retries=2)
    error, requests = run(
        server, target, "500", "500", "500", "500", transport=transport_of(flavour)
    )
    assert isinstance(error, ProviderError)
    assert (error.kind, error.retryable, error.status) == ("server", True, 500)
    assert requests == 3 and "gave up after 3 attempts" in str(error)
    server._queue.clear()


def test_rate_limit_exhaustion(server: StandIn, flavour: str) -> None:
    error, requests = run(
        server,
        make_target(server, flavour, max_retries=1),
        "429",
        "429",
        transport=transport_of(flavour),
    )
    assert isinstance(error, ProviderError)
    assert (error.kind, error.status, requests) == ("rate_limit", 429, 2)


def test_hang_past_timeout_is_a_timeout(server: StandIn, flavour: str) -> None:
    target = make_target(server, flavour, timeout_s=0.3, max_retries=0)
    started = time.perf_counter()
    error, requests = run(server, target, "hang", transport=transport_of(flavour))
    assert isinstance(error, ProviderError) and error.kind == "timeout" and error.retryable
    assert requests == 1 and time.perf_counter() - started < 3


def test_hang_then_retry_succeeds(server: StandIn, flavour: str) -> None:
    completion, requests = run(
        server, make_target(server, flavour, timeout_s=0.3), "hang", transport=transport_of(flavour)
    )
    assert completion.text == "echo: hello" and requests == 2


def test_malformed_json_is_bad_response_not_retried(server: StandIn, flavour: str) -> None:
    error, requests = run(
        server, make_target(server, flavour), "malformed", transport=transport_of(flavour)
    )
    assert isinstance(error, ProviderError)
    assert error.kind == "bad_response" and not error.retryable and requests == 1


def test_unauthorised_is_auth_and_not_retried(server: StandIn, flavour: str) -> None:
    error, requests = run(
        server, make_target(server, flavour), "401", transport=transport_of(flavour)
    )
    assert isinstance(error, ProviderError)
    assert (error.kind, error.retryable, error.status, requests) == ("auth", False, 401, 1)


def test_client_sends_no_sdk_retries(server: StandIn, flavour: str) -> None:
    # max_retries=0 on our side: exactly one request reaches the server, so the SDK adds none.
    error, requests = run(
        server, make_target(server, flavour, max_retries=0), "500", transport=transport_of(flavour)
    )
    assert isinstance(error, ProviderError) and requests == 1


def test_one_client_is_reused_for_many_calls(server: StandIn, flavour: str) -> None:
    server.reset()

    async def many() -> list[str]:
        target = make_target(server, flavour)
        client = open_client(target, api_key="sk-x", retry=FAST, transport=transport_of(flavour))
        assert isinstance(client, GenerateClient)
        try:
            done = await asyncio.gather(
                *(client.complete([Message("user", f"n{i}")]) for i in range(20))
            )
        finally:
            await client.aclose()
        return [c.text for c in done]

    assert asyncio.run(many()) == [f"echo: n{i}" for i in range(20)]
    assert server.counts[path_of(flavour)] == 20
