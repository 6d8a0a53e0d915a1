"""Targets, the offline provider, Anthropic's alternation, prices: the generate path end to end."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from typing import Any

import pytest

import workbench
from workbench.errors import ValidationError
from workbench.runs import (
    Completion,
    Message,
    Target,
    anthropic,
    offline,
    openai,
    openai_compatible,
)
from workbench.runs.generate import open_client
from workbench.runs.pricing import cost_usd, price_of, set_price
from workbench.runs.providers.anthropic import to_anthropic
from workbench.testing.standin import StandIn


def complete(target: Target, messages: Sequence[Message], **options: Any) -> Completion:
    async def go() -> Completion:
        client = open_client(target, api_key="sk-gen")
        try:
            return await client.complete(messages, **options)
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_targets_are_reachable_from_the_package_and_describe_themselves() -> None:
    target = workbench.openai("gpt-4o-mini", temperature=0, seed=7, concurrency=8, rpm=100)
    assert (target.provider, target.env_var, target.vault_provider) == (
        "openai", "OPENAI_API_KEY", "openai",
    )  # fmt: skip
    settings = target.settings()
    assert settings["params"] == {"temperature": 0, "seed": 7}
    assert settings["concurrency"] == 8 and settings["rpm"] == 100
    json.dumps(settings)
    assert anthropic("claude-3-5-haiku").params["max_tokens"] == 1024
    assert anthropic("claude-3-5-haiku").env_var == "ANTHROPIC_API_KEY"
    assert offline().env_var is None and offline().vault_provider is None


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: openai(""), "model must be a model name"),
        (lambda: openai("gpt 4o"), "model must be a model name"),
        (lambda: openai("gpt-4o", temprature=0), r"unknown parameter\(s\) for openai: temprature"),
        (lambda: openai("gpt-4o", temperature=2.5), "temperature must be a number from 0.0 to 2.0"),
        (lambda: anthropic("claude", temperature=1.5), "from 0.0 to 1.0"),
        (lambda: anthropic("claude", seed=1), "allowed: temperature, max_tokens"),
        (lambda: openai("gpt-4o", max_tokens=0), "max_tokens must be a whole number"),
        (lambda: openai("gpt-4o", top_p="high"), "top_p must be a number"),
        (lambda: openai("gpt-4o", concurrency=0), "concurrency must be a whole number"),
        (lambda: openai("gpt-4o", timeout_s=-1), "timeout_s must be a number"),
        (lambda: openai("gpt-4o", temperature=True), "temperature must be a number"),
        (lambda: openai_compatible(base_url="ftp://x", model="m"), "base_url must be an http"),
        (lambda: openai_compatible(base_url="localhost:8000", model="m"), "base_url must be"),
        (lambda: offline([("only one",)]), "rule 1 must be a .pattern, reply. pair"),
        (lambda: offline([("a", "b"), (1, "x")]), "rule 2: the pattern must be a string"),
        (lambda: offline(judge_score=2), "judge_score must be a number from 0 to 1"),
    ],
)
def test_bad_targets_are_validation_errors(build: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        build()


def test_offline_is_deterministic_by_rule_pattern_function_and_default() -> None:
    target = offline(
        [("refund", "Refunds take 5 days."), (re.compile(r"order #\d+"), "It shipped.")],
        default="Sorry?",
    )
    ask = [Message("system", "s"), Message("user", "Where is order #12?")]
    first, second = complete(target, ask), complete(target, ask)
    assert first.text == second.text == "It shipped."
    assert complete(target, [Message("user", "I want a REFUND")]).text == "Refunds take 5 days."
    assert complete(target, [Message("user", "hm")]).text == "Sorry?"
    assert complete(offline(), [Message("user", "hm")]).text == "echo: hm"
    by_function = offline(lambda text: text.upper())
    assert complete(by_function, [Message("user", "abc")]).text == "ABC"
    assert first.prompt_tokens == 5 and first.completion_tokens == 2 and first.cost_usd == 0.0
    assert by_function.settings()["offline"]["function"].endswith("<lambda>")


def test_offline_rule_function_returning_non_text_is_an_error() -> None:
    from workbench.runs import ProviderError

    with pytest.raises(ProviderError, match="returned int"):
        complete(offline(lambda text: 3), [Message("user", "x")])  # type: ignore[arg-type,return-value]


def test_anthropic_merges_same_role_runs_and_moves_system_out() -> None:
    system, merged = to_anthropic(
        [
            Message("system", "be kind"),
            Message("user", "hi"),
            Message("user", "my order?"),
            Message("assistant", "which one?"),
            Message("user", "#12"),
        ]
    )
    assert system == "be kind"
    assert merged == [
        {"role": "user", "content": "hi\n\nmy order?"},
        {"role": "assistant", "content": "which one?"},
        {"role": "user", "content": "#12"},
    ]


def test_anthropic_alternation_over_real_http() -> None:
    with StandIn(max_lifetime_s=30) as server:
        target = anthropic("claude-3-5-haiku", base_url=server.base_url, temperature=0.2)
        messages = [Message("system", "sys"), Message("user", "a"), Message("user", "b")]
        completion = complete(target, messages)
        body = server.bodies[-1]
    assert completion.text == "echo: a\n\nb"
    assert body["system"] == "sys" and body["temperature"] == 0.2 and body["max_tokens"] == 1024
    assert body["messages"] == [{"role": "user", "content": "a\n\nb"}]


def test_openai_sends_params_and_the_schema() -> None:
    with StandIn(max_lifetime_s=30) as server:
        target = openai_compatible(
            base_url=server.openai_base_url, model="gpt-4o-mini", seed=3, max_tokens=50
        )
        complete(target, [Message("user", "x")], json_schema={"type": "object"}, temperature=0.0)
        body = server.bodies[-1]
    assert body["seed"] == 3 and body["max_tokens"] == 50 and body["temperature"] == 0.0
    assert body["response_format"]["type"] == "json_schema"


def test_prices_known_family_snapshot_user_set_and_unknown() -> None:
    assert cost_usd("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert price_of("gpt-4o-mini-2024-07-18") == price_of("gpt-4o-mini")
    assert price_of("claude-3-5-haiku-20241022") == price_of("claude-3-5-haiku")
    assert cost_usd("my-local-llama", 10, 10) is None  # unknown: not guessed
    assert cost_usd("gpt-4o", None, 10) is None
    set_price("my-local-llama", input_per_mtok=1.0, output_per_mtok=2.0)
    assert cost_usd("my-local-llama", 1_000_000, 500_000) == pytest.approx(2.0)
    with pytest.raises(ValidationError, match="input_per_mtok must be a number >= 0"):
        set_price("x", input_per_mtok=-1, output_per_mtok=0)
