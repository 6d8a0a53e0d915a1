"""The transports: the direct path by default (issue 24), the official SDKs opt-in, the same bytes
on both; runs stored before the change keep the SDKs they started on.

Over real HTTP to the stand-in, through the real openai and anthropic SDKs."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

import workbench
from workbench.errors import ValidationError
from workbench.runs import Message, ProviderError, Target, anthropic, openai_compatible
from workbench.runs.generate import RetryPolicy, open_client
from workbench.runs.judge import VERDICT_SCHEMA
from workbench.runs.providers.direct import DirectProvider
from workbench.runs.providers.errors import decode_json
from workbench.runs.providers.sdk import SdkProvider
from workbench.testing.standin import StandIn

FAST = RetryPolicy(backoff_s=0.01, max_backoff_s=0.02)
TALK = [
    Message("system", "be brief"),
    Message("user", "hello"),
    Message("assistant", "hi"),
    Message("user", "where is"),
    Message("user", "my order?"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[StandIn]:
    with StandIn(max_lifetime_s=120) as s:
        yield s


def openai_target(server: StandIn) -> Target:
    return openai_compatible(
        base_url=server.openai_base_url,
        model="gpt-4o-mini",
        temperature=0.3,
        max_tokens=50,
        seed=7,
        stop=["\n\n"],
    )


def anthropic_target(server: StandIn) -> Target:
    return anthropic(
        "claude-3-5-haiku", base_url=server.base_url, max_tokens=50, top_k=5, top_p=0.9
    )


def sent(server: StandIn, target: Target, transport: str, **options: Any) -> dict[str, Any]:
    """The body the stand-in received for one call on `transport`."""
    server.reset()

    async def go() -> None:
        client = open_client(target, api_key="sk-body", retry=FAST, transport=transport)
        try:
            await client.complete(TALK, **options)
        finally:
            await client.aclose()

    asyncio.run(go())
    assert server.requests == 1
    return dict(server.bodies[-1])


def provider_class(target: Target, **options: Any) -> type:
    """The provider class `open_client(target, **options)` picks (the client is closed)."""
    client = open_client(target, api_key="sk-x", **options)
    try:
        return type(client._provider)
    finally:
        asyncio.run(client.aclose())


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_the_default_transport_is_direct_and_the_sdk_is_opt_in(server: StandIn, api: str) -> None:
    target = openai_target(server) if api == "openai" else anthropic_target(server)
    assert target.transport == "direct" and target.settings()["transport"] == "direct"
    assert provider_class(target) is DirectProvider
    assert provider_class(target, transport="sdk") is SdkProvider


@pytest.mark.parametrize("api", ["openai", "anthropic", "openai_compatible"])
def test_settings_stored_before_the_default_changed_resume_on_the_sdk(api: str) -> None:
    """Runs stored while the SDKs were the default recorded a transport only when "direct" was
    chosen: one without it was started on the SDK and comes back on it; one with it as stored."""
    built = {
        "openai": lambda **o: workbench.openai("gpt-4o-mini", **o),
        "anthropic": lambda **o: workbench.anthropic("claude", **o),
        "openai_compatible": lambda **o: openai_compatible(
            base_url="http://localhost:8000/v1", model="m", **o
        ),
    }[api]
    stored_before = {k: v for k, v in built().settings().items() if k != "transport"}
    assert Target.from_settings(stored_before).transport == "sdk"
    assert Target.from_settings(stored_before).settings() == {**stored_before, "transport": "sdk"}
    for transport in ("sdk", "direct"):
        settings = built(transport=transport).settings()
        assert settings["transport"] == transport
        assert Target.from_settings(settings).settings() == settings
    assert "transport" not in workbench.offline().settings()  # no HTTP: nothing to record


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_a_target_carries_its_transport_and_open_client_may_override_it(
    server: StandIn, api: str
) -> None:
    base = openai_target(server) if api == "openai" else anthropic_target(server)
    target = dataclasses.replace(base, transport="sdk")
    assert target.settings()["transport"] == "sdk" and base.settings()["transport"] == "direct"
    assert provider_class(target) is SdkProvider
    assert provider_class(target, transport="direct") is DirectProvider
    built = workbench.openai("gpt-4o-mini", transport="direct")
    assert built.transport == "direct" and built.settings()["transport"] == "direct"
    with pytest.raises(ValidationError, match="transport must be 'sdk'"):
        workbench.anthropic("claude", transport="grpc")


@pytest.mark.parametrize("structured", [False, True])
@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_both_transports_send_the_same_body(server: StandIn, api: str, structured: bool) -> None:
    target = openai_target(server) if api == "openai" else anthropic_target(server)
    options: dict[str, Any] = {"temperature": 0.0} if structured else {}
    if structured:
        options["json_schema"] = VERDICT_SCHEMA
    by_sdk = sent(server, target, "sdk", **options)
    assert sent(server, target, "direct", **options) == by_sdk
    if api == "openai":
        assert by_sdk["seed"] == 7 and by_sdk["stop"] == ["\n\n"] and by_sdk["max_tokens"] == 50
        assert by_sdk["messages"][0] == {"role": "system", "content": "be brief"}
        assert len(by_sdk["messages"]) == 5
    else:  # sampling parameters are body fields; same-role runs merged; system apart
        assert (by_sdk["top_k"], by_sdk["top_p"], by_sdk["max_tokens"]) == (5, 0.9, 50)
        assert by_sdk["system"] == "be brief" and len(by_sdk["messages"]) == 3
        assert by_sdk["messages"][-1]["content"] == "where is\n\nmy order?"
    assert by_sdk.get("temperature") == (0.0 if structured else target.params.get("temperature"))
    assert ("response_format" in by_sdk or "tool_choice" in by_sdk) is structured


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_the_sdk_default_httpx_client_works_too(server: StandIn, api: str) -> None:
    target = openai_target(server) if api == "openai" else anthropic_target(server)
    server.reset()

    async def go() -> str:
        client = open_client(target, api_key="sk-x", retry=FAST, transport="sdk-httpx")
        try:
            return (await client.complete([Message("user", "ping")])).text
        finally:
            await client.aclose()

    assert asyncio.run(go()) == "echo: ping"
    assert server.requests == 1


def test_an_unknown_transport_is_refused_with_the_choices() -> None:
    target = openai_compatible(base_url="http://127.0.0.1:1/v1", model="m")
    with pytest.raises(ValidationError, match=r"sdk, direct, sdk-httpx.*'grpc'"):
        open_client(target, api_key="sk-x", transport="grpc")


@pytest.mark.parametrize("raw", [b"[" * 200_000, b"\xff\xfe not utf-8", b"", b'{"a": '])
def test_a_hostile_or_broken_body_is_a_bad_response(raw: bytes) -> None:
    with pytest.raises(ProviderError) as caught:
        decode_json(raw, "openai")
    assert caught.value.kind == "bad_response" and not caught.value.retryable
    assert "not JSON" in str(caught.value)


@pytest.mark.parametrize("transport", ["direct", "sdk"])
@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_without_a_base_url_both_transports_read_the_sdks_environment_variable(
    server: StandIn, monkeypatch: pytest.MonkeyPatch, api: str, transport: str
) -> None:
    # OPENAI_BASE_URL / ANTHROPIC_BASE_URL, which the SDK clients read: the default transport
    # honours them too, so switching it sends nothing elsewhere.
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    target = (
        workbench.openai("gpt-4o-mini", transport=transport)
        if api == "openai"
        else workbench.anthropic("claude-3-5-haiku", transport=transport)
    )
    assert target.base_url is None
    assert sent(server, target, transport)["model"] == target.model


@pytest.mark.parametrize("transport", ["direct", "sdk"])
def test_both_transports_send_openais_organization_and_project_from_the_environment(
    server: StandIn, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-bench")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-bench")
    target = openai_compatible(base_url=server.openai_base_url, model="m", transport=transport)
    sent(server, target, transport)
    headers = server.headers[-1]
    assert headers["openai-organization"] == "org-bench"
    assert headers["openai-project"] == "proj-bench"
    assert "authorization" not in headers  # the stand-in keeps no key
