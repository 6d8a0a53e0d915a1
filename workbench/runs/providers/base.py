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

Role = Literal["system", "user", "assistant"]
ProviderName = Literal["openai", "anthropic", "openai_compatible", "offline"]

# An offline rule: (substring or compiled pattern, reply). A callable maps the last user message
# to the reply instead.
OfflineRule = tuple[Any, str]
OfflineRules = tuple[OfflineRule, ...] | Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


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
    cut: bool = False  # the reply was longer than the target's max_reply_bytes: this is its head


@runtime_checkable
class ModelClient(Protocol):
    async def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None = None,
        temperature: float | None = None,
    ) -> Completion: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class RawReply:
    """What a thin provider returns: the answer before timing, retries and cost are added."""

    text: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cut: bool = False  # the body was longer than the transport read (providers/bounded.py)


class Provider(Protocol):
    """One SDK call, no retries, errors already translated to ProviderError."""

    async def call(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None,
        temperature: float | None,
    ) -> RawReply: ...

    async def aclose(self) -> None: ...
