"""Targets: what a run calls. `workbench.openai("gpt-4o-mini", temperature=0)` and friends build
them, validated here so a typo fails before any request is sent or any run row is written.

A `Target` describes *what* to call (provider, model, parameters, limits) and is safe to store:
it never holds a key (that is handed to `open_client`, and from there only into the client).
`Target.settings()` is what a run row keeps and `Target.from_settings()` its inverse, side by
side: a resumed run, a worker or a Dask task plays with exactly the target the run started with.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from workbench.errors import ValidationError
from workbench.runs.providers.base import OfflineRules, OfflineToolCalls, ProviderName
from workbench.runs.storable import DEFAULT_MAX_REPLY_BYTES

_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}")
_URL = re.compile(r"https?://[^\s/?#]+(?:/[^\s?#]*)?")

# Options every target takes (they become Target fields, not request parameters).
_LIMITS = ("timeout_s", "max_retries", "concurrency", "rpm", "tpm", "transport", "max_reply_bytes")
MAX_REPLY_BYTES_RANGE = (1_000, 100_000_000)
TARGET_TRANSPORTS = ("direct", "sdk")
LEGACY_TRANSPORT = "sdk"  # what stored settings without a transport were started on
_OPENAI_PARAMS = (
    "temperature",
    "max_tokens",
    "top_p",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "stop",
)
_ANTHROPIC_PARAMS = ("temperature", "max_tokens", "top_p", "top_k", "stop_sequences")
ANTHROPIC_DEFAULT_MAX_TOKENS = 1024


ENV_VARS: Mapping[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "openai_compatible": "OPENAI_API_KEY",
}


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
    transport: str = "direct"
    """How requests travel: "direct" (the default: the two APIs over one aiohttp session, about
    a third of the SDKs' client CPU per request) or "sdk" (the official SDKs, opt-in). See
    open_client and docs/providers.md. A run stored before "direct" was the default has no
    `transport` in its settings and resumes on "sdk", as it started (`from_settings`)."""
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES
    """The most of a reply that is read and kept, in bytes of UTF-8 (1 MB by default): a longer
    reply is stored cut, marked `reply_cut`, and checked as kept (providers/bounded.py)."""

    @property
    def env_var(self) -> str | None:
        """The environment variable the key is read from when the vault has none."""
        return ENV_VARS.get(self.provider)

    @property
    def vault_provider(self) -> str | None:
        """The provider name under which the vault stores this target's key."""
        return None if self.provider == "offline" else self.provider

    def settings(self) -> dict[str, Any]:
        """A JSON description for the run record (never a key); `from_settings` is its inverse.

        Values are JSON's own (a tuple of stop sequences is a list), so the settings a run row
        gives back compare equal to these."""
        out: dict[str, Any] = {
            "provider": self.provider,
            "model": self.model,
            "params": _plain(dict(self.params)),
            "timeout_s": self.timeout_s,
            "max_retries": self.max_retries,
        }
        for name in ("base_url", "concurrency", "rpm", "tpm"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.provider != "offline":  # always: a missing one is an older run's "sdk"
            out["transport"] = self.transport
        if self.max_reply_bytes != DEFAULT_MAX_REPLY_BYTES:  # the same
            out["max_reply_bytes"] = self.max_reply_bytes
        if self.provider == "offline":
            out["offline"] = _describe_rules(self.offline_rules, self.offline_default)
            out["judge_score"] = self.judge_score
        return out

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], *, role: str = "target") -> Target:
        """The target a run was started with, from its stored `settings()`: every setting that
        shapes a request or its retries comes back, validated as the builders validate it.

        An offline target's rules are not stored (they may be a function): `ValidationError`
        asking for the target again (`resume(run_id, target=...)`)."""
        provider, model = settings.get("provider"), str(settings.get("model"))
        base_url = settings.get("base_url")
        options = dict(settings.get("params") or {})
        options |= {name: settings[name] for name in _LIMITS if name in settings}
        # Runs stored while the SDKs were the default recorded a transport only when "direct"
        # was chosen: one without it was started on "sdk", and resumes on it.
        options.setdefault("transport", LEGACY_TRANSPORT)
        if provider == "openai":
            return openai(model, base_url=base_url, **options)
        if provider == "anthropic":
            return anthropic(model, base_url=base_url, **options)
        if provider == "openai_compatible":
            return openai_compatible(base_url=_url(base_url), model=model, **options)
        raise ValidationError(
            f"This run's {role} is an offline target, stored without its rules; pass it again: "
            f"resume(run_id, {role}=...)."
        )


