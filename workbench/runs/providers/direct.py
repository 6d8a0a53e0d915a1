"""The two APIs spoken directly over one aiohttp session, without the SDKs (transport="direct").

The default transport since issue 24 (the official SDKs, providers/sdk.py, are opt-in with
transport="sdk"; docs/providers.md has the figures and the reason). It saves what is left of the
SDKs' per-request work on their raw call (httpx2 request, header and URL objects, their aiohttp
adapter): bench/bench_http.py puts the generate path at about 0.3 ms of client CPU a request
here against 0.9-1.0 ms on the SDKs (a bare aiohttp loop: 0.22-0.27 ms). It sends the very
bodies the SDK path sends and parses the replies with the same functions
(`chat_body`/`parse_chat`, `messages_body`/`parse_messages`), and translates HTTP statuses with
the same rules (errors.status_kind, Retry-After). As the SDK clients do, it reads
OPENAI_BASE_URL or ANTHROPIC_BASE_URL when the target has no base_url, and sends OPENAI_ORG_ID
and OPENAI_PROJECT_ID as OpenAI's organization and project headers.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.crypto.secret import Secret
from workbench.runs.providers.anthropic import messages_body, parse_messages
from workbench.runs.providers.base import Message, ProviderError, RawReply, ToolDefinition
from workbench.runs.providers.bounded import body_limit, decode, read_limited
from workbench.runs.providers.errors import (
    MAX_ERROR_BODY,
    redact,
    refused,
    retry_after,
    status_kind,
)
from workbench.runs.providers.openai import chat_body, parse_chat
from workbench.runs.providers.targets import Target

ANTHROPIC_URL = "https://api.anthropic.com"
OPENAI_URL = "https://api.openai.com/v1"
ANTHROPIC_VERSION = "2023-06-01"
ERROR_BODY_BYTES = 4096  # an error body is read this far: 600 bytes of it are kept
CHUNK_BYTES = 64 * 1024
CONNECT_TIMEOUT_S = 30.0  # aiohttp's default for making a connection


class DirectProvider:
    def __init__(self, target: Target, api_key: str | Secret) -> None:
        import aiohttp

        # No total: the generate path bounds every call by the target's `timeout_s`
        # (asyncio.timeout), so aiohttp's own 5-minute timer would be a second timer armed and
        # cancelled per request, and would cut a target given a longer `timeout_s`.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S)
        api_key = Secret.wrap(api_key)  # a traceback from here down shows it masked
        self._aiohttp = aiohttp
        self._target = target
        self._secret = api_key  # to redact it from what an error body echoes
        anthropic = target.provider == "anthropic"
        self._url = _base_url(target) + ("/v1/messages" if anthropic else "/chat/completions")
        headers = (
            {"x-api-key": api_key.reveal(), "anthropic-version": ANTHROPIC_VERSION}
            if anthropic
            else {"Authorization": f"Bearer {api_key.reveal()}", **_openai_headers()}
        )

        # The session needs a running loop, and open_client may be called before one: it is made
        # on first use. The key lives only in this closure and then in the session's default
        # headers (neither shown by any repr).
        def make_session() -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(limit=0)  # our limiter bounds concurrency
            return aiohttp.ClientSession(headers=headers, connector=connector, timeout=timeout)

        self._make_session = make_session
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"DirectProvider(provider={self._target.provider!r}, model={self._target.model!r})"

    async def call(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None,
        temperature: float | None,
        tools: Sequence[ToolDefinition] = (),
    ) -> RawReply:
        target, name = self._target, self._target.provider
        if name == "anthropic":
            body = messages_body(target, messages, json_schema, temperature, tools)
        else:
            body = chat_body(target, messages, json_schema, temperature, tools)
        if self._session is None:
            self._session = self._make_session()
        try:
            async with self._session.post(self._url, json=body) as answer:
                status, headers = answer.status, answer.headers
                # Read in chunks up to a limit (bounded.py); what is left is never read: leaving
                # the block unread closes the connection.
                limit = ERROR_BODY_BYTES if status >= 400 else body_limit(target.max_reply_bytes)
                raw, cut = await read_limited(answer.content.iter_chunked(CHUNK_BYTES), limit)
        except self._aiohttp.ClientError as exc:
            raise refused(exc, name) or ProviderError(
                f"{name}: connection failed ({type(exc).__name__})",
                kind="connection",
                retryable=True,
            ) from None
        if status >= 400:
            error = _status_error(name, status, headers, bytes(raw), self._secret)
            del raw  # the body may echo the key: no frame a traceback prints may keep it
            raise error
        data = decode(raw, cut, name)
        if name == "anthropic":
            reply = parse_messages(data, target, structured=json_schema is not None)
        else:
            reply = parse_chat(data, target)
        return dataclasses.replace(reply, cut=True) if cut else reply

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _base_url(target: Target) -> str:
    """The target's base_url, else the SDK's environment variable, else the official API."""
    if target.base_url:
        return target.base_url
    if target.provider == "anthropic":
        return (os.environ.get("ANTHROPIC_BASE_URL") or ANTHROPIC_URL).rstrip("/")
    return (os.environ.get("OPENAI_BASE_URL") or OPENAI_URL).rstrip("/")


def _openai_headers() -> dict[str, str]:
    """OpenAI's organization and project, from the environment variables its SDK reads."""
    env = {"OpenAI-Organization": "OPENAI_ORG_ID", "OpenAI-Project": "OPENAI_PROJECT_ID"}
    return {header: os.environ[name] for header, name in env.items() if os.environ.get(name)}


def _status_error(
    name: str, status: int, headers: Mapping[str, str], raw: bytes, secret: Secret
) -> ProviderError:
    kind, retryable = status_kind(status)
    if kind == "auth":
        detail = "the API key was refused; check the key stored in the vault or the env var"
    else:
        detail = redact(raw[:MAX_ERROR_BODY].decode("utf-8", "replace"), secret)
    return ProviderError(
        f"{name}: HTTP {status}: {detail}",
        kind=kind,
        retryable=retryable,
        status=status,
        retry_after=retry_after(headers),
    )
