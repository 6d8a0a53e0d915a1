"""Anthropic's messages API: the request body and the reply.

The dialect both transports speak: the SDK provider (sdk.py, through `anthropic.AsyncAnthropic`)
and the direct one (direct.py) send `messages_body` to `POST /v1/messages` and read the answer
with `parse_messages`.

System messages go to `system`; consecutive messages of one role are merged (the API requires
user/assistant alternation), and a conversation must start with a user message. Sampling
parameters (temperature, top_p, top_k) are plain body fields. Structured output is a forced tool
call whose `input_schema` is the schema: the tool's input is the verdict, already parsed JSON, so
no prompt asks for "JSON only" and no text is scraped.
"""

from __future__ import annotations

import json
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

TOOL_NAME = "record_verdict"


def to_anthropic(messages: Sequence[Message]) -> tuple[str | None, list[dict[str, Any]]]:
    """(system text or None, alternating user/assistant messages with same-role runs merged).

    An assistant's tool calls are `tool_use` blocks; results are `tool_result` blocks (with
    `is_error`) of the next user message, all of one round in one message, as the API asks."""
    system = [m.content for m in messages if m.role == "system"]
    merged: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role, content = _anthropic_content(message)
        if merged and merged[-1]["role"] == role:
            merged[-1]["content"] = _join(merged[-1]["content"], content)
        else:
            merged.append({"role": role, "content": content})
    if merged and merged[0]["role"] != "user":
        raise ProviderError(
            "anthropic: the conversation must start with a user message",
            kind="bad_request",
            retryable=False,
        )
    return ("\n\n".join(system) if system else None), merged


def _anthropic_content(message: Message) -> tuple[str, str | list[dict[str, Any]]]:
    if message.role == "tool":
        block = {"type": "tool_result", "tool_use_id": message.tool_call_id,
                 "content": message.content, "is_error": message.is_error}  # fmt: skip
        return "user", [block]
    if message.tool_calls:
        blocks: list[dict[str, Any]] = []
        if message.content:
            blocks.append({"type": "text", "text": message.content})
        blocks += [
            {"type": "tool_use", "id": c.id, "name": c.name, "input": _input(c.arguments)}
            for c in message.tool_calls
        ]
        return "assistant", blocks
    return message.role, message.content


def _input(arguments: str) -> Any:
    try:
        value = json.loads(arguments)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _join(
    old: str | list[dict[str, Any]], new: str | list[dict[str, Any]]
) -> str | list[dict[str, Any]]:
    """Two same-role contents as one: text joined by a blank line, else blocks in order."""
    if isinstance(old, str) and isinstance(new, str):
        return old + "\n\n" + new
    return [*_blocks(old), *_blocks(new)]


def _blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def messages_body(
    target: Target,
    messages: Sequence[Message],
    json_schema: Mapping[str, Any] | None,
    temperature: float | None,
    tools: Sequence[ToolDefinition] = (),
) -> dict[str, Any]:
    """The JSON body of `POST /v1/messages`; `tools` with their `input_schema`."""
    body: dict[str, Any] = {"model": target.model, **target.params}
    if temperature is not None:
        body["temperature"] = temperature
    system, body["messages"] = to_anthropic(messages)
    if system is not None:
        body["system"] = system
    if tools:
        body["tools"] = [
            {"name": t["name"], "description": t.get("description") or "",
             "input_schema": t["parameters"]}
            for t in tools
        ]  # fmt: skip
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
            calls = tuple(
                ToolCallRequest(str(b["id"]), str(b["name"]), json.dumps(b.get("input") or {}))
                for b in blocks
                if b.get("type") == "tool_use"
            )
            return RawReply(text, model, *tokens, calls)
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