def without_transport(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Stored settings less how the requests travelled: what a target is (a matrix's baseline
    is found by it, whichever default its run was started under)."""
    return {name: value for name, value in settings.items() if name != "transport"}


def _plain(value: Any) -> Any:
    """`value` with JSON's containers: tuples become lists."""
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _describe_rules(rules: OfflineRules, default: str | None) -> dict[str, Any]:
    if callable(rules):
        name = getattr(rules, "__qualname__", type(rules).__name__)
        return {"function": f"{getattr(rules, '__module__', '?')}.{name}"}
    shown = [
        [getattr(pattern, "pattern", pattern), _shown(reply)[:200]] for pattern, reply in rules[:50]
    ]
    return {"rules": shown, "rule_count": len(rules), "default": default}


def _shown(reply: Any) -> str:
    return reply.describe() if isinstance(reply, OfflineToolCalls) else str(reply)


def openai(model: str, *, base_url: str | None = None, **params: Any) -> Target:
    """An OpenAI chat-completions target; the key comes from the vault or OPENAI_API_KEY.

    `base_url` points the official API at a proxy or gateway (default: api.openai.com).
    Every target also takes `timeout_s`, `max_retries`, `concurrency`, `rpm`, `tpm`,
    `transport` ("direct" by default: the API over one shared aiohttp session, about a third
    of the official SDK's client CPU per request; "sdk" opts in to the official SDK; it travels
    with the run to Dask and worker processes)
    and `max_reply_bytes` (1 MB by default: a longer reply is stored cut, marked `reply_cut`).
    """
    url = _url(base_url) if base_url is not None else None
    return _build("openai", model, params, _OPENAI_PARAMS, temperature_max=2.0, base_url=url)


def anthropic(model: str, *, base_url: str | None = None, **params: Any) -> Target:
    """An Anthropic messages target; the key comes from the vault or ANTHROPIC_API_KEY."""
    params.setdefault("max_tokens", ANTHROPIC_DEFAULT_MAX_TOKENS)  # the API requires it
    url = _url(base_url) if base_url is not None else None
    return _build("anthropic", model, params, _ANTHROPIC_PARAMS, temperature_max=1.0, base_url=url)


def openai_compatible(*, base_url: str, model: str, **params: Any) -> Target:
    """Any server speaking OpenAI's chat completions (vLLM, Ollama, LM Studio, a gateway)."""
    return _build(
        "openai_compatible",
        model,
        params,
        _OPENAI_PARAMS,
        temperature_max=2.0,
        base_url=_url(base_url),
    )


def _url(base_url: object) -> str:
    if not isinstance(base_url, str) or not _URL.fullmatch(base_url):
        raise ValidationError(
            f"base_url must be an http:// or https:// URL such as 'http://localhost:8000/v1', "
            f"got {str(base_url)[:100]!r}"
        )
    return base_url.rstrip("/")


def offline(
    rules: Mapping[str, str]
    | tuple[tuple[Any, str], ...]
    | list[tuple[Any, str]]
    | Callable[[str], str] = (),
    *,
    default: str | None = None,
    model: str = "offline",
    judge_score: float = 1.0,
    **params: Any,
) -> Target:
    """A deterministic provider for tutorials and tests: no network, no key.

    `rules` maps the last user message to a reply: pairs of (substring or compiled `re` pattern,
    reply), tried in order, substrings matched case-insensitively; or a function of the last user
    message. Without a match the reply is `default`, or "echo: <last user message>". Asked for
    a verdict (as the run's judge: `judge=` defaults to the target), it answers
    `{"reasoning": ..., "score": judge_score}`, whatever the rules say.
    """
    normalised = _offline_rules(rules)
    if default is not None and not isinstance(default, str):
        raise ValidationError("offline(default=...) must be a string")
    if (
        isinstance(judge_score, bool)
        or not isinstance(judge_score, int | float)
        or not 0 <= judge_score <= 1
    ):
        raise ValidationError(f"judge_score must be a number from 0 to 1, got {judge_score!r}")
    target = _build("offline", model, params, ("temperature", "max_tokens"), temperature_max=2.0)
    return Target(
        **{**_fields(target), "offline_rules": normalised, "offline_default": default},
        judge_score=float(judge_score),
    )


def _fields(target: Target) -> dict[str, Any]:
    names = ("provider", "model", "params", "base_url", *_LIMITS)
    return {name: getattr(target, name) for name in names}


def _offline_rules(rules: Any) -> OfflineRules:
    if callable(rules):
        return rules  # type: ignore[no-any-return]
    if not isinstance(rules, Mapping | list | tuple):
        raise ValidationError(
            "offline rules must be a mapping {substring: reply}, (pattern, reply) pairs "
            "or a function"
        )
    items = list(rules.items()) if isinstance(rules, Mapping) else list(rules)
    out: list[tuple[Any, Any]] = []
    for position, item in enumerate(items, start=1):  # "rule 1" is the first, as people count
        if not (isinstance(item, tuple | list) and len(item) == 2):
            raise ValidationError(f"offline rule {position} must be a (pattern, reply) pair")
        pattern, reply = item
        if not isinstance(pattern, str | re.Pattern) or not isinstance(
            reply, str | OfflineToolCalls
        ):
            raise ValidationError(
                f"offline rule {position}: the pattern must be a string or re.compile(...) "
                "and the reply a string"
            )
        out.append((pattern, reply))
    return tuple(out)


def _build(
    provider: ProviderName,
    model: str,
    options: dict[str, Any],
    allowed: tuple[str, ...],
    *,
    temperature_max: float,
    base_url: str | None = None,
) -> Target:
    if not isinstance(model, str) or not _MODEL.fullmatch(model):
        raise ValidationError(
            f"model must be a model name such as 'gpt-4o-mini' (letters, digits and ._:/@+-, "
            f"at most 200 characters), got {str(model)[:100]!r}"
        )
    unknown = sorted(set(options) - set(allowed) - set(_LIMITS))
    if unknown:
        raise ValidationError(
            f"unknown parameter(s) for {provider}: {', '.join(unknown)}; "
            f"allowed: {', '.join((*allowed, *_LIMITS))}"
        )
    limits = {name: options.pop(name) for name in _LIMITS if name in options}
    _check_params(options, temperature_max)
    _check_limits(limits)
    return Target(
        provider=provider,
        model=model,
        params=MappingProxyType(dict(options)),
        base_url=base_url,
        **limits,
    )


def _number(name: str, value: object, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValidationError(f"{name} must be a number from {low} to {high}, got {value!r}")


def _integer(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{name} must be a whole number from {low} to {high}, got {value!r}")


def _check_params(params: Mapping[str, Any], temperature_max: float) -> None:
    ranges = {"temperature": (0.0, temperature_max), "top_p": (0.0, 1.0)}
    ranges |= {"frequency_penalty": (-2.0, 2.0), "presence_penalty": (-2.0, 2.0)}
    for name, value in params.items():
        if name in ranges:
            _number(name, value, *ranges[name])
        elif name in ("max_tokens", "top_k"):
            _integer(name, value, 1, 1_000_000)
        elif name == "seed":
            _integer(name, value, -(2**63), 2**63 - 1)
        elif name in ("stop", "stop_sequences"):
            ok = isinstance(value, str) or (
                isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
            )
            if not ok:
                raise ValidationError(f"{name} must be a string or a list of strings")


def _check_limits(limits: Mapping[str, Any]) -> None:
    for name, value in limits.items():
        if name == "transport":
            if value not in TARGET_TRANSPORTS:
                raise ValidationError(
                    f"transport must be 'sdk' (the official SDKs, opt-in) or 'direct' (the "
                    f"default: one aiohttp session), got {str(value)[:50]!r}"
                )
        elif name == "timeout_s":
            _number(name, value, 0.001, 3600.0)
        elif name == "max_retries":
            _integer(name, value, 0, 20)
        elif name == "max_reply_bytes":
            _integer(name, value, *MAX_REPLY_BYTES_RANGE)
        elif value is not None:
            _integer(name, value, 1, 10_000_000)
