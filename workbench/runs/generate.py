"""The one generate path: every model call of a run goes through `GenerateClient.complete`.

It wraps a thin provider (one SDK call, errors translated) with what the SDKs would otherwise
each do their own way: retries (429, 5xx, timeouts, connection errors; exponential backoff with
jitter; Retry-After honoured; other 4xx never retried), a per-request timeout, the process-wide
concurrency limit and rate buckets of `limits.py`, and cost from `pricing.py`.

`Completion.latency_s` is the duration of the request that answered (not the queueing or the
failed attempts before it); `Completion.attempts` counts the requests made.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.crypto.secret import Secret
from workbench.errors import ConfigError, ValidationError
from workbench.runs import storable
from workbench.runs.deadlines import Deadlines
from workbench.runs.limits import Limits, shared_limits
from workbench.runs.pricing import cost_usd
from workbench.runs.providers.base import (
    Completion,
    Message,
    Provider,
    ProviderError,
    RawReply,
    ToolDefinition,
)
from workbench.runs.providers.direct import DirectProvider
from workbench.runs.providers.offline import OfflineProvider
from workbench.runs.providers.sdk import SdkProvider
from workbench.runs.providers.targets import Target

TRANSPORTS = ("sdk", "direct", "sdk-httpx")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff for attempt n (1-based): up to min(max_backoff_s, backoff_s * 2**(n-1)), "equal
    jitter" (half fixed, half random) so a wave of 429s does not come back in step."""

    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after_s)
        ceiling = min(self.max_backoff_s, self.backoff_s * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.random() * ceiling / 2


def open_client(
    target: Target,
    *,
    api_key: str | None,
    retry: RetryPolicy | None = None,
    transport: str | None = None,
) -> GenerateClient:
    """A client for `target`. `api_key=None` reads the provider's environment variable.

    `transport` (default: the target's own, `workbench.openai(..., transport="sdk")`, which is
    "direct" unless chosen): "direct" speaks the two APIs over one aiohttp session
    (providers/direct.py), about a third of the SDKs' client CPU per request; "sdk" (opt-in)
    goes through the official `openai`/`anthropic` SDK clients on their aiohttp transport, by
    their raw `client.post` call (providers/sdk.py); "sdk-httpx" is the SDKs on their default
    httpx2 client (benchmarks only). bench/bench_http.py has the figures; every transport passes the
    same fault, secret and judge tests.
    """
    transport = target.transport if transport is None else transport
    if transport not in TRANSPORTS:
        raise ValidationError(
            f"transport must be one of {', '.join(TRANSPORTS)}, got {transport!r}"
        )
    provider: Provider
    if target.provider == "offline":
        provider, fingerprint = OfflineProvider(target), "-"
    else:
        key = Secret(_key_for(target, api_key))  # masked in any traceback from here down
        fingerprint = hashlib.sha256(key.reveal().encode()).hexdigest()[:16]
        if transport == "direct":
            provider = DirectProvider(target, key)
        else:
            provider = SdkProvider(target, key, http=_sdk_http(transport))
        del key
    limit_key = (target.provider, target.base_url, fingerprint, target.model)
    return GenerateClient(target, provider, limit_key, retry or RetryPolicy())


def _sdk_http(transport: str) -> str:
    return "httpx" if transport == "sdk-httpx" else "aiohttp"


def _key_for(target: Target, api_key: str | None) -> str:
    if api_key:
        return api_key
    env = target.env_var
    from_env = os.environ.get(env) if env else None
    if from_env:
        return from_env
    if target.provider == "openai_compatible":
        return "unused"  # local servers (Ollama, vLLM) take any key; the SDK insists on one
    raise ConfigError(
        f"no API key for {target.provider}: store one with ApiKeyEditor "
        f"(or wb.api_keys.set(provider={target.provider!r}, ...)) or set {env}"
    )


class GenerateClient:
    """Retries, limits, timeout and cost around one provider. Holds no key itself."""

    __slots__ = (
        "_deadlines",
        "_limit_key",
        "_limits",
        "_policy",
        "_provider",
        "requests",
        "target",
    )

    def __init__(
        self, target: Target, provider: Provider, limit_key: tuple[Any, ...], policy: RetryPolicy
    ) -> None:
        self.target = target
        self._provider = provider
        self._limit_key = limit_key
        self._limits: Limits | None = None
        self._policy = policy
        self._deadlines = Deadlines(target.timeout_s)  # one timer for all: see deadlines.py
        self.requests = 0  # HTTP requests made, retries included

    def __repr__(self) -> str:
        return f"GenerateClient(provider={self.target.provider!r}, model={self.target.model!r})"

    @property
    def limits(self) -> Limits:
        if self._limits is None:
            t = self.target
            self._limits = shared_limits(
                self._limit_key,
                concurrency=t.concurrency,
                rpm=t.rpm,
                tpm=t.tpm,
            )
        return self._limits

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None = None,
        temperature: float | None = None,
        tools: Sequence[ToolDefinition] = (),
    ) -> Completion:
        attempt = 0
        while True:
            attempt += 1
            try:
                raw, latency = await self._once(messages, json_schema, temperature, tools)
            except ProviderError as error:
                if not error.retryable or attempt > self.target.max_retries:
                    raise _final(error, attempt) from None
                await asyncio.sleep(self._policy.delay(attempt, error.retry_after))
                continue
            cost = cost_usd(raw.model, raw.prompt_tokens, raw.completion_tokens)
            if cost is None and raw.model != self.target.model:
                cost = cost_usd(self.target.model, raw.prompt_tokens, raw.completion_tokens)
            return Completion(
                raw.text, raw.model, latency, raw.prompt_tokens, raw.completion_tokens,
                storable.cost(cost), attempts=attempt, tool_calls=raw.tool_calls, cut=raw.cut,
            )  # fmt: skip

    async def _once(
        self,
        messages: Sequence[Message],
        json_schema: Mapping[str, Any] | None,
        temperature: float | None,
        tools: Sequence[ToolDefinition] = (),
    ) -> tuple[RawReply, float]:
        limits = self.limits
        if limits.rpm is not None:
            await limits.rpm.take(1)
        if limits.tpm is not None:
            await limits.tpm.take(0)
        epoch = await limits.concurrency.acquire()
        self.requests += 1
        started = time.perf_counter()
        try:
            async with self._deadlines.watch():  # asyncio.timeout(target.timeout_s), cheaper
                if tools:
                    raw = await self._provider.call(
                        messages, json_schema=json_schema, temperature=temperature, tools=tools
                    )
                else:  # providers written before tools (and test doubles) take no `tools`
                    raw = await self._provider.call(
                        messages, json_schema=json_schema, temperature=temperature
                    )
        except TimeoutError:
            raise ProviderError(
                f"{self.target.provider}: no answer within {self.target.timeout_s:g} s",
                kind="timeout",
                retryable=True,
            ) from None
        except ProviderError as error:
            if error.kind == "rate_limit":
                limits.concurrency.rate_limited(epoch)
            raise
        finally:
            limits.concurrency.release()
        latency = time.perf_counter() - started
        limits.concurrency.succeeded()
        raw = storable_reply(raw, self.target.max_reply_bytes)
        if limits.tpm is not None:
            # At most a minute's worth: a count no minute allows is no reason to wait for hours.
            used = (raw.prompt_tokens or 0) + (raw.completion_tokens or 0)
            limits.tpm.charge(min(used, limits.tpm.per_minute))
        return raw, latency

    async def aclose(self) -> None:
        await self._provider.aclose()


def storable_reply(raw: RawReply, max_bytes: int) -> RawReply:
    """`raw` as the database can store it (storable.py): text cleaned and cut to `max_bytes`,
    token counts that fit their columns. The checks then run on what is stored."""
    text, cut = storable.cap(storable.text(raw.text), max_bytes)
    model = storable.text(str(raw.model))[:200]
    prompt, completion = storable.tokens(raw.prompt_tokens), storable.tokens(raw.completion_tokens)
    if (
        text is raw.text
        and model is raw.model
        and prompt is raw.prompt_tokens
        and completion is raw.completion_tokens
        and not cut
    ):
        return raw  # the usual reply: already storable, no copy made (one per attempt)
    return dataclasses.replace(
        raw,
        text=text,
        model=model,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cut=raw.cut or cut,
    )


def _final(error: ProviderError, attempts: int) -> ProviderError:
    if attempts == 1:
        return error
    return ProviderError(
        f"{error} (gave up after {attempts} attempts)",
        kind=error.kind,
        retryable=error.retryable,
        status=error.status,
        retry_after=error.retry_after,
    )
