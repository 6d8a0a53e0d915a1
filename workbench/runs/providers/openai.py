"""OpenAI's chat completions (and any OpenAI-compatible server): the request body and the reply.

The dialect both transports speak: the SDK provider (sdk.py, through `openai.AsyncOpenAI`) and
the direct one (direct.py) send `chat_body` to `POST /chat/completions` and read the answer with
`parse_chat`. Structured output is `response_format={"type": "json_schema", "strict": true}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.runs.providers.base import (
    Message,
    ProviderError,
    RawReply,
    ToolCallRequest,
    ToolDefinition,
)
from workbench.runs.providers.errors import shape_error
from workbench.runs.providers.targets import Target


def chat_body(
    target: Target,
    messages: Sequence[Message],
    json_schema: Mapping[str, Any] | None,
    temperature: float | None,
    tools: Sequence[ToolDefinition] = (),
) -> dict[str, Any]:
    """The JSON body of `POST /chat/completions`; `tools` as `{"type": "function", ...}`."""
    body: dict[str, Any] = {"model": target.model, **target.params}
    if temperature is not None:
        body["temperature"] = temperature
    body["messages"] = [chat_message(m) for m in messages]
    if tools:
        body["tools"] = [{"type": "function", "function": dict(tool)} for tool in tools]
    if json_schema is not None:
        schema = {"name": "verdict", "schema": dict(json_schema), "strict": True}
        body["response_format"] = {"type": "json_schema", "json_schema": schema}
    return body


def chat_message(message: Message) -> dict[str, Any]:
    """One message as OpenAI writes it: an assistant's `tool_calls`, a result as `role: tool`
    with its `tool_call_id` (OpenAI has no error flag: a failure's text says it is one)."""
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.tool_calls:
        calls = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
        return {"role": "assistant", "content": message.content or None, "tool_calls": calls}
    return {"role": message.role, "content": message.content}


def parse_chat(data: Any, target: Target) -> RawReply:
    """The reply in a chat completion's JSON; a missing field is a `bad_response`."""
    name = target.provider
    try:
        message = data["choices"][0]["message"]
        usage = data.get("usage") or {}
        text = message.get("content")
        # Tool calls are read from the message itself, whatever `finish_reason` says (some
        # servers answer "stop" with tool calls: promptfoo #5172).
        asked = message.get("tool_calls")  # most replies call no tool: no generator for them
        calls = tuple(
            ToolCallRequest(str(c["id"]), str(c["function"]["name"]),
                            str(c["function"].get("arguments") or "{}"))
            for c in asked
        ) if asked else ()  # fmt: skip
        if calls:
            model = str(data.get("model") or target.model)
            tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
            return RawReply(text if isinstance(text, str) else "", model, *tokens, calls)
        if not isinstance(text, str):
            refusal = message.get("refusal")
            reason = f"refused: {str(refusal)[:200]}" if refusal else "no text in the answer"
            raise ProviderError(f"{name}: {reason}", kind="bad_response", retryable=False)
        model = str(data.get("model") or target.model)
        return RawReply(text, model, usage.get("prompt_tokens"), usage.get("completion_tokens"))
    except (KeyError, IndexError, TypeError, AttributeError):
        raise shape_error(name) from None
