"""Anthropic messages through `anthropic.AsyncAnthropic`.

System messages go to `system=`; consecutive messages of one role are merged (the API requires
user/assistant alternation), and a conversation must start with a user message. Structured output
is a forced tool call whose `input_schema` is the schema: the tool's input is the verdict, already
parsed JSON, so no prompt asks for "JSON only" and no text is scraped. SDK retries are off.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.runs.providers.base import Message, ProviderError, RawReply, Target
from workbench.runs.providers.errors import translate

TOOL_NAME = "record_verdict"
# Sampling parameters go in the request body directly: recent SDKs dropped them from
# `messages.create` (newer models fix them), older models still take them.
_SAMPLING = frozenset({"temperature", "top_p", "top_k"})


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


class AnthropicProvider:
    def __init__(self, target: Target, api_key: str, *, transport: str = "aiohttp") -> None:
        import anthropic

        self._sdk_module = anthropic
        self._target = target
        self._params = dict(target.params)
        http_client = anthropic.DefaultAioHttpClient() if transport == "aiohttp" else None
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
        system, merged = to_anthropic(messages)
        payload: Any = merged  # the SDK wants its TypedDicts; these are the same shape
        kwargs = {k: v for k, v in self._params.items() if k not in _SAMPLING}
        sampling = {k: v for k, v in self._params.items() if k in _SAMPLING}
        if temperature is not None:
            sampling["temperature"] = temperature
        if sampling:
            kwargs["extra_body"] = sampling
        if system is not None:
            kwargs["system"] = system
        if json_schema is not None:
            kwargs["tools"] = [
                {
                    "name": TOOL_NAME,
                    "description": "Record the verdict.",
                    "input_schema": dict(json_schema),
                }
            ]
            kwargs["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
        try:
            answer = await self._client.messages.create(
                model=self._target.model, messages=payload, **kwargs
            )
            return _reply(answer, self._target.model, structured=json_schema is not None)
        except Exception as exc:
            raise translate(
                exc, self._sdk_module, provider="anthropic", secret=self._client.api_key
            ) from None

    async def aclose(self) -> None:
        await self._client.close()


def _reply(answer: Any, model: str, *, structured: bool) -> RawReply:
    blocks = getattr(answer, "content", None) or []
    if structured:
        tool = [b for b in blocks if getattr(b, "type", None) == "tool_use"]
        if not tool:
            raise ProviderError(
                "anthropic: no tool call in a structured answer",
                kind="bad_response",
                retryable=False,
            )
        text = json.dumps(tool[0].input)
    else:
        text = "".join(b.text for b in blocks if getattr(b, "type", None) == "text")
    usage = getattr(answer, "usage", None)
    return RawReply(
        text=text,
        model=getattr(answer, "model", None) or model,
        prompt_tokens=getattr(usage, "input_tokens", None),
        completion_tokens=getattr(usage, "output_tokens", None),
    )
