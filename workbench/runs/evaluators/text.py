"""MUST_CONTAIN, MUST_CONTAIN_ANY, MUST_NOT_CONTAIN: substrings after Unicode NFC normalisation,
case-insensitive by `str.casefold` unless case-sensitive ("STRASSE" contains "straße").

Casefolding can change a string's length ("ß" -> "ss"), so positions reported in a detail are
positions in the folded reply; the excerpt is taken from the folded text too.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from workbench.runs.evaluators.outcome import FAILED, PASSED, Check, Outcome, clip, excerpt


def normalise(text: str, case_sensitive: bool) -> str:
    text = unicodedata.normalize("NFC", text)
    return text if case_sensitive else text.casefold()


def must_contain(value: str, *, case_sensitive: bool = False) -> Check:
    return _substring(value, case_sensitive, passed_if_found=True)


def must_contain_any(values: Sequence[str], *, case_sensitive: bool = False) -> Check:
    needles = [(clip(v), normalise(v, case_sensitive)) for v in values]

    def check(reply: str) -> Outcome:
        haystack = normalise(reply, case_sensitive)
        for shown, needle in needles:
            at = haystack.find(needle)
            if at >= 0:
                return Outcome(PASSED, {"matched": shown, "position": at})
        return Outcome(FAILED, {"values": [shown for shown, _ in needles[:20]], "matched": None})

    return check


def must_not_contain(value: str, *, case_sensitive: bool = False) -> Check:
    return _substring(value, case_sensitive, passed_if_found=False)


def _substring(value: str, case_sensitive: bool, *, passed_if_found: bool) -> Check:
    """MUST_CONTAIN and MUST_NOT_CONTAIN: one search, the outcome read either way round."""
    needle = normalise(value, case_sensitive)
    shown = clip(value)
    if_found, if_missing = (PASSED, FAILED) if passed_if_found else (FAILED, PASSED)

    def check(reply: str) -> Outcome:
        haystack = normalise(reply, case_sensitive)
        at = haystack.find(needle)
        if at < 0:
            return Outcome(if_missing, {"value": shown, "found": False})
        found = excerpt(haystack, at, at + len(needle))
        return Outcome(if_found, {"value": shown, "found": True, "position": at, "excerpt": found})

    return check
