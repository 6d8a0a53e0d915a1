"""REGEX: `regex.search` (not a full match) with a time limit per check.

The `regex` package (not `re`) because its matcher takes a `timeout=`: a catastrophic pattern such
as `(a|a)+$` on a long reply becomes an ERROR naming the pattern instead of a hung kernel.
Case-insensitive (full Unicode case folding) unless case-sensitive, as for the other string
checks; the reply and the pattern are NFC-normalised. Compiled patterns are cached.

`concurrent=False` keeps the GIL during the match: with a timeout the package otherwise lets go
of it, and taking it back while the run's other threads (the ledger, the HTTP client) hold it
costs up to the interpreter's switch interval, 5 ms, per check: a 5 microsecond search took
0.4 ms in a run. The timeout still holds (the matcher checks the clock itself).

Even so, a search with a timeout cost 1-2 ms of a `workbench worker`'s time per check under
load (issue 24: 28% of a worker's time in `bench_workers`, for a 0.4 microsecond search), so a
pattern whose cost is bounded anyway is searched without one: no repetition (`*`, `+`, `?`,
`{`), no backreference, no `(?...)` construct, at most 3 `|`, at most 200 characters, on a
reply of at most 20,000. Such a search tries at most 8 paths of at most 200 characters from
each position: tens of milliseconds in the worst case, under the time limit itself.
Every other pattern, and any pattern on a longer reply, keeps the time limit.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

import regex

from workbench.runs.evaluators.outcome import ERROR, FAILED, PASSED, Check, Outcome, clip, excerpt

DEFAULT_TIMEOUT_S = 0.1

BOUNDED_PATTERN_CHARACTERS = 200
BOUNDED_BARS = 3
BOUNDED_REPLY_CHARACTERS = 20_000
# Repetition (`?` also opens every `(?...)` construct) and backreferences (`\1`, `\g<..>`,
# `\k<..>`); a backslash that escapes one of these is counted too (the safe side).
_UNBOUNDED = regex.compile(r"[*+?{]|\\[1-9gk]")


def bounded(pattern: str) -> bool:
    """Whether `pattern`'s search costs little on any reply of up to
    `BOUNDED_REPLY_CHARACTERS` (see the module's docstring), so needs no time limit."""
    return (
        len(pattern) <= BOUNDED_PATTERN_CHARACTERS
        and pattern.count("|") <= BOUNDED_BARS
        and _UNBOUNDED.search(pattern) is None
    )


@lru_cache(maxsize=1024)
def _compile(pattern: str, case_sensitive: bool) -> Any:
    flags = regex.V0 if case_sensitive else regex.V0 | regex.IGNORECASE | regex.FULLCASE
    return regex.compile(unicodedata.normalize("NFC", pattern), flags)


def regex_check(
    pattern: str, *, case_sensitive: bool = False, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Check:
    shown = clip(pattern, 100)
    try:
        compiled = _compile(pattern, case_sensitive)
    except regex.error as exc:
        problem = f"invalid regular expression {shown!r}: {exc}"

        def invalid(reply: str) -> Outcome:
            return Outcome(ERROR, {"pattern": shown, "error": problem})

        return invalid

    quick = bounded(pattern)

    def check(reply: str) -> Outcome:
        text = unicodedata.normalize("NFC", reply)
        try:
            if quick and len(text) <= BOUNDED_REPLY_CHARACTERS:
                match = compiled.search(text)
            else:
                match = compiled.search(text, timeout=timeout_s, concurrent=False)
        except TimeoutError:
            error = f"regular expression {shown!r} took longer than {timeout_s:g} s on the reply"
            return Outcome(ERROR, {"pattern": shown, "error": error, "timeout_s": timeout_s})
        if match is None:
            return Outcome(FAILED, {"pattern": shown, "matched": None})
        found = {"pattern": shown, "matched": clip(match.group(0)), "position": match.start()}
        found["excerpt"] = excerpt(text, match.start(), match.end())
        return Outcome(PASSED, found)

    return check
