"""OpenAI chat completions (and any OpenAI-compatible server) through `openai.AsyncOpenAI`.

The SDK's own retries are off (`max_retries=0`): generate.py retries, so every attempt is
counted, limited and timed in one place. This is `transport="sdk"` (the SDK on its aiohttp
transport; "sdk-httpx" on its default client); the default transport is providers/direct.py,
which bench/bench_http.py measures several times faster at concurrency 50.
Structured output uses `response_format={"type": "json_schema", "strict": true}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.runs.providers.base import Message, ProviderError, RawReply, Target
from workbench.runs.providers.errors import translate


class OpenAIProvider:
    def __init__(self, target: Target, api_key: str, *, transport: str = "aiohttp") -> None:
        import openai

        self._sdk_module = openai
        self._target = target
        self._params = dict(target.params)
        http_client = openai.DefaultAioHttpClient() if transport == "aiohttp" else None
        # The key goes into the SDK client and nowhere else.
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=target.base_url,
            max_retries=0,
            timeout=target.timeout_s,
            http_client=http_client,
        )

    def __repr__(self) -> str:
        return f"OpenAIProvider(model={self._target.model!r}, base_url={self._target.base_url!r})"

    async def call(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None,
        temperature: float | None,
    ) -> RawReply:
        kwargs = dict(self._params)
        if temperature is not None:
            kwargs["temperature"] = temperature
        if json_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "verdict", "schema": dict(json_schema), "strict": True},
            }
        payload: Any = [{"role": m.role, "content": m.content} for m in messages]
        try:
            answer = await self._client.chat.completions.create(
                model=self._target.model, messages=payload, **kwargs
            )
            return _reply(answer, self._target.model)
        except Exception as exc:
            raise translate(
                exc, self._sdk_module, provider=self._target.provider, secret=self._client.api_key
            ) from None

    async def aclose(self) -> None:
        await self._client.close()


def _reply(answer: Any, model: str) -> RawReply:
    choices = getattr(answer, "choices", None)
    if not choices:
        raise ProviderError("openai: answer without choices", kind="bad_response", retryable=False)
    message = choices[0].message
    text = message.content
    if text is None:
        refusal = getattr(message, "refusal", None)
        reason = f"refused: {str(refusal)[:200]}" if refusal else "no text in the answer"
        raise ProviderError(f"openai: {reason}", kind="bad_response", retryable=False)
    usage = getattr(answer, "usage", None)
    return RawReply(
        text=text,
        model=getattr(answer, "model", None) or model,
        prompt_tokens=getattr(usage, "prompt_tokens", None),
        completion_tokens=getattr(usage, "completion_tokens", None),
    )
