"""Issue 18 item 4: a server echoing the key in an error body never gets it into an error, and no
frame of a failing `complete()` holds it as text (a verbose traceback shows it masked).

The keys are shaped like real ones that the key-shaped pattern does not catch (Groq's `gsk_`,
xAI's `xai-`, a bare hex key), over both transports and both APIs.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Iterator

import pytest
from IPython.core.ultratb import VerboseTB

from workbench.crypto.secret import Secret
from workbench.runs import Message, ProviderError, Target, anthropic, openai_compatible
from workbench.runs.generate import RetryPolicy, open_client
from workbench.runs.providers.errors import redact
from workbench.testing.standin import StandIn

KEYS = [
    "gsk_Q7rT2vX9mB4nL8kP3sW6yZ1cF5hJ0dGa",
    "xai-Rb3Nq8Lm2Vx7Tc5Hj9Wk4Pz6Yd1Fs0Ge",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
]
FLAVOURS = ["openai-sdk", "openai-direct", "anthropic-sdk", "anthropic-direct"]


@pytest.fixture(scope="module")
def server() -> Iterator[StandIn]:
    with StandIn(max_lifetime_s=120) as s:
        yield s


def target_for(server: StandIn, flavour: str) -> Target:
    if flavour.startswith("anthropic"):
        return anthropic("claude-3-5-haiku", base_url=server.base_url, max_retries=0)
    return openai_compatible(base_url=server.openai_base_url, model="m", max_retries=0)


def failing_call(server: StandIn, flavour: str, key: str) -> ProviderError:
    """One `complete()` answered with a 400 whose body echoes `key`, whole and cut."""
    server.inject("400")
    client = open_client(
        target_for(server, flavour),
        api_key=key,
        retry=RetryPolicy(backoff_s=0.01),
        transport=flavour.split("-")[1],
    )

    async def call() -> ProviderError:
        try:
            await client.complete([Message("user", "hi")])
        except ProviderError as error:
            return error
        finally:
            await client.aclose()
        raise AssertionError("the injected 400 must raise")

    return asyncio.run(call())


def fragments(key: str) -> list[str]:
    """Every 10-character piece of `key`: none may show, not even cut."""
    return [key[i : i + 10] for i in range(len(key) - 9)]


def assert_absent(key: str, *surfaces: str) -> None:
    for surface in surfaces:
        found = [piece for piece in fragments(key) if piece in surface]
        assert not found, f"{found[:2]} in {surface[:300]!r}"


@pytest.mark.parametrize("key", KEYS, ids=["gsk", "xai", "hex"])
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_an_error_body_echoing_the_key_is_redacted(server: StandIn, flavour: str, key: str) -> None:
    error = failing_call(server, flavour, key)
    assert error.kind == "bad_request" and error.status == 400
    assert "[redacted]" in str(error)  # the server's message is kept, without the key
    assert "Invalid request for key" in str(error)
    text = "".join(traceback.format_exception(error))
    assert_absent(key, str(error), repr(error), text, repr(vars(error)))


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_verbose_traceback_of_a_failing_complete_shows_no_key(
    server: StandIn, flavour: str
) -> None:
    key = KEYS[0]
    error = failing_call(server, flavour, key)
    assert error.__traceback__ is not None
    verbose = VerboseTB(theme_name="nocolor").text(type(error), error, error.__traceback__)
    # The provider's own frame was printed with its values (the SDK's line names the Secret).
    assert "Provider(provider=" in verbose
    assert "Secret('***')" in verbose or flavour.endswith("direct")
    with_locals = "".join(
        traceback.TracebackException.from_exception(error, capture_locals=True).format()
    )
    frames = [frame.f_code.co_name for frame, _ in traceback.walk_tb(error.__traceback__)]
    assert "complete" in frames and "call" in frames  # down to the provider's own frame
    assert_absent(key, verbose, with_locals)


def test_redact_takes_the_whole_key_its_pieces_and_cuts_after() -> None:
    key = KEYS[2]
    body = "x" * 290 + key + f" starts {key[:16]}, masked {key[:10]}...{key[-4:]}"
    kept = redact(body, Secret(key))
    assert len(kept) <= 300 and key[:8] not in kept
    assert_absent(key, redact(f"near the end: {key[:20]}", Secret(key)))
    assert redact("no key here", Secret(key)) == "no key here"
    assert redact("short key abc", Secret("abc")) == "short key [redacted]"
