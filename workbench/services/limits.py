"""The size limits every save enforces, and the characters a name may not be made of.

Chosen so that no real scenario reaches them and one save stays well under a second
(bench/bench_hostile.py saves a scenario at every limit at once); input past one is refused
with a `ValidationError` naming the limit. The README's "Limits" section lists them.
"""

from __future__ import annotations

import unicodedata
from typing import Final

MAX_TEXT_LENGTH: Final = 1_000_000
"""Characters in one text field: a turn, a description, an expectation value, prompt content,
a variable value (about 250,000 tokens, past any model's context; templates scan linearly)."""

MAX_SCENARIO_TEXT: Final = 2_000_000
"""Characters of text in one scenario, all turns and expectations together."""

MAX_TURNS: Final = 200
"""Turns in one scenario (USER and EXPECT together): a hundred exchanges."""

MAX_EXPECTATIONS_PER_TURN: Final = 20
"""Expectations in one EXPECT turn, and values in one MUST_CONTAIN_ANY."""

MAX_TAGS: Final = 50
"""Tags on one scenario or prompt."""

MAX_PATTERN_LENGTH: Final = 2_000
"""Characters in one REGEX pattern (compiling a 1 MB pattern took 7 s)."""

MAX_PAGE: Final = 1_000_000_000
"""The largest `limit` or `offset` a list takes (PostgreSQL's own bound, 2**63 - 1, answered an
offset past it with a raw error)."""

MAX_CONCURRENCY: Final = 10_000
"""Attempts played at once by one run (`wb.runs.start(concurrency=...)`); a run never plays more
at once than it has attempts."""

MAX_REPEATS: Final = 10_000
"""Times one run plays each scenario (`repeats=`)."""

MAX_RUN_ATTEMPTS: Final = 1_000_000
"""Attempts in one run: scenarios times repeats."""

# Bidirectional embedding, override and isolate controls: they reorder how the rest of the
# name is shown, so "abc\u202edcba" reads as another name in a list.
BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def count_problem(count: int, limit: int, what: str) -> str | None:
    """The message for `count` items over `limit`, or None."""
    if count <= limit:
        return None
    return f"has {count:,} {what}; the limit is {limit:,}"


def whole_number_problem(value: object, low: int, high: int) -> str | None:
    """Why `value` is not a whole number from `low` to `high`, or None (a bool is refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be a whole number from {low:,} to {high:,}, not {type(value).__name__}"
    if not low <= value <= high:
        shown = f"{value:,}" if abs(value) < 10**30 else f"a {len(str(abs(value)))}-digit number"
        return f"must be a whole number from {low:,} to {high:,}, not {shown}"
    return None


def length_problem(value: str, limit: int = MAX_TEXT_LENGTH) -> str | None:
    """The message for text over `limit` characters, or None."""
    if len(value) <= limit:
        return None
    return f"is {len(value):,} characters long; the limit is {limit:,}"


def name_problem(name: str) -> str | None:
    """Why `name` (already stripped) could impersonate another in a list, or None.

    Refused: a name with a bidirectional control character, and a name with nothing visible
    (only zero-width, format or whitespace characters, say U+200B).
    """
    bidi = next((ch for ch in name if ch in BIDI_CONTROLS), None)
    if bidi is not None:
        return (
            f"contains the bidirectional control character U+{ord(bidi):04X}, which changes "
            "how the name is shown; remove it"
        )
    if name and all(_invisible(ch) for ch in name):
        return "has no visible characters (only zero-width or blank ones); give it a name"
    return None


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zs", "Mn", "Me")
