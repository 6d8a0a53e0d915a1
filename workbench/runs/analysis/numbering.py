"""One numbering for people: the one place where a run's stored indexes meet the numbers shown.

The run tables count from 0: `turn_index` over all of a scenario's turns (USER and EXPECT
alike), `expectation_index` within its turn, `repeat`, and the scenario's `position` in the
suite. Everything a user reads counts from 1, as the scenario editor does ("Turn 2 · EXPECT")
and validation says ("turn 2, expectation 1"). So every statement of this package selects
`shown("e.turn_index")` and never the bare column, and a number a user passes back (read off a
frame) is turned into an index by `stored`, which refuses the old 0-based call rather than
quietly answering with another attempt.
"""

from __future__ import annotations

from workbench.errors import ValidationError, quoted

FIRST = 1
"""The first turn, expectation, repeat or position as people count them."""


def shown(column: str) -> str:
    """A statement's expression for a stored 0-based `column`, as shown: `shown("a.repeat")`."""
    return f"({column} + {FIRST})"


def shown_number(index: int) -> int:
    """A stored 0-based index as shown (for indexes counted in Python, not in a statement)."""
    return index + FIRST


def checked(number: object, name: str) -> int:
    """`number` if it is a whole number from 1, else a `ValidationError` saying how they count.

    >>> checked(0, "repeat")  # doctest: +SKIP
    ValidationError: repeat must be a whole number from 1 (repeats count from 1, as the frames
    and the RunViewer show them), got 0
    """
    if isinstance(number, bool) or not isinstance(number, int) or number < FIRST:
        raise ValidationError(
            f"{name} must be a whole number from {FIRST} ({name}s count from {FIRST}, as the "
            f"frames and the RunViewer show them), got {quoted(number)}"
        )
    return number


def stored(number: object, name: str) -> int:
    """The stored 0-based index of a shown `number` (checked first)."""
    return checked(number, name) - FIRST
