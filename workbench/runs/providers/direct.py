"""The two APIs spoken directly over one aiohttp session, without the SDKs (transport="direct").

Why it exists: bench/bench_http.py measures the SDKs' own per-request work (request transform,
httpx-style models, response construction) at several milliseconds of CPU, which at concurrency 50
on two cores is most of the wall time; this path does the same requests at the aiohttp floor. It
builds the same bodies as the SDK providers (same messages, params, structured output), and
translates HTTP statuses with the same rules (errors.status_kind, Retry-After).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.runs.providers.anthropic import TOOL_NAME, to_anthropic
from workbench.runs.providers.base import Message, ProviderError, RawReply, Target
from workbench.runs.providers.errors import redact, retry_after, status_kind

ANTHROPIC_URL = "https://api.anthropic.com"
OPENAI_URL = "https://api.openai.com/v1"
ANTHROPIC_VERSION = "2023-06-01"


class DirectProvider:
    def __init__(self, target: Target, api_key: str) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        self._target = target
        anthropic = target.provider == "anthropic"
        base = target.base_url or (ANTHROPIC_URL if anthropic else OPENAI_URL)
        self._url = base + ("/v1/messages" if anthropic else "/chat/completions")
        headers = (
            {"x-api-key": api_key, "anthropic-version": ANTHROPIC_VERSION}
            if anthropic
            else {"Authorization": f"Bearer {api_key}"}
        )

        # The session needs a running loop, and open_client may be called before one: it is made
        # on first use. The key lives only in this closure and then in the session's default
        # headers (neither shown by any repr).
        def make_session() -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(limit=0)  # our limiter bounds concurrency
            return aiohttp.ClientSession(headers=headers, connector=connector)

        self._make_session = make_session
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"DirectProvider(provider={self._target.provider!r}, model={self._target.model!r})"

    def _body(
        self,
        messages: Sequence[Message],
        json_schema: Mapping[str, Any] | None,
        temperature: float | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self._target.model, **self._target.params}
        if temperature is not None:
            body["temperature"] = temperature
        if self._target.provider != "anthropic":
            body["messages"] = [{"role": m.role, "content": m.content} for m in messages]
            if json_schema is not None:
                schema = {"name": "verdict", "schema": dict(json_schema), "strict": True}
                body["response_format"] = {"type": "json_schema", "json_schema": schema}
            return body
        system, body["messages"] = to_anthropic(messages)
        if system is not None:
            body["system"] = system
        if json_schema is not None:
            tool = {"name": TOOL_NAME, "description": "Record the verdict."}
            body["tools"] = [{**tool, "input_schema": dict(json_schema)}]
            body["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
        return body

    async def call(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None,
        temperature: float | None,
    ) -> RawReply:
        body = self._body(messages, json_schema, temperature)
        name = self._target.provider
        if self._session is None:
            self._session = self._make_session()
        try:
            async with self._session.post(self._url, json=body) as answer:
                raw = await answer.read()
                status, headers = answer.status, answer.headers
        except self._aiohttp.ClientError as exc:
            raise ProviderError(
                f"{name}: connection failed ({type(exc).__name__})",
                kind="connection",
                retryable=True,
            ) from None
        if status >= 400:
            raise _status_error(name, status, headers, raw)
        try:
            data = json.loads(raw)
        except ValueError:
            raise ProviderError(
                f"{name}: unreadable answer (not JSON)", kind="bad_response", retryable=False
            ) from None
        return _parse(data, self._target, structured=json_schema is not None)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _status_error(name: str, status: int, headers: Mapping[str, str], raw: bytes) -> ProviderError:
    kind, retryable = status_kind(status)
    if kind == "auth":
        detail = "the API key was refused; check the key stored in the vault or the env var"
    else:
        detail = redact(raw[:600].decode("utf-8", "replace"), None)
    return ProviderError(
        f"{name}: HTTP {status}: {detail}",
        kind=kind,
        retryable=retryable,
        status=status,
        retry_after=retry_after(headers),
    )


def _parse(data: Any, target: Target, *, structured: bool) -> RawReply:
    name = target.provider
    try:
        model = str(data.get("model") or target.model)
        if name == "anthropic":
            blocks = data["content"]
            usage = data.get("usage") or {}
            tokens = usage.get("input_tokens"), usage.get("output_tokens")
            if structured:
                tools = [b for b in blocks if b.get("type") == "tool_use"]
                if not tools:
                    raise ProviderError(
                        "anthropic: no tool call in a structured answer",
                        kind="bad_response",
                        retryable=False,
                    )
                return RawReply(json.dumps(tools[0]["input"]), model, *tokens)
            text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
            return RawReply(text, model, *tokens)
        message = data["choices"][0]["message"]
        usage = data.get("usage") or {}
        text = message.get("content")
        if not isinstance(text, str):
            raise ProviderError(
                f"{name}: no text in the answer", kind="bad_response", retryable=False
            )
        return RawReply(text, model, usage.get("prompt_tokens"), usage.get("completion_tokens"))
    except (KeyError, IndexError, TypeError, AttributeError):
        raise ProviderError(
            f"{name}: answer without the expected fields", kind="bad_response", retryable=False
        ) from None
