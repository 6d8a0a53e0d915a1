"""The types every provider shares: messages, completions, errors and the client protocol.

What to call is a `Target` (targets.py); the error a failed call raises is `ProviderError`
(workbench/errors.py, re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from workbench.errors import ErrorKind as ErrorKind  # re-exported
from workbench.errors import ProviderError as ProviderError  # re-exported

Role = Literal["system", "user", "assistant", "tool"]
ProviderName = Literal["openai", "anthropic", "openai_compatible", "offline"]


@dataclass(frozen=True, slots=True)
class OfflineToolCalls:
    """An offline rule's answer that calls tools (`workbench.tool_calls(...)`): this round's
    calls, then what comes after their results: more calls, or the text reply, in which
    "{results}" stands for the results of the round before, joined by "; "."""

    calls: tuple[tuple[str, Mapping[str, Any]], ...]
    then: str | OfflineToolCalls

    def describe(self) -> str:
        names = ", ".join(name for name, _ in self.calls)
        then = self.then.describe() if isinstance(self.then, OfflineToolCalls) else self.then
        return f"calls {names}, then {then}"


def tool_calls(*calls: tuple[str, Mapping[str, Any]], then: str | OfflineToolCalls) -> Any:
    """An offline rule that calls tools, for tutorials and tests:
    `offline({"order": tool_calls(("lookup_order", {"order_id": "A1"}), then="It is {results}")})`.
    """
    return OfflineToolCalls(tuple((str(name), dict(args)) for name, args in calls), then)


# An offline rule: (substring or compiled pattern, reply or tool calls). A callable maps the last
# user message to the reply instead.
OfflineRule = tuple[Any, Any]
OfflineRules = tuple[OfflineRule, ...] | Callable[[str], str]


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """A tool call the model asked for: its id, the tool's name and the arguments as JSON text
    (OpenAI sends text; Anthropic's `input` object is dumped to text)."""

    id: str
    name: str
    arguments: str


ToolDefinition = Mapping[str, Any]
"""{"name": ..., "description": ..., "parameters": JSON Schema}: each dialect wraps it."""


@dataclass(frozen=True, slots=True)
class Message:
    """One message. An assistant message may carry `tool_calls`; a "tool" message is one call's
    result (`tool_call_id`, `is_error`), which each dialect writes in its own format."""

    role: Role
    content: str
    tool_calls: tuple[ToolCallRequest, ...] = ()
    tool_call_id: str | None = None
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    model: str
    latency_s: float
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    cached: bool = False
    attempts: int = 1  # requests made for this completion, retries included
    tool_calls: tuple[ToolCallRequest, ...] = ()
    cut: bool = False  # the reply was longer than the target's max_reply_bytes: this is its head


@runtime_checkable
class ModelClient(Protocol):
    async def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None = None,
        temperature: float | None = None,
        tools: Sequence[ToolDefinition] = (),
    ) -> Completion: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class RawReply:
    """What a thin provider returns: the answer before timing, retries and cost are added."""

    text: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    tool_calls: tuple[ToolCallRequest, ...] = ()
    cut: bool = False  # the body was longer than the transport read (providers/bounded.py)


class Provider(Protocol):
    """One SDK call, no retries, errors already translated to ProviderError."""

    async def call(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None,
        temperature: float | None,
        tools: Sequence[ToolDefinition] = (),
    ) -> RawReply: ...

    async def aclose(self) -> None: ...
