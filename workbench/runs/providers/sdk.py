"""The official SDKs' async clients, `openai.AsyncOpenAI` and `anthropic.AsyncAnthropic`: the
opt-in transport ("sdk"; the default since issue 24 is "direct", providers/direct.py). One
provider class for both: they differ only in the SDK, the path and how a body is built and a
reply read (their `Dialect`).

The request goes through the SDK's documented low-level call, `client.post(path, body=...,
cast_to=httpx2.Response)` (its README's "Undocumented endpoints"): the SDK still owns the key,
the headers (Anthropic's `anthropic-version` too), the URL, the timeout, its aiohttp transport
(`DefaultAioHttpClient`) and the exceptions (APIStatusError and friends, which errors.translate
maps to ProviderError kinds), but the reply is read as JSON here rather than built into its
typed models, and read with a limit: `stream=True` hands the response back unread, and at most
`bounded.body_limit(target.max_reply_bytes)` bytes of it are read (docs/providers.md).
bench/bench_http.py measures that typed construction (with the request-parameter transform) as
about a third of the SDK's per-request CPU (1.4 ms against 0.9 ms for the raw
call; a bare aiohttp loop takes 0.25 ms).

The SDKs' own retries are off (`max_retries=0`): generate.py retries, so every attempt is
counted, limited and timed in one place. The bodies and replies are the dialect modules'
(openai.py, anthropic.py), shared with providers/direct.py.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.crypto.secret import Secret
from workbench.runs.providers.anthropic import messages_body, parse_messages
from workbench.runs.providers.base import Message, RawReply, ToolDefinition
from workbench.runs.providers.bounded import body_limit, decode, read_limited
from workbench.runs.providers.errors import translate
from workbench.runs.providers.openai import chat_body, parse_chat
from workbench.runs.providers.targets import Target

BuildBody = Callable[
    [Target, Sequence[Message], Mapping[str, Any] | None, float | None, Sequence[ToolDefinition]],
    dict[str, Any],
]
ReadReply = Callable[[Any, Target, bool], RawReply]  # (JSON, target, structured) -> reply


@dataclass(frozen=True)
class Dialect:
    """What one API needs of the SDK provider: which SDK and client, the path, the body, the
    reply."""

    sdk: str
    client: str
    path: str
    body: BuildBody
    read: ReadReply


OPENAI = Dialect(
    "openai", "AsyncOpenAI", "/chat/completions", chat_body,
    lambda data, target, structured: parse_chat(data, target),
)  # fmt: skip
ANTHROPIC = Dialect(
    "anthropic", "AsyncAnthropic", "/v1/messages", messages_body,
    lambda data, target, structured: parse_messages(data, target, structured=structured),
)  # fmt: skip


class SdkProvider:
    """One target's calls through its SDK: OpenAI's (and OpenAI-compatible servers') or
    Anthropic's."""

    def __init__(self, target: Target, api_key: str | Secret, *, http: str = "aiohttp") -> None:
        import httpx2

        api_key = Secret.wrap(api_key)  # a traceback from here down shows it masked
        # Kept wrapped to redact it from errors: `self._client.api_key` in `call` would put the
        # text on the line IPython's verbose traceback prints with its values.
        self._secret = api_key

        self.dialect = ANTHROPIC if target.provider == "anthropic" else OPENAI
        self._sdk_module = importlib.import_module(self.dialect.sdk)  # on first client only
        self._response_type = httpx2.Response
        self._target = target
        sdk = self._sdk_module
        http_client = sdk.DefaultAioHttpClient() if http == "aiohttp" else None
        # The key goes into the SDK client and nowhere else as text.
        self._client: Any = getattr(sdk, self.dialect.client)(
            api_key=api_key.reveal(),
            base_url=target.base_url,
            max_retries=0,
            timeout=target.timeout_s,
            http_client=http_client,
        )

    def __repr__(self) -> str:
        t = self._target
        return f"SdkProvider(provider={t.provider!r}, model={t.model!r}, base_url={t.base_url!r})"

    async def call(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None,
        temperature: float | None,
        tools: Sequence[ToolDefinition] = (),
    ) -> RawReply:
        body = self.dialect.body(self._target, messages, json_schema, temperature, tools)
        limit = body_limit(self._target.max_reply_bytes)
        try:
            # stream=True: the SDK hands back the response unread, and the body is read here in
            # chunks up to the limit (bounded.py); the rest is never read. (An error status is
            # read whole by the SDK itself, to build its exception.)
            answer = await self._client.post(
                self.dialect.path, body=body, cast_to=self._response_type, stream=True
            )
            try:
                raw, cut = await read_limited(answer.aiter_bytes(), limit)
            finally:
                await answer.aclose()
        except Exception as exc:
            raise translate(
                exc, self._sdk_module, provider=self._target.provider, secret=self._secret
            ) from None
        data = decode(raw, cut, self._target.provider)
        reply = self.dialect.read(data, self._target, json_schema is not None)
        return dataclasses.replace(reply, cut=True) if cut else reply

    async def aclose(self) -> None:
        await self._client.close()
