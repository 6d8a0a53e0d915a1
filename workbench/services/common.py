"""The vocabulary every service shares: a page of a list, "leave it unset", lenient enums, list
and mapping checks, and what a placeholder name or variable key looks like.

Below every service package (scenarios, suites, prompts, variables, ...), so each of them and
the shared helpers (`_fields.py`, `_listing.py`) depend on this module, not on one another.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeGuard, TypeVar

T = TypeVar("T")
E = TypeVar("E", bound=enum.StrEnum)


class Unset(enum.Enum):
    """The type of `UNSET`: "leave this field as it is" in an update."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET


def coerce_enum(enum_type: type[E], value: Any) -> E | Any:
    """`value` as a member of `enum_type` when it names one (any case), else unchanged."""
    if isinstance(value, enum_type):
        return value
    if isinstance(value, str):
        try:
            return enum_type(value.strip().upper())
        except ValueError:
            return value
    return value


def is_list(value: object) -> TypeGuard[Sequence[Any]]:
    """A list-like value (not text). Lists and tuples are checked first: the ABC check is slow,
    and an import of 10,000 scenarios asks this hundreds of thousands of times."""
    kind = type(value)
    if kind is list or kind is tuple:
        return True
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def is_mapping(value: object) -> TypeGuard[Mapping[Any, Any]]:
    return type(value) is dict or isinstance(value, Mapping)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list. `total` counts every match (None when not asked for)."""

    items: tuple[T, ...]
    total: int | None
    offset: int
    limit: int | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""What a placeholder name and a variable key look like."""

IDENTIFIER_RULE = (
    "a name starts with a letter or underscore and has only letters, digits and underscores"
)


def is_identifier(name: str) -> bool:
    """True if `name` can be a placeholder name or a variable key."""
    return IDENTIFIER.fullmatch(name) is not None
