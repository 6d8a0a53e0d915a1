"""'Did you mean ...?': the closest of a user's own names to one that was not found.

Close means `difflib`'s similarity ratio of at least 0.6 on case-folded names, or the same name
in another case. Work is bounded: the given name is compared only when it could be a name (at
most 200 characters), against at most `POOL` names, which the caller reads from the user's own
rows (never anybody else's: a suggestion must not reveal another user's names).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from workbench.errors import quoted

POOL = 5_000
"""How many of the user's names a suggestion looks at (the caller's query limit)."""

SHOWN = 3
LONGEST = 200


def closest(name: str, candidates: Iterable[str], *, shown: int = SHOWN) -> list[str]:
    """Up to `shown` of `candidates` nearest to `name`, nearest first."""
    if not isinstance(name, str) or not name or len(name) > LONGEST:
        return []
    by_folded: dict[str, str] = {}
    for candidate in candidates:
        by_folded.setdefault(candidate.casefold(), candidate)
    folded = name.casefold()
    same = [by_folded[folded]] if folded in by_folded else []
    near = difflib.get_close_matches(folded, list(by_folded), n=shown, cutoff=0.6)
    found = [*same, *(by_folded[n] for n in near)]
    return list(dict.fromkeys(found))[:shown]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """ "; did you mean 'A' or 'B'?" for a message, or "" when nothing is close."""
    found = [quoted(candidate) for candidate in closest(name, candidates)]
    if not found:
        return ""
    listed = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " or " + found[-1]
    return f"; did you mean {listed}?"
