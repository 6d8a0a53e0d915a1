"""Translating an SDK exception into a ProviderError whose message can never carry a key.

Both SDKs (openai, anthropic) share one shape: APIStatusError with `status_code` and
`response.headers`, APITimeoutError under APIConnectionError. The server's own error text is kept
(bounded) because it tells the user what to fix, except on 401/403, where OpenAI echoes a masked
key. What is kept is redacted before it is stored or raised (`redact`): the key actually used,
whatever its shape (`gsk_...`, `xai-...`, hex), whole or any run of 8 or more of its characters
(a server may echo it cut or masked), and any other key-shaped token. The key travels as a
`Secret`, so no frame a traceback prints holds it as text. The SDK exception is not chained
(`from None`): it holds the request, whose headers hold the key.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from workbench.crypto.secret import Secret
from workbench.runs.providers.base import ErrorKind, ProviderError

_KEYLIKE = re.compile(r"\b(?:sk|key|api|ak)[-_][A-Za-z0-9_\-*]{6,}", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{8,}")
_MAX_TEXT = 300
MAX_ERROR_BODY = 8192
"""Bytes of an error body read for its message (redacted, then cut to 300 characters)."""
REDACTED = "[redacted]"


def redact(text: str, secret: Secret | None) -> str:
    """`text` without the key used (`secret`) or any key-shaped token, cut to 300 characters.

    Cut after redacting, so the cut cannot leave part of a key behind."""
    if secret is not None:
        text = _without(text, secret.reveal())
    return _KEYLIKE.sub(REDACTED, text)[:_MAX_TEXT]


def _without(text: str, key: str) -> str:
    if not key:
        return text
    text = text.replace(key, REDACTED)
    if len(key) < 8:
        return text
    # A fragment: a server echoing the key cut short or masked in the middle ("gsk_abcd...wxyz").
    return _TOKEN.sub(lambda token: REDACTED if token[0] in key else token[0], text)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if not headers:
        return None
    try:
        millis = headers.get("retry-after-ms")
        if millis is not None:
            return max(0.0, float(millis) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def status_kind(status: int) -> tuple[ErrorKind, bool]:
    if status in (401, 403):
        return "auth", False
    if status == 429:
        return "rate_limit", True
    if status == 408:
        return "timeout", True
    if status >= 500:  # 529 is Anthropic's "overloaded"
        return "server", True
    return "bad_request", False


def decode_json(raw: bytes, provider: str) -> Any:
    """The JSON of a 2xx answer's body; anything else is a `bad_response` (not retried)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: hostile nesting
        raise ProviderError(
            f"{provider}: unreadable answer (not JSON)", kind="bad_response", retryable=False
        ) from None


def shape_error(provider: str) -> ProviderError:
    return ProviderError(
        f"{provider}: answer without the expected fields", kind="bad_response", retryable=False
    )


def translate(
    exc: BaseException, sdk: Any, *, provider: str, secret: Secret | None
) -> ProviderError:
    """A ProviderError for `exc` raised by `sdk` (the imported `openai` or `anthropic` module)."""
    if isinstance(exc, ProviderError):
        return exc
    refusal = refused(exc, provider)
    if refusal is not None:  # before the timeout: the openai SDK's aiohttp adapter calls it one
        return refusal
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderError(f"{provider}: request timed out", kind="timeout", retryable=True)
    if isinstance(exc, sdk.APIConnectionError):
        return ProviderError(
            f"{provider}: connection failed ({type(exc.__cause__ or exc).__name__})",
            kind="connection",
            retryable=True,
        )
    if isinstance(exc, sdk.APIStatusError):
        status = int(exc.status_code)
        kind, retryable = status_kind(status)
        headers = getattr(exc.response, "headers", None)
        if kind == "auth":
            detail = "the API key was refused; check the key stored in the vault or the env var"
        else:
            detail = redact(str(getattr(exc, "message", "") or exc), secret)
        return ProviderError(
            f"{provider}: HTTP {status}: {detail}",
            kind=kind,
            retryable=retryable,
            status=status,
            retry_after=retry_after(headers),
        )
    # A body that is not the JSON the SDK expects (APIResponseValidationError, JSONDecodeError...).
    return ProviderError(
        f"{provider}: unreadable answer ({type(exc).__name__}: {redact(str(exc), secret)[:120]})",
        kind="bad_response",
        retryable=False,
    )


def refused(exc: BaseException, provider: str) -> ProviderError | None:
    """ "connection refused at host:port" when a `ConnectionRefusedError` is in `exc`'s chain.

    Nothing listens there: at a loopback address (a local server not started, a wrong port) no
    retry can help, so it is not retried; elsewhere a proxy or a server restarting may refuse
    for a moment, so it is. The address comes from the chain itself: aiohttp's connector error
    has `host` and `port`, the SDKs' errors and httpx's carry the `request` and its URL.
    """
    address: tuple[str, int | None] | None = None
    link: BaseException | None = exc
    for _ in range(12):  # bounded: a hostile chain could be long or circular
        if link is None:
            return None
        address = address or _address_of(link)
        if isinstance(link, ConnectionRefusedError):
            break
        link = link.__cause__ or link.__context__
    else:
        return None
    host, port = address or ("the server", None)
    where = f"{host}:{port}" if port is not None else host
    local = is_loopback(host)
    hint = "nothing is listening there; start the server or check base_url"
    return ProviderError(
        f"{provider}: connection refused at {where} ({hint})",
        kind="connection",
        retryable=not local,
    )


def _address_of(link: BaseException) -> tuple[str, int | None] | None:
    host, port = getattr(link, "host", None), getattr(link, "port", None)
    if isinstance(host, str) and host:
        return host, port if isinstance(port, int) else None
    url = getattr(getattr(link, "request", None), "url", None)
    host = getattr(url, "host", None)
    if isinstance(host, str) and host:
        port = getattr(url, "port", None)
        if not isinstance(port, int):
            port = {"http": 80, "https": 443}.get(str(getattr(url, "scheme", "")))
        return host, port
    return None


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
