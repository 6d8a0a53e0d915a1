"""The types every provider shares: messages, completions, errors, targets, the client protocol.

A `Target` describes *what* to call (provider, model, parameters, limits) and is safe to store:
it never holds a key. The key is handed to `open_client` and from there only into the SDK client's
constructor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from workbench.errors import WorkbenchError

Role = Literal["system", "user", "assistant"]
ProviderName = Literal["openai", "anthropic", "openai_compatible", "offline"]
ErrorKind = Literal[
    "auth", "rate_limit", "server", "timeout", "connection", "bad_request", "bad_response"
]

# An offline rule: (substring or compiled pattern, reply). A callable maps the last user message
# to the reply instead.
OfflineRule = tuple[Any, str]
OfflineRules = tuple[OfflineRule, ...] | Callable[[str], str]

ENV_VARS: Mapping[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "openai_compatible": "OPENAI_API_KEY",
}


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


class ProviderError(WorkbenchError):
    """A call to a model API failed; the message never contains a key.

    `kind` says what went wrong, `retryable` whether waiting and trying again could help (the
    generate layer has already retried when this reaches the caller), `status` the HTTP status.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait, if it said

    def __repr__(self) -> str:
        return f"ProviderError({str(self)!r}, kind={self.kind!r}, status={self.status!r})"


@dataclass(frozen=True)
class Target:
    """What to call: built by `workbench.openai(...)`, `anthropic(...)`, `openai_compatible(...)`
    or `offline(...)`, which validate it. Holds no key."""

    provider: ProviderName
    model: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    base_url: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 5
    concurrency: int | None = None
    rpm: int | None = None
    tpm: int | None = None
    offline_rules: OfflineRules = field(default=(), hash=False, compare=False)
    offline_default: str | None = None
    judge_score: float = 1.0  # offline only: the score of its fixed judge verdict
    transport: str = "sdk"
    """How requests travel: "sdk" (the official SDKs, default) or "direct" (one aiohttp
    session, about a third of the CPU per request; for very large runs). See open_client."""

    @property
    def env_var(self) -> str | None:
        """The environment variable the key is read from when the vault has none."""
        return ENV_VARS.get(self.provider)

    @property
    def vault_provider(self) -> str | None:
        """The provider name under which the vault stores this target's key."""
        return None if self.provider == "offline" else self.provider

    def settings(self) -> dict[str, Any]:
        """A JSON-safe description for the run record (never a key)."""
        out: dict[str, Any] = {
            "provider": self.provider,
            "model": self.model,
            "params": dict(self.params),
            "timeout_s": self.timeout_s,
            "max_retries": self.max_retries,
        }
        for name in ("base_url", "concurrency", "rpm", "tpm"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.transport != "sdk":  # recorded only when chosen: older runs' settings stay equal
            out["transport"] = self.transport
        if self.provider == "offline":
            out["offline"] = _describe_rules(self.offline_rules, self.offline_default)
            out["judge_score"] = self.judge_score
        return out


def _describe_rules(rules: OfflineRules, default: str | None) -> dict[str, Any]:
    if callable(rules):
        name = getattr(rules, "__qualname__", type(rules).__name__)
        return {"function": f"{getattr(rules, '__module__', '?')}.{name}"}
    shown = [[getattr(pattern, "pattern", pattern), reply[:200]] for pattern, reply in rules[:50]]
    return {"rules": shown, "rule_count": len(rules), "default": default}


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
