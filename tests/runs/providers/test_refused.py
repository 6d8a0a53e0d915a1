"""A refused connection (nothing listening at base_url) says so, at once, with the address;
through the real SDKs and the direct transport, over real sockets."""

from __future__ import annotations

import asyncio
import socket

import pytest

from workbench.runs import Message, ProviderError, Target, anthropic, openai_compatible
from workbench.runs.generate import open_client
from workbench.runs.providers.errors import is_loopback, refused


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: connecting to it is refused


def call(target: Target, transport: str) -> tuple[ProviderError, int]:
    async def go() -> tuple[ProviderError, int]:
        client = open_client(target, api_key="sk-refused-test", transport=transport)
        try:
            await client.complete([Message("user", "hello")])
        except ProviderError as error:
            return error, client.requests
        finally:
            await client.aclose()
        raise AssertionError("a closed port answered")

    return asyncio.run(go())


@pytest.mark.parametrize("transport", ["sdk", "direct", "sdk-httpx"])
@pytest.mark.parametrize("api", ["openai", "anthropic"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_refused_local_connection_names_the_address_and_is_not_retried(
    transport: str, api: str, host: str
) -> None:
    port = closed_port()
    url = f"http://{host}:{port}"
    target = (
        anthropic("claude-3-5-haiku", base_url=url)
        if api == "anthropic"
        else openai_compatible(base_url=f"{url}/v1", model="llama3.1")
    )
    error, requests = call(target, transport)
    assert f"connection refused at {host}:{port}" in str(error)
    assert "timed out" not in str(error) and "gave up" not in str(error)
    assert error.kind == "connection" and not error.retryable
    assert requests == 1  # not the six attempts (and 27 s of backoff) of a flaky server


def test_a_refused_remote_connection_is_retried() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connect call failed")
        except ConnectionRefusedError as cause:
            raise OSError("All connection attempts failed") from cause
    except OSError as chained:
        chained.host, chained.port = "gateway.example.com", 443  # type: ignore[attr-defined]
        error = refused(chained, "openai")
    assert error is not None and error.retryable
    assert "connection refused at gateway.example.com:443" in str(error)
    assert refused(ValueError("no refusal in here"), "openai") is None


@pytest.mark.parametrize(
    ("host", "local"),
    [("localhost", True), ("127.0.0.1", True), ("127.3.2.1", True), ("::1", True),
     ("[::1]", True), ("10.0.0.4", False), ("api.openai.com", False), ("192.168.1.9", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, local: bool) -> None:
    assert is_loopback(host) is local
