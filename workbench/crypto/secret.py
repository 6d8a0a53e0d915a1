"""A password or API key held so that nothing prints it by accident.

IPython's `%xmode Verbose` prints every frame's arguments with their current values
(`set(self=..., api_key='sk-...')`) and the variables of the failing line, and a notebook saves
that output. So a public function that takes a secret rebinds the parameter to a `Secret` as its
first statement, and passes the `Secret` down: a traceback from anywhere below shows
`Secret('***')`. Only the code that really needs the text (a hash, an encryption) calls
`reveal()`, inside an expression, so the text is never a named local.

>>> key = Secret("sk-live-123")
>>> key, str(key), f"{key}"
(Secret('***'), '***', '***')
>>> key.reveal()
'sk-live-123'
"""

from __future__ import annotations

from typing import Final

MASK: Final = "***"


class Secret:
    """Text that is masked in `repr`, `str` and formatting; `reveal()` gives it back."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    @classmethod
    def wrap(cls, value: str | Secret) -> Secret:
        """`value` as a `Secret` (unchanged if it already is one)."""
        return value if isinstance(value, Secret) else cls(value)

    def reveal(self) -> str:
        """The text itself: only for the call that needs it (hash, encrypt, send)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling (multiprocessing, caching) would write the text: refuse instead.
        raise TypeError("a Secret cannot be pickled")


def reveal(value: str | Secret) -> str:
    """The text of `value`, whether it arrived as a `Secret` or as plain `str`."""
    return value.reveal() if isinstance(value, Secret) else value
