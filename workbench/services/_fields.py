"""Checks for the fields suites, prompts and variables share: names, text, tags, keys, enums.

The rules match the scenario service's (scenarios/validation.py): names and tags are stripped of
surrounding whitespace, names are at most 200 characters and tags 100, duplicate tags are
dropped, enum values are accepted in any case. Other text (descriptions, prompt content,
variable values) is stored exactly as given, except what PostgreSQL cannot store in `text`:
NUL characters and lone surrogates are refused up front, before anything is written.

Every check returns problems ("field: what is wrong") instead of raising, so a service can
report every problem of an input at once.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import Any, Final, TypeVar

from workbench.errors import ValidationError, quoted
from workbench.services.common import IDENTIFIER_RULE, UNSET, Unset, coerce_enum, is_identifier
from workbench.services.limits import (
    MAX_PAGE,
    MAX_TAGS,
    count_problem,
    length_problem,
    name_problem,
    whole_number_problem,
)

MAX_NAME_LENGTH: Final = 200
MAX_TAG_LENGTH: Final = 100
MAX_KEY_LENGTH: Final = 200
"""Keys sit in a unique btree index; PostgreSQL refuses index entries over ~2,700 bytes."""

E = TypeVar("E", bound=enum.StrEnum)

__all__ = ["UNSET", "Unset"]


def text_problems(value: object, field: str, *, optional: bool = False) -> list[str]:
    """Problems with a text field: missing, not a string, or not storable by PostgreSQL."""
    if value is None:
        return [] if optional else [f"{field}: is required"]
    if not isinstance(value, str):
        return [f"{field}: must be text (a str), not {type(value).__name__}"]
    problem = storage_problem(value, locate=True) or length_problem(value)
    return [] if problem is None else [f"{field}: {problem}"]


def storage_problem(value: str, *, locate: bool = False) -> str | None:
    """Why a PostgreSQL `text` column cannot hold `value`, or None.

    NUL characters and lone surrogates are the only text it refuses; with `locate`, the
    message says where the NUL is.
    """
    if "\x00" in value:
        where = f" at character {value.index(chr(0)) + 1}" if locate else ""
        return f"contains a NUL character (\\x00){where}, which PostgreSQL cannot store; remove it"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate, which is not valid Unicode text; remove it"
    return None


def clean_name(value: object, field: str = "name") -> tuple[str, list[str]]:
    """A name stripped of surrounding whitespace, not empty, at most 200 characters."""
    problems = text_problems(value, field)
    if problems:
        return "", problems
    assert isinstance(value, str)
    name = value.strip()
    if not name:
        return name, [f"{field}: is empty; give it a name"]
    if len(name) > MAX_NAME_LENGTH:
        return name, [f"{field}: is {len(name):,} characters long; the limit is {MAX_NAME_LENGTH}"]
    problem = name_problem(name)
    return name, [] if problem is None else [f"{field}: {problem}"]


def key_problems(value: object, field: str = "key") -> list[str]:
    """Problems with a variable key: identifier-shaped, at most 200 characters."""
    problems = text_problems(value, field)
    if problems:
        return problems
    assert isinstance(value, str)
    if len(value) > MAX_KEY_LENGTH:
        return [f"{field}: is {len(value)} characters long; the limit is {MAX_KEY_LENGTH}"]
    if not is_identifier(value):
        return [f"{field}: {quoted(value[:60])} is not a valid key; {IDENTIFIER_RULE}"]
    return []


def clean_tags(value: object, field: str = "tags") -> tuple[list[str], list[str]]:
    """Tags stripped, duplicates dropped (first kept, order kept), and the problems found.

    A bare string is refused rather than split into characters.
    """
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return [], [f"{field}: must be a list of text, e.g. ['smoke', 'billing']"]
    listed = list(value)
    too_many = count_problem(len(listed), MAX_TAGS, "tags")
    if too_many is not None:
        return [], [f"{field}: {too_many}"]
    tags: dict[str, None] = {}
    problems: list[str] = []
    for index, tag in enumerate(listed):
        tag_field = f"{field}[{index}]"
        found = text_problems(tag, tag_field)
        if not found:
            tag = tag.strip()
            if not tag:
                found = [f"{tag_field}: is empty"]
            elif len(tag) > MAX_TAG_LENGTH:
                found = [
                    f"{tag_field}: is {len(tag):,} characters long; the limit is {MAX_TAG_LENGTH}"
                ]
            elif (problem := name_problem(tag)) is not None:
                found = [f"{tag_field}: {problem}"]
        problems += found
        if not found:
            tags.setdefault(tag, None)
    return list(tags), problems


def clean_enum(value: object, enum_type: type[E], field: str) -> tuple[E | None, list[str]]:
    """`value` as a member of `enum_type` (its value in any case, e.g. "draft"), or the problem."""
    member = coerce_enum(enum_type, value)
    if isinstance(member, enum_type):
        return member, []
    allowed = ", ".join(member.value for member in enum_type)
    return None, [f"{field}: {quoted(value)} is not one of {allowed}"]


def page_problems(limit: Any, offset: Any) -> list[str]:
    """Problems with `limit` (1 to `MAX_PAGE`, or None) and `offset` (0 to `MAX_PAGE`)."""
    problems = []
    if limit is not None and (problem := whole_number_problem(limit, 1, MAX_PAGE)):
        problems.append(f"limit: {problem} (or None for all)")
    if problem := whole_number_problem(offset, 0, MAX_PAGE):
        problems.append(f"offset: {problem}")
    return problems


def checked_id(value: object, field: str) -> str:
    """`value` if it can be an id, name or key to look up (text PostgreSQL can hold), else a
    `ValidationError`: `get(12)` or a lone surrogate is a mistake to name, not a driver error."""
    if not isinstance(value, str):
        raise ValidationError(
            f"{field} must be text (a str) such as the id a list shows, not {type(value).__name__}"
        )
    problem = storage_problem(value)
    if problem is not None:
        raise ValidationError(f"{field} {problem}")
    return value


def raise_problems(what: str, problems: Sequence[str]) -> None:
    """Raise one `ValidationError` listing every problem, if there are any."""
    if not problems:
        return
    count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
    raise ValidationError(
        f"{what} ({count}):\n" + "\n".join(f"- {problem}" for problem in problems),
        problems=list(problems),
    )
