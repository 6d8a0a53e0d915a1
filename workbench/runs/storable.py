"""What a provider sends, made storable before it reaches a batch of results (issue 18).

A reply is data, never a reason to lose other data: PostgreSQL refuses a lone UTF-16 surrogate
or a NUL character in text and JSONB, a token count beyond `integer`, a NaN in JSON, and a
JSONB document over its size limit. So every value that comes from a provider passes here once,
where the reply is made (`generate.GenerateClient`), and the ledger's rows again (`ledger.py`)
for what the checks derived from it:

- text: lone surrogates and NUL characters become U+FFFD (valid pairs are joined);
- token counts: whole numbers from 0 to 2**31 - 1 (the column's), larger ones clamped to that,
  anything else (negative, fractional, text, NaN) unknown (None);
- costs: finite numbers or None;
- JSON (an expectation's detail): the above in every string and key, numbers JSON cannot carry
  (NaN, infinities, integers of more than 100 digits) stored as text;
- a reply: at most `max_bytes` bytes of UTF-8, cut on a character boundary, and marked cut.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

INT_MAX = 2**31 - 1
"""The largest value of a PostgreSQL `integer` column (token counts)."""

DEFAULT_MAX_REPLY_BYTES = 1_000_000
"""A reply is kept up to this many bytes of UTF-8 (1 MB) unless the target says otherwise."""

MAX_TEXT_INT = 10**100
"""Integers beyond this in an expectation's detail are stored as text (JSON numbers that large
are no measurement, and Python refuses to print ones of more than 4,300 digits)."""

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text(value: str) -> str:
    """`value` without what PostgreSQL text cannot hold: lone surrogates and NUL, as U+FFFD."""
    if value.isascii():  # O(1) in CPython: the common case costs one flag test
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if _UNSTORABLE.search(value) is None:
        return value
    # Through UTF-16, a surrogate pair that arrived as two code points becomes one character
    # again; what is left alone is replaced.
    joined = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _UNSTORABLE.sub("\ufffd", joined)


def tokens(value: object) -> int | None:
    """A token count as an `integer` column holds it (see the module's docstring)."""
    if type(value) is int and 0 <= value <= INT_MAX:  # nearly every count: one test
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            return None
        value = int(value)
    if not isinstance(value, int) or value < 0:
        return None
    return min(value, INT_MAX)


def cost(value: object) -> float | None:
    """A cost as a `double precision` column holds it: finite, else unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value) if abs(value) < 1e308 else math.inf
    return number if math.isfinite(number) else None


def json_value(value: Any) -> Any:
    """`value` as JSONB stores it: strings cleaned, unstorable numbers as text, tuples as
    lists, anything else as its `str`."""
    if isinstance(value, str):
        return text(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -MAX_TEXT_INT <= value <= MAX_TEXT_INT else _huge(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {text(str(key)): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    return text(str(value))


def _huge(value: int) -> str:
    if value.bit_length() > 14_000:  # past 4,300 digits Python refuses to print it
        return f"<an integer of {value.bit_length():,} bits>"
    return str(value)[:120]


def cap(reply: str, max_bytes: int) -> tuple[str, bool]:
    """`reply` cut to `max_bytes` bytes of UTF-8 on a character boundary; whether it was cut."""
    if len(reply) * 4 <= max_bytes:  # no character takes more than 4 bytes
        return reply, False
    head = reply[: max_bytes + 1]  # every character takes at least 1 byte
    encoded = head.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes and len(head) == len(reply):
        return reply, False
    return encoded[:max_bytes].decode("utf-8", "ignore"), True
