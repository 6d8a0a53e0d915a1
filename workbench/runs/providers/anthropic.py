"""Anthropic messages through `anthropic.AsyncAnthropic` (the default transport, "sdk").

As for OpenAI (see providers/openai.py), the request is the SDK's low-level
`client.post("/v1/messages", body=..., cast_to=httpx2.Response)`: the SDK owns the key, the
`anthropic-version` header, the URL, the timeout, its aiohttp transport and the exceptions; the
reply's JSON is read here instead of into its typed models. SDK retries are off.

System messages go to `system`; consecutive messages of one role are merged (the API requires
user/assistant alternation), and a conversation must start with a user message. Sampling
parameters (temperature, top_p, top_k) are plain body fields. Structured output is a forced tool
call whose `input_schema` is the schema: the tool's input is the verdict, already parsed JSON, so
no prompt asks for "JSON only" and no text is scraped. `messages_body`/`parse_messages` are
shared with providers/direct.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.runs.providers.base import Message, ProviderError, RawReply, Target
from workbench.runs.providers.errors import decode_json, shape_error, translate

TOOL_NAME = "record_verdict"


def to_anthropic(messages: Sequence[Message]) -> tuple[str | None, list[dict[str, str]]]:
    """(system text or None, alternating user/assistant messages with same-role runs merged)."""
    system = [m.content for m in messages if m.role == "system"]
    merged: list[dict[str, str]] = []
    for message in messages:
        if message.role == "system":
            continue
        if merged and merged[-1]["role"] == message.role:
            merged[-1]["content"] += "\n\n" + message.content
        else:
            merged.append({"role": message.role, "content": message.content})
    if merged and merged[0]["role"] != "user":
        raise ProviderError(
            "anthropic: the conversation must start with a user message",
            kind="bad_request",
            retryable=False,
        )
    return ("\n\n".join(system) if system else None), merged


def messages_body(
    target: Target,
    messages: Sequence[Message],
    json_schema: Mapping[str, Any] | None,
    temperature: float | None,
) -> dict[str, Any]:
    """The JSON body of `POST /v1/messages`."""
    body: dict[str, Any] = {"model": target.model, **target.params}
    if temperature is not None:
        body["temperature"] = temperature
    system, body["messages"] = to_anthropic(messages)
    if system is not None:
        body["system"] = system
    if json_schema is not None:
        tool = {"name": TOOL_NAME, "description": "Record the verdict."}
        body["tools"] = [{**tool, "input_schema": dict(json_schema)}]
        body["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
    return body


def parse_messages(data: Any, target: Target, *, structured: bool) -> RawReply:
    """The reply in a message's JSON: the forced tool's input when `structured`, else the text."""
    try:
        model = str(data.get("model") or target.model)
        blocks = data["content"]
        usage = data.get("usage") or {}
        tokens = usage.get("input_tokens"), usage.get("output_tokens")
        if not structured:
            text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
            return RawReply(text, model, *tokens)
        tools = [b for b in blocks if b.get("type") == "tool_use"]
        if not tools:
            raise ProviderError(
                "anthropic: no tool call in a structured answer",
                kind="bad_response",
                retryable=False,
            )
        return RawReply(json.dumps(tools[0]["input"]), model, *tokens)
    except (KeyError, IndexError, TypeError, AttributeError):
        raise shape_error("anthropic") from None


class AnthropicProvider:
    def __init__(self, target: Target, api_key: str, *, http: str = "aiohttp") -> None:
        import anthropic
        import httpx2

        self._sdk_module = anthropic
        self._response_type = httpx2.Response
        self._target = target
        http_client = anthropic.DefaultAioHttpClient() if http == "aiohttp" else None
        # The key goes into the SDK client and nowhere else.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=target.base_url,
            max_retries=0,
            timeout=target.timeout_s,
            http_client=http_client,
        )

    def __repr__(self) -> str:
        return f"AnthropicProvider(model={self._target.model!r})"

    async def call(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None,
        temperature: float | None,
    ) -> RawReply:
        body = messages_body(self._target, messages, json_schema, temperature)
        try:
            answer = await self._client.post("/v1/messages", body=body, cast_to=self._response_type)
        except Exception as exc:
            raise translate(
                exc, self._sdk_module, provider="anthropic", secret=self._client.api_key
            ) from None
        data = decode_json(answer.content, "anthropic")
        return parse_messages(data, self._target, structured=json_schema is not None)

    async def aclose(self) -> None:
        await self._client.close()
