"""The key never shows: not in the client's repr, an error's message or repr, or a traceback."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Iterator

import pytest

from workbench.runs import Message, ProviderError, anthropic, openai_compatible
from workbench.runs.generate import RetryPolicy, open_client
from workbench.testing.standin import StandIn

KEY = "sk-live-0123456789abcdefSECRET"


@pytest.fixture(scope="module")
def server() -> Iterator[StandIn]:
    # The stand-in echoes the presented key in its 401 body, as OpenAI does (masked) in real life.
    with StandIn(api_key="sk-the-right-one", max_lifetime_s=60) as s:
        yield s


@pytest.mark.parametrize("flavour", ["openai", "anthropic", "openai-direct", "anthropic-direct"])
def test_refused_key_never_leaks(server: StandIn, flavour: str) -> None:
    target = (
        anthropic("claude-3-5-haiku", base_url=server.base_url)
        if flavour.startswith("anthropic")
        else openai_compatible(base_url=server.openai_base_url, model="m")
    )

    async def call() -> tuple[str, BaseException]:
        transport = "direct" if flavour.endswith("direct") else "sdk"
        client = open_client(
            target, api_key=KEY, retry=RetryPolicy(backoff_s=0.01), transport=transport
        )
        shown = (
            repr(client) + str(client) + repr(vars(client) if hasattr(client, "__dict__") else "")
        )
        try:
            await client.complete([Message("user", "hi")])
        except ProviderError as error:
            return shown, error
        finally:
            await client.aclose()
        raise AssertionError("a refused key must raise")

    shown, error = asyncio.run(call())
    assert isinstance(error, ProviderError) and error.kind == "auth" and error.status == 401
    text = "".join(traceback.format_exception(error))
    for surface in (shown, str(error), repr(error), text, repr(error.__dict__)):
        assert KEY not in surface
        assert "SECRET" not in surface and "0123456789" not in surface
    assert error.__cause__ is None and error.__suppress_context__


def test_target_settings_and_repr_hold_no_key() -> None:
    target = openai_compatible(base_url="http://127.0.0.1:1/v1", model="m")
    client = open_client(target, api_key=KEY)
    assert KEY not in repr(client) + repr(target) + repr(target.settings())
    assert not hasattr(client, "__dict__")  # slots only: nothing to dump by accident
    asyncio.run(client.aclose())


def test_no_key_anywhere_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.errors import ConfigError
    from workbench.runs import openai

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"ApiKeyEditor.*OPENAI_API_KEY"):
        open_client(openai("gpt-4o-mini"), api_key=None)
