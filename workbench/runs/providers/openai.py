"""OpenAI's chat completions (and any OpenAI-compatible server): the request body and the reply.

The dialect both transports speak: the SDK provider (sdk.py, through `openai.AsyncOpenAI`) and
the direct one (direct.py) send `chat_body` to `POST /chat/completions` and read the answer with
`parse_chat`. Structured output is `response_format={"type": "json_schema", "strict": true}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.runs.providers.base import Message, ProviderError, RawReply
from workbench.runs.providers.errors import shape_error
from workbench.runs.providers.targets import Target


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
