"""Reading a reply's body with a limit, in both transports (issue 18: replies are bounded).

A target keeps at most `max_reply_bytes` of a reply (1 MB by default). The body is read in
chunks and no further than `body_limit(max_reply_bytes)` bytes (the reply plus room for JSON
escapes and the envelope): a 50 MB answer costs about that much memory, not 50 MB, and the rest
is never read (the connection is closed). A body cut there is no longer JSON: `parse_cut` closes
what was read (the open string, then the open arrays and objects) so that the reply text read so
far is parsed as usual, and the reply is marked cut. Fields that came after the cut (usage, in
both APIs) are unknown.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

from workbench.runs.providers.base import ProviderError
from workbench.runs.providers.errors import decode_json

ENVELOPE_BYTES = 64 * 1024
"""Room for the JSON around a reply (ids, usage, tool calls) beyond its own bytes."""

MAX_DEPTH = 256
"""A cut body nested deeper than this is not a reply: it is refused, not repaired."""


def body_limit(max_reply_bytes: int) -> int:
    """How much of a body is read: a reply of `max_reply_bytes` may take twice that in JSON
    (escaped quotes, newlines), plus the envelope."""
    return 2 * max_reply_bytes + ENVELOPE_BYTES


async def read_limited(chunks: AsyncIterator[bytes], limit: int) -> tuple[bytearray, bool]:
    """At most `limit` bytes of `chunks`, and whether there was more (then it is not read).
    A bytearray (which `json.loads` and `decode` take as is): no copy of the body is made."""
    kept = bytearray()
    async for chunk in chunks:
        room = limit - len(kept)
        if len(chunk) > room:
            kept += chunk[:room]
            return kept, True
        kept += chunk
    return kept, False


def decode(raw: bytes | bytearray, cut: bool, provider: str) -> Any:
    """The JSON of a 2xx body as `read_limited` gave it (cut or whole)."""
    return parse_cut(raw, provider) if cut else decode_json(bytes(raw), provider)


def parse_cut(raw: bytes | bytearray, provider: str) -> Any:
    """The JSON of a body cut after `len(raw)` bytes, its open string and containers closed."""
    text = raw.decode("utf-8", "ignore")  # a character split by the cut is dropped
    try:
        return json.loads(close_prefix(text))
    except (ValueError, RecursionError):
        raise ProviderError(
            f"{provider}: the answer is larger than max_reply_bytes allows and could not be read "
            "up to there; raise max_reply_bytes on the target to keep more",
            kind="bad_response",
            retryable=False,
        ) from None


# The next token: punctuation, the opening quote of a string, or a bare scalar (a number, a
# literal). Strings are skipped with `str.find` (`_string_end`): a regex would walk a megabyte
# of reply character by character.
_NEXT = re.compile(r'\s*+([{}\[\],:"]|[^\s{}\[\],:"]++)')
_HEX_TAIL = re.compile(r"u[0-9a-fA-F]{0,3}\Z")
_CLOSERS = {"{": "}", "[": "]"}


def close_prefix(text: str) -> str:
    """The longest sensible JSON document `text` (a cut prefix of one) starts: an unterminated
    string value is closed where it was cut; a key, a partial number or literal and a dangling
    comma are dropped; open arrays and objects are closed."""
    stack, safe, open_value = _scan(text)
    if open_value is not None:  # the reply itself was cut: keep what was read of it
        start, body = open_value
        body = _without_partial_escape(body)
        return text[:start] + body + '"' + _closing(stack)
    kept = text[:safe]
    return kept + _closing(_scan(kept)[0])


def _without_partial_escape(body: str) -> str:
    """`body` without an escape the cut split: a lone backslash, or `\\u` and under 4 digits.
    Only its last characters are looked at (a search would walk the whole reply)."""
    tail = _HEX_TAIL.search(body, max(0, len(body) - 4))
    if tail is not None and _odd_backslashes(body, tail.start()):
        return body[: tail.start() - 1]
    return body[:-1] if _odd_backslashes(body, len(body)) else body


def _odd_backslashes(body: str, end: int) -> bool:
    """Whether an odd run of backslashes ends at `end` (then the last one starts an escape)."""
    start = end
    while start > 0 and body[start - 1] == "\\":
        start -= 1
    return (end - start) % 2 == 1


def _closing(stack: list[str]) -> str:
    return "".join(_CLOSERS[opener] for opener in reversed(stack))


def _scan(text: str) -> tuple[list[str], int, tuple[int, str] | None]:
    """(open containers, the end of the last complete value or opener, the unterminated string
    value at the end as (start, text so far) or None)."""
    stack: list[str] = []
    safe, expect_key, position = 0, False, 0
    while (match := _NEXT.match(text, position)) is not None:
        token, start, position = match.group(1), match.start(1), match.end()
        first = token[0]
        if first in "{[":
            stack.append(first)
            if len(stack) > MAX_DEPTH:
                raise ValueError("nested too deep")
            expect_key, safe = first == "{", position
        elif first in "}]":
            if not stack:
                break
            stack.pop()
            expect_key, safe = False, position
        elif first == ",":
            expect_key = bool(stack) and stack[-1] == "{"
        elif first == ":":
            expect_key = False
        elif first == '"':
            end = _string_end(text, position)
            if end < 0:  # cut open: a value is kept as far as it goes, a key is dropped
                return stack, safe, (None if expect_key else (start, text[start:]))
            position = end
            if not expect_key:
                safe = end
        elif position < len(text):
            safe = position  # a number or literal the cut did not touch
    return stack, safe, None


def _string_end(text: str, position: int) -> int:
    """The index after the quote closing the string whose body starts at `position`, or -1."""
    while (quote := text.find('"', position)) >= 0:
        before = quote
        while text[before - 1] == "\\":
            before -= 1
        if (quote - before) % 2 == 0:  # not escaped (an even run of backslashes before it)
            return quote + 1
        position = quote + 1
    return -1
