"""OpenAI chat completions (and any OpenAI-compatible server) through `openai.AsyncOpenAI`.

This is the default transport ("sdk"). The request goes through the SDK's documented low-level
call, `client.post("/chat/completions", body=..., cast_to=httpx2.Response)` (its README's
"Undocumented endpoints"): the SDK still owns the key, the headers, the URL, the timeout, its
aiohttp transport (`DefaultAioHttpClient`) and the exceptions (APIStatusError and friends, which
errors.translate maps to ProviderError kinds), but the reply is read as JSON here rather than
built into its typed models. bench/bench_http.py measures that typed construction (with the
request-parameter transform) as about a third of the SDK's per-request CPU (1.4 ms against
0.9 ms for the raw call; a bare aiohttp loop takes 0.25 ms).

The SDK's own retries are off (`max_retries=0`): generate.py retries, so every attempt is
counted, limited and timed in one place. Structured output is `response_format={"type":
"json_schema", "strict": true}`. `chat_body`/`parse_chat` are shared with providers/direct.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.runs.providers.base import Message, ProviderError, RawReply, Target
from workbench.runs.providers.errors import decode_json, shape_error, translate


def chat_body(
    target: Target,
    messages: Sequence[Message],
    json_schema: Mapping[str, Any] | None,
    temperature: float | None,
) -> dict[str, Any]:
    """The JSON body of `POST /chat/completions`."""
    body: dict[str, Any] = {"model": target.model, **target.params}
    if temperature is not None:
        body["temperature"] = temperature
    body["messages"] = [{"role": m.role, "content": m.content} for m in messages]
    if json_schema is not None:
        schema = {"name": "verdict", "schema": dict(json_schema), "strict": True}
        body["response_format"] = {"type": "json_schema", "json_schema": schema}
    return body


def parse_chat(data: Any, target: Target) -> RawReply:
    """The reply in a chat completion's JSON; a missing field is a `bad_response`."""
    name = target.provider
    try:
        message = data["choices"][0]["message"]
        usage = data.get("usage") or {}
        text = message.get("content")
        if not isinstance(text, str):
            refusal = message.get("refusal")
            reason = f"refused: {str(refusal)[:200]}" if refusal else "no text in the answer"
            raise ProviderError(f"{name}: {reason}", kind="bad_response", retryable=False)
        model = str(data.get("model") or target.model)
        return RawReply(text, model, usage.get("prompt_tokens"), usage.get("completion_tokens"))
    except (KeyError, IndexError, TypeError, AttributeError):
        raise shape_error(name) from None


class OpenAIProvider:
    def __init__(self, target: Target, api_key: str, *, http: str = "aiohttp") -> None:
        import httpx2
        import openai

        self._sdk_module = openai
        self._response_type = httpx2.Response
        self._target = target
        http_client = openai.DefaultAioHttpClient() if http == "aiohttp" else None
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
        body = chat_body(self._target, messages, json_schema, temperature)
        try:
            answer = await self._client.post(
                "/chat/completions", body=body, cast_to=self._response_type
            )
        except Exception as exc:
            raise translate(
                exc, self._sdk_module, provider=self._target.provider, secret=self._client.api_key
            ) from None
        return parse_chat(decode_json(answer.content, self._target.provider), self._target)

    async def aclose(self) -> None:
        await self._client.close()
